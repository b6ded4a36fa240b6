"""The re-notification ladder (server/domain/escalation_ladder.py): product rules; RULES.md 4
gives the severities (lines 74-91), not the cadence."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.escalation_ladder import (
    DEFAULT_WINDOWS_MINUTES,
    is_for_on_call,
    next_notice_at,
    next_working_morning,
)

UTC = dt.UTC
# a Wednesday
NOTIFIED = dt.datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("emergency", NOTIFIED + dt.timedelta(minutes=5)),
        ("urgent", NOTIFIED + dt.timedelta(minutes=30)),
        # no window: the next working morning, 09:00 London (UTC in December)
        ("routine", dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
    ],
)
def test_each_severity_waits_its_default_window(severity: str, expected: dt.datetime) -> None:
    assert next_notice_at(NOTIFIED, severity, DEFAULT_WINDOWS_MINUTES, "Europe/London") == expected


def test_a_clinic_window_replaces_the_default() -> None:
    windows = {**DEFAULT_WINDOWS_MINUTES, "urgent": 10}
    assert next_notice_at(NOTIFIED, "urgent", windows, "Europe/London") == NOTIFIED + dt.timedelta(
        minutes=10
    )


def test_never_notified_is_never_due() -> None:
    assert next_notice_at(None, "emergency", DEFAULT_WINDOWS_MINUTES, "Europe/London") is None


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "zone", "expected"),
    [
        ("2026-12-04 18:00", "Europe/London", "2026-12-07 09:00"),  # Friday evening -> Monday
        ("2026-12-05 08:00", "Europe/London", "2026-12-07 09:00"),  # Saturday -> Monday
        # Thursday 23:30 UTC is Friday morning in Sydney: Monday 09:00 there (22:00 UTC Sunday)
        ("2026-12-03 23:30", "Australia/Sydney", "2026-12-06 22:00"),
        ("2026-07-01 12:00", "Europe/London", "2026-07-02 08:00"),  # 09:00 BST is 08:00 UTC
    ],
)
def test_the_next_working_morning(after: str, zone: str, expected: str) -> None:
    assert next_working_morning(at(after), zone) == at(expected)


@pytest.mark.parametrize(("level", "on_call"), [(0, False), (1, False), (2, True), (3, True)])
def test_the_second_renotification_goes_to_the_on_call_contact(level: int, on_call: bool) -> None:
    assert is_for_on_call(level) is on_call
