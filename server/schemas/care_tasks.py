"""The care team's tasks (an ANC step-down to confirm)."""

from __future__ import annotations

from marshmallow import fields

from server.schemas.common import Out


class StepDownDetailOut(Out):
    """A domain StepDown."""

    clock_from = fields.Date(metadata={"description": "Treatment weeks count from this date."})
    from_week = fields.Integer()
    from_interval_days = fields.Integer()
    to_interval_days = fields.Integer()


class CareTaskOut(Out):
    """A care_tasks.CareTask."""

    id = fields.String()
    kind = fields.String(metadata={"enum": ["anc_step_down"]})
    patient_id = fields.Integer(attribute="patient.id")
    patient_name = fields.String(attribute="patient.display_name")
    since = fields.Date()
    detail = fields.Nested(StepDownDetailOut)


class CareTaskListOut(Out):
    items = fields.List(fields.Nested(CareTaskOut))


class ScheduledAncOut(Out):
    """A domain DueTest."""

    test = fields.String()
    due_date = fields.Date()
    reason = fields.String()


class CareTaskConfirmedOut(Out):
    """A care_tasks.Confirmed."""

    id = fields.String()
    confirmed_at = fields.DateTime(format="iso")
    next_blood_test = fields.Nested(ScheduledAncOut, allow_none=True)
