"""A patient's reminder settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from server.models import Patient, ReminderSettings
from server.services import state as states
from server.services.errors import Invalid


def view(session: Session, patient: Patient) -> dict[str, Any]:
    row = session.get(ReminderSettings, patient.id)
    if row is None:
        return {"quiet_start": None, "quiet_end": None, "check_in_time": "18:00"}
    return {
        "quiet_start": row.quiet_start,
        "quiet_end": row.quiet_end,
        "check_in_time": row.check_in_time,
    }


def update(
    session: Session, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """Both ends of quiet hours or neither; the next check-in moves to fit."""
    current = view(session, patient)
    merged = {**current, **data}
    if (merged["quiet_start"] is None) != (merged["quiet_end"] is None):
        raise Invalid({"quiet_end": ["Give both the start and the end of quiet hours."]})
    if merged["quiet_start"] is not None and merged["quiet_start"] == merged["quiet_end"]:
        raise Invalid({"quiet_end": ["Quiet hours need a start and an end that differ."]})
    row = session.get(ReminderSettings, patient.id)
    if row is None:
        row = ReminderSettings(patient_id=patient.id)
        session.add(row)
    row.quiet_start = merged["quiet_start"]
    row.quiet_end = merged["quiet_end"]
    row.check_in_time = merged["check_in_time"]
    row.updated_at = now
    states.check_in_planned(states.get_state(session, patient, now), patient, row, now)
    session.commit()
    return view(session, patient)
