"""A patient's reminder settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from server.models import Patient, ReminderSettings
from server.services import state as states
from server.services.errors import Invalid

DEFAULT_CHECK_IN = "18:00"


def settings(session: Session, patient: Patient) -> ReminderSettings:
    """The patient's settings row, or the defaults (no quiet hours, check-in at 18:00) as a
    row never added to the session."""
    row = session.get(ReminderSettings, patient.id)
    if row is None:
        return ReminderSettings(quiet_start=None, quiet_end=None, check_in_time=DEFAULT_CHECK_IN)
    return row


def update(
    session: Session, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> ReminderSettings:
    """Both ends of quiet hours or neither; the next check-in moves to fit."""
    current = settings(session, patient)
    merged = {
        "quiet_start": current.quiet_start,
        "quiet_end": current.quiet_end,
        "check_in_time": current.check_in_time,
        **data,
    }
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
    return row
