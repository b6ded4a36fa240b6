"""Signing in and out."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, session
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from server import policy
from server.api.access import (
    access,
    current_actor,
    current_session_token,
    current_user,
    end_session,
    now,
    signed_in_user,
    start_session,
)
from server.api.common import blueprint, browser_language
from server.extensions import db, limiter
from server.schemas.session import (
    LanguageIn,
    MeOut,
    PasswordChangeIn,
    SessionOut,
    SignInIn,
    UserOut,
)
from server.services import accounts
from server.services.errors import Unauthenticated

blp = blueprint("session", "Sign in and out")


def _source_and_account_key() -> str:
    """Wrong passwords count per address and account together: a source guessing at an
    account slows down, while the owner, from their own address, can still sign in."""
    body = request.get_json(silent=True)
    email = body.get("email", "") if isinstance(body, dict) else ""
    return f"source:{get_remote_address()}|account:" + accounts.normalise_email(str(email))[:254]


def _failed(response: Any) -> bool:
    return bool(response.status_code == 401)


def _user_key() -> str:
    user = current_user()
    return f"user:{user.id if user else 0}|source:{get_remote_address()}"


def _refused(response: Any) -> bool:
    return bool(response.status_code in (403, 422))


def user_view(user: Any) -> accounts.Person:
    """The signed-in person UserOut presents."""
    return accounts.person(db.session, user)


@blp.route("/session", methods=["POST"])
@access(policy.public("session.sign_in"))
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_SOURCE_AND_ACCOUNT"],
    key_func=_source_and_account_key,
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
        language=browser_language(),
    )
    if user is None:
        raise Unauthenticated("The email or password is not right.")
    token = start_session(user)
    return {"user": user_view(user), "csrf_token": token}


@blp.route("/session", methods=["DELETE"])
@access(policy.signed_in("session.sign_out"))
@blp.response(204)
def sign_out() -> ResponseReturnValue:
    """Sign out of this browser: the session ends on the server, so a copy of its cookie
    stops working too."""
    end_session()
    return None


@blp.route("/sessions", methods=["DELETE"])
@access(policy.signed_in("session.sign_out_everywhere"))
@blp.response(204)
def sign_out_everywhere() -> ResponseReturnValue:
    """Sign out everywhere: every browser and phone signed in to this account, this one too."""
    accounts.end_every_session(db.session, user=signed_in_user(), now=now())
    session.clear()
    return None


@blp.route("/me/password", methods=["POST"])
@access(policy.signed_in("me.change_password"))
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_SOURCE_AND_ACCOUNT"],
    key_func=_user_key,
    deduct_when=_refused,
)
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(args: dict[str, Any]) -> ResponseReturnValue:
    """Change your password (your current one is asked for); every other browser signed in
    to this account is signed out, this one stays."""
    accounts.change_password(
        db.session,
        user=signed_in_user(),
        current_password=args["current_password"],
        new_password=args["new_password"],
        keep_token=current_session_token(),
        policy=current_app.extensions["companion.passwords"],
        now=now(),
    )
    return None


@blp.route("/me", methods=["GET"])
@access(policy.signed_in("me.read"))
@blp.response(200, MeOut)
def me() -> ResponseReturnValue:
    """The signed-in user, and the CSRF token of this session (for a reloaded page)."""
    user = current_user()
    assert user is not None and current_actor() is not None
    return {"user": user_view(user), "csrf_token": session.get("csrf")}


@blp.route("/me/language", methods=["PUT"])
@access(policy.signed_in("me.choose_language"))
@blp.arguments(LanguageIn)
@blp.response(200, UserOut)
def choose_language(args: dict[str, Any]) -> ResponseReturnValue:
    """Choose the language you read the apps and your notifications in, on every device
    (`en`, `es`, ...: the languages the app lists; 422 for another). The people you care
    for, or who care for you, keep their own."""
    user = signed_in_user()
    accounts.choose_language(
        db.session,
        user=user,
        language=args["language"],
        available=current_app.extensions["companion.content"].languages,
    )
    return user_view(user)
