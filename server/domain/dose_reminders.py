"""The nag cadence of dose reminders: when a pending dose is reminded again, and when the
caregivers are told (product rules: RULES.md 1 asks for reminders, not their rhythm).

A dose is reminded at its time, again every NAG_EVERY while it is not marked (NAGS times), and
its linked caregivers are told CAREGIVER_AFTER its time; the first reminder is useful until the
dose counts as missed, a nag only until the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

from server.domain.doses import MISSED_AFTER

NAG_EVERY: Final = timedelta(minutes=15)
NAGS: Final = 3
CAREGIVER_AFTER: Final = timedelta(hours=1)
# how far before a moment a dose can still have a reminder due: its last nag or the caregivers'
REMINDER_REACH: Final = max(NAG_EVERY * NAGS, CAREGIVER_AFTER)
# "Remind me later": the minutes a patient can push a dose's reminders back by
SNOOZE_MINUTES: Final = (10, 30, 60)


def reminder_moments(scheduled_at: datetime) -> Iterator[tuple[int, datetime, datetime]]:
    """(level, due, useful until) of each reminder of a dose: level 0 at its time, then the
    nags."""
    for level in range(NAGS + 1):
        due = scheduled_at + NAG_EVERY * level
        yield level, due, scheduled_at + MISSED_AFTER if level == 0 else due + NAG_EVERY
