"""How the service is doing, read from the database for `/metrics` (so every web worker gives
the same figures, and the worker needs no port of its own): the outbox's backlog, recent
outcomes, how fast escalations are acknowledged, and the scheduler's heartbeat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Escalation, OutboxMessage, WorkerHeartbeat

# outcomes are counted over this window (the outbox keeps every message; counting them all on
# each scrape would read the whole table)
OUTCOME_WINDOW = dt.timedelta(hours=1)
# acknowledgement times are gathered over this window
ACKNOWLEDGED_WINDOW = dt.timedelta(days=7)
FINISHED = ("sent", "failed", "skipped", "cancelled")


@dataclass(frozen=True)
class Operations:
    """A snapshot at `now`. Ages are in seconds; None when there is nothing to age."""

    now: dt.datetime
    due_messages: dict[str, int] = field(default_factory=dict)  # channel -> count
    oldest_due_age: float | None = None
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    acknowledgement_seconds: list[float] = field(default_factory=list)
    unacknowledged: dict[str, int] = field(default_factory=dict)  # severity -> open ones
    oldest_unacknowledged_age: float | None = None
    heartbeat_age: float | None = None


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    if instant is not None and instant.tzinfo is None:  # min()/max() over SQLite: naive UTC
        return instant.replace(tzinfo=dt.UTC)
    return instant


def _earliest(instants: Iterable[dt.datetime | None]) -> dt.datetime | None:
    known = [_utc(instant) for instant in instants if instant is not None]
    return min(known) if known else None  # type: ignore[type-var]


def _age(now: dt.datetime, instant: dt.datetime | None) -> float | None:
    instant = _utc(instant)
    return None if instant is None else max((now - instant).total_seconds(), 0.0)


def snapshot(session: Session, now: dt.datetime) -> Operations:
    """Read the figures (a handful of indexed queries; nothing is written)."""
    message = OutboxMessage
    due = select(message.channel, func.count(), func.min(message.due_at)).where(
        # due, and not sent yet: waiting for a worker, or for another attempt after a failure
        message.status == "pending",
        message.due_at <= now,
    )
    due_rows = session.execute(due.group_by(message.channel)).all()
    due_messages = {channel: int(count) for channel, count, _ in due_rows}
    outcomes = {
        (channel, status): int(count)
        for status, channel, count in session.execute(
            select(message.status, message.channel, func.count())
            .where(message.status.in_(FINISHED), message.next_attempt_at > now - OUTCOME_WINDOW)
            .group_by(message.status, message.channel)
        )
    }
    acknowledged = [
        max((_utc(ack) - _utc(opened)).total_seconds(), 0.0)  # type: ignore[operator]
        for opened, ack in session.execute(
            select(Escalation.opened_at, Escalation.acknowledged_at).where(
                Escalation.acknowledged_at > now - ACKNOWLEDGED_WINDOW
            )
        )
    ]
    open_rows = session.execute(
        select(Escalation.severity, func.count(), func.min(Escalation.opened_at))
        .where(Escalation.status == "open")
        .group_by(Escalation.severity)
    ).all()
    last_beat = session.scalar(select(func.max(WorkerHeartbeat.last_cycle_at)))
    return Operations(
        now=now,
        due_messages=due_messages,
        oldest_due_age=_age(now, _earliest(first for _, _, first in due_rows)),
        outcomes=outcomes,
        acknowledgement_seconds=acknowledged,
        unacknowledged={severity: int(count) for severity, count, _ in open_rows},
        oldest_unacknowledged_age=_age(now, _earliest(first for _, _, first in open_rows)),
        heartbeat_age=_age(now, last_beat),
    )
