"""Idempotency-Key support: the first answer to a (user, key) pair is kept and replayed.

The key row is inserted with ON CONFLICT DO NOTHING in the same transaction as the write it
guards, so a concurrent duplicate waits for the first transaction and then replays its answer
(PostgreSQL), or queues behind the single writer (SQLite); it never creates a second record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import IdempotencyRecord
from server.services.errors import Conflict

T = TypeVar("T")
RECORDS = cast(Table, IdempotencyRecord.__table__)
# built once (every log entry runs them), on the Table, not the mapped class: a plain statement
# skips the ORM's bulk machinery
RESERVE = {
    "postgresql": postgresql.insert(RECORDS).on_conflict_do_nothing().returning(RECORDS.c.key),
    "sqlite": sqlite.insert(RECORDS).on_conflict_do_nothing().returning(RECORDS.c.key),
}
ANSWER = (
    update(RECORDS)
    .where(RECORDS.c.user_id == bindparam("claim_user_id"), RECORDS.c.key == bindparam("claim_key"))
    .values(status_code=bindparam("answer_status"), response=bindparam("answer_body"))
)


@dataclass(frozen=True)
class Claim:
    user_id: int
    key: str
    scope: str
    request_hash: str


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body, so a reused key with another body is caught."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reserve(session: Session, claim: Claim, now: dt.datetime) -> IdempotencyRecord | None:
    """Insert the key, or return the record already holding it."""
    values = {
        "user_id": claim.user_id,
        "key": claim.key,
        "scope": claim.scope,
        "request_hash": claim.request_hash,
        "created_at": now,
    }
    statement = RESERVE[session.get_bind().dialect.name]
    if session.execute(statement, values).first() is not None:
        return None
    return session.scalars(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == claim.user_id, IdempotencyRecord.key == claim.key)
        .execution_options(populate_existing=True)
    ).one()


def run_once(
    session: Session,
    claim: Claim | None,
    now: dt.datetime,
    work: Callable[[], T],
    present: Callable[[T], Any],
    status: int = 201,
) -> Outcome:
    """Do `work` and commit, unless this claim's key already has an answer: then replay it."""
    if claim is not None:
        prior = _reserve(session, claim, now)
        if prior is not None:
            if prior.scope != claim.scope or prior.request_hash != claim.request_hash:
                raise Conflict(
                    "This Idempotency-Key was already used for a different request.",
                    {"Idempotency-Key": ["Use a new key for a new entry."]},
                )
            if prior.status_code is None:  # only possible if a writer died mid-way
                raise Conflict("The first request with this key is still being processed.")
            answer = Outcome(prior.status_code, prior.response, True)
            session.commit()
            return answer
    result = work()
    body = present(result)
    if claim is not None:
        session.execute(
            ANSWER,
            {
                "claim_user_id": claim.user_id,
                "claim_key": claim.key,
                "answer_status": status,
                "answer_body": body,
            },
        )
    session.commit()
    return Outcome(status, body, False)


def purge_older_than(session: Session, cutoff: dt.datetime) -> int:
    """Housekeeping: keys are kept long enough for any offline phone to retry."""
    from sqlalchemy import delete

    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
