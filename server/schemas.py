"""marshmallow In/Out schemas: the API's edge. Syntax and ranges only; rules live in the domain."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("Not an IANA time zone name (for example Europe/London).")


def validate_email(value: str) -> None:
    if not EMAIL.match(value.strip()):
        raise ValidationError("Not a valid email address.")


class In(Schema):
    """Requests: unknown fields are refused (marshmallow's default, kept explicit)."""

    class Meta:
        unknown = "raise"


class Out(Schema):
    pass


def Instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 timestamp that must carry an offset."""
    return fields.AwareDateTime(format="iso", **kwargs)


Name = fields.String  # shorthand for readability below


class ErrorBody(Out):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorOut(Out):
    error = fields.Nested(ErrorBody, required=True)


# --- sessions and accounts -------------------------------------------------------------------


class SignInIn(In):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserOut(Out):
    id = fields.Integer()
    role = fields.String()
    email = fields.String()
    display_name = fields.String()
    patient_id = fields.Integer(allow_none=True)
    clinic_id = fields.Integer(allow_none=True)
    caregiver_of = fields.List(fields.Integer())


class SessionOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class MeOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class ActivateIn(In):
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class InviteOut(Out):
    code = fields.String()
    expires_at = Instant()


class CreateUserIn(In):
    role = fields.String(required=True, validate=validate.OneOf(["clinician", "admin"]))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    clinic = fields.String(required=True, validate=validate.Length(min=1, max=200))


# --- patients ---------------------------------------------------------------------------------


class PatientIn(In):
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    timezone = fields.String(required=True, validate=validate_timezone)
    clozapine_start_date = fields.Date(
        required=True,
        validate=validate.Range(min=dt.date(1990, 1, 1), max=dt.date(2100, 1, 1)),
    )
    benign_ethnic_neutropenia = fields.Boolean(load_default=False)


class PatientOut(Out):
    id = fields.Integer()
    clinic_id = fields.Integer()
    display_name = fields.String()
    timezone = fields.String()
    clozapine_start_date = fields.Date()
    benign_ethnic_neutropenia = fields.Boolean()
    created_at = Instant()


class PatientCreatedOut(PatientOut):
    activation_code = fields.String()
    activation_expires_at = Instant()


class PatientListOut(Out):
    items = fields.List(fields.Nested(PatientOut))


class AuditEventOut(Out):
    id = fields.Integer()
    at = Instant()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    patient_id = fields.Integer(allow_none=True)
    action = fields.String()
    method = fields.String()
    path = fields.String()
    address = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True)


class AuditListOut(Out):
    items = fields.List(fields.Nested(AuditEventOut))


class AuditQuery(In):
    before_id = fields.Integer(validate=validate.Range(min=1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class HealthOut(Out):
    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())
