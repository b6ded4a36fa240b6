"""Clinic appointments the care team books for a patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Appointment, Patient
from server.policy import Actor
from server.services.content import Content
from server.services.errors import Conflict, Invalid, NotFound

KINDS = ("clinic", "blood_test", "ecg", "review")


@dataclass(frozen=True)
class TitledAppointment:
    """An appointment and what it is called in the reader's language."""

    appointment: Appointment
    title: str


def title(kind: str, content: Content) -> str:
    """What an appointment of this kind is called, in `content`'s language
    (content/documents.toml, [documents.appointment])."""
    words = content.words("appointment")
    return words.get(kind, words["other"])


def book(
    session: Session, *, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> Appointment:
    """Book an appointment in the future (up to two years ahead)."""
    starts = data["starts_at"]
    if starts <= now:
        raise Invalid({"starts_at": ["An appointment is booked for a time still to come."]})
    if starts > now + dt.timedelta(days=730):
        raise Invalid({"starts_at": ["Book at most two years ahead."]})
    appointment = Appointment(
        patient_id=patient.id,
        starts_at=starts,
        duration_minutes=data.get("duration_minutes", 30),
        kind=data.get("kind", "clinic"),
        place=data.get("place"),
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(appointment)
    session.commit()
    return appointment


def cancel(session: Session, *, patient: Patient, appointment_id: int, now: dt.datetime) -> None:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.patient_id != patient.id:
        raise NotFound("No such appointment.")
    if appointment.cancelled_at is not None:
        raise Conflict("This appointment is already cancelled.")
    appointment.cancelled_at = now
    session.commit()


def upcoming(session: Session, patient: Patient, now: dt.datetime) -> Sequence[Appointment]:
    return session.scalars(
        select(Appointment)
        .where(
            Appointment.patient_id == patient.id,
            Appointment.cancelled_at.is_(None),
            Appointment.starts_at >= now - dt.timedelta(hours=2),
        )
        .order_by(Appointment.starts_at)
    ).all()


def titled(appointment: Appointment, content: Content) -> TitledAppointment:
    return TitledAppointment(appointment, title(appointment.kind, content))


def upcoming_titled(
    session: Session, patient: Patient, now: dt.datetime, content: Content
) -> list[TitledAppointment]:
    """Appointments still to come, soonest first, each called in `content`'s language."""
    return [titled(a, content) for a in upcoming(session, patient, now)]
