"""The cycle's calendar reminders step: blood-test reminders and daily check-ins whose moment
has come (each patient's next moments are kept in their summary row)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, CompoundSelect, bindparam, select, union
from sqlalchemy.orm import Session

from server.domain import local_date
from server.models import Patient, PatientState
from server.services import outbox, recipients
from server.services import state as states
from server.services.reminders import settings_of
from server.services.sql import batches
from server.services.steps.base import CycleRun, Step


@functools.cache
def _patients_due() -> CompoundSelect:
    """Patients with a blood-test reminder or a check-in due by `now` (two index ranges)."""
    s = PatientState
    now: BindParameter[dt.datetime] = bindparam("now")
    return union(
        select(s.patient_id).where(s.next_blood_reminder_at <= now),
        select(s.patient_id).where(s.next_check_in_at <= now),
    )


def enqueue_calendar_reminders(session: Session, now: dt.datetime) -> int:
    """Blood-test reminders and daily check-ins whose moment has come."""
    rows: list[dict[str, Any]] = []
    ids = sorted(session.scalars(_patients_due(), {"now": now}))
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
    settings = settings_of(session, [s.patient_id for s, _ in due_check])
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


class CalendarReminders(Step):
    name = "calendar_reminders"
    counts = ("queued",)

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [part.exists() for part in _patients_due().selects]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return {"now": now}

    def run(self, cycle: CycleRun) -> dict[str, int]:
        return {"queued": enqueue_calendar_reminders(cycle.session, cycle.now)}
