"""Activation codes, caregiver invites and caregivers, and the clinic's password reset codes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import (
    access,
    current_actor,
    current_patient,
    current_user,
    now,
    signed_in_actor,
)
from server.api.common import BASE, blueprint, browser_language
from server.api.request_audit import Anonymous, audit_request
from server.api.session import user_view
from server.extensions import db, limiter
from server.schemas.accounts import (
    AcceptInviteIn,
    ActivateIn,
    ActivationOut,
    CaregiversOut,
    InviteOut,
    PasswordResetIn,
    ResetCodeIn,
    ResetCodeOut,
)
from server.schemas.session import UserOut
from server.services import accounts

blp = blueprint("accounts", "Activation, caregivers and their invites, password reset")


def _signed_in_key() -> str:
    user = current_user()
    return f"user:{user.id if user else 0}"


@blp.route("/activate", methods=["POST"])
@access(policy.public("accounts.activate"))
@limiter.limit(lambda: current_app.config["ACTIVATION_LIMIT_PER_ADDRESS"])
@blp.arguments(ActivateIn)
@blp.response(201, ActivationOut)
def activate(args: dict[str, Any]) -> ResponseReturnValue:
    """Use a one-time code to make a new login: an enrolment code makes the patient's, a
    caregiver code a caregiver linked to that patient. Then sign in with that email and
    password.

    The answer is the same whether or not the email already has an account (nothing is made
    then, and the code stays unused): someone who already has a caregiver account signs in
    and accepts the invite there (`POST /api/caregiver-invites/accept`)."""
    made = accounts.activate(
        db.session,
        code=args["code"],
        email=args["email"],
        password=args["password"],
        display_name=args["display_name"],
        policy=current_app.extensions["companion.passwords"],
        now=now(),
        language=browser_language(),
    )
    if made.user is not None:
        audit_request(accounts.actor_for(db.session, made.user), made.patient_id)
    else:  # the care team may want to know; the caller learns nothing
        audit_request(Anonymous("anonymous"), made.patient_id)
    return made


@blp.route("/caregiver-invites/accept", methods=["POST"])
@access(policy.signed_in("caregiver.accept_invite", {"caregiver"}))
@limiter.limit(lambda: current_app.config["CODE_LIMIT_PER_ADDRESS"])
@limiter.limit(lambda: current_app.config["CODE_LIMIT_PER_ADDRESS"], key_func=_signed_in_key)
@blp.arguments(AcceptInviteIn)
@blp.response(201, UserOut)
def accept_invite(args: dict[str, Any]) -> ResponseReturnValue:
    """A signed-in caregiver uses another patient's invite code: they care for that patient
    too, with the account they have."""
    user = current_user()
    actor = current_actor()
    assert user is not None and actor is not None
    patient_id = accounts.accept_invite(db.session, user=user, code=args["code"], now=now())
    audit_request(actor, patient_id)
    return user_view(user)


@blp.route("/password-reset", methods=["POST"])
@access(policy.public("accounts.reset_password"))
@limiter.limit(lambda: current_app.config["CODE_LIMIT_PER_ADDRESS"])
@blp.arguments(PasswordResetIn)
@blp.response(204)
def reset_password(args: dict[str, Any]) -> ResponseReturnValue:
    """Set a new password with the one-time reset code the clinic gave you; every browser
    signed in to the account is signed out. Then sign in with the new password."""
    user = accounts.reset_password(
        db.session,
        email=args["email"],
        code=args["code"],
        password=args["password"],
        policy=current_app.extensions["companion.passwords"],
        now=now(),
    )
    actor = accounts.actor_for(db.session, user)
    audit_request(actor, user.patient_id)
    return None


@blp.route(f"{BASE}/reset-codes", methods=["POST"])
@access(policy.patient("account.reset_code", policy.CARE_TEAM))
@blp.arguments(ResetCodeIn)
@blp.response(201, ResetCodeOut)
def issue_reset_code(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """A one-time code (shown once) for the patient's login or one of their caregivers' to
    set a new password: give it in person or by phone. An earlier unused code stops working."""
    return accounts.issue_reset_code(
        db.session,
        actor=signed_in_actor(),
        patient=current_patient(),
        user_id=args["user_id"],
        now=now(),
        hours=int(current_app.config["RESET_CODE_HOURS"]),
    )


@blp.route(f"{BASE}/caregiver-invites", methods=["POST"])
@access(policy.patient("caregiver.invite", policy.PATIENT_AND_CARE_TEAM))
@blp.response(201, InviteOut)
def invite_caregiver(patient_id: int) -> ResponseReturnValue:
    """A one-time code for a caregiver of this patient (shown once, never stored in clear);
    at most 5 open at a time (409 `too_many_invites`: cancel one first)."""
    days = int(current_app.config["ACTIVATION_CODE_DAYS"])
    instant = now()
    return accounts.invite_caregiver(
        db.session, actor=signed_in_actor(), patient=current_patient(), now=instant, code_days=days
    )


@blp.route(f"{BASE}/caregivers", methods=["GET"])
@access(policy.patient("caregivers.list", policy.PATIENT_AND_CARE_TEAM))
@blp.response(200, CaregiversOut)
def list_caregivers(patient_id: int) -> ResponseReturnValue:
    """The patient's own login, who cares for them, and the invites nobody has used yet."""
    return accounts.care_circle(db.session, current_patient(), now())


@blp.route(f"{BASE}/caregivers/<int:caregiver_id>", methods=["DELETE"])
@access(policy.patient("caregivers.remove", policy.PATIENT_AND_CARE_TEAM))
@blp.response(204)
def remove_caregiver(patient_id: int, caregiver_id: int) -> ResponseReturnValue:
    """End a caregiver's access to this patient, at once (their account stays)."""
    accounts.remove_caregiver(db.session, patient=current_patient(), caregiver_id=caregiver_id)
    return None


@blp.route(f"{BASE}/caregiver-invites/<int:invite_id>", methods=["DELETE"])
@access(policy.patient("caregiver.cancel_invite", policy.PATIENT_AND_CARE_TEAM))
@blp.response(204)
def cancel_invite(patient_id: int, invite_id: int) -> ResponseReturnValue:
    """Withdraw an invite nobody has used: its code stops working."""
    accounts.cancel_invite(db.session, patient=current_patient(), invite_id=invite_id, now=now())
    return None
