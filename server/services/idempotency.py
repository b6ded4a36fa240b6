"""Idempotency-Key support: the first answer to a (user, key) pair is kept and replayed.

The use case's work runs first; then the key is inserted together with the answer, with ON
CONFLICT DO NOTHING, in the same transaction as the work. One statement claims the key and
keeps the answer. When the key is already held (a retry, or a concurrent duplicate, which on
PostgreSQL waits for the first transaction's commit and on SQLite queues behind the single
writer), the work is rolled back and the first answer replayed: a key never creates a second
record and a duplicate never fails. A retry whose work now fails (the dose it marked is
already taken, say) still gets the first answer.

The work returns rows and domain objects; the route presents them (its response schema's
`dump`, carried by the claim) before the commit, while the objects still hold what was written
(a commit expires them: reading them again would query, and give the stored instants in UTC
rather than the ones sent); that answer is what the key keeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import IdempotencyRecord, Patient
from server.policy import Actor
from server.services.errors import Conflict

T = TypeVar("T")
RECORDS = cast(Table, IdempotencyRecord.__table__)
# built once (every log entry runs it), on the Table, not the mapped class: a plain statement
# skips the ORM's bulk machinery
CLAIM = {
    "postgresql": postgresql.insert(RECORDS).on_conflict_do_nothing().returning(RECORDS.c.key),
    "sqlite": sqlite.insert(RECORDS).on_conflict_do_nothing().returning(RECORDS.c.key),
}
PRIOR = select(IdempotencyRecord).where(
    IdempotencyRecord.user_id == bindparam("user_id"), IdempotencyRecord.key == bindparam("key")
)


@dataclass(frozen=True)
class Claim:
    """A request's Idempotency-Key (None: the client sent none) and how the route presents the
    work's result (its schema's `dump`)."""

    user_id: int
    key: str | None
    scope: str
    request_hash: str
    present: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Outcome:
    """What a use case did: its `result` (rows, domain objects) and, when a key was claimed or
    replayed, the `answer` kept with the key (None: the route presents `result` itself)."""

    status: int
    result: Any
    answer: Any
    replayed: bool


@dataclass(frozen=True, slots=True)
class Entry:
    """A request to log an entry for a patient: who logs it, its values (as the route's schema
    loaded them), when, and its claim on an Idempotency-Key (None: a script or the demo)."""

    actor: Actor
    patient: Patient
    data: dict[str, Any]
    now: dt.datetime
    claim: Claim | None = None

    def once(self, session: Session, work: Callable[[], T]) -> Outcome:
        """Do the entry's `work` and commit, once per Idempotency-Key (`run_once`)."""
        return run_once(session, self.claim, self.now, work)


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body, so a reused key with another body is caught."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(session: Session, claim: Claim, now: dt.datetime, status: int, body: Any) -> bool:
    """Insert the key with its answer; False when the key is already held."""
    values = {
        "user_id": claim.user_id,
        "key": claim.key,
        "scope": claim.scope,
        "request_hash": claim.request_hash,
        "status_code": status,
        "response": body,
        "created_at": now,
    }
    statement = CLAIM[session.get_bind().dialect.name]
    return session.execute(statement, values).first() is not None


def _replay(session: Session, claim: Claim) -> Outcome | None:
    """After a rollback: the first answer to this key, or None when the key is free."""
    prior = session.scalars(
        PRIOR.execution_options(populate_existing=True),
        {"user_id": claim.user_id, "key": claim.key},
    ).one_or_none()
    if prior is None:
        return None
    if prior.scope != claim.scope or prior.request_hash != claim.request_hash:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            {"Idempotency-Key": ["Use a new key for a new entry."]},
        )
    if prior.status_code is None:  # never committed so: refuse rather than replay nothing
        raise Conflict("The first request with this key is still being processed.")
    answer = Outcome(prior.status_code, None, prior.response, True)
    session.commit()
    return answer


def run_once(
    session: Session,
    claim: Claim | None,
    now: dt.datetime,
    work: Callable[[], T],
    status: int = 201,
) -> Outcome:
    """Do `work` and commit, unless this claim's key already has an answer: then roll the work
    back and replay that answer. The claim's presenter makes the answer before the commit;
    without one (a script, the demo) the outcome has the result only."""
    presenter = claim.present if claim is not None else None
    if claim is None or claim.key is None:
        result = work()
        answer = presenter(result) if presenter is not None else None
        session.commit()
        return Outcome(status, result, answer, False)
    assert presenter is not None, "a claimed key keeps an answer: give the route's presenter"
    try:
        result = work()
        answer = presenter(result)
        claimed = _claim(session, claim, now, status, answer)
    except Exception:
        # the work may fail only because this is a retry (what it did is already done), or
        # lose a race to the first request: the first answer, if there is one, wins
        session.rollback()
        replay = _replay(session, claim)
        if replay is None:
            raise
        return replay
    if not claimed:
        session.rollback()
        replay = _replay(session, claim)
        if replay is None:  # its record was purged in between (keys are kept for days)
            raise Conflict("The first request with this key did not finish; please retry.")
        return replay
    session.commit()
    return Outcome(status, result, answer, False)


def purge_older_than(session: Session, cutoff: dt.datetime) -> int:
    """Housekeeping: keys are kept long enough for any offline phone to retry."""
    from sqlalchemy import delete

    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
