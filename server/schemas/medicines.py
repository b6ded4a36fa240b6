"""The patient's other medicines and clozapine stock."""

from __future__ import annotations

from marshmallow import fields, validate

from server.domain.supply import MAX_TIMES_A_DAY, MEDICINE_KINDS, SKIP_REASONS
from server.domain.tablets import TABLET_STRENGTHS_MG
from server.schemas.common import HHMM, In, Instant, Out


class MedicineIn(In):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(sorted(MEDICINE_KINDS)),
        metadata={
            "description": "laxative, other, or clozapine (its stock only: the plan "
            "gives its doses)"
        },
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    times = fields.List(
        fields.String(validate=HHMM),
        validate=validate.Length(max=MAX_TIMES_A_DAY),
        metadata={"description": "times of day in the patient's zone (not for clozapine)"},
    )
    dose_text = fields.String(allow_none=True, validate=validate.Length(max=120))
    units_per_dose = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0.25, max=100),
        metadata={"description": "what one dose takes from the stock (default 1)"},
    )
    strength_mg = fields.Float(
        allow_none=True,
        validate=validate.OneOf(TABLET_STRENGTHS_MG),
        metadata={"description": "clozapine: the strength of the tablets counted in `stock`"},
    )
    stock = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=10000),
        metadata={"description": "units (tablets, sachets...) on hand now"},
    )


class MedicineChangeIn(MedicineIn):
    kind = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    stopped = fields.Boolean(metadata={"description": "true takes it off the list"})


class MedicineDoseOut(Out):
    """A medicines.MedicineDose."""

    scheduled_at = fields.AwareDateTime()
    local_time = fields.String()
    status = fields.String(metadata={"enum": ["pending", "taken", "skipped", "missed"]})
    at = fields.AwareDateTime(allow_none=True)


class SupplyNoteOut(Out):
    """A medicines.SupplyNote."""

    code = fields.String()
    title = fields.String()
    text = fields.String()


class MedicineOut(Out):
    """A medicines.MedicineOnDay: the Medicine row's columns, today's doses, its supply."""

    id = fields.Integer(attribute="medicine.id")
    kind = fields.String(attribute="medicine.kind", metadata={"enum": sorted(MEDICINE_KINDS)})
    name = fields.String(attribute="medicine.name")
    times = fields.List(fields.String(), attribute="medicine.times")
    dose_text = fields.String(allow_none=True, attribute="medicine.dose_text")
    units_per_dose = fields.Float(allow_none=True, attribute="medicine.units_per_dose")
    strength_mg = fields.Float(allow_none=True, attribute="medicine.strength_mg")
    stock = fields.Float(allow_none=True, attribute="medicine.stock")
    stock_counted_at = fields.AwareDateTime(allow_none=True, attribute="medicine.stock_counted_at")
    runs_out_on = fields.Date(
        allow_none=True,
        attribute="medicine.runs_out_on",
        metadata={"description": "the day of the first dose the stock misses"},
    )
    refill_due = fields.Boolean(metadata={"description": "it runs out within 7 days"})
    blood_for_supply = fields.String(
        allow_none=True,
        metadata={
            "enum": ["in", "needed", "unknown"],
            "description": "clozapine: whether the blood result the next supply needs is in",
        },
    )
    supply_note = fields.Nested(SupplyNoteOut, allow_none=True)
    today = fields.List(fields.Nested(MedicineDoseOut))


class MedicineListOut(Out):
    """A medicines.MedicinesOfDay."""

    date = fields.Date()
    items = fields.List(fields.Nested(MedicineOut))


class MedicineEventIn(In):
    medicine_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    scheduled_at = Instant(required=True, metadata={"description": "the dose's time"})
    status = fields.String(required=True, validate=validate.OneOf(["taken", "skipped"]))
    at = Instant(required=True)
    reason_code = fields.String(validate=validate.OneOf(sorted(SKIP_REASONS)))


class MedicineEventOut(Out):
    """A medicines.MarkedMedicine: the MedicineEvent row, the medicine's stock after it."""

    id = fields.Integer(attribute="event.id")
    medicine_id = fields.Integer(attribute="medicine.id")
    scheduled_at = Instant(attribute="event.scheduled_at")
    status = fields.String(attribute="event.status")
    at = Instant(attribute="event.at")
    reason_code = fields.String(allow_none=True, attribute="event.reason")
    stock = fields.Float(allow_none=True, attribute="medicine.stock")
    runs_out_on = fields.Date(allow_none=True, attribute="medicine.runs_out_on")
