"""The cycle's prompts step: the diary prompts the time rules asked for (no bowel movement for
48 h, fewer than 3 a week), once a day each, outside quiet hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import local_date
from server.models import Patient
from server.services import outbox, recipients
from server.services.reminder_times import after_quiet_hours
from server.services.reminders import settings_of
from server.services.sql import batches
from server.services.steps.base import CycleRun, Step


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
    settings = settings_of(session, patients)
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


class Prompts(Step):
    """Its work comes from the time rules step's (no question of its own)."""

    name = "prompts"
    counts = ("queued",)

    def run(self, cycle: CycleRun) -> dict[str, int]:
        return {"queued": enqueue_prompts(cycle.session, cycle.prompts, cycle.now)}
