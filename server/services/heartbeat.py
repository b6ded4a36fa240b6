"""The scheduler's dead-man switch."""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from server.models import WorkerHeartbeat
from server.services import reminders

STALE_AFTER = dt.timedelta(minutes=3)


def record_cycle(
    session: Session,
    worker_id: str,
    now: dt.datetime,
    elapsed_ms: float,
    *,
    cursor: str | None = None,
) -> None:
    """Note that a worker finished a dispatch cycle at `now` (one UPDATE, and an INSERT the
    first time); commits, and with it whatever the cycle left uncommitted.

    `cursor`: a scan cursor (DispatchCursor) to move on to `now` as well, which an idle cycle
    does: on PostgreSQL in the same statement (a data-modifying WITH, one round trip less).
    The statements are built once: building them cost more than running them."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    params = {"hb_worker": worker_id, "hb_at": now, "hb_ms": elapsed_ms}
    if cursor is not None:
        params |= {"cur_name": cursor, "cur_at": now}
        if not postgresql:
            session.execute(reminders.move_cursor_statement(), params)
    updated = session.execute(_beat(cursor is not None and postgresql), params)
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(
            WorkerHeartbeat(
                worker_id=worker_id, last_cycle_at=now, last_cycle_ms=elapsed_ms, cycles=1
            )
        )
    session.commit()


@functools.cache
def _beat(with_cursor: bool) -> Update:
    beat = WorkerHeartbeat
    statement = (
        update(beat)
        .where(beat.worker_id == bindparam("hb_worker"))
        .values(
            last_cycle_at=bindparam("hb_at"),
            last_cycle_ms=bindparam("hb_ms"),
            cycles=beat.cycles + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if with_cursor:
        # PostgreSQL's idle write (its own transaction): committed without waiting for the
        # WAL to reach the disk. A database crash may lose the last second of idle minutes:
        # the cursor then looks at them again, and every message has its unique key. The
        # setting is local to this statement's transaction; every other commit still waits.
        statement = statement.add_cte(reminders.move_cursor_statement().cte("moved")).where(
            func.set_config("synchronous_commit", "off", True) == "off"
        )
    return statement


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
