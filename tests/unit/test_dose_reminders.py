"""The nag cadence of dose reminders (server/domain/dose_reminders.py): product rules (RULES.md 1
asks that doses be reminded, line 21 counts missed doses from 48 h; the rhythm is ours)."""

from __future__ import annotations

import datetime as dt

from server.domain.dose_reminders import (
    CAREGIVER_AFTER,
    NAG_EVERY,
    NAGS,
    REMINDER_REACH,
    reminder_moments,
)
from server.domain.doses import MISSED_AFTER

AT = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


def test_a_dose_is_reminded_at_its_time_then_every_15_minutes_three_times() -> None:
    minutes = dt.timedelta(minutes=1)
    assert [(level, due) for level, due, _ in reminder_moments(AT)] == [
        (0, AT),
        (1, AT + 15 * minutes),
        (2, AT + 30 * minutes),
        (3, AT + 45 * minutes),
    ]
    assert (15 * minutes, 3, 60 * minutes) == (NAG_EVERY, NAGS, CAREGIVER_AFTER)


def test_the_first_reminder_lasts_until_missed_and_a_nag_until_the_next() -> None:
    useful = {level: until for level, _, until in reminder_moments(AT)}
    assert useful[0] == AT + MISSED_AFTER
    assert useful[1] == AT + 2 * NAG_EVERY
    assert useful[3] == AT + 4 * NAG_EVERY


def test_the_reach_covers_the_last_nag_and_the_caregivers_hour() -> None:
    last_nag = max(due for _, due, _ in reminder_moments(AT))
    assert last_nag <= AT + REMINDER_REACH
    assert AT + REMINDER_REACH >= AT + CAREGIVER_AFTER
    assert REMINDER_REACH == CAREGIVER_AFTER  # 45 minutes of nags end before the hour
