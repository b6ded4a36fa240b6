"""Signed-in browsers as server-side records: signing out ends the record, so every copy of a
cookie ends with it; a password change or reset and "sign out everywhere" end them all."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from server.models import UserSession

SESSIONS = UserSession.__table__
assert isinstance(SESSIONS, Table)
END_ONE = (
    update(SESSIONS)
    .where(SESSIONS.c.token_hash == bindparam("b_token_hash"), SESSIONS.c.ended_at.is_(None))
    .values(ended_at=bindparam("b_now"))
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_id: int, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """Record a new signed-in browser and return its token (kept only in the cookie)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.commit()
    return token


def end(session: Session, token: str, now: dt.datetime) -> None:
    """Sign out one browser: its cookie, and every copy of it, stops working."""
    session.execute(END_ONE, {"b_token_hash": token_hash(token), "b_now": now})
    session.commit()


def end_all(session: Session, user_id: int, now: dt.datetime, keep_token: str | None = None) -> int:
    """End every session of a user (but `keep_token`'s); the caller commits."""
    statement = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep_token is not None:
        statement = statement.where(UserSession.token_hash != token_hash(keep_token))
    result = session.execute(statement.values(ended_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
