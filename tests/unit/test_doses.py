"""When a dose may be marked (server/domain/doses.py; product rules, RULES.md 1 leaves the
windows to us): the boundary rows of each limit."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.doses import event_time_problem, was_taken_before_pause

DUE = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (NOW + 5 * MINUTE, None),  # a phone's clock a little fast (FUTURE_SKEW)
        (NOW + 5 * MINUTE + dt.timedelta(seconds=1), "This time is in the future."),
        (DUE - 12 * 60 * MINUTE, None),
        (DUE - 12 * 60 * MINUTE - MINUTE, "This is more than 12 hours before the dose was due."),
    ],
)
def test_the_limits_of_a_dose_events_time(at: dt.datetime, problem: str | None) -> None:
    assert event_time_problem(DUE, at, NOW) == problem


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (DUE + 36 * 60 * MINUTE, None),
        (DUE + 36 * 60 * MINUTE + MINUTE, "This is more than 36 hours after the dose was due."),
    ],
)
def test_a_dose_is_marked_up_to_36_hours_late(at: dt.datetime, problem: str | None) -> None:
    assert event_time_problem(DUE, at, at) == problem


# RULES.md 6: "| `held` | a clinician holds treatment ... | doses withheld, no dose reminders |"
# and "A withheld dose is never offered as "Taken"; a client that marks it gets a conflict";
# CONTRACT.md "Treatment course (v2)": "`POST .../dose-events` marking one `taken` answers 409
# with code `dose_withheld`". Those are the doses of a paused course: one taken before the pause
# and logged later (an offline phone) is recorded, inside its own marking window.
HELD = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)  # the 08:00 dose (DUE) withheld at 10:00


@pytest.mark.parametrize(
    ("at", "paused_at", "recorded"),
    [
        (HELD - SECOND, HELD, True),  # one second before the hold
        (HELD, HELD, False),  # at the hold
        (HELD + SECOND, HELD, False),
        (DUE - 5 * MINUTE, HELD, True),  # taken a little early (07:55), the usual case
        (DUE - 12 * HOUR, HELD, True),  # the window opens 12 h before the dose
        (DUE - 12 * HOUR - SECOND, HELD, False),
        (DUE + 36 * HOUR, DUE + 40 * HOUR, True),  # and closes 36 h after it
        (DUE + 36 * HOUR + SECOND, DUE + 40 * HOUR, False),
    ],
)
def test_a_withheld_dose_taken_before_the_pause_can_be_recorded(
    at: dt.datetime, paused_at: dt.datetime, recorded: bool
) -> None:
    assert was_taken_before_pause(DUE, at, paused_at) is recorded


def test_a_dose_due_after_the_pause_taken_before_it_inside_its_window_is_recorded() -> None:
    """The 21:00 dose, withheld at 10:00, taken at 09:30 (11 h 30 early: inside its window)."""
    evening = DUE + 13 * HOUR
    assert was_taken_before_pause(evening, HELD - 30 * MINUTE, HELD) is True
    assert was_taken_before_pause(evening, evening - 12 * HOUR - SECOND, HELD) is False
