"""Signing in and out, the signed-in person and their language and password."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import In, Out


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
    language = fields.String(
        allow_none=True,
        metadata={
            "description": "the language this person reads the apps and their notifications "
            "in (`en`, `es`, ...); empty until their first sign-in, which takes the browser's"
        },
    )


class LanguageIn(In):
    language = fields.String(required=True, validate=validate.Length(min=2, max=16))


class SessionOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class MeOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class PasswordChangeIn(In):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
