"""The clinic's settings: escalation windows, on-call, alert contacts, the care team's number."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from server.schemas.common import In, Out, validate_email, validate_timezone


class WindowsIn(In):
    emergency = fields.Integer(validate=validate.Range(min=1, max=240))
    urgent = fields.Integer(validate=validate.Range(min=1, max=24 * 60))
    routine = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=7 * 24 * 60))


class OnCallIn(In):
    name = fields.String(validate=validate.Length(max=120))
    email = fields.String(allow_none=True, validate=[validate.Length(max=254), validate_email])
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    user_id = fields.Integer(allow_none=True)


def validate_phone(value: str) -> None:
    """A number a phone can dial: digits with spaces, dashes, dots, brackets, a leading +."""
    if not re.fullmatch(r"\+?[0-9][0-9 ().-]*[0-9]", value) or sum(c.isdigit() for c in value) < 3:
        raise ValidationError("Write a phone number, for example +44 20 7946 0000.")


class PatientContactIn(In):
    phone = fields.String(
        allow_none=True, validate=[validate.Length(min=3, max=40), validate_phone]
    )
    hours = fields.String(allow_none=True, validate=validate.Length(min=1, max=120))


class ClinicSettingsIn(In):
    monitoring_profile = fields.String(validate=validate.Length(min=1, max=40))
    escalation_windows_minutes = fields.Nested(WindowsIn)
    on_call = fields.Nested(OnCallIn)
    webhook_url = fields.Url(allow_none=True, schemes={"https", "http"}, require_tld=False)
    webhook_secret = fields.String(allow_none=True, validate=validate.Length(min=16, max=200))
    email_recipients = fields.List(
        fields.String(validate=[validate.Length(max=254), validate_email]),
        validate=validate.Length(max=20),
    )
    caregiver_rules = fields.List(fields.String(validate=validate.Length(max=40)))
    timezone = fields.String(validate=validate_timezone)
    patient_contact = fields.Nested(
        PatientContactIn,
        metadata={
            "description": "The care team's number and hours, shown to patients and "
            'caregivers beside the emergency button ("Call my care team").'
        },
    )


class AlertContactsIn(In):
    """Who is told about escalations: what a clinician may change (the rest is the admin's)."""

    on_call = fields.Nested(OnCallIn)
    email_recipients = fields.List(
        fields.String(validate=[validate.Length(max=254), validate_email]),
        validate=validate.Length(max=20),
    )


class PatientContactOut(Out):
    phone = fields.String(allow_none=True)
    hours = fields.String(allow_none=True)


class ClinicSettingsOut(Out):
    name = fields.String()
    monitoring_profile = fields.String()
    available_profiles = fields.List(fields.String())
    escalation_windows_minutes = fields.Dict()
    on_call = fields.Dict()
    webhook_url = fields.String(allow_none=True)
    webhook_secret_set = fields.Boolean()
    email_recipients = fields.List(fields.String())
    caregiver_rules = fields.List(fields.String())
    timezone = fields.String()
    patient_contact = fields.Nested(PatientContactOut)
