"""The cycle's dose reminders step: reminders at the dose time, the nags, the caregivers'
follow-up and the end of a snooze, for every pending dose with a moment since the last cycle
(the "doses" scan cursor)."""

from __future__ import annotations

import datetime as dt
import functools
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
from server.services import outbox, recipients
from server.services.reminders import cursor_of
from server.services.steps.base import CycleRun, Step

CURSOR = "doses"
# The idle question assumes the dose cursor is at most this old (the cycle runs each minute);
# when it is older (a worker was down) the step has work: the whole cycle runs and catches up.
IDLE_LOOKBACK = dt.timedelta(minutes=2)


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
    session: Session, now: dt.datetime, cursor_until: dt.datetime | None = None
) -> int:
    """Reminders at the dose time, again every 15 minutes (3 times) while it is not marked,
    and to linked caregivers an hour after; after a snooze, once more when it ends.

    One query finds every pending dose with a moment since the last cycle (its time, a nag's,
    the caregivers' hour, or a snooze's end); with nothing due, the cycle's next commit
    records the cursor (moved to `cursor_until` at most: see run_cycle's `settled_until`)."""
    settled = now if cursor_until is None else min(now, cursor_until)
    cursor, since = cursor_of(session, CURSOR, settled)
    found = session.execute(_dose_moments(), _moment_values(since, now)).all()
    cursor.at = max(cursor.at, settled)
    if not found:
        return 0
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
    new = outbox.enqueue(session, rows, now)
    session.commit()
    return new


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
        return {"queued": enqueue_dose_reminders(cycle.session, cycle.now, cycle.settled)}
