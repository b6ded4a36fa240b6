"""The treatment course: a clinician's hold, resume or stop, and the course's history."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import blueprint
from server.extensions import db
from server.schemas.treatment import (
    TreatmentEventCreatedOut,
    TreatmentEventIn,
    TreatmentEventListOut,
)
from server.services import course

blp = blueprint("treatment", "The treatment course (RULES.md 6)")

BASE = "/patients/<int:patient_id>/treatment-events"


@blp.route(BASE, methods=["POST"])
@access(policy.patient("treatment.write", {"clinician"}))
@blp.arguments(TreatmentEventIn)
@blp.response(201, TreatmentEventCreatedOut)
def post_treatment_event(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Hold, resume or stop treatment, with a reason (`rechallenge` with a stop).

    A hold or stop withholds the doses still to come and cancels their reminders; a resume
    (from held, interrupted or needs_retitration) makes them due again. 409 when the action does
    not apply to the course's state (`invalid_transition`), or an interrupted course's latest
    clinic count has not recovered (`anc_not_recovered`). A resume after more than 48 h without a
    recorded dose answers with `warning: gap_over_48h`. The answer carries the new status."""
    patient = current_patient()
    instant = now()
    event, _ = course.act(
        db.session, actor=signed_in_actor(), patient=patient, data=args, now=instant
    )
    return course.acted(db.session, event, patient, instant)


@blp.route(BASE, methods=["GET"])
@access(policy.patient("treatment.read", policy.CARE_TEAM))
@blp.response(200, TreatmentEventListOut)
def list_treatment_events(patient_id: int) -> ResponseReturnValue:
    """Every change of the course, newest first: the clinician's acts and what the product saw
    (a plan, a blood count, missed doses, a taper's end)."""
    rows = course.events(db.session, current_patient())
    return {"items": course.with_actors(db.session, rows)}
