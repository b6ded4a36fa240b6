"""What the cycle's reminder steps share (services/steps/: dose, calendar and prompt reminders):
the scan cursor, the patients' reminder settings; and snoozing a dose's reminders."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from sqlalchemy import BindParameter, Update, bindparam, select, update
from sqlalchemy.orm import Session

from server.models import DispatchCursor, Dose, OutboxMessage, Patient, ReminderSettings
from server.policy import Actor
from server.services.errors import Conflict, NotFound
from server.services.sql import batches, insert_for

LOOKBACK = dt.timedelta(hours=24)


def cursor_of(session: Session, name: str, now: dt.datetime) -> tuple[DispatchCursor, dt.datetime]:
    """The scan cursor, made once even when several workers start together (a plain INSERT
    from two first cycles would collide on the primary key)."""
    row = session.get(DispatchCursor, name, populate_existing=True)
    if row is None:
        session.execute(
            insert_for(session)(DispatchCursor)
            .values(name=name, at=now - LOOKBACK)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = session.get(DispatchCursor, name, populate_existing=True)
    assert row is not None
    return row, max(row.at, now - LOOKBACK)


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
