"""Signing in and out, the signed-in person and their language and password."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import In, Out


class SignInIn(In):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserOut(Out):
    """An accounts.Person: the User row's columns and the patients they care for."""

    id = fields.Integer(attribute="user.id")
    role = fields.String(attribute="user.role")
    email = fields.String(attribute="user.email")
    display_name = fields.String(attribute="user.display_name")
    patient_id = fields.Integer(allow_none=True, attribute="user.patient_id")
    clinic_id = fields.Integer(allow_none=True, attribute="user.clinic_id")
    caregiver_of = fields.List(fields.Integer())
    language = fields.String(
        allow_none=True,
        attribute="user.language",
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
