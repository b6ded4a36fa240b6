"""Signing in and out."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_actor, current_user, end_session, now, start_session
from server.api.common import blueprint
from server.extensions import db, limiter
from server.schemas import MeOut, SessionOut, SignInIn
from server.services import accounts
from server.services.errors import Unauthenticated

blp = blueprint("session", "Sign in and out")


def _account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email", "") if isinstance(body, dict) else ""
    return "account:" + accounts.normalise_email(str(email))[:254]


def _failed(response: Any) -> bool:
    return bool(response.status_code == 401)


def user_view(user: Any) -> dict[str, Any]:
    actor = accounts.actor_for(db.session, user)
    return {
        "id": user.id,
        "role": user.role,
        "email": user.email,
        "display_name": user.display_name,
        "patient_id": user.patient_id,
        "clinic_id": user.clinic_id,
        "caregiver_of": sorted(actor.caregiver_of),
    }


@blp.route("/session", methods=["POST"])
@access(policy.public("session.sign_in"))
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    key_func=_account_key,
    deduct_when=_failed,
)
@blp.arguments(SignInIn)
@blp.response(200, SessionOut)
def sign_in(args: dict[str, Any]) -> ResponseReturnValue:
    """Sign in with email and password; the answer carries the CSRF token."""
    user = accounts.authenticate(
        db.session,
        email=args["email"],
        password=args["password"],
        policy=current_app.extensions["companion.passwords"],
        now=now(),
    )
    if user is None:
        raise Unauthenticated("The email or password is not right.")
    token = start_session(user)
    return {"user": user_view(user), "csrf_token": token}


@blp.route("/session", methods=["DELETE"])
@access(policy.signed_in("session.sign_out"))
@blp.response(204)
def sign_out() -> ResponseReturnValue:
    """Sign out of this browser."""
    end_session()
    return None


@blp.route("/me", methods=["GET"])
@access(policy.signed_in("me.read"))
@blp.response(200, MeOut)
def me() -> ResponseReturnValue:
    """The signed-in user, and the CSRF token of this session (for a reloaded page)."""
    user = current_user()
    assert user is not None and current_actor() is not None
    return {"user": user_view(user), "csrf_token": session.get("csrf")}
