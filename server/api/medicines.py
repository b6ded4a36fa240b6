"""Other medicines (laxatives first) and the stock of each, clozapine's included."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import BASE, PostedEntry, blueprint
from server.extensions import db
from server.schemas.medicines import (
    MedicineChangeIn,
    MedicineEventIn,
    MedicineEventOut,
    MedicineIn,
    MedicineListOut,
    MedicineOut,
)
from server.services import medicines

blp = blueprint("medicines", "Other medicines, reminders for them, and the stock of each")

# the care team or the patient's side lists medicines and counts the stock (issue 16)
LISTERS = {"patient", "caregiver", "clinician"}


def _view(medicine: Any) -> medicines.MedicineOnDay:
    return medicines.medicine_on_day(
        db.session,
        medicine,
        current_patient(),
        now(),
        current_app.extensions["companion.content"],
        signed_in_actor().role,
    )


@blp.route(f"{BASE}/medicines", methods=["GET"])
@access(policy.patient("medicines.read", policy.READERS))
@blp.response(200, MedicineListOut)
def list_medicines(patient_id: int) -> ResponseReturnValue:
    """The medicines still taken, laxatives first, each with today's doses (pending, taken,
    skipped or missed), its stock, the day it runs out, and from a week before that day a
    `supply_note` (for clozapine: whether the blood result the next supply needs is in)."""
    return medicines.overview(
        db.session,
        current_patient(),
        now(),
        current_app.extensions["companion.content"],
        signed_in_actor().role,
    )


@blp.route(f"{BASE}/medicines", methods=["POST"])
@access(policy.patient("medicines.write", LISTERS))
@blp.arguments(MedicineIn)
@blp.response(201, MedicineOut)
def add_medicine(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """List a medicine: a laxative or another medicine with its times of day (in the patient's
    zone) and, optionally, its dose in words, what one dose takes from the stock, and the stock
    on hand; or clozapine's stock in tablets of one strength (its doses come from the plan;
    409 when it is already listed). Reminders follow at the times, without clozapine's rules."""
    medicine = medicines.add_medicine(
        db.session, actor=signed_in_actor(), patient=current_patient(), data=args, now=now()
    )
    return _view(medicine)


@blp.route(f"{BASE}/medicines/<int:medicine_id>", methods=["PATCH"])
@access(policy.patient("medicines.write", LISTERS))
@blp.arguments(MedicineChangeIn)
@blp.response(200, MedicineOut)
def change_medicine(args: dict[str, Any], patient_id: int, medicine_id: int) -> ResponseReturnValue:
    """Change a medicine; a new `stock` is a new count (after a refill) and gets its own refill
    reminder; `stopped: true` takes it off the list and cancels its reminders."""
    medicine = medicines.change_medicine(
        db.session,
        actor=signed_in_actor(),
        patient=current_patient(),
        medicine_id=medicine_id,
        data=args,
        now=now(),
    )
    return _view(medicine)


@blp.entry_post(
    "medicine-events",
    policy.patient("medicine_events.write", policy.LOGGERS),
    MedicineEventIn,
    MedicineEventOut,
)
def post_medicine_event(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Mark a dose of another medicine (named by its `scheduled_at`) taken or skipped; a dose
    taken comes off its stock (422 for a time the medicine has no dose at, 409 when already
    marked). Clozapine's doses are marked with `dose-events`."""
    return entry.record(medicines.record_event)
