"""What the cycle's reminder steps share (services/steps/: dose, calendar and prompt reminders):
the scan cursor, the patients' reminder settings; and snoozing a dose's reminders."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from sqlalchemy import BindParameter, Update, bindparam, case, or_, select, update
from sqlalchemy.orm import Session

from server.models import DispatchCursor, Dose, OutboxMessage, Patient, ReminderSettings
from server.policy import Actor
from server.services.errors import Conflict, NotFound
from server.services.sql import batches, insert_for

LOOKBACK = dt.timedelta(hours=24)
# how long a worker's hold on a scan cursor lasts unless renewed (hold_cursor): a worker that
# dies mid-window leaves it to another after this
HOLD = dt.timedelta(seconds=90)


def hold_cursor(session: Session, name: str, worker: str, now: dt.datetime) -> dt.datetime | None:
    """Take the scan cursor `name` for `worker` until `now` + HOLD: the window after it is this
    worker's to queue, in as many transactions as it likes, while the other workers send. Returns
    where the window starts, or None when another worker holds it (its hold not over). The
    cursor is made once even when several workers start together (a plain INSERT from two
    first cycles would collide on the primary key)."""
    for _ in range(2):
        held = session.execute(
            update(DispatchCursor)
            .where(
                DispatchCursor.name == name,
                or_(
                    DispatchCursor.held_until.is_(None),
                    DispatchCursor.held_until <= now,
                    DispatchCursor.held_by == worker,
                ),
            )
            .values(held_by=worker, held_until=now + HOLD)
            .returning(DispatchCursor.at)
            .execution_options(synchronize_session=False)
        ).scalar()
        if held is not None:
            return max(held, now - LOOKBACK)
        exists = session.execute(select(DispatchCursor.name).where(DispatchCursor.name == name))
        if exists.first() is not None:
            return None
        session.execute(
            insert_for(session)(DispatchCursor)
            .values(name=name, at=now - LOOKBACK)
            .on_conflict_do_nothing(index_elements=["name"])
        )
    return None


def renew_hold(session: Session, name: str, worker: str, until: dt.datetime) -> bool:
    """Keep `worker`'s hold on the cursor until `until`; False when it is no longer its own (it
    lapsed and another worker took the window over)."""
    renewed = session.execute(
        update(DispatchCursor)
        .where(DispatchCursor.name == name, DispatchCursor.held_by == worker)
        .values(held_until=until)
        .returning(DispatchCursor.name)
        .execution_options(synchronize_session=False)
    )
    return renewed.first() is not None


def release_cursor(session: Session, name: str, worker: str, at: dt.datetime) -> None:
    """The window up to `at` is queued: move the cursor on (never back) and end the hold, when
    it is still `worker`'s (one taken over is the other worker's to move)."""
    session.execute(
        update(DispatchCursor)
        .where(DispatchCursor.name == name, DispatchCursor.held_by == worker)
        .values(
            at=case((DispatchCursor.at < at, at), else_=DispatchCursor.at),
            held_by=None,
            held_until=None,
        )
        .execution_options(synchronize_session=False)
    )


@functools.cache
def move_cursor_statement() -> Update:
    """Move the cursor `cur_name` on to `cur_at` (never back), without loading it (the idle
    cycle's write, with the heartbeat: heartbeat.record_cycle)."""
    at: BindParameter[dt.datetime] = bindparam("cur_at")
    return (
        update(DispatchCursor)
        .where(DispatchCursor.name == bindparam("cur_name"), DispatchCursor.at < at)
        .values(at=at)
        .returning(DispatchCursor.name)
        .execution_options(synchronize_session=False)
    )


def settings_of(session: Session, patient_ids: Iterable[int]) -> dict[int, ReminderSettings]:
    """patient id -> their reminder settings (patients who never set any have none)."""
    ids = sorted(set(patient_ids))
    return {
        row.patient_id: row
        for batch in batches(ids)
        for row in session.scalars(
            select(ReminderSettings).where(ReminderSettings.patient_id.in_(batch))
        )
    }


def snooze(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    dose_id: int,
    minutes: int,
    now: dt.datetime,
) -> Dose:
    """Remind again in 10, 30 or 60 minutes; the reminders due before then are held back."""
    dose = session.get(Dose, dose_id)
    if dose is None or dose.patient_id != patient.id:
        raise NotFound("No such dose for this patient.", {"dose_id": ["Unknown dose."]})
    if dose.status != "pending":
        raise Conflict(f"This dose is already recorded as {dose.status}.")
    dose.snoozed_until = now + dt.timedelta(minutes=minutes)
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.dose_id == dose.id,
            OutboxMessage.status == "pending",
            OutboxMessage.due_at < dose.snoozed_until,
            OutboxMessage.kind == "dose",
        )
        .values(status="cancelled", last_error="snoozed")
    )
    session.commit()
    return dose
