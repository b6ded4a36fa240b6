"""Activation codes: patients' own logins and caregivers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_actor, current_patient, now
from server.api.common import blueprint
from server.api.session import user_view
from server.extensions import db, limiter
from server.schemas import ActivateIn, InviteOut, UserOut
from server.services import accounts

blp = blueprint("accounts", "Activation and caregiver invites")


@blp.route("/activate", methods=["POST"])
@access(policy.public("accounts.activate"))
@limiter.limit(lambda: current_app.config["ACTIVATION_LIMIT_PER_ADDRESS"])
@blp.arguments(ActivateIn)
@blp.response(201, UserOut)
def activate(args: dict[str, Any]) -> ResponseReturnValue:
    """Use a one-time code: an enrolment code makes the patient's login, a caregiver code a
    caregiver linked to that patient. Then sign in with the new email and password."""
    user = accounts.activate(
        db.session,
        code=args["code"],
        email=args["email"],
        password=args["password"],
        display_name=args["display_name"],
        policy=current_app.extensions["companion.passwords"],
        now=now(),
    )
    return user_view(user)


@blp.route("/patients/<int:patient_id>/caregiver-invites", methods=["POST"])
@access(policy.patient("caregiver.invite", {"patient", "clinician", "admin"}))
@blp.response(201, InviteOut)
def invite_caregiver(patient_id: int) -> ResponseReturnValue:
    """A one-time code for a caregiver of this patient (shown once, never stored in clear)."""
    actor = current_actor()
    assert actor is not None
    days = int(current_app.config["ACTIVATION_CODE_DAYS"])
    instant = now()
    code = accounts.invite_caregiver(
        db.session, actor=actor, patient=current_patient(), now=instant, code_days=days
    )
    return {"code": code, "expires_at": instant + dt.timedelta(days=days)}
