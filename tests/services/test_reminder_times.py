"""When check-ins and blood-test reminders fall: the boundaries of their schedules."""

from __future__ import annotations

import datetime as dt

import pytest

from server.models import ReminderSettings
from server.services.reminder_times import after_quiet_hours, next_blood_reminder, next_check_in

LONDON = "Europe/London"


@pytest.mark.parametrize(
    ("day_number", "expected"),
    [
        # RULES.md 3: myocarditis watch, daily check-in in days 1-28
        (1, True),
        (28, True),
        (29, False),
    ],
)
def test_the_daily_check_in_runs_in_days_1_to_28(day_number: int, expected: bool) -> None:
    today = dt.date(2026, 11, 25)
    start = today - dt.timedelta(days=day_number - 1)
    # the morning of that day: today's 18:00 check-in is the next one, if any
    moment = next_check_in(start, LONDON, None, dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC))
    if expected:
        assert moment == dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)
    else:
        assert moment is None


def test_after_day_28_no_check_in_is_planned_for_tomorrow() -> None:
    start = dt.date(2026, 11, 25) - dt.timedelta(days=27)  # today is day 28
    assert (
        next_check_in(start, LONDON, None, dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)) is None
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-01T08:59:00+00:00", "2026-12-01T09:00:00+00:00"),  # the day before, 09:00
        ("2026-12-01T09:00:00+00:00", "2026-12-02T09:00:00+00:00"),  # then on the day
        ("2026-12-02T09:00:00+00:00", None),  # both passed
    ],
)
def test_blood_test_reminders_the_day_before_then_on_the_day(
    now: str, expected: str | None
) -> None:
    moment = next_blood_reminder(dt.date(2026, 12, 2), LONDON, dt.datetime.fromisoformat(now))
    want = dt.datetime.fromisoformat(expected) if expected else None
    assert moment == want


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("21:59", "21:59"),  # before quiet hours
        ("22:00", "07:30"),  # quiet from 22:00 ...
        ("07:29", "07:30"),
        ("07:30", "07:30"),  # ... to 07:30
    ],
)
def test_quiet_hours_across_midnight(local: str, expected: str) -> None:
    settings = ReminderSettings(patient_id=1, quiet_start="22:00", quiet_end="07:30")
    hour, minute = map(int, local.split(":"))
    when = dt.datetime(2026, 12, 10, hour, minute, tzinfo=dt.UTC)  # GMT: local time is UTC
    moved = after_quiet_hours(when, LONDON, settings)
    assert moved.strftime("%H:%M") == expected
    assert moved >= when and moved - when < dt.timedelta(hours=10)
