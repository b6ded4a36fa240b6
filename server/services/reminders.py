"""What is due to be sent: dose reminders (with nagging and the caregiver follow-up), blood-test
reminders, daily check-ins and diary prompts. Each cycle adds what came due since the last one
to the outbox; the outbox sends it once."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Update,
    bindparam,
    func,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session

from server.domain import local_date
from server.domain.dose_reminders import CAREGIVER_AFTER, REMINDER_REACH, reminder_moments
from server.domain.doses import MISSED_AFTER
from server.models import (
    DispatchCursor,
    Dose,
    OutboxMessage,
    Patient,
    PatientState,
    ReminderSettings,
)
from server.policy import Actor
from server.services import course, outbox, recipients
from server.services import state as states
from server.services.errors import Conflict, NotFound
from server.services.reminder_times import after_quiet_hours
from server.services.sql import batches, insert_for

LOOKBACK = dt.timedelta(hours=24)
MAKE_DOSES_PER_CYCLE = 2000


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


def cursor_at_query(name: str) -> Select:
    return select(DispatchCursor.at).where(DispatchCursor.name == name)


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


def doses_ahead_query(now: dt.datetime, limit: int = MAKE_DOSES_PER_CYCLE) -> Select:
    """Patients whose next day of doses is to be made by now (one index range, the soonest
    first; nothing read when all are made)."""
    return doses_ahead_template().params(doses_ahead_params(now, limit))


@functools.cache
def doses_ahead_template() -> Select:
    """doses_ahead_query with its values as named parameters, built once."""
    s = PatientState
    return (
        select(s.patient_id)
        .where(s.doses_make_at <= bindparam("da_now"))
        .order_by(s.doses_make_at)
        .limit(bindparam("da_limit", type_=Integer))
    )


def doses_ahead_params(now: dt.datetime, limit: int = MAKE_DOSES_PER_CYCLE) -> dict[str, object]:
    return {"da_now": now, "da_limit": limit}


def make_doses_ahead(session: Session, now: dt.datetime) -> int:
    """Make the dose rows of today and tomorrow (patient-local) for patients whose next day is
    due to be made, as their treatment course has them (services/course.py), a bounded number
    of patients per cycle."""
    ids = sorted(session.scalars(doses_ahead_query(now)))
    if not ids:  # the cycle's next commit ends this read
        return 0
    patients = [
        patient
        for batch in batches(ids)
        for patient in session.scalars(select(Patient).where(Patient.id.in_(batch)))
    ]
    for patient in patients:
        course.make_ahead(session, patient, now)
    session.commit()
    return len(patients)


def dose_moments_query(since: dt.datetime, now: dt.datetime) -> CompoundSelect:
    """Pending doses with a moment in (since, now]: their time, a nag's, the caregivers' hour
    or a snooze's end. Two index ranges (a union: with an OR, PostgreSQL reads every pending
    dose, tomorrow's included)."""
    return dose_moments_template().params(dose_moments_params(since, now))


@functools.cache
def dose_moments_template() -> CompoundSelect:
    """dose_moments_query with its values as named parameters, built once."""
    columns = select(Dose.id, Dose.patient_id, Dose.scheduled_at, Dose.snoozed_until)
    now: BindParameter[dt.datetime] = bindparam("dm_now")
    return union(
        columns.where(*_dose_window()),
        columns.where(
            Dose.status == "pending",
            Dose.snoozed_until > bindparam("dm_since"),
            Dose.snoozed_until <= now,
        ),
    )


@functools.cache
def _dose_window() -> tuple[ColumnElement[bool], ...]:
    return (
        Dose.status == "pending",
        Dose.scheduled_at > bindparam("dm_reach_from"),
        Dose.scheduled_at <= bindparam("dm_now"),
    )


@functools.cache
def dose_window_probe() -> ColumnElement[bool]:
    """Whether the first part of dose_moments_query finds a row, asked so that PostgreSQL
    reads the index: as EXISTS, with its estimate of pending doses in the window thrown by
    the day's doses there (taken, but counted by the share of all doses still pending), it
    scanned every dose (docs/performance.md, Reminders); min() walks the index to the window."""
    return select(func.min(Dose.scheduled_at)).where(*_dose_window()).scalar_subquery().is_not(None)


def dose_moments_params(since: dt.datetime, now: dt.datetime) -> dict[str, object]:
    return {"dm_reach_from": since - REMINDER_REACH, "dm_since": since, "dm_now": now}


def enqueue_dose_reminders(
    session: Session, now: dt.datetime, cursor_until: dt.datetime | None = None
) -> int:
    """Reminders at the dose time, again every 15 minutes (3 times) while it is not marked,
    and to linked caregivers an hour after; after a snooze, once more when it ends.

    One query finds every pending dose with a moment since the last cycle (its time, a nag's,
    the caregivers' hour, or a snooze's end); with nothing due, the cycle's next commit
    records the cursor (moved to `cursor_until` at most: see run_cycle's `settled_until`)."""
    settled = now if cursor_until is None else min(now, cursor_until)
    cursor, since = cursor_of(session, "doses", settled)
    found = session.execute(dose_moments_query(since, now)).all()
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


def _settings(session: Session, patient_ids: Iterable[int]) -> dict[int, ReminderSettings]:
    """patient id -> their reminder settings (patients who never set any have none)."""
    ids = sorted(set(patient_ids))
    return {
        row.patient_id: row
        for batch in batches(ids)
        for row in session.scalars(
            select(ReminderSettings).where(ReminderSettings.patient_id.in_(batch))
        )
    }


def calendar_query(now: dt.datetime) -> CompoundSelect:
    """Patients with a blood-test reminder or a check-in due (two index ranges)."""
    return calendar_template().params(calendar_params(now))


@functools.cache
def calendar_template() -> CompoundSelect:
    s = PatientState
    now: BindParameter[dt.datetime] = bindparam("cal_now")
    return union(
        select(s.patient_id).where(s.next_blood_reminder_at <= now),
        select(s.patient_id).where(s.next_check_in_at <= now),
    )


def calendar_params(now: dt.datetime) -> dict[str, object]:
    return {"cal_now": now}


def enqueue_calendar_reminders(session: Session, now: dt.datetime) -> int:
    """Blood-test reminders and daily check-ins whose moment has come."""
    rows: list[dict[str, Any]] = []
    ids = sorted(session.scalars(calendar_query(now)))
    if not ids:  # the cycle's next commit ends this read
        return 0
    due = [
        row
        for batch in batches(ids)
        for row in session.execute(
            select(PatientState, Patient)
            .join(Patient, Patient.id == PatientState.patient_id)
            .where(PatientState.patient_id.in_(batch))
        ).all()
    ]
    due_blood = [
        (s, p) for s, p in due if s.next_blood_reminder_at and s.next_blood_reminder_at <= now
    ]
    due_check = [(s, p) for s, p in due if s.next_check_in_at and s.next_check_in_at <= now]
    logins = recipients.logins(session, [s.patient_id for s, _ in due_blood])
    loggers = recipients.loggers(session, [s.patient_id for s, _ in due_check])
    carers = recipients.caregivers(session, [s.patient_id for s, _ in due_blood])
    settings = _settings(session, [s.patient_id for s, _ in due_check])
    for state, patient in due_blood:
        moment = state.next_blood_reminder_at
        assert moment is not None and state.next_blood_test_due is not None
        stage = (
            "day" if local_date(moment, patient.timezone) == state.next_blood_test_due else "before"
        )
        for user_id in [logins.get(patient.id), *carers.get(patient.id, [])]:
            if user_id is None:
                continue
            rows.append(
                {
                    "dedupe_key": (
                        f"blood:{patient.id}:{state.next_blood_test_due}:{stage}:{user_id}"
                    ),
                    "kind": "blood_test",
                    "recipient_user_id": user_id,
                    "patient_id": patient.id,
                    "due_at": moment,
                    "expires_at": moment + dt.timedelta(hours=12),
                    "payload": {"stage": stage},
                }
            )
        states.blood_reminder_planned(state, patient, now)
    for state, patient in due_check:
        moment = state.next_check_in_at
        assert moment is not None
        day = local_date(moment, patient.timezone)
        for user_id, suffix in loggers.get(patient.id, []):
            rows.append(
                {
                    "dedupe_key": f"check-in:{patient.id}:{day}{suffix}",
                    "kind": "check_in",
                    "recipient_user_id": user_id,
                    "patient_id": patient.id,
                    "due_at": moment,
                    "expires_at": moment + dt.timedelta(hours=6),
                }
            )
        states.check_in_planned(state, patient, settings.get(patient.id), now)
    new = outbox.enqueue(session, rows, now)
    session.commit()
    return new


def enqueue_prompts(session: Session, prompts: Sequence[tuple[int, str]], now: dt.datetime) -> int:
    """Diary prompts from the time rules (no bowel movement for 48 h, fewer than 3 a week),
    once a day each, outside quiet hours."""
    if not prompts:
        return 0
    ids = sorted({pid for pid, _ in prompts})
    patients = {
        p.id: p
        for batch in batches(ids)
        for p in session.scalars(select(Patient).where(Patient.id.in_(batch)))
    }
    loggers = recipients.loggers(session, patients)
    settings = _settings(session, patients)
    rows = []
    for patient_id, prompt in prompts:
        patient = patients.get(patient_id)
        if patient is None:
            continue
        day = local_date(now, patient.timezone)
        due = after_quiet_hours(now, patient.timezone, settings.get(patient_id))
        for user_id, suffix in loggers.get(patient_id, []):
            rows.append(
                {
                    "dedupe_key": f"prompt:{patient_id}:{prompt}:{day}{suffix}",
                    "kind": "check_in",
                    "recipient_user_id": user_id,
                    "patient_id": patient_id,
                    "due_at": due,
                    "expires_at": due + dt.timedelta(hours=12),
                    "payload": {"prompt": prompt},
                }
            )
    new = outbox.enqueue(session, rows, now)
    session.commit()
    return new


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
