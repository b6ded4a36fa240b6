"""When a dose may be marked (server/domain/doses.py; product rules, RULES.md 1 leaves the
windows to us): the boundary rows of each limit."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.doses import event_time_problem

DUE = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


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
