"""Clinic appointments."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.clinical.blueprint import blp
from server.api.common import BASE, reader_content
from server.extensions import db
from server.schemas.appointments import AppointmentIn, AppointmentListOut, AppointmentOut
from server.services import appointments


@blp.route(f"{BASE}/appointments", methods=["POST"])
@access(policy.patient("appointments.book", policy.CARE_TEAM))
@blp.arguments(AppointmentIn)
@blp.response(201, AppointmentOut)
def book_appointment(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Book a clinic appointment (it appears in the app and in the calendar feed)."""
    appointment = appointments.book(
        db.session, actor=signed_in_actor(), patient=current_patient(), data=args, now=now()
    )
    return appointments.titled(appointment, reader_content())


@blp.route(f"{BASE}/appointments", methods=["GET"])
@access(policy.patient("appointments.read", policy.READERS))
@blp.response(200, AppointmentListOut)
def list_appointments(patient_id: int) -> ResponseReturnValue:
    """Appointments still to come, soonest first."""
    items = appointments.upcoming_titled(db.session, current_patient(), now(), reader_content())
    return {"items": items}


@blp.route(f"{BASE}/appointments/<int:appointment_id>", methods=["DELETE"])
@access(policy.patient("appointments.cancel", policy.CARE_TEAM))
@blp.response(204)
def cancel_appointment(patient_id: int, appointment_id: int) -> ResponseReturnValue:
    """Cancel an appointment."""
    appointments.cancel(
        db.session, patient=current_patient(), appointment_id=appointment_id, now=now()
    )
    return None
