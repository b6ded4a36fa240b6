"""Appointments."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import In, Instant, Out


class AppointmentIn(In):
    starts_at = Instant(required=True)
    duration_minutes = fields.Integer(load_default=30, validate=validate.Range(min=5, max=480))
    kind = fields.String(
        load_default="clinic", validate=validate.OneOf(["clinic", "blood_test", "ecg", "review"])
    )
    place = fields.String(allow_none=True, validate=validate.Length(max=200))


class AppointmentOut(Out):
    """An appointments.TitledAppointment: the Appointment row's columns and its title."""

    id = fields.Integer(attribute="appointment.id")
    starts_at = Instant(attribute="appointment.starts_at")
    duration_minutes = fields.Integer(attribute="appointment.duration_minutes")
    kind = fields.String(attribute="appointment.kind")
    title = fields.String()
    place = fields.String(allow_none=True, attribute="appointment.place")


class AppointmentListOut(Out):
    items = fields.List(fields.Nested(AppointmentOut))
