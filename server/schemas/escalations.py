"""Escalations and the care team's pulse."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import MAX_ROW_ID, In, Instant, Out


class EscalationQuery(In):
    status = fields.String(
        validate=validate.OneOf(["open", "acknowledged", "resolved", "unresolved"])
    )
    patient_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID))
    resolved_since = Instant(
        metadata={
            "description": "Only those resolved since this instant, the latest resolution "
            "first (with `status` left out or `resolved`)."
        }
    )


class EscalationOut(Out):
    """An escalations.TeamEscalation: the Escalation row's columns, its patient's name, the
    rule's title and advice, and who acted."""

    id = fields.Integer(attribute="escalation.id")
    patient_id = fields.Integer(attribute="escalation.patient_id")
    rule = fields.String(attribute="escalation.rule")
    severity = fields.String(attribute="escalation.severity")
    status = fields.String(attribute="escalation.status")
    opened_at = Instant(attribute="escalation.opened_at")
    summary = fields.String(attribute="escalation.summary")
    acknowledged_at = Instant(allow_none=True, attribute="escalation.acknowledged_at")
    resolved_at = Instant(allow_none=True, attribute="escalation.resolved_at")
    resolution_note = fields.String(allow_none=True, attribute="escalation.resolution_note")
    evidence = fields.List(fields.Dict(), attribute="escalation.evidence")
    patient_name = fields.String(allow_none=True)
    title = fields.String()
    clinician_advice = fields.String(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True, attribute="escalation.acknowledged_by_id")
    resolved_by = fields.String(allow_none=True)


class EscalationListOut(Out):
    escalations = fields.List(fields.Nested(EscalationOut))


class PulseQuery(In):
    since = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "The `version` of the last answer: `changed` says if it moved."},
    )


class PulseWaitingOut(Out):
    emergency = fields.Integer()
    urgent = fields.Integer()
    routine = fields.Integer()


class PulseNewOut(Out):
    """An escalations.WaitingEscalation."""

    id = fields.Integer()
    patient_id = fields.Integer()
    patient_name = fields.String()
    rule = fields.String()
    title = fields.String()
    severity = fields.String()
    opened_at = Instant()


class PulseOut(Out):
    """An escalations.Pulse."""

    version = fields.String(
        metadata={"description": "Changes when an escalation opens, changes or is closed."}
    )
    changed = fields.Boolean(metadata={"description": "Whether `version` differs from `since`."})
    unresolved = fields.Integer()
    waiting = fields.Nested(PulseWaitingOut, metadata={"description": "Not yet acknowledged."})
    new = fields.List(
        fields.Nested(PulseNewOut),
        metadata={"description": "The escalations nobody has acknowledged, most serious first."},
    )


class ResolveIn(In):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
