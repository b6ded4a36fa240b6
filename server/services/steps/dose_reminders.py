"""The cycle's dose reminders step: reminders at the dose time, the nags, the caregivers'
follow-up and the end of a snooze, for every pending dose with a moment since the last cycle
(the "doses" scan cursor)."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    bindparam,
    func,
    select,
    union,
)
from sqlalchemy.orm import Session

from server.domain.dose_reminders import CAREGIVER_AFTER, REMINDER_REACH, reminder_moments
from server.domain.doses import MISSED_AFTER
from server.models import DispatchCursor, Dose
from server.services import outbox, recipients, reminders
from server.services.steps.base import CycleRun, Step

CURSOR = "doses"
# The idle question assumes the dose cursor is at most this old (the cycle runs each minute);
# when it is older (a worker was down) the step has work: the whole cycle runs and catches up.
IDLE_LOOKBACK = dt.timedelta(minutes=2)
# reminders queued in one transaction: a burst (every patient's 08:00 dose) is sent from its
# first chunk on, not after the whole of it is queued (docs/performance.md, Reminders)
QUEUE_CHUNK = 2000


@functools.cache
def _dose_moments() -> CompoundSelect:
    """Pending doses with a moment in (since, now]: their time, a nag's, the caregivers' hour
    or a snooze's end. Two index ranges (a union: with an OR, PostgreSQL reads every pending
    dose, tomorrow's included); built once, the values as parameters (_moment_values)."""
    columns = select(Dose.id, Dose.patient_id, Dose.scheduled_at, Dose.snoozed_until)
    now: BindParameter[dt.datetime] = bindparam("now")
    return union(
        columns.where(*_dose_window()),
        columns.where(
            Dose.status == "pending",
            Dose.snoozed_until > bindparam("since"),
            Dose.snoozed_until <= now,
        ),
    )


def _dose_window() -> tuple[ColumnElement[bool], ...]:
    return (
        Dose.status == "pending",
        Dose.scheduled_at > bindparam("reach_from"),
        Dose.scheduled_at <= bindparam("now"),
    )


def _moment_values(since: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    return {"reach_from": since - REMINDER_REACH, "since": since, "now": now}


def enqueue_dose_reminders(
    session: Session,
    now: dt.datetime,
    cursor_until: dt.datetime | None = None,
    worker: str = "cycle",
) -> int:
    """Reminders at the dose time, again every 15 minutes (3 times) while it is not marked,
    and to linked caregivers an hour after; after a snooze, once more when it ends.

    One query finds every pending dose with a moment since the last cycle (its time, a nag's,
    the caregivers' hour, or a snooze's end), by the worker holding the dose cursor (another
    worker holding it: nothing to do here, that one queues them). The reminders are queued
    QUEUE_CHUNK at a time, each chunk committed, so that the other workers send the first
    while the rest are queued; the cursor moves (to `cursor_until` at most: see run_cycle's
    `settled_until`) after the last. A worker that dies part way leaves its hold to lapse: the
    next one queues the window again, and each message's unique key keeps what is already
    queued from being queued twice. With nothing due, the cycle's next commit moves it."""
    settled = now if cursor_until is None else min(now, cursor_until)
    since = reminders.hold_cursor(session, CURSOR, worker, settled)
    if since is None:
        return 0
    found = session.execute(_dose_moments(), _moment_values(since, now)).all()
    rows = _reminders(session, found, since, now) if found else []
    if not rows:
        reminders.release_cursor(session, CURSOR, worker, settled)
        return 0
    session.commit()  # the hold, seen by the other workers
    started = time.monotonic()
    new = 0
    for start in range(0, len(rows), QUEUE_CHUNK):
        new += outbox.enqueue(session, rows[start : start + QUEUE_CHUNK], now)
        held_until = settled + dt.timedelta(seconds=time.monotonic() - started) + reminders.HOLD
        still_held = reminders.renew_hold(session, CURSOR, worker, held_until)
        session.commit()
        if not still_held:
            return new  # this worker stalled past its hold: the one that took it over goes on
    reminders.release_cursor(session, CURSOR, worker, settled)
    session.commit()
    return new


def _reminders(
    session: Session, found: Sequence[Any], since: dt.datetime, now: dt.datetime
) -> list[dict[str, Any]]:
    """The outbox rows for the doses `found` with a moment in (since, now]."""
    loggers = recipients.loggers(session, (r.patient_id for r in found))
    # the caregivers' hour came in this window: their follow-up is due
    late = {r.id: r.patient_id for r in found if since < r.scheduled_at + CAREGIVER_AFTER <= now}
    carers = recipients.caregivers(session, late.values())
    rows: list[dict[str, Any]] = []
    for dose_id, patient_id, scheduled_at, snoozed_until in found:
        snoozed = snoozed_until is not None and snoozed_until > now
        for level, due, useful_until in reminder_moments(scheduled_at):
            if snoozed or not since < due <= now:
                continue
            for user_id, suffix in loggers.get(patient_id, []):
                rows.append(
                    {
                        "dedupe_key": f"dose:{dose_id}:{level}{suffix}",
                        "kind": "dose",
                        "recipient_user_id": user_id,
                        "patient_id": patient_id,
                        "dose_id": dose_id,
                        "due_at": due,
                        "expires_at": useful_until,
                    }
                )
        if dose_id in late:
            for caregiver_id in carers.get(patient_id, []):
                rows.append(
                    {
                        "dedupe_key": f"dose-followup:{dose_id}:{caregiver_id}",
                        "kind": "dose",
                        "recipient_user_id": caregiver_id,
                        "patient_id": patient_id,
                        "dose_id": dose_id,
                        "due_at": scheduled_at + CAREGIVER_AFTER,
                        "expires_at": scheduled_at + MISSED_AFTER,
                        "payload": {"follow_up": True},
                    }
                )
        if snoozed_until is not None and since < snoozed_until <= now:
            for user_id, suffix in loggers.get(patient_id, []):
                rows.append(
                    {
                        "dedupe_key": (
                            f"dose:{dose_id}:snooze:{int(snoozed_until.timestamp())}{suffix}"
                        ),
                        "kind": "dose",
                        "recipient_user_id": user_id,
                        "patient_id": patient_id,
                        "dose_id": dose_id,
                        "due_at": snoozed_until,
                        "expires_at": scheduled_at + MISSED_AFTER,
                    }
                )
    return rows


class DoseReminders(Step):
    name = "dose_reminders"
    counts = ("queued",)

    def due(self) -> Sequence[ColumnElement[bool]]:
        _, snoozed = _dose_moments().selects
        cursor_recent = select(DispatchCursor.name).where(
            DispatchCursor.name == CURSOR, DispatchCursor.at >= bindparam("since")
        )
        return [
            # a cursor older than IDLE_LOOKBACK (or none yet): moments it has not looked at
            ~cursor_recent.exists(),
            # the window's part asked so that PostgreSQL reads the index: as EXISTS, with its
            # estimate of pending doses in the window thrown by the day's doses there (taken,
            # but counted by the share of all doses still pending), it scanned every dose
            # (docs/performance.md, Reminders); min() walks the index to the window
            select(func.min(Dose.scheduled_at))
            .where(*_dose_window())
            .scalar_subquery()
            .is_not(None),
            snoozed.exists(),
        ]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        # a longer range than the cursor's (it is at most IDLE_LOOKBACK old, or the step is
        # due): nothing in this one means nothing in that one
        return _moment_values(now - IDLE_LOOKBACK, now)

    def run(self, cycle: CycleRun) -> dict[str, int]:
        queued = enqueue_dose_reminders(cycle.session, cycle.now, cycle.settled, cycle.worker)
        return {"queued": queued}
