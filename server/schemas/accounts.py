"""Invitations, activation, password resets and caregivers."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import MAX_ROW_ID, In, Instant, Out, validate_email


class ActivateIn(In):
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class InviteOut(Out):
    """An accounts.IssuedCode."""

    code = fields.String()
    expires_at = Instant()


class ActivationOut(Out):
    """An accounts.Activation: the same answer whether or not the email already had an
    account."""

    role = fields.String(
        metadata={"description": "`patient` or `caregiver`: what the code was for"}
    )
    email = fields.String()
    patient_id = fields.Integer()


class AcceptInviteIn(In):
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))


class PasswordResetIn(In):
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ResetCodeIn(In):
    user_id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ROW_ID),
        metadata={"description": "the patient's login or one of their caregivers"},
    )


class ResetCodeOut(Out):
    """An accounts.IssuedResetCode."""

    code = fields.String()
    expires_at = Instant()
    user_id = fields.Integer(attribute="user.id")
    email = fields.String(attribute="user.email")
    display_name = fields.String(attribute="user.display_name")


class CaregiverOut(Out):
    """An accounts.Caregiver: the User row and since when they care for the patient."""

    id = fields.Integer(attribute="user.id")
    display_name = fields.String(attribute="user.display_name")
    email = fields.String(attribute="user.email")
    since = Instant()


class OpenInviteOut(Out):
    """An ActivationCode row."""

    id = fields.Integer()
    created_at = Instant()
    expires_at = Instant()


class LoginOut(Out):
    """A User row."""

    id = fields.Integer()
    display_name = fields.String()
    email = fields.String()


class CaregiversOut(Out):
    """An accounts.CareCircle."""

    login = fields.Nested(
        LoginOut, allow_none=True, metadata={"description": "the patient's own login, if made"}
    )
    caregivers = fields.List(fields.Nested(CaregiverOut))
    invites = fields.List(fields.Nested(OpenInviteOut))


class CreateUserIn(In):
    role = fields.String(required=True, validate=validate.OneOf(["clinician", "admin"]))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    clinic = fields.String(required=True, validate=validate.Length(min=1, max=200))
