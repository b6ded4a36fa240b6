"""The outbox: messages to deliver once, claimed by workers under a lease.

Materialising is idempotent (a unique `dedupe_key`, inserted with ON CONFLICT DO NOTHING), so
several workers or repeated cycles add each message once. A worker claims due rows for a lease
(PostgreSQL: FOR UPDATE SKIP LOCKED, so workers take disjoint batches; SQLite: one writer at a
time), sends outside the transaction, and records the outcome only while its claim holds. A
worker that dies mid-batch leaves claims that expire; the next worker takes them over.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, Update, bindparam, delete, select, update
from sqlalchemy.orm import Session

from server.models import OutboxMessage, PushDelivery, PushSubscription, User
from server.services.sql import batches, insert_for, insert_in

LEASE = dt.timedelta(seconds=90)
ROW_DEFAULTS: dict[str, Any] = {
    "channel": "push",
    "payload": {},
    "recipient_user_id": None,
    "patient_id": None,
    "dose_id": None,
    "escalation_id": None,
    "expires_at": None,
}
LATE_AFTER = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(hours=1)


def enqueue(session: Session, rows: Sequence[dict[str, Any]], now: dt.datetime) -> int:
    """Add messages that are not there yet (by dedupe_key); returns how many were new.

    A message whose useful moment has passed (`expires_at`) is recorded as skipped, never
    silently dropped; one sent more than 2 minutes after its moment is marked late."""
    if not rows:
        return 0
    values = []
    for row in rows:
        expires = row.get("expires_at")
        due = row["due_at"]
        status = "skipped" if expires is not None and now > expires else "pending"
        values.append(
            {
                # every row names every column: a multi-row INSERT takes its columns from the
                # first row, so a key missing there would be silently dropped from the rest
                **ROW_DEFAULTS,
                **row,
                "next_attempt_at": max(due, now) if status == "pending" else now,
                "status": status,
                "late": now - due > LATE_AFTER,
                "attempts": 0,
                "created_at": now,
                "last_error": "expired before it could be sent" if status == "skipped" else None,
            }
        )
    # One compiled statement run over all the rows (SQLAlchemy's "insertmanyvalues" batches
    # them); a `.values([...])` of thousands of rows was compiled anew each time
    # (docs/performance.md, Reminders).
    statement = insert_for(session)(OutboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["dedupe_key"]
    )
    result = session.connection().execute(
        statement.execution_options(preserve_rowcount=True), values
    )
    return result.rowcount


def cancel_dose_reminders(
    session: Session, patient_id: int, dose_ids: Sequence[int] | None, reason: str
) -> None:
    """Dose reminders not yet sent are not to be sent: those of `dose_ids`, or every one of the
    patient's when None (doses withheld: RULES.md 6). A batch already claimed checks each
    dose's status again before it sends (services/sends.py)."""
    if dose_ids is not None and not dose_ids:
        return
    query = update(OutboxMessage).where(
        OutboxMessage.patient_id == patient_id,
        OutboxMessage.kind == "dose",
        OutboxMessage.status == "pending",
    )
    targets: Iterable[Sequence[int] | None] = [None] if dose_ids is None else batches(dose_ids)
    for batch in targets:
        scoped = query if batch is None else query.where(OutboxMessage.dose_id.in_(batch))
        session.execute(
            scoped.values(status="cancelled", last_error=reason).execution_options(
                synchronize_session=False
            )
        )


@dataclass(frozen=True)
class Claimed:
    """A claimed message: what sending it needs, read by the claim itself (RETURNING)."""

    id: int
    dedupe_key: str
    kind: str
    channel: str
    recipient_user_id: int | None
    patient_id: int | None
    dose_id: int | None
    escalation_id: int | None
    payload: dict[str, Any]


_CLAIMED = [getattr(OutboxMessage, name) for name in Claimed.__dataclass_fields__]


@functools.cache
def due_messages() -> Select:
    """Messages to send at `now` (a parameter): pending, their moment come, claimed by no one
    (or the lease over); built once."""
    now: BindParameter[dt.datetime] = bindparam("now")
    return select(OutboxMessage.id).where(
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
    )


def claim(
    session: Session,
    worker_id: str,
    now: dt.datetime,
    limit: int = 500,
    *,
    kinds: Iterable[str] | None = None,
    other_kinds: Iterable[str] = (),
    lease: dt.timedelta = LEASE,
) -> list[Claimed]:
    """Take up to `limit` due messages (of `kinds`, or of any kind but `other_kinds`) for
    this worker for the lease; commits the claim (with nothing to claim, no commit: the
    caller's next commit, or the session's end, ends it)."""
    due = due_messages().params(now=now)
    if kinds is not None:
        due = due.where(OutboxMessage.kind.in_(sorted(kinds)))
    if other_kinds:
        due = due.where(OutboxMessage.kind.not_in(sorted(other_kinds)))
    due = due.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            claimed_by=worker_id,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    ).all()
    if not rows:
        return []
    session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda m: m.id)


def extend_claims(
    session: Session, worker_id: str, message_ids: Sequence[int], until: dt.datetime
) -> set[int]:
    """This worker is still on these messages: their claims hold until `until`. Returns the
    ones still claimed by it (a claim that expired and was taken over is not)."""
    kept: set[int] = set()
    for batch in batches(sorted(message_ids)):
        kept.update(
            session.scalars(
                _still_mine(batch, worker_id)
                .values(claimed_until=until)
                .returning(OutboxMessage.id)
            )
        )
    session.commit()
    return kept


def _still_mine(message_ids: Sequence[int], worker_id: str) -> Update:
    """An UPDATE of these messages while this worker's claim on them holds (pending)."""
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.claimed_by == worker_id,
            OutboxMessage.status == "pending",
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Result:
    """What happened to one claimed message."""

    message_id: int
    status: str  # sent, retry, failed, cancelled, skipped
    retry_after: dt.timedelta | None = None
    error: str | None = None


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between attempts."""
    return min(dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record(
    session: Session,
    worker_id: str,
    results: Iterable[Result],
    now: dt.datetime,
    *,
    deliveries: Iterable[tuple[int, int, int]] = (),
) -> dict[str, int]:
    """Store outcomes while this worker's claims hold (a claim taken over is left alone), and
    the `deliveries` made (message id, subscription id, HTTP status), in one transaction.

    Outcomes that end a message are written a group at a time (one UPDATE per status and
    reason), deliveries in one INSERT: a batch of 500 is a handful of statements, not 1,000."""
    results = list(results)
    counts: dict[str, int] = {}
    connection = session.connection()
    rows = [
        {"message_id": message, "subscription_id": sub, "status": code, "delivered_at": now}
        for message, sub, code in deliveries
    ]
    if rows:
        connection.execute(_delivered_statement(connection.dialect.name), rows)
    groups: dict[tuple[str, str | None], list[int]] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
        if result.status == "retry":
            _reschedule(session, worker_id, result, now)
        else:
            error = result.error[:300] if result.error else None
            groups.setdefault((result.status, error), []).append(result.message_id)
    for (status, error), ids in groups.items():
        for batch in batches(ids):
            connection.execute(
                _settle_statement(status == "sent"),
                {"ids": batch, "worker": worker_id, "status": status, "error": error, "at": now},
            )
    session.commit()
    return counts


@functools.cache
def _settle_statement(sent: bool) -> Update:
    """Messages ended while this worker's claim on them holds: a status and its reason (and
    when a sent one went), the claim given up. Built once: a worker records outcomes a few
    dozen at a time."""
    values: dict[str, Any] = {
        "status": bindparam("status"),
        "claimed_until": None,
        "last_error": bindparam("error"),
    }
    if sent:
        values["sent_at"] = bindparam("at", type_=OutboxMessage.__table__.c.sent_at.type)
    return (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(bindparam("ids", expanding=True)),
            OutboxMessage.claimed_by == bindparam("worker"),
            OutboxMessage.status == "pending",
        )
        .values(values)
    )


@functools.cache
def _delivered_statement(dialect: str) -> Any:
    """Deliveries to subscriptions, a delivery already recorded left as it is."""
    return insert_in(dialect)(PushDelivery.__table__).on_conflict_do_nothing()


def _reschedule(session: Session, worker_id: str, result: Result, now: dt.datetime) -> None:
    """Try again later (Retry-After, else backoff), or give up when it is no longer useful."""
    message = session.get(OutboxMessage, result.message_id)
    attempts = message.attempts if message else 1
    later = now + (result.retry_after or backoff(attempts))
    expires = message.expires_at if message else None
    values: dict[str, Any]
    if expires is not None and later > expires:
        values = {
            "status": "skipped",
            "last_error": (result.error or "not delivered")[:300] + "; expired",
            "claimed_until": None,
        }
    else:
        values = {
            "next_attempt_at": later,
            "claimed_until": None,
            "last_error": (result.error or "")[:300],
        }
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == result.message_id,
            OutboxMessage.claimed_by == worker_id,
            OutboxMessage.status == "pending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def forget_subscriptions(
    session: Session, subscription_ids: Iterable[int], now: dt.datetime
) -> None:
    """The push service said 404/410: the subscription is gone. A user left with none is marked
    unreachable by push (the care team sees it)."""
    ids = sorted(set(subscription_ids))
    if not ids:
        return
    users = set(
        session.scalars(select(PushSubscription.user_id).where(PushSubscription.id.in_(ids)))
    )
    session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))
    for user_id in users:
        left = session.scalar(
            select(PushSubscription.id).where(PushSubscription.user_id == user_id)
        )
        if left is None:
            session.execute(
                update(User)
                .where(User.id == user_id, User.push_unreachable_since.is_(None))
                .values(push_unreachable_since=now)
            )
    session.commit()
