"""Dose plans: titration, maintenance and taper."""

from __future__ import annotations

from marshmallow import fields, validate

from server.domain.treatment import PLAN_KINDS
from server.schemas.common import HHMM, In, Instant, Out


class DosePlanStepIn(In):
    day = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=366))
    doses_mg = fields.List(
        fields.Float(allow_nan=False, validate=validate.Range(min=0, max=900)),
        required=True,
        validate=validate.Length(min=1, max=3),
    )


class DosePlanIn(In):
    start_date = fields.Date(required=True)
    times = fields.List(
        fields.String(validate=HHMM), required=True, validate=validate.Length(min=1, max=3)
    )
    kind = fields.String(
        validate=validate.OneOf(sorted(PLAN_KINDS)),
        metadata={
            "description": "initiation or retitration (day 1 at 12.5-25 mg), maintenance (an "
            "established patient or a dose change), taper (down to zero, then the course "
            "stops). Default: initiation for a first plan, retitration while the course needs "
            "re-titration, else maintenance."
        },
    )
    titration = fields.String(validate=validate.OneOf(["standard", "retitration", "custom"]))
    target_mg_per_day = fields.Float(allow_nan=False, validate=validate.Range(min=12.5, max=900))
    taper_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=7, max=14),
        metadata={"description": "A taper without steps: how many days it steps down over."},
    )
    steps = fields.List(fields.Nested(DosePlanStepIn), validate=validate.Length(min=1, max=200))


class PlanDoseOut(Out):
    """A dose_plans.PlannedDose."""

    time = fields.String()
    mg = fields.Float()


class PlanDayOut(Out):
    """A dose_plans.PlanDay."""

    day = fields.Integer()
    date = fields.Date()
    doses = fields.List(fields.Nested(PlanDoseOut))
    total_mg = fields.Float()


class PlanIssueOut(Out):
    code = fields.String()
    message = fields.String()
    field = fields.String()


class DosePlanOut(Out):
    """A dose_plans.PlanSchedule: the DosePlan row's columns, its days, the course's marker."""

    id = fields.Integer(attribute="plan.id")
    patient_id = fields.Integer(attribute="plan.patient_id")
    version = fields.Integer(attribute="plan.version")
    kind = fields.String(attribute="plan.kind", metadata={"enum": sorted(PLAN_KINDS)})
    generator = fields.String(
        attribute="plan.generator",
        metadata={"description": "standard, retitration, maintenance, taper or custom"},
    )
    rechallenge = fields.String(
        allow_none=True,
        metadata={"description": "not_advised: restarting clozapine is not advised"},
    )
    start_date = fields.Date(attribute="plan.start_date")
    times = fields.List(fields.String(), attribute="plan.times")
    target_mg_per_day = fields.Float(allow_none=True, attribute="plan.target_mg_per_day")
    steps = fields.List(fields.Dict(), attribute="plan.steps")
    warnings = fields.List(fields.Nested(PlanIssueOut), attribute="plan.warnings")
    created_at = Instant(attribute="plan.created_at")
    days = fields.List(fields.Nested(PlanDayOut))
    maintenance_from = fields.Date()
