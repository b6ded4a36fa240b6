"""Titration plans and the missed-dose rule: RULES.md section 1; guideline L50-L58, L78, L339."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import (
    PlanStep,
    daily_doses,
    needs_retitration,
    retitration_proposal,
    split_daily_total,
    standard_plan,
    validate_plan,
)
from server.domain.titration import first_day_across_plans

TIMES = ["08:00", "21:00"]


def codes(issues: tuple[object, ...]) -> set[str]:
    return {getattr(i, "code") for i in issues}  # noqa: B009


def ramp(*totals: tuple[int, float]) -> list[PlanStep]:
    """A two-dose plan from (day, daily total) pairs, split the standard way."""
    return [PlanStep(day, split_daily_total(total, 2)) for day, total in totals]


def after_450(*totals: tuple[int, float]) -> list[PlanStep]:
    """The standard 14-day ramp to 450 mg (steps[0..13]), then (day, total) steps."""
    return [*standard_plan(TIMES, 450), *ramp(*totals)]


# --- validate_plan: hard errors (RULES.md 1 "Hard errors") ----------------------------------


@pytest.mark.parametrize(
    ("steps", "times", "error", "field"),
    [
        # RULES.md 1: "a day above 900 mg" (guideline L58 "Up to 900 mg/day") -- 912.5 refused.
        (
            [PlanStep(1, (0.0, 12.5)), PlanStep(2, (450.0, 462.5))],
            TIMES,
            "above_max_daily_dose",
            "steps[1].doses_mg",
        ),
        # RULES.md 1: "a first day above 25 mg" (guideline L52 "12.5 mg once or twice daily").
        ([PlanStep(1, (12.5, 25.0))], TIMES, "first_day_above_25", "steps[0].doses_mg"),
        # RULES.md 1: "a plan whose dose count does not match its times".
        ([PlanStep(1, (12.5,))], TIMES, "dose_count_mismatch", "steps[0].doses_mg"),
        # RULES.md 1: "Doses are multiples of 12.5 mg".
        ([PlanStep(1, (0.0, 10.0))], TIMES, "not_multiple_of_12_5", "steps[0].doses_mg"),
        ([PlanStep(1, (-12.5, 12.5))], TIMES, "negative_dose", "steps[0].doses_mg"),
        # Day numbering: starts at 1, strictly increasing.
        ([PlanStep(2, (0.0, 12.5))], TIMES, "first_day_not_1", "steps[0].day"),
        (
            [PlanStep(1, (0.0, 12.5)), PlanStep(3, (0.0, 25.0)), PlanStep(3, (0.0, 37.5))],
            TIMES,
            "days_not_increasing",
            "steps[2].day",
        ),
        ([], TIMES, "empty_plan", "steps"),
        # Times: 1-3 unique "HH:MM", in time order (doses follow it).
        ([PlanStep(1, (0.0, 12.5))], ["8:00", "21:00"], "invalid_times", "times"),
        ([PlanStep(1, (0.0, 12.5))], ["21:00", "08:00"], "times_not_sorted", "times"),
        ([PlanStep(1, (0.0, 12.5))], ["08:00", "08:00"], "invalid_times", "times"),
        ([PlanStep(1, (0.0,) * 4)], ["06:00", "10:00", "14:00", "21:00"], "invalid_times", "times"),
    ],
)
def test_validate_plan_errors(
    steps: list[PlanStep], times: list[str], error: str, field: str
) -> None:
    check = validate_plan(steps, times)
    assert not check.ok
    assert (error, field) in {(e.code, e.field) for e in check.errors}


@pytest.mark.parametrize(
    "first",
    [
        (0.0, 12.5),  # guideline L52: 12.5 mg once daily
        (12.5, 12.5),  # guideline L52: 12.5 mg twice daily (25 mg: the limit, allowed)
    ],
)
def test_validate_plan_first_day_limits(first: tuple[float, float]) -> None:
    assert validate_plan([PlanStep(1, first)], TIMES).ok


def test_validate_plan_900_is_allowed() -> None:
    # RULES.md 1 "never above 900 mg/day": 900 itself is fine (boundary row 900 / 912.5).
    steps = [*standard_plan(TIMES, 850), PlanStep(50, (300.0, 600.0))]
    check = validate_plan(steps, TIMES)
    assert check.ok, check.errors


# --- validate_plan: warnings (RULES.md 1 "Warnings (shown, not refused)") --------------------


@pytest.mark.parametrize(
    ("steps", "warning", "field"),
    [
        # Days 1-14: +50 mg/day is the top of "25-50 mg/day" (guideline L55) ...
        (ramp((1, 12.5), (2, 62.5)), None, None),
        # ... +62.5 mg in a day warns.
        (ramp((1, 12.5), (2, 75.0)), "rise_above_50_per_day", "steps[1].doses_mg"),
        # Day 14 still counts as the first two weeks.
        (ramp((1, 12.5), (13, 300.0), (14, 362.5)), "rise_above_50_per_day", "steps[2].doses_mg"),
        # After day 14: +100 mg within 7 days is allowed (RULES.md 1 "up to 100 mg") ...
        (after_450((21, 550.0)), None, None),
        (after_450((18, 500.0), (21, 550.0)), None, None),
        # ... +112.5 mg within 7 days warns, whether in one rise or two.
        (after_450((21, 562.5)), "rise_above_100_per_week", "steps[14].doses_mg"),
        (after_450((18, 500.0), (21, 562.5)), "rise_above_100_per_week", "steps[15].doses_mg"),
        # Rises 8 days apart are in different weeks; a rise on day 15 counts from day 14.
        (after_450((15, 550.0), (23, 650.0)), None, None),
        (after_450((15, 562.5)), "rise_above_100_per_week", "steps[14].doses_mg"),
    ],
)
def test_validate_plan_warnings(
    steps: list[PlanStep], warning: str | None, field: str | None
) -> None:
    check = validate_plan(steps, TIMES)
    assert check.ok, check.errors
    if warning is None:
        assert check.warnings == ()
    else:
        assert (warning, field) in {(w.code, w.field) for w in check.warnings}


# --- standard_plan --------------------------------------------------------------------------


def test_standard_plan_300_twice_daily() -> None:
    plan = standard_plan(TIMES, 300)
    # Day 1: 12.5 mg once, at bedtime (guideline L52; product choice of the lower start).
    assert plan[0] == PlanStep(1, (0.0, 12.5))
    # +25 mg/day (guideline L55), reaching 300 by day 13 (guideline L56 "by end of week 2").
    assert [s.total_mg for s in plan[:4]] == [12.5, 37.5, 62.5, 87.5]
    assert plan[-1].day <= 14 and plan[-1].total_mg == 300
    # Larger part at bedtime (RULES.md 1; guideline L243): 100 + 200.
    assert plan[-1].doses_mg == (100.0, 200.0)


def test_standard_plan_450_reached_on_day_14_with_smallest_rises() -> None:
    plan = standard_plan(TIMES, 450)
    totals = [s.total_mg for s in plan]
    rises = [b - a for a, b in itertools.pairwise(totals)]
    assert plan[-1].day == 14 and totals[-1] == 450  # guideline L56 "300-450 mg/day"
    assert max(rises) == 37.5  # 437.5 mg over 13 days cannot be done in 25 mg steps
    assert rises == sorted(rises)  # the smaller rises come first


def test_standard_plan_above_450_continues_twice_weekly() -> None:
    plan = standard_plan(TIMES, 600)
    by_day = {s.day: s.total_mg for s in plan}
    # 450 on day 14, then +50 mg twice weekly (RULES.md 1 "up to 100 mg once or twice weekly").
    assert by_day[14] == 450
    assert [(d, t) for d, t in by_day.items() if d > 14] == [(18, 500), (21, 550), (25, 600)]


def test_standard_plan_three_times_daily_and_once_daily() -> None:
    three = standard_plan(["08:00", "13:00", "21:00"], 600)
    assert three[-1].doses_mg == (150.0, 150.0, 300.0)
    once = standard_plan(["21:00"], 200)
    assert all(len(s.doses_mg) == 1 for s in once) and once[-1].doses_mg == (200.0,)


def test_standard_plan_small_targets() -> None:
    assert standard_plan(TIMES, 12.5) == [PlanStep(1, (0.0, 12.5))]
    assert standard_plan(TIMES, 25) == [PlanStep(1, (0.0, 12.5)), PlanStep(2, (0.0, 25.0))]


def test_standard_plan_sorts_times() -> None:
    assert standard_plan(["21:00", "08:00"], 300) == standard_plan(TIMES, 300)


@pytest.mark.parametrize(
    ("times", "target"),
    [
        (TIMES, 912.5),  # RULES.md 1 "never above 900 mg/day"
        (TIMES, 1000),
        (TIMES, 310),  # not a multiple of 12.5 (RULES.md 1)
        (TIMES, 0),
        (TIMES, -12.5),
        ([], 300),
        (["08:00", "08:00"], 300),
        (["08:00", "12:00", "16:00", "21:00"], 300),
        (["8am"], 300),
    ],
)
def test_standard_plan_rejects(times: list[str], target: float) -> None:
    with pytest.raises(ValueError):
        standard_plan(times, target)


def test_standard_plan_900_is_allowed() -> None:
    assert standard_plan(TIMES, 900)[-1].total_mg == 900


def test_retitration_restarts_at_12_5() -> None:
    # RULES.md 1 / guideline L78: "re-initiate at 12.5 mg once or twice daily".
    plan = retitration_proposal(TIMES, 400)
    assert plan[0].total_mg == 12.5 and plan[-1].total_mg == 400


def test_daily_doses_uses_the_step_in_force() -> None:
    plan = [PlanStep(1, (0.0, 12.5)), PlanStep(2, (12.5, 25.0)), PlanStep(5, (25.0, 50.0))]
    assert daily_doses(plan, 1) == (0.0, 12.5)
    assert daily_doses(plan, 4) == (12.5, 25.0)
    assert daily_doses(plan, 5) == (25.0, 50.0)
    assert daily_doses(plan, 365) == (25.0, 50.0)  # the last step is maintenance
    with pytest.raises(ValueError):
        daily_doses(plan, 0)
    with pytest.raises(ValueError):
        daily_doses([], 1)


# --- property tests (STYLE.md: a titration never rises more than allowed, never > 900) -------

HHMM = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
TIME_LISTS = st.lists(HHMM, min_size=1, max_size=3, unique=True)
TARGETS = st.integers(1, 72).map(lambda units: units * 12.5)


@settings(max_examples=150, deadline=None, database=None)
@given(times=TIME_LISTS, target=TARGETS)
def test_standard_plan_properties(times: list[str], target: float) -> None:
    plan = standard_plan(times, target)
    ordered = sorted(times)
    last_day = plan[-1].day
    total = {d: sum(daily_doses(plan, d)) for d in range(1, last_day + 8)}
    assert plan[0].day == 1
    assert total[1] <= 25  # RULES.md 1 first day
    assert plan[-1].total_mg == target  # reaches the target and stays there
    if 300 <= target <= 450:
        assert last_day <= 14  # guideline L56 "300-450 mg/day by end of week 2"
    for step in plan:
        assert len(step.doses_mg) == len(ordered)
        assert step.total_mg <= 900  # guideline L58
        assert all(d >= 0 and (d / 12.5).is_integer() for d in step.doses_mg)  # RULES.md 1
        assert step.doses_mg[-1] == max(step.doses_mg)  # bedtime largest (guideline L243)
    for day in range(2, last_day + 8):
        if day <= 14:
            assert 0 <= total[day] - total[day - 1] <= 50  # guideline L55
        else:
            assert total[day] - total[max(day - 7, 14)] <= 100  # RULES.md 1 later rises
    check = validate_plan(plan, ordered)
    # RULES.md 6: a single dose above 450 mg (one dose time, a high target) is only a warning
    above_450 = any(dose > 450 for step in plan for dose in step.doses_mg)
    assert check.errors == ()
    assert codes(check.warnings) == ({"single_dose_above_450"} if above_450 else set())


# --- needs_retitration (RULES.md 1; guideline L78, L339 ">2 days") ------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since_last_dose", "expected"),
    [
        (timedelta(hours=47, minutes=59), False),  # boundary row 47h59
        (timedelta(hours=48), False),  # exactly 48 h is not "over 2 days"
        (timedelta(hours=48, seconds=1), True),  # strictly more than 48 h
        (timedelta(hours=48, minutes=1), True),  # boundary row 48h01
        (timedelta(days=5), True),
    ],
)
def test_needs_retitration_boundary(since_last_dose: timedelta, expected: bool) -> None:
    last = NOW - since_last_dose
    first_missed = last + timedelta(hours=12)  # the next scheduled dose was not taken
    assert needs_retitration(last, first_missed, NOW) is expected


def test_needs_retitration_without_missed_doses_is_false() -> None:
    # Nothing was due (e.g. the plan was paused by the team): no missed-dose rule.
    assert needs_retitration(NOW - timedelta(days=5), None, NOW) is False


def test_needs_retitration_never_taken_counts_from_first_missed_dose() -> None:
    assert needs_retitration(None, NOW - timedelta(hours=48, minutes=1), NOW) is True
    assert needs_retitration(None, NOW - timedelta(hours=47), NOW) is False


@pytest.mark.parametrize(
    ("since_due", "expected"),
    [
        (timedelta(hours=1), False),
        (timedelta(hours=48), False),  # exactly 48 h of due doses is not "over 2 days"
        (timedelta(hours=48, seconds=1), True),
    ],
)
def test_needs_retitration_counts_only_while_doses_were_due(
    since_due: timedelta, expected: bool
) -> None:
    """RULES.md 1 (line 21) "48 h since the last dose taken while doses were due": the last
    dose was taken a week ago, before a hold or a re-titration plan; doses are due again from
    `due`, so the clock runs from there, not from the week-old dose."""
    due = NOW - since_due
    last = NOW - timedelta(days=7)
    assert needs_retitration(last, due, NOW, doses_due_since=due) is expected


def test_needs_retitration_treats_naive_as_utc() -> None:
    naive_last = (NOW - timedelta(hours=49)).replace(tzinfo=None)
    assert needs_retitration(naive_last, naive_last + timedelta(hours=12), NOW) is True


@pytest.mark.parametrize(
    ("last_taken", "due_since", "expected"),
    [
        # RULES.md 1 (line 21): "48 h since the last dose taken while doses were due"
        (timedelta(hours=48), timedelta(days=10), False),
        (timedelta(hours=48, seconds=1), timedelta(days=10), True),
        # a dose taken before the current stretch of due doses counts from its start
        (timedelta(days=10), timedelta(hours=48), False),
        (timedelta(days=10), timedelta(hours=48, seconds=1), True),
        (None, timedelta(hours=48, seconds=1), True),  # never taken: from the first due
        (timedelta(days=10), None, False),  # no doses due (paused): nothing is missed
    ],
)
def test_missed_over_48h_from_the_summary(
    last_taken: timedelta | None, due_since: timedelta | None, expected: bool
) -> None:
    """The reading the cycle's candidates and a course's locked re-check share."""
    from server.domain.titration import first_missed_due, missed_over_48h

    taken = None if last_taken is None else NOW - last_taken
    due = None if due_since is None else NOW - due_since
    assert missed_over_48h(taken, due, NOW) is expected
    first = first_missed_due(taken, due)
    assert first is None if due is None else first == max(d for d in (taken, due) if d)


@pytest.mark.parametrize(
    ("kept_mg", "to_come_mg", "refused"),
    [
        (0.0, 900.0, False),  # a plan from the day's start: its own day
        (400.0, 500.0, False),  # 900 mg in all: the maximum
        (400.0, 512.5, True),  # 912.5 mg
        (400.0, 850.0, True),  # the morning dose taken, then the new plan's two doses
    ],
)
def test_the_first_day_of_a_plan_set_today_counts_the_doses_kept(
    kept_mg: float, to_come_mg: float, refused: bool
) -> None:
    """RULES.md 1 "never above 900 mg/day" (guideline L58): the earlier plan's doses taken or
    due on the day a plan starts count towards that day."""
    issue = first_day_across_plans(kept_mg, to_come_mg)
    if not refused:
        assert issue is None
        return
    assert issue is not None
    assert (issue.code, issue.field) == ("above_max_daily_dose", "start_date")


@pytest.mark.parametrize(
    ("first_course_day", "steps", "warned"),
    [
        # a dose change on day 4 of the course, from 62.5 mg the day before
        (4, [PlanStep(1, (50.0, 100.0))], {"rise_above_50_per_day"}),  # +87.5 mg
        (4, [PlanStep(1, (37.5, 75.0))], set()),  # +50 mg: the most in a day
        (4, [PlanStep(1, (50.0, 75.0))], {"rise_above_50_per_day"}),  # +62.5 mg: one step over
        (4, [PlanStep(1, (37.5, 75.0)), PlanStep(11, (50.0, 125.0))], {"rise_above_50_per_day"}),
        (4, [PlanStep(1, (37.5, 75.0)), PlanStep(12, (50.0, 125.0))], set()),  # course day 15
        (15, [PlanStep(1, (50.0, 100.0))], set()),  # after week 2: within 100 mg a week
        (15, [PlanStep(1, (75.0, 100.0))], {"rise_above_100_per_week"}),  # +112.5 mg
        (None, [PlanStep(1, (50.0, 100.0))], set()),  # course start unknown: the later rule
    ],
)
def test_a_dose_change_in_the_first_two_weeks_is_held_to_50_mg_a_day(
    first_course_day: int | None, steps: list[PlanStep], warned: set[str]
) -> None:
    """RULES.md 1 "a daily rise above 50 mg in the first two weeks, above 100 mg later"
    (guideline L55): a maintenance plan changing the dose in days 1-14 of the course."""
    check = validate_plan(
        steps, TIMES, "maintenance", previous_daily_mg=62.5, first_course_day=first_course_day
    )
    assert check.ok and codes(check.warnings) == warned


@pytest.mark.parametrize(
    ("replaced", "first_day", "rises"),
    [
        (300.0, (100.0, 200.0), False),  # from the dose in force
        (300.0, (100.0, 187.5), False),
        (300.0, (100.0, 212.5), True),  # 312.5 mg: a rise, not a taper
        (None, (100.0, 212.5), False),  # nothing in force to compare with
    ],
)
def test_a_taper_starts_at_or_below_the_dose_it_replaces(
    replaced: float | None, first_day: tuple[float, float], rises: bool
) -> None:
    """RULES.md 6 "taper steps down to zero over 1-2 weeks" (guideline L74)."""
    steps = [PlanStep(1, first_day), PlanStep(8, (0.0, 0.0))]
    check = validate_plan(steps, TIMES, "taper", replaced_daily_mg=replaced)
    assert ("taper_rises" in codes(check.errors)) is rises


@pytest.mark.parametrize(
    ("first_start", "first_day", "refused"),
    [
        (True, (12.5, 12.5), False),  # 25 mg: the most on a first day
        (True, (12.5, 25.0), True),
        (True, (125.0, 275.0), True),
        (False, (125.0, 275.0), False),  # an established patient's dose
    ],
)
def test_a_maintenance_plan_that_is_a_first_start_starts_low(
    first_start: bool, first_day: tuple[float, float], refused: bool
) -> None:
    """RULES.md 1 hard error "a first day above 25 mg" (guideline L52), for a maintenance plan
    that is a patient's first start of clozapine (is_first_start)."""
    check = validate_plan([PlanStep(1, first_day)], TIMES, "maintenance", first_start=first_start)
    assert ("first_day_above_25" in codes(check.errors)) is refused
