"""Supply rules (server/domain/supply.py): when a stock runs out, when the refill reminder is
due (a week before: issue 16; RULES.md has no line for it), whether the next clozapine supply
waits on a blood result (RULES.md 3; guideline L303), and "I have run out" (RULES.md 1,
guideline L339; RULES.md 4 has no line for it)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain.supply import (
    BloodForSupply,
    is_refill_reminder_due,
    list_order,
    medicine_times,
    next_dose_at,
    ran_out_flag,
    refill_reminder_at,
    refill_reminder_day,
    runs_out_on,
    tablets_per_dose,
)

D = dt.date(2026, 12, 1)
UTC = dt.UTC


def days(per_day: float, count: int = 60, times: int = 1) -> list[tuple[dt.date, float]]:
    return [(D + dt.timedelta(days=n), per_day / times) for n in range(count) for _ in range(times)]


@pytest.mark.parametrize(
    ("stock", "uses", "expected"),
    [
        (0, days(1), D),  # nothing on hand: out on the first dose
        (1, days(1), D + dt.timedelta(days=1)),
        (14, days(2, times=2), D + dt.timedelta(days=7)),  # 14 tablets, 2 a day: 7 days
        (13, days(2, times=2), D + dt.timedelta(days=6)),  # one short: the 7th day's 2nd dose
        (13.5, days(2, times=2), D + dt.timedelta(days=6)),
        (3.5, days(1, times=2), D + dt.timedelta(days=3)),  # halves: 7 halves last 3.5 days
        (14, [(D, 0.5)] * 28, None),  # 28 half tablets from 14: exactly enough, none missed
        (13.99, [(D, 0.5)] * 28, D),
        (100, days(1, count=30), None),  # lasts past the doses listed
    ],
)
def test_a_stock_runs_out_on_the_first_dose_it_cannot_cover(stock, uses, expected) -> None:
    assert runs_out_on(stock, uses) == expected


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (D - dt.timedelta(days=8), False),  # day 8 before: not yet
        (D - dt.timedelta(days=7), True),  # a week before: the reminder
        (D - dt.timedelta(days=1), True),
        (D, True),
        (D + dt.timedelta(days=3), True),
    ],
)
def test_the_refill_reminder_is_due_a_week_before_running_out(today, due) -> None:
    assert refill_reminder_day(D) == dt.date(2026, 11, 24)
    assert is_refill_reminder_due(D, today) is due


def test_no_refill_reminder_without_a_date() -> None:
    assert is_refill_reminder_due(None, D) is False
    assert refill_reminder_at(None, "Europe/London", dt.datetime(2026, 11, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # 09:00 local on the 7th day before, in the patient's zone (not UTC)
        ("Europe/London", "2026-11-20T12:00:00+00:00", "2026-11-24T09:00:00+00:00"),
        ("America/New_York", "2026-11-20T12:00:00+00:00", "2026-11-24T14:00:00+00:00"),
        # a count made inside the week: at once
        ("Europe/London", "2026-11-26T15:30:00+00:00", "2026-11-26T15:30:00+00:00"),
        ("Europe/London", "2026-11-24T09:00:00+00:00", "2026-11-24T09:00:00+00:00"),
    ],
)
def test_the_refill_reminder_comes_at_nine_local_or_at_once(zone, now, expected) -> None:
    moment = refill_reminder_at(D, zone, dt.datetime.fromisoformat(now))
    assert moment == dt.datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("next_anc_due", "expected"),
    [
        (None, BloodForSupply.UNKNOWN),
        (D + dt.timedelta(days=1), BloodForSupply.IN),  # the count stays current past the day
        (D, BloodForSupply.NEEDED),  # due on the day it runs out: that result is not in yet
        (D - dt.timedelta(days=3), BloodForSupply.NEEDED),
    ],
)
def test_the_next_clozapine_supply_needs_a_current_blood_result(next_anc_due, expected) -> None:
    """RULES.md 3 "no current result means no supply at many pharmacies" (guideline L303),
    read with the schedule's own due status (domain/schedule.py due_status)."""
    from server.domain.supply import blood_for_supply

    assert blood_for_supply(next_anc_due, D) == expected


@pytest.mark.parametrize(
    ("kind", "status", "reason", "flagged"),
    [
        ("clozapine", "skipped", "ran_out", True),
        ("clozapine", "skipped", "unwell", False),
        ("clozapine", "skipped", None, False),
        ("clozapine", "taken", "ran_out", False),
        ("laxative", "skipped", "ran_out", False),
        ("other", "skipped", "ran_out", False),
    ],
)
def test_running_out_of_clozapine_tells_the_care_team_routinely(
    kind, status, reason, flagged
) -> None:
    """No line in RULES.md 4; RULES.md 1 (missed doses over 2 days) and guideline L339 make it
    the team's to know: routine, the product's choice."""
    flag = ran_out_flag(kind, status, reason)
    if not flagged:
        assert flag is None
    else:
        assert flag is not None
        assert (flag.rule, flag.severity, flag.advice) == (
            "out_of_clozapine",
            "routine",
            "out_of_clozapine",
        )


@pytest.mark.parametrize(
    ("mg", "strength", "tablets"),
    [(12.5, 25, 0.5), (37.5, 25, 1.5), (300, 100, 3.0), (12.5, 12.5, 1.0), (25, 200, 0.125)],
)
def test_tablets_per_dose(mg, strength, tablets) -> None:
    assert tablets_per_dose(mg, strength) == tablets


def test_a_tablet_strength_is_above_zero() -> None:
    with pytest.raises(ValueError):
        tablets_per_dose(25, 0)


def test_laxatives_are_listed_first() -> None:
    names = [("other", "Aspirin"), ("clozapine", "Clozapine"), ("laxative", "Senna")]
    assert sorted(names, key=lambda n: list_order(*n))[0] == ("laxative", "Senna")
    assert [n for _, n in sorted(names, key=lambda n: list_order(*n))] == [
        "Senna",
        "Clozapine",
        "Aspirin",
    ]


@pytest.mark.parametrize(
    ("times", "ok"),
    [
        (["08:00"], True),
        (["22:00", "08:00"], True),
        (["08:00", "10:00", "12:00", "14:00", "16:00", "18:00"], True),
        (["08:00", "10:00", "12:00", "14:00", "16:00", "18:00", "20:00"], False),
        ([], False),
        (["08:00", "08:00"], False),
        (["8am"], False),
    ],
)
def test_medicine_times(times, ok) -> None:
    if ok:
        assert medicine_times(times) == tuple(sorted(times))
    else:
        with pytest.raises(ValueError):
            medicine_times(times)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-25T07:59:00+00:00", "2026-11-25T08:00:00+00:00"),
        ("2026-11-25T08:00:00+00:00", "2026-11-25T20:00:00+00:00"),  # strictly after
        ("2026-11-25T20:00:00+00:00", "2026-11-26T08:00:00+00:00"),
        # DST: London's 08:00 is 07:00 UTC in summer, 08:00 UTC from 25 October
        ("2026-10-24T20:00:00+00:00", "2026-10-25T08:00:00+00:00"),
        ("2026-07-01T00:00:00+00:00", "2026-07-01T07:00:00+00:00"),
    ],
)
def test_next_dose_at_in_the_patients_zone(after, expected) -> None:
    found = next_dose_at(["20:00", "08:00"], "Europe/London", dt.datetime.fromisoformat(after))
    assert found == dt.datetime.fromisoformat(expected)
