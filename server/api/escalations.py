"""The care team's escalations: list, acknowledge, resolve."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, now, signed_in_actor
from server.api.common import blueprint
from server.api.request_audit import audit_subject, audit_subjects
from server.extensions import db
from server.schemas.escalations import (
    EscalationListOut,
    EscalationOut,
    EscalationQuery,
    PulseOut,
    PulseQuery,
    ResolveIn,
)
from server.services import escalations

blp = blueprint(
    "escalations",
    "Escalations to the care team. Each escalation that opens (or rises in severity), is "
    'acknowledged or is resolved is POSTed to the clinic\'s webhook as {"event": '
    '"escalation.opened" | "escalation.acknowledged" | "escalation.resolved", '
    '"escalation": {...}}; a new emergency report on an escalation that is acknowledged '
    'but not resolved is posted as "escalation.updated" (once per report) and alerts the '
    "care team again by push and email.",
)


@blp.route("/escalations", methods=["GET"])
@access(policy.clinic("escalations.list", policy.CARE_TEAM))
@blp.arguments(EscalationQuery, location="query")
@blp.response(200, EscalationListOut)
def list_escalations(args: dict[str, Any]) -> ResponseReturnValue:
    """Your clinic's escalations, emergency first, then oldest first. `status=unresolved`
    gives the open and the acknowledged ones together."""
    rows = escalations.visible(
        db.session,
        signed_in_actor(),
        status=args.get("status"),
        patient_id=args.get("patient_id"),
        resolved_since=args.get("resolved_since"),
    )
    audit_subjects(row.patient_id for row in rows)
    content = current_app.extensions["companion.content"]
    return {"escalations": escalations.for_care_team(db.session, rows, content)}


@blp.route("/escalations/pulse", methods=["GET"])
# signed-in scope, not clinic scope: it is polled every few seconds by every open page, so it
# writes no audit row (a clinic-scoped read does); it reads only the caller's own clinic, and
# the list a clinician then opens is audited as before
@access(policy.signed_in("escalations.pulse", policy.CARE_TEAM))
@blp.arguments(PulseQuery, location="query")
@blp.response(200, PulseOut)
def pulse(args: dict[str, Any]) -> ResponseReturnValue:
    """The cheap question an open care-team page asks every few seconds: has anything changed
    (`version`, compared with `since`), how many escalations wait for an acknowledgement, and
    which. One small query over the unresolved escalations; no patient's record is read."""
    content = current_app.extensions["companion.content"]
    return escalations.pulse(db.session, signed_in_actor(), args.get("since"), content)


@blp.route("/escalations/<int:escalation_id>/acknowledge", methods=["POST"])
@access(policy.clinic("escalations.acknowledge", {"clinician"}))
@blp.response(200, EscalationOut)
def acknowledge(escalation_id: int) -> ResponseReturnValue:
    """You are on it: the reminders to the team stop."""
    escalation = escalations.acknowledge(db.session, signed_in_actor(), escalation_id, now())
    audit_subject(escalation.patient_id)
    content = current_app.extensions["companion.content"]
    return escalations.for_care_team(db.session, [escalation], content)[0]


@blp.route("/escalations/<int:escalation_id>/resolve", methods=["POST"])
@access(policy.clinic("escalations.resolve", {"clinician"}))
@blp.arguments(ResolveIn)
@blp.response(200, EscalationOut)
def resolve(args: dict[str, Any], escalation_id: int) -> ResponseReturnValue:
    """Close it with a note of what was done."""
    escalation = escalations.resolve(
        db.session, signed_in_actor(), escalation_id, args["note"], now()
    )
    audit_subject(escalation.patient_id)
    content = current_app.extensions["companion.content"]
    return escalations.for_care_team(db.session, [escalation], content)[0]
