"""Monitoring schedule: RULES.md section 3; guideline L97-L104, L111, L119-L120, L128, L287."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest

from server.domain import (
    CountReading,
    DueTest,
    Profile,
    TreatmentBreak,
    anc_phase_interval_days,
    due_status,
    load_profile,
    monitoring_schedule,
)

GUIDELINE = load_profile("guideline")
US = load_profile("us-label-2025")
UK = load_profile("uk-smpc")
START = date(2026, 1, 5)  # treatment day 0 = the first day of week 1


def day(n: int) -> date:
    """The date n days after the start (day 0 = start date; week w starts on day 7*(w-1))."""
    return START + timedelta(days=n)


def gap(first_missed: int, restarted: int, hours: float | None = None) -> TreatmentBreak:
    """A break whose first missed day is `first_missed` (the last dose the evening before, at
    21:00) and whose next dose is at 09:00 on `restarted`: (restarted - first_missed) days
    and 12 hours, unless `hours` says otherwise."""
    length = hours if hours is not None else (restarted - first_missed) * 24 + 12
    return TreatmentBreak(day(first_missed - 1), day(restarted), length)


def every_step_down(gaps: Sequence[TreatmentBreak] = ()) -> set[tuple[date, int]]:
    """The care team confirmed every uk-smpc step down (weeks 19 and 53), from the start and
    from any restart: the phase tests below read the phases themselves."""
    clocks = {START} | {g.resumed_on for g in gaps}
    return {(clock, week) for clock in clocks for week in (19, 53)}


# --- phase intervals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "on_day", "interval"),
    [
        # guideline L101-L103: weekly weeks 1-26, every 2 weeks 27-52, monthly (28 d) after.
        (GUIDELINE, 0, 7),
        (GUIDELINE, 181, 7),  # last day of week 26
        (GUIDELINE, 182, 14),  # first day of week 27
        (GUIDELINE, 363, 14),  # last day of week 52
        (GUIDELINE, 364, 28),  # first day of week 53
        (GUIDELINE, -3, 7),  # before the start: the first phase
        # us-label-2025: same frequencies (RULES.md 3; REMS end left them unchanged).
        (US, 181, 7),
        (US, 182, 14),
        (US, 363, 14),
        (US, 364, 28),
        # uk-smpc: weekly to week 18, every 2 weeks to week 52, every 4 weeks after.
        (UK, 125, 7),  # last day of week 18
        (UK, 126, 14),  # week 19
        (UK, 363, 14),
        (UK, 364, 28),
    ],
)
def test_phase_interval_boundaries(profile: Profile, on_day: int, interval: int) -> None:
    confirmed = every_step_down()
    assert anc_phase_interval_days(START, day(on_day), profile, [], confirmed) == interval


@pytest.mark.parametrize(
    ("profile", "gaps", "on_day", "interval"),
    [
        # guideline L104: "After any dose interruption >2 days: Return to weekly ... 6 months";
        # RULES.md 6: measured in hours, more than 48 h (a 59 h break is more than 2 days).
        (GUIDELINE, [gap(300, 302, hours=48)], 305, 14),  # 48:00: schedule unchanged
        (GUIDELINE, [gap(300, 302, hours=48 + 1 / 60)], 305, 7),  # 48:01: weekly
        (GUIDELINE, [gap(300, 302, hours=59)], 305, 7),  # the 59 h break of issue 13
        (GUIDELINE, [gap(300, 303)], 305, 7),  # 3-day break: weekly from the restart
        (GUIDELINE, [gap(300, 303)], 302, 14),  # not yet restarted on that date
        (GUIDELINE, [gap(300, 303)], 303 + 181, 7),  # last day of the 26 weeks
        (GUIDELINE, [gap(300, 303)], 303 + 182, 28),  # then back to the phase (week 70)
        (GUIDELINE, [gap(400, 410)], 410 + 182, 28),  # a break after a year: weekly, then monthly
        # us-label-2025 (RULES.md 3): under 30 days (720 h) keeps the schedule ...
        (US, [gap(300, 329, hours=719.9)], 330, 14),
        (US, [gap(300, 329, hours=720)], 330, 7),
        # ... 30 days or more restarts as a new patient, phases counted from the restart.
        (US, [gap(300, 330)], 330, 7),
        (US, [gap(300, 330)], 330 + 181, 7),
        (US, [gap(300, 330)], 330 + 182, 14),
        (US, [gap(400, 430)], 430 + 364, 28),
        # uk-smpc (RULES.md 3): treatment over 18 weeks and a 3-day to 4-week break: weekly 6 wk.
        (UK, [gap(127, 130)], 130, 7),
        (UK, [gap(127, 130)], 130 + 41, 7),
        (UK, [gap(127, 130)], 130 + 42, 14),
        (UK, [gap(127, 129)], 130, 14),  # 2-day break: unchanged
        (UK, [gap(127, 130, hours=71.9)], 130, 14),  # just under 3 days (72 h)
        (UK, [gap(127, 130, hours=72)], 130, 7),  # 3 days
        (UK, [gap(126, 129)], 130, 14),  # exactly 18 weeks on treatment: not "over 18 weeks"
        (UK, [gap(200, 227, hours=671.9)], 228, 7),  # under 4 weeks: still the 6-week rule
        (UK, [gap(200, 227)], 227 + 42, 14),
        # 4 weeks or more: RULES.md is silent; product choice = a new patient (weekly 18 wk).
        (UK, [gap(200, 228, hours=672)], 228 + 125, 7),
        (UK, [gap(200, 228)], 228 + 126, 14),
    ],
)
def test_phase_interval_after_interruptions(
    profile: Profile, gaps: list[TreatmentBreak], on_day: int, interval: int
) -> None:
    confirmed = every_step_down(gaps)
    assert anc_phase_interval_days(START, day(on_day), profile, gaps, confirmed) == interval


def test_interruption_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError):
        anc_phase_interval_days(START, day(10), GUIDELINE, [gap(5, 3)])


# --- the schedule ----------------------------------------------------------------------------


def schedule(
    *,
    today: int,
    last: Mapping[str, int] | None = None,
    profile: Profile = GUIDELINE,
    band: str | None = None,
    band_since: int | None = None,
    gaps: Sequence[TreatmentBreak] = (),
    stable: int | None = None,
    baseline_done: Mapping[str, bool] | None = None,
    recent: Sequence[CountReading] = (),
    confirmed: set[tuple[date, int]] | None = None,
) -> dict[str, DueTest]:
    items = monitoring_schedule(
        start_date=START,
        today=day(today),
        profile=profile,
        last_results={k: day(v) for k, v in (last or {}).items()},
        anc_band=band,
        anc_band_since=None if band_since is None else day(band_since),
        interruptions=gaps,
        stable_dose_since=None if stable is None else day(stable),
        baseline_done=baseline_done,
        recent_counts=recent,
        confirmed_step_downs=every_step_down(gaps) if confirmed is None else confirmed,
    )
    assert [i.due_date for i in items] == sorted(i.due_date for i in items)  # soonest first
    return {i.test: i for i in items}


@pytest.mark.parametrize(
    ("today", "status"),
    [(-1, "upcoming"), (0, "due"), (1, "overdue")],  # RULES.md 3: past due date = overdue
)
def test_anc_baseline_is_due_on_the_start_date(today: int, status: str) -> None:
    anc = schedule(today=today)["anc"]
    assert (anc.due_date, anc.status) == (day(0), status)  # guideline L85 baseline ANC


@pytest.mark.parametrize(
    ("profile", "last_anc", "due"),
    [
        # A step down applies after the first test of the new phase (week 26 -> 27).
        (GUIDELINE, 175, 182),  # week 26 result: +7
        (GUIDELINE, 182, 196),  # week 27 result: +14
        (GUIDELINE, 357, 371),  # week 52 result: +14
        (GUIDELINE, 364, 392),  # week 53 result: +28
        (US, 175, 182),
        (US, 364, 392),
        (UK, 119, 126),  # week 18 result: +7
        (UK, 126, 140),  # week 19 result: +14
        (GUIDELINE, -3, 4),  # a baseline taken before the start: weekly from it
    ],
)
def test_anc_next_due_by_phase(profile: Profile, last_anc: int, due: int) -> None:
    code = profile.anc_test
    assert schedule(today=last_anc, last={code: last_anc}, profile=profile)[code].due_date == day(
        due
    )


@pytest.mark.parametrize(
    ("profile", "gaps", "last_anc", "due"),
    [
        # guideline: a 3-day break in the 2-weekly phase makes the test due 7 days after the
        # last result (weekly from the restart, guideline L104).
        (GUIDELINE, [gap(300, 303)], 298, 305),
        (GUIDELINE, [gap(300, 302, hours=48)], 298, 312),  # 48 h: unchanged
        (GUIDELINE, [gap(300, 302)], 298, 305),  # 60 h (more than 2 days): weekly
        # A 10-day break: weekly applies from the restart, and 12 days have passed: due then.
        (GUIDELINE, [gap(300, 310)], 298, 310),
        # A 20-day break: the 2-weekly test fell due during the break (day 312).
        (GUIDELINE, [gap(300, 320)], 298, 312),
        # us-label-2025: 29 days keeps the schedule; 30 restarts as new (weekly).
        (US, [gap(400, 429)], 392, 420),
        (US, [gap(400, 430)], 392, 420),  # due while the break ran, before the restart
        (US, [gap(400, 430)], 430, 437),  # first result after the restart: weekly
        # uk-smpc: 3-day break after 18 weeks -> weekly.
        (UK, [gap(200, 203)], 196, 203),
        (UK, [gap(200, 202)], 196, 210),
    ],
)
def test_anc_next_due_after_interruptions(
    profile: Profile, gaps: list[TreatmentBreak], last_anc: int, due: int
) -> None:
    code = profile.anc_test
    got = schedule(today=last_anc, last={code: last_anc}, profile=profile, gaps=gaps)[code]
    assert got.due_date == day(due)


@pytest.mark.parametrize(
    ("profile", "band", "due_after"),
    [
        # RULES.md 2 "three times weekly" -> every 2 days; "daily" -> 1 day.
        (GUIDELINE, "mild", 2),
        (GUIDELINE, "moderate", 1),
        (GUIDELINE, "severe", 1),
        (US, "mild", 2),
        # uk-smpc amber "twice weekly" -> every 3 days; red daily.
        (UK, "mild", 3),
        (UK, "severe", 1),
        (UK, "moderate", 1),  # a band uk-smpc does not use: its most frequent testing
        (GUIDELINE, "normal", 7),  # normal: by phase (week 2)
    ],
)
def test_anc_band_frequency_wins(profile: Profile, band: str, due_after: int) -> None:
    code = profile.anc_test
    got = schedule(today=10, last={code: 10}, profile=profile, band=band, band_since=10)[code]
    assert got.due_date == day(10 + due_after)


def test_uk_counts_results_recorded_as_anc() -> None:
    # uk-smpc lists "wbc_neutrophils"; a result stored under "anc" still counts.
    items = schedule(today=130, last={"anc": 130}, profile=UK)
    assert "anc" not in items and items["wbc_neutrophils"].due_date == day(144)


def test_anc_baseline_done_without_a_result_counts_from_the_start() -> None:
    assert schedule(today=0, baseline_done={"anc": True})["anc"].due_date == day(7)


@pytest.mark.parametrize(
    ("stable", "last_level", "due"),
    [
        # guideline L128 "after 5-7 days at stable dose": due 7 days after.
        (20, None, 27),
        (20, 22, 27),  # a level before steady state does not count
        (20, 25, None),  # a level 5 days in is the trough: not listed
        (None, None, None),  # no stable dose: not listed
    ],
)
def test_trough_level(stable: int | None, last_level: int | None, due: int | None) -> None:
    last = {"anc": 20} | ({} if last_level is None else {"trough_level": last_level})
    items = schedule(today=24, last=last, stable=stable)
    if due is None:
        assert "trough_level" not in items
    else:
        assert items["trough_level"].due_date == day(due)
        assert items["trough_level"].status == "upcoming"


@pytest.mark.parametrize(
    ("test", "last", "due"),
    [
        # guideline L119 weight: baseline, weekly first month, monthly to 6 months, quarterly.
        ("weight", None, 0),
        ("weight", 0, 7),
        ("weight", 3, 7),  # day 3 is in the first half of days 0-7: day 7 still due
        ("weight", 5, 14),  # day 5 is in the second half (days 4-7): it covers day 7
        ("weight", 30, 56),  # day 30 covers day 28
        ("weight", 168, 259),  # then every 91 days
        # guideline L120 glucose + lipids: baseline, 3 months, 6 months, then yearly.
        ("glucose_lipids", None, 0),
        ("glucose_lipids", 0, 91),
        ("glucose_lipids", 91, 182),
        ("glucose_lipids", 182, 365),
        ("glucose_lipids", 365, 730),
        # guideline L287 liver tests: baseline and "periodically" = every 182 days (choice).
        ("liver_tests", None, 0),
        ("liver_tests", 0, 182),
        ("liver_tests", 190, 364),
        # guideline L111 ECG: baseline only.
        ("ecg", None, 0),
        ("ecg", 0, None),
    ],
)
def test_calendar_tests(test: str, last: int | None, due: int | None) -> None:
    items = schedule(today=0, last={} if last is None else {test: last})
    if due is None:
        assert test not in items
    else:
        assert items[test].due_date == day(due)


def test_weight_result_early_in_the_window_covers_the_date() -> None:
    # A result counts for a scheduled date when taken in the second half of the interval
    # before it: day 4 covers day 7 (grace 3 days), day 3 does not.
    assert schedule(today=3, last={"weight": 3})["weight"].due_date == day(7)
    assert schedule(today=4, last={"weight": 4})["weight"].due_date == day(14)


def test_baseline_done_without_a_result() -> None:
    items = schedule(today=0, baseline_done={"ecg": True, "weight": True})
    assert "ecg" not in items
    assert items["weight"].due_date == day(7)


def test_missed_calendar_test_stays_overdue() -> None:
    items = schedule(today=400, last={"anc": 398, "liver_tests": 0})
    assert items["liver_tests"].due_date == day(182)
    assert items["liver_tests"].status == "overdue"


@pytest.mark.parametrize(("due_offset", "status"), [(1, "upcoming"), (0, "due"), (-1, "overdue")])
def test_due_status(due_offset: int, status: str) -> None:
    assert due_status(day(10 + due_offset), day(10)) == status
