"""Lab results and the blood tests due."""

from __future__ import annotations

from marshmallow import fields, validate

from server.domain.lab_units import UNITS as LAB_UNITS
from server.schemas.common import In, Instant, Out


class LabResultIn(In):
    test = fields.String(
        required=True,
        validate=validate.OneOf(list(LAB_UNITS)),
    )
    value = fields.Float(required=True, allow_nan=False)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    collected_at = Instant(required=True)
    wbc = fields.Float(allow_nan=False, validate=validate.Range(min=0, max=500))
    upper_limit = fields.Float(
        allow_nan=False,
        validate=validate.Range(min=1, max=10_000),
        metadata={
            "description": "The laboratory's upper limit of normal, in the result's unit; "
            "required from the care team for troponin, alt and ast (they are read against it)."
        },
    )
    symptomatic = fields.Boolean(
        metadata={"description": "alt/ast: the patient has symptoms of liver injury."}
    )


class DiscrepancyOut(Out):
    clinic_result_id = fields.Integer()
    clinic_value = fields.Float()
    clinic_unit = fields.String(allow_none=True)
    clinic_collected_at = fields.String(metadata={"format": "date-time"})


class LabResultOut(Out):
    """A labs.ReadLabResult: the LabResult row's columns, its reading as the reader gets it."""

    id = fields.Integer(attribute="row.id")
    test = fields.String(attribute="row.test")
    value = fields.Float(allow_none=True, attribute="row.value")
    unit = fields.String(allow_none=True, attribute="row.unit")
    wbc = fields.Float(allow_none=True, attribute="row.wbc_10e9_l")
    upper_limit = fields.Float(allow_none=True, attribute="row.upper_limit")
    symptomatic = fields.Boolean(allow_none=True, attribute="row.symptomatic")
    collected_at = Instant(attribute="row.collected_at")
    source = fields.String(
        attribute="row.source",
        metadata={
            "enum": ["clinic", "patient", "caregiver"],
            "description": "Who recorded it: only the clinic's results decide the band, the "
            "baseline, the schedule and the treatment state.",
        },
    )
    counts = fields.Boolean(metadata={"description": "Whether it is the clinic's result."})
    band = fields.String(allow_none=True)
    interpretation = fields.Dict(
        allow_none=True,
        metadata={
            "description": "A clinic count: band, traffic_light (UK), action, next_test_due, "
            "confirm_within_24h; the care team also reads action_text, monitoring and the "
            "escalation. A marker, level or liver test: finding and multiple_of_upper_limit. "
            "The patient's side gets no action_text but `advice` {code, title, text} in its "
            "own words. A copy: counts false."
        },
    )
    discrepancy = fields.Nested(
        DiscrepancyOut,
        allow_none=True,
        metadata={"description": "A copy far from the clinic's value of the same day."},
    )
    recorded_at = Instant(attribute="row.recorded_at")


class LabResultListOut(Out):
    items = fields.List(fields.Nested(LabResultOut))


class DueTestOut(Out):
    """A domain DueTest."""

    test = fields.String()
    due_date = fields.Date()
    status = fields.String(metadata={"enum": ["upcoming", "due", "overdue"]})
    reason = fields.String()


class BloodTestsOut(Out):
    """A labs.BloodTests."""

    upcoming = fields.List(fields.Nested(DueTestOut))
    history = fields.List(fields.Nested(LabResultOut))
