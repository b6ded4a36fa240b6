"""The request's side of authorization: who is signed in, CSRF, and the `access` decorator.

Every view carries `@access(...)` with a rule from `server.policy`; `policy.decide` is the only
place a decision is made. A view without a rule is refused before it runs (fail closed), and a
test walks every route so that none ships without one. What the decision leaves in the audit
trail is `server/api/request_audit.py`'s.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from server.api import request_audit, request_context
from server.api.request_context import begin_read_phase, end_read_phase, now
from server.extensions import db
from server.models import Patient, User, UserSession
from server.policy import Access, Actor, Decision, PatientRef, decide
from server.services import sessions
from server.services.accounts import actor_for
from server.services.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = frozenset({"session.sign_in", "accounts.activate", "accounts.reset_password"})
# built once: every request runs these, and building a statement costs more than running it.
# The session's user comes with the session record (ended sessions are not found at all) and
# its absolute end.
USER_BY_SESSION = (
    select(User, UserSession.expires_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("id"),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.ended_at.is_(None),
    )
)
PATIENT_BY_ID = select(Patient).where(Patient.id == bindparam("id"))
# a route on one patient's records: the session user and the patient named in the path in one
# round trip (the patient is None when there is no such patient). Without the patient's clinic:
# the decision needs its id only, and the clinic's eager join (an inner join) dropped the row
# when no patient matched, which read as a session that had ended.
USER_AND_PATIENT = (
    select(User, UserSession.expires_at, Patient)
    .select_from(User)
    .join(UserSession, UserSession.user_id == User.id)
    .outerjoin(Patient, Patient.id == bindparam("patient_id"))
    .where(
        User.id == bindparam("id"),
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.ended_at.is_(None),
    )
    .options(lazyload(Patient.clinic))
)


class Denied(ServiceError):
    def __init__(self, decision: Decision, code: str | None = None) -> None:
        messages = {
            Decision.UNAUTHENTICATED: ("unauthenticated", "Please sign in."),
            Decision.FORBIDDEN: ("forbidden", "You are not allowed to do this."),
            Decision.NOT_FOUND: ("not_found", "Not found."),
        }
        default_code, message = messages[decision]
        super().__init__(message)
        self.status = decision.value
        self.code = code or default_code


def current_user() -> User | None:
    return cast(User | None, g.get("user"))


def signed_in_user() -> User:
    """Who asks, on a route only reached signed in."""
    user = current_user()
    assert user is not None
    return user


def current_actor() -> Actor | None:
    return cast(Actor | None, g.get("actor"))


def signed_in_actor() -> Actor:
    """Who asks, on a route only reached signed in (its access decision needs an actor)."""
    actor = current_actor()
    assert actor is not None
    return actor


def session_lifetime(role: str) -> dt.timedelta:
    """How long a session lasts at most, however active (then sign in again)."""
    if role in ("clinician", "admin"):
        return dt.timedelta(hours=int(current_app.config["CLINICIAN_SESSION_HOURS"]))
    return dt.timedelta(days=int(current_app.config["PATIENT_SESSION_DAYS"]))


def start_session(user: User) -> str:
    """Sign the user in on this browser (a new session record); returns the CSRF token."""
    instant = now()
    previous = current_session_token()
    if previous is not None:  # signing in again on this browser ends its earlier session
        sessions.end(db.session, previous, instant)
    sid = sessions.start(db.session, user.id, instant, session_lifetime(user.role))
    session.clear()
    session.permanent = True
    token = secrets.token_urlsafe(32)
    session.update(
        uid=user.id, sid=sid, ver=user.session_version, csrf=token, seen=instant.timestamp()
    )
    return token


def current_session_token() -> str | None:
    return cast(str | None, session.get("sid"))


def end_session() -> None:
    """Sign out this browser: its session record ends, and with it every copy of the cookie."""
    sid = current_session_token()
    session.clear()
    if sid is not None:
        sessions.end(db.session, sid, now())


def idle_limit_minutes(role: str) -> int:
    key = "CLINICIAN_IDLE_MINUTES" if role in ("clinician", "admin") else "PATIENT_IDLE_MINUTES"
    return int(current_app.config[key])


def _load_actor() -> Response | None:
    """before_request: resolve the signed-in user, enforce idle timeout and CSRF."""
    # g outlives a request when an app context is already pushed (tests, CLI): start clean
    for name in ("session_expired", "patient", "path_patient"):
        g.pop(name, None)
    g.user = None
    g.actor = None
    if not _route_rule().reads_who_asks:
        return None  # the same file for everyone: no session read, no database
    begin_read_phase()
    uid = session.get("uid")
    sid = session.get("sid")
    if uid is None or not isinstance(sid, str):
        session.clear()
        return None
    found = _read_user(uid, sid)
    if found is None or session.get("ver") != found[0].session_version:
        session.clear()  # signed out (here or everywhere), or the password changed
        return None
    user, expires_at = found
    moment = now()
    instant = moment.timestamp()
    if moment >= expires_at or (
        instant - float(session.get("seen", 0)) > idle_limit_minutes(user.role) * 60
    ):
        session.clear()
        g.session_expired = True
        return None
    if instant - float(session.get("seen", 0)) > 30:
        session["seen"] = instant
    if request.method not in SAFE_METHODS and request.endpoint not in CSRF_EXEMPT:
        sent = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(sent.encode(), str(session.get("csrf", "")).encode()):
            raise Denied(Decision.FORBIDDEN, code="csrf_failed")
    g.user = user
    g.actor = actor_for(db.session, user)
    return None


def _route_rule() -> Access:
    """The access rule of the route asked for (a public one for no route: a 404 reads who
    asks, as every answer of the API does)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return cast(Access, getattr(view, "__access__", _NO_ROUTE))


_NO_ROUTE = Access("no_route", "public")


def _path_patient_id() -> int | None:
    """The patient named in the path of a route on one patient's records, if this is one."""
    rule = _route_rule()
    if rule.scope != "patient" or not request.view_args:
        return None
    return cast(int | None, request.view_args.get("patient_id"))


def _read_user(uid: int, sid: str) -> tuple[User, dt.datetime] | None:
    """The session's user and the session's absolute end, or None when the session has ended;
    on a route on one patient's records the patient is read with them (for `access` to decide
    on), which saves a round trip on every such request."""
    values = {"id": uid, "token_hash": sessions.token_hash(sid)}
    patient_id = _path_patient_id()
    if patient_id is None:
        row = db.session.execute(USER_BY_SESSION, values).first()
    else:
        row = db.session.execute(USER_AND_PATIENT, {**values, "patient_id": patient_id}).first()
        if row is not None:
            g.path_patient = (patient_id, row[2])
    if row is None:
        return None
    return cast(User, row[0]), cast(dt.datetime, row[1])


def _fail_closed() -> None:
    """before_request: a route that declared no access rule is never served."""
    if request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "__access__", None) is None:
        raise Denied(Decision.NOT_FOUND)


def access(rule: Access) -> Callable[[F], F]:
    """Declare and enforce who may call this view (see server.policy)."""

    def decorate(view: F) -> F:
        # the status the route answers when its use case commits (flask-smorest's @response)
        documented = getattr(view, "_apidoc", {}).get("success_status_codes") or [None]
        success_status = int(documented[0]) if documented[0] is not None else None

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            audit = request_audit.current()
            target = None
            patient = None
            if rule.scope == "patient":
                read = g.pop("path_patient", None)
                if read is not None and read[0] == kwargs["patient_id"]:
                    patient = read[1]
                else:
                    patient = db.session.execute(
                        PATIENT_BY_ID, {"id": kwargs["patient_id"]}
                    ).scalar_one_or_none()
                if patient is not None:
                    target = PatientRef(patient.id, patient.clinic_id)
            decision = decide(rule, actor, target)
            if decision is Decision.UNAUTHENTICATED and g.get("session_expired"):
                raise Denied(decision, code="session_expired")
            if actor is not None and rule.scope in ("patient", "clinic"):
                # refusals are recorded too: a probe of a patient's records is worth knowing
                audit.watch(rule, actor, patient.id if patient else None)
            if decision is not Decision.ALLOW:
                raise Denied(decision)
            if rule.scope == "patient":
                g.patient = patient
            end_read_phase()
            # the event can ride in the use case's commit when its subject is known up front
            audit.success_status = success_status if rule.scope == "patient" else None
            return view(*args, **kwargs)

        guarded.__access__ = rule  # type: ignore[attr-defined]
        return cast(F, guarded)

    return decorate


def current_patient() -> Patient:
    return cast(Patient, g.patient)


def init_app(app: Flask) -> None:
    request_context.init_app(app)
    request_audit.init_app(app)
    app.before_request(_fail_closed)
    app.before_request(_load_actor)
