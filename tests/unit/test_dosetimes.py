"""Dose instants across time zones and DST (STYLE.md "Time": DST days are tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from server.domain import dose_instants, is_valid_timezone, local_date, parse_hhmm


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hhmm", "zone", "expected"),
    [
        # Ordinary winter day: New York is UTC-5.
        (date(2026, 1, 15), "08:00", "America/New_York", utc(2026, 1, 15, 13, 0)),
        # Spring forward: 02:30 does not exist; moved forward by the gap to 03:30 EDT.
        (date(2026, 3, 8), "02:30", "America/New_York", utc(2026, 3, 8, 7, 30)),
        # Just before and after the gap.
        (date(2026, 3, 8), "01:59", "America/New_York", utc(2026, 3, 8, 6, 59)),
        (date(2026, 3, 8), "03:00", "America/New_York", utc(2026, 3, 8, 7, 0)),
        # Fall back: 01:30 happens twice; the first (EDT) is taken.
        (date(2026, 11, 1), "01:30", "America/New_York", utc(2026, 11, 1, 5, 30)),
        # London spring forward: 01:30 does not exist -> 02:30 BST = 01:30 UTC.
        (date(2026, 3, 29), "01:30", "Europe/London", utc(2026, 3, 29, 1, 30)),
        # London fall back: 01:30 twice; first (BST) -> 00:30 UTC.
        (date(2026, 10, 25), "01:30", "Europe/London", utc(2026, 10, 25, 0, 30)),
        # Summer in London: BST = UTC+1.
        (date(2026, 7, 1), "21:00", "Europe/London", utc(2026, 7, 1, 20, 0)),
    ],
)
def test_dose_instants(day: date, hhmm: str, zone: str, expected: datetime) -> None:
    (instant,) = dose_instants(day, [hhmm], zone)
    assert instant == expected
    assert instant.tzinfo == UTC


def test_dose_instants_keeps_input_order_and_count() -> None:
    instants = dose_instants(date(2026, 1, 15), ["08:00", "21:00"], "Europe/London")
    assert instants == [utc(2026, 1, 15, 8, 0), utc(2026, 1, 15, 21, 0)]


def test_dose_instants_rejects_unknown_zone_and_bad_time() -> None:
    with pytest.raises(ValueError):
        dose_instants(date(2026, 1, 15), ["08:00"], "Mars/Olympus_Mons")
    with pytest.raises(ValueError):
        dose_instants(date(2026, 1, 15), ["8:00"], "UTC")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Europe/London", True),
        ("America/New_York", True),
        ("UTC", True),
        ("Mars/Olympus_Mons", False),
        ("", False),
        ("../../etc/passwd", False),
        ("/etc/localtime", False),
        ("localtime", False),
    ],
)
def test_is_valid_timezone(name: str, valid: bool) -> None:
    assert is_valid_timezone(name) is valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [("00:00", time(0, 0)), ("08:05", time(8, 5)), ("23:59", time(23, 59))],
)
def test_parse_hhmm_accepts(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(
    "text", ["24:00", "8:00", "08:60", "0800", " 08:00", "08:00:00", "", "ab:cd", "08:00\n"]
)
def test_parse_hhmm_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hhmm(text)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 1, 1, 4, 0), "America/New_York", date(2025, 12, 31)),
        (utc(2026, 1, 1, 4, 0), "Europe/London", date(2026, 1, 1)),
        (datetime(2026, 1, 1, 4, 0), "America/New_York", date(2025, 12, 31)),  # naive = UTC
        (utc(2026, 6, 30, 23, 30), "Europe/London", date(2026, 7, 1)),  # BST
    ],
)
def test_local_date(instant: datetime, zone: str, expected: date) -> None:
    assert local_date(instant, zone) == expected
