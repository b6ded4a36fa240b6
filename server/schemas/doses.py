"""Doses: a day's doses, marking them, their events, the month calendar."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_dump, validate

from server.domain.supply import SKIP_REASONS
from server.domain.treatment import COURSE_STATES
from server.schemas.common import MAX_ROW_ID, In, Instant, Out


class DosesQuery(In):
    date = fields.Date(metadata={"description": "The patient's local date; default today."})


class MonthQuery(In):
    month = fields.String(
        validate=validate.Regexp(r"^(199\d|20\d\d)-(0[1-9]|1[0-2])$", error="Use YYYY-MM."),
        metadata={"description": "The month, YYYY-MM (the patient's calendar); default this one."},
    )


class MonthDayOut(Out):
    """A month.DayAtAGlance."""

    date = fields.Date()
    doses = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "How many doses of the day are taken, skipped, missed, ..."},
    )
    bowel_movements = fields.Integer()
    bristol_types = fields.List(fields.Integer())
    symptoms = fields.List(fields.String(), metadata={"description": "Symptom codes reported."})
    highest_temperature_c = fields.Float(allow_none=True)


class MonthOut(Out):
    """A month.MonthAtAGlance."""

    month = fields.String()
    previous = fields.String()
    next = fields.String(allow_none=True, metadata={"description": "None for this month."})
    days = fields.List(fields.Nested(MonthDayOut), metadata={"description": "Up to today."})


class TabletsOut(Out):
    strength_mg = fields.Float()
    whole = fields.Integer(metadata={"description": "Whole tablets of this strength."})
    half = fields.Boolean(metadata={"description": "And half a tablet of it."})


class DoseOut(Out):
    """A doses.DoseOnDay: its Dose row's columns, its status now, tablets and marking window."""

    id = fields.Integer(attribute="dose.id")
    scheduled_at = Instant(attribute="dose.scheduled_at")
    local_date = fields.Date(attribute="dose.local_date")
    local_time = fields.String(attribute="dose.local_time")
    mg = fields.Float(attribute="dose.mg")
    status = fields.String(metadata={"enum": ["pending", "taken", "skipped", "missed", "withheld"]})
    status_at = Instant(allow_none=True, attribute="dose.status_at")
    tablets = fields.List(
        fields.Nested(TabletsOut),
        allow_none=True,
        metadata={
            "description": "The tablets that make this dose, largest first (null: the "
            "patient's strengths are not set; []: they cannot make it, ask the care team)."
        },
    )
    can_mark = fields.Boolean(
        metadata={"description": "Marking it taken or skipped now would be accepted."}
    )
    mark_from = Instant(metadata={"description": "The earliest time it can be marked."})
    mark_until = Instant(metadata={"description": "The latest time it can be marked."})


class DayDosesOut(Out):
    """A doses.DayOfDoses."""

    date = fields.Date()
    treatment = fields.String(metadata={"enum": sorted(COURSE_STATES)})
    doses_withheld = fields.Boolean(
        metadata={"description": "The course withholds doses: none is to be taken or marked."}
    )
    doses = fields.List(fields.Nested(DoseOut))


class DoseEventIn(In):
    dose_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID)
    )
    status = fields.String(required=True, validate=validate.OneOf(["taken", "skipped"]))
    at = Instant(required=True)
    reason = fields.String(validate=validate.Length(max=200))
    reason_code = fields.String(
        validate=validate.OneOf(sorted(SKIP_REASONS)),
        metadata={"description": "why a dose was skipped; `ran_out` tells the care team"},
    )


class EventDoseOut(Out):
    """The Dose row an event marked, as DoseEventOut's `dose`."""

    id = fields.Integer()
    scheduled_at = Instant()
    mg = fields.Float()
    status = fields.String()


EVENT_DOSE_OUT = EventDoseOut()


class EventDose(fields.Dict):
    """A Dose row presented by EventDoseOut; an object in the API document, as before."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else EVENT_DOSE_OUT.dump(value)


class DoseEventOut(Out):
    """A doses.MarkedDose (the DoseEvent row and the dose it marked); the listing's entries
    come without reason_code and dose."""

    id = fields.Integer()
    dose_id = fields.Integer()
    status = fields.String()
    at = Instant()
    reason = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    dose = EventDose()

    @pre_dump
    def _event_and_its_dose(self, marked: Any, **kwargs: Any) -> Any:
        event = getattr(marked, "event", None)
        if event is None:  # a listing's entry
            return marked
        columns = ("id", "dose_id", "status", "at", "reason", "reason_code")
        return {name: getattr(event, name) for name in columns} | {"dose": marked.dose}


class DoseEventListOut(Out):
    items = fields.List(fields.Nested(DoseEventOut))
