"""The scheduler's dead-man switch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.models import WorkerHeartbeat

STALE_AFTER = dt.timedelta(minutes=3)


def record_cycle(session: Session, worker_id: str, now: dt.datetime, elapsed_ms: float) -> None:
    """Note that a worker finished a dispatch cycle at `now` (one UPDATE, and an INSERT the
    first time); commits, and with it whatever the cycle left uncommitted."""
    beat = WorkerHeartbeat
    updated = session.execute(
        update(beat)
        .where(beat.worker_id == worker_id)
        .values(last_cycle_at=now, last_cycle_ms=elapsed_ms, cycles=beat.cycles + 1)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(
            WorkerHeartbeat(
                worker_id=worker_id, last_cycle_at=now, last_cycle_ms=elapsed_ms, cycles=1
            )
        )
    session.commit()


def last_cycle_at(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.last_cycle_at)))


def scheduler_state(session: Session, now: dt.datetime) -> str:
    """ "ok" when a cycle ran within 3 minutes, "unhealthy" when older, "never" before any."""
    last = last_cycle_at(session)
    if last is None:
        return "never"
    if last.tzinfo is None:  # max() over SQLite returns the stored naive UTC value
        last = last.replace(tzinfo=dt.UTC)
    return "ok" if now - last <= STALE_AFTER else "unhealthy"
