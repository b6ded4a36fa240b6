"""Titration plans: the standard proposal, plan checks and the missed-dose rule.

RULES.md section 1; guideline L50-L58 (dosing) and L76-L78, L339 (re-initiation). The plan is
the clinician's: a generated plan is a proposal they can edit; validate_plan refuses only what
RULES.md calls hard errors and warns about the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from server.domain.dosetimes import as_utc, sorted_times
from server.domain.treatment import (
    RETITRATION_AFTER,
    STARTS_LOW,
    PlanKind,
    TransitionRefused,
    starts_low,
)

DOSE_STEP_MG: Final = 12.5  # RULES.md 1: tablets 12.5/25/50/100/200 mg
MAX_DAILY_MG: Final = 900.0  # RULES.md 1; guideline L58 "Up to 900 mg/day"
MAX_FIRST_DAY_MG: Final = 25.0  # RULES.md 1; guideline L52 "12.5 mg once or twice daily"
START_DOSE_MG: Final = 12.5  # guideline L52, L78
EARLY_PHASE_DAYS: Final = 14  # guideline L56 "Target dose by end of week 2"
EARLY_PHASE_CAP_MG: Final = 450.0  # guideline L56 "300-450 mg/day"
EARLY_MAX_DAILY_RISE_MG: Final = 50.0  # guideline L55 "Increase by 25-50 mg/day"
LATER_MAX_WEEKLY_RISE_MG: Final = 100.0  # RULES.md 1 "later raises of up to 100 mg"
# RULES.md 6: "a single dose above 450 mg is a warning, since the guideline divides the usual
# range into 2-3 doses" (guideline L57 "300-600 mg/day, divided into 2-3 doses").
SINGLE_DOSE_WARNING_MG: Final = 450.0
TAPER_MIN_DAYS: Final = 7  # guideline L74 "taper gradually over 1-2 weeks"
TAPER_MAX_DAYS: Final = 14

_MAX_DOSE_TIMES: Final = 3
_STANDARD_DAILY_RISE_UNITS: Final = 2  # 25 mg/day
_LATER_RISE_UNITS: Final = 4  # 50 mg, twice weekly
_LATER_RISE_GAPS_DAYS: Final = (4, 3)  # alternate so any 7 days hold at most two rises


@dataclass(frozen=True)
class PlanStep:
    """From plan day `day` (1-based) on, until the next step: one dose per dose time (mg)."""

    day: int
    doses_mg: tuple[float, ...]

    @property
    def total_mg(self) -> float:
        """The daily total."""
        return float(sum(self.doses_mg))


@dataclass(frozen=True)
class PlanIssue:
    """A problem found in a plan; field points at it ("steps[3].doses_mg", "steps", "times")."""

    code: str
    message: str
    field: str


@dataclass(frozen=True)
class PlanCheck:
    """Errors refuse the plan; warnings are shown to the clinician but accepted."""

    errors: tuple[PlanIssue, ...]
    warnings: tuple[PlanIssue, ...]

    @property
    def ok(self) -> bool:
        """Whether the plan has no hard errors."""
        return not self.errors


def normalize_times(times: Sequence[str]) -> tuple[str, ...]:
    """Check 1-3 unique "HH:MM" dose times and return them sorted (doses follow this order)."""
    return sorted_times(times, _MAX_DOSE_TIMES, "dose times", "dose times must be unique")


def _to_units(mg: float, what: str) -> int:
    if isinstance(mg, bool) or not isinstance(mg, int | float) or not math.isfinite(mg):
        raise ValueError(f"{what} must be a number of mg")
    units = round(mg / DOSE_STEP_MG)
    if not math.isclose(units * DOSE_STEP_MG, mg, abs_tol=1e-9):
        raise ValueError(f"{what} must be a multiple of {DOSE_STEP_MG} mg, not {mg}")
    return units


def split_daily_total(total_mg: float, slots: int) -> tuple[float, ...]:
    """Split a daily total into `slots` doses, multiples of 12.5 mg, the largest at bedtime.

    RULES.md 1 "The larger part is given at bedtime" (guideline L243, L255). Product choice:
    each earlier dose gets total/(slots+1) rounded down to 12.5 mg and the last (bedtime) dose
    the rest, so bedtime carries about twice any other dose (300 mg in two: 100 + 200).
    """
    if not 1 <= slots <= _MAX_DOSE_TIMES:
        raise ValueError(f"between 1 and {_MAX_DOSE_TIMES} dose slots")
    units = _to_units(total_mg, "daily total")
    if units < 0:
        raise ValueError("daily total must not be negative")
    other = units // (slots + 1)
    parts = [other] * (slots - 1) + [units - other * (slots - 1)]
    return tuple(p * DOSE_STEP_MG for p in parts)


def _rise_units(target_units: int) -> list[tuple[int, int]]:
    """(day, daily total in 12.5 mg units) at each change, from day 1."""
    totals = [(1, 1)]
    day, current = 1, 1
    early_goal = min(target_units, round(EARLY_PHASE_CAP_MG / DOSE_STEP_MG))
    need = early_goal - current
    early_rises = EARLY_PHASE_DAYS - 1  # days 2..14
    if need <= early_rises * _STANDARD_DAILY_RISE_UNITS:
        rises = [_STANDARD_DAILY_RISE_UNITS] * (need // _STANDARD_DAILY_RISE_UNITS)
        if need % _STANDARD_DAILY_RISE_UNITS:
            rises.append(need % _STANDARD_DAILY_RISE_UNITS)
    else:
        base, extra = divmod(need, early_rises)
        # Smallest rises that still reach the goal by day 14; the larger ones come last.
        rises = [base] * (early_rises - extra) + [base + 1] * extra
    for rise in rises:
        day += 1
        current += rise
        totals.append((day, current))
    gap_index = 0
    if current < target_units:
        day = EARLY_PHASE_DAYS
    while current < target_units:
        day += _LATER_RISE_GAPS_DAYS[gap_index % len(_LATER_RISE_GAPS_DAYS)]
        gap_index += 1
        current += min(_LATER_RISE_UNITS, target_units - current)
        totals.append((day, current))
    return totals


def standard_plan(times: Sequence[str], target_mg_per_day: float) -> list[PlanStep]:
    """Propose the standard titration to `target_mg_per_day`; the last step is maintenance.

    RULES.md 1; guideline L52-L58. Day 1: 12.5 mg once, at bedtime (product choice: the lower
    of the two allowed starts, as first-dose hypotension and syncope are the early risk,
    guideline L153). Then +25 mg/day; a target of 300-450 mg is reached by day 14 with the
    smallest rises that get there (multiples of 12.5, at most 37.5 mg/day); a target above
    450 mg reaches 450 on day 14 and then rises 50 mg twice weekly (days 18, 21, 25, 28, ...,
    at most 100 mg in any 7 days). Doses are multiples of 12.5 mg with the largest at bedtime
    (split_daily_total), in the order of the sorted times. ValueError: target not a multiple of
    12.5, below 12.5 or above 900 mg; times not 1-3 unique "HH:MM".
    """
    ordered = normalize_times(times)
    target_units = _to_units(target_mg_per_day, "target_mg_per_day")
    if target_units * DOSE_STEP_MG > MAX_DAILY_MG:
        raise ValueError(f"target above {MAX_DAILY_MG:g} mg/day (RULES.md 1)")
    if target_units < 1:
        raise ValueError(f"target must be at least {START_DOSE_MG} mg/day")
    return [
        PlanStep(day=day, doses_mg=split_daily_total(units * DOSE_STEP_MG, len(ordered)))
        for day, units in _rise_units(target_units)
    ]


def retitration_proposal(times: Sequence[str], target_mg_per_day: float) -> list[PlanStep]:
    """Re-titration after a break: restart at 12.5 mg and titrate as for a new start.

    RULES.md 1 "re-titration from 12.5 mg once or twice daily"; guideline L78 "re-initiate at
    12.5 mg once or twice daily and titrate gradually as with initial treatment". The clinician
    confirms (and may speed up) the plan.
    """
    return standard_plan(times, target_mg_per_day)


def _total_in_force(steps: Sequence[PlanStep], day: int) -> float:
    total = 0.0
    for step in steps:
        if step.day > day:
            break
        total = step.total_mg
    return total


def validate_plan(
    steps: Sequence[PlanStep],
    times: Sequence[str],
    kind: str = PlanKind.INITIATION,
    *,
    previous_daily_mg: float | None = None,
    first_course_day: int | None = None,
    replaced_daily_mg: float | None = None,
    first_start: bool = False,
) -> PlanCheck:
    """Check a plan of `kind` against RULES.md 1 and 6: hard errors refuse it, warnings show.

    Errors for every kind: empty plan; times not 1-3 unique sorted "HH:MM"; days not strictly
    increasing from day 1; dose count != number of times; a negative dose or one not a
    multiple of 12.5 mg; a day above 900 mg (guideline L58). An initiation or re-titration
    plan, or any plan that is the patient's `first_start` of clozapine (is_first_start in
    treatment.py): a first day above 25 mg (guideline L52, L78). Any kind but a taper: a plan
    that ends with no dose (a stop is a taper or the clinician's stop, RULES.md 6). A taper: a
    dose that rises, also a first day above `replaced_daily_mg` (the dose the plan in force
    gives that day), or a last step that is not zero (guideline L74).
    Warnings: in an initiation or re-titration plan, a rise above 50 mg from one day to the
    next on days 1-14 (guideline L55), and after day 14 a rise above 100 mg within 7 days,
    counted as the total on a step's day minus the total 7 days earlier, or on day 14 if later
    (RULES.md 1 "up to 100 mg once or twice weekly"; rises made up to day 14 belong to the
    first rule); in a maintenance plan, a rise above 100 mg within 7 days, the first day
    counted from `previous_daily_mg` (the dose in force before it), and on its days that fall
    in days 1-14 of the course (`first_course_day`: the course's day on the plan's day 1) a
    rise above 50 mg from the day before instead (guideline L55); a single dose above 450 mg
    (RULES.md 6); a taper shorter than 1 or longer than 2 weeks (guideline L74).
    """
    errors: list[PlanIssue] = []
    warnings: list[PlanIssue] = []
    slot_count: int | None = None
    try:
        ordered = normalize_times(times)
        if tuple(times) != ordered:
            errors.append(PlanIssue("times_not_sorted", "list dose times in time order", "times"))
        slot_count = len(ordered)
    except ValueError as exc:
        errors.append(PlanIssue("invalid_times", str(exc), "times"))
    if not steps:
        errors.append(PlanIssue("empty_plan", "a plan needs at least one step", "steps"))
        return PlanCheck(tuple(errors), tuple(warnings))

    valid_totals = True
    previous_day = 0
    low_start = starts_low(kind, first_start=first_start)
    for index, step in enumerate(steps):
        at = f"steps[{index}]"
        day = step.day
        if isinstance(day, bool) or not isinstance(day, int):
            errors.append(PlanIssue("invalid_day", "day must be a whole number", f"{at}.day"))
            valid_totals = False
        elif index == 0 and day != 1:
            errors.append(PlanIssue("first_day_not_1", "the plan starts on day 1", f"{at}.day"))
        elif index > 0 and day <= previous_day:
            errors.append(
                PlanIssue("days_not_increasing", "days must strictly increase", f"{at}.day")
            )
        if isinstance(day, int):
            previous_day = max(previous_day, day)
        field = f"{at}.doses_mg"
        if slot_count is not None and len(step.doses_mg) != slot_count:
            errors.append(
                PlanIssue(
                    "dose_count_mismatch",
                    f"{len(step.doses_mg)} doses for {slot_count} dose times",
                    field,
                )
            )
        step_ok = True
        for dose in step.doses_mg:
            if (
                isinstance(dose, bool)
                or not isinstance(dose, int | float)
                or not math.isfinite(dose)
            ):
                errors.append(PlanIssue("invalid_dose", "doses are numbers of mg", field))
                step_ok = False
            elif dose < 0:
                errors.append(PlanIssue("negative_dose", "doses must not be negative", field))
                step_ok = False
            elif not math.isclose(round(dose / DOSE_STEP_MG) * DOSE_STEP_MG, dose, abs_tol=1e-9):
                errors.append(
                    PlanIssue("not_multiple_of_12_5", "doses are multiples of 12.5 mg", field)
                )
        if not step_ok:
            valid_totals = False
            continue
        total = step.total_mg
        if total > MAX_DAILY_MG + 1e-9:
            errors.append(
                PlanIssue(
                    "above_max_daily_dose",
                    f"{total:g} mg/day is above the {MAX_DAILY_MG:g} mg/day maximum",
                    field,
                )
            )
        if max(step.doses_mg, default=0.0) > SINGLE_DOSE_WARNING_MG + 1e-9:
            warnings.append(
                PlanIssue(
                    "single_dose_above_450",
                    f"a single dose above {SINGLE_DOSE_WARNING_MG:g} mg; the usual range is "
                    "divided into 2-3 doses",
                    field,
                )
            )
        if index == 0 and low_start and total > MAX_FIRST_DAY_MG + 1e-9:
            errors.append(
                PlanIssue(
                    "first_day_above_25",
                    f"the first day is {total:g} mg; start at 12.5 mg once or twice daily",
                    field,
                )
            )

    ordered_days = valid_totals and not any(
        e.code in {"days_not_increasing", "first_day_not_1"} for e in errors
    )
    if ordered_days and kind == PlanKind.TAPER:
        errors.extend(_taper_errors(steps, replaced_daily_mg))
        warnings.extend(_taper_warnings(steps))
    elif ordered_days:
        if steps[-1].total_mg <= 0:
            errors.append(
                PlanIssue(
                    "plan_ends_without_dose",
                    "the plan ends with no dose: to stop clozapine, taper it or stop treatment",
                    f"steps[{len(steps) - 1}].doses_mg",
                )
            )
        if kind in STARTS_LOW:
            warnings.extend(_rise_warnings(steps))
        else:
            early_days = 0 if first_course_day is None else EARLY_PHASE_DAYS - first_course_day + 1
            warnings.extend(_maintenance_rise_warnings(steps, previous_daily_mg, early_days))
    return PlanCheck(tuple(errors), tuple(warnings))


def first_day_across_plans(kept_mg: float, to_come_mg: float) -> PlanIssue | None:
    """A plan that starts today, once the day has begun: the earlier plan's doses taken or due
    that day stay (`kept_mg`) and this plan's doses still to come that day (`to_come_mg`) are
    added to them, so the day is their sum. RULES.md 1 "never above 900 mg/day" (a hard error;
    guideline L58 "Up to 900 mg/day"): the issue, on the start date, when the sum is above."""
    total = kept_mg + to_come_mg
    if total <= MAX_DAILY_MG + 1e-9:
        return None
    return PlanIssue(
        "above_max_daily_dose",
        f"today would be {total:g} mg ({kept_mg:g} mg already taken or due from the earlier "
        f"plan and {to_come_mg:g} mg still to come from this one), above the "
        f"{MAX_DAILY_MG:g} mg/day maximum: start this plan tomorrow",
        "start_date",
    )


def _maintenance_rise_warnings(
    steps: Sequence[PlanStep], previous_daily_mg: float | None, early_days: int = 0
) -> list[PlanIssue]:
    """RULES.md 1: "later raises of up to 100 mg once or twice weekly", for a dose change:
    each step against the total in force 7 days before it (before day 1: the dose in force
    before this plan, when known). A step on the plan's first `early_days` days (days 1-14 of
    the course): "a daily rise above 50 mg in the first two weeks", against the day before."""
    issues: list[PlanIssue] = []
    for index, step in enumerate(steps):
        if step.day <= early_days:
            day_before = previous_daily_mg if index == 0 else steps[index - 1].total_mg
            if day_before is None:
                continue
            early = _early_rise(step, day_before, f"steps[{index}].doses_mg")
            if early is not None:
                issues.append(early)
            continue
        since = step.day - 7
        reference = previous_daily_mg if since < 1 else _total_in_force(steps, since)
        if reference is None:
            continue
        rise = step.total_mg - reference
        if rise > LATER_MAX_WEEKLY_RISE_MG + 1e-9:
            before = "the dose before this plan" if since < 1 else f"day {since}"
            issues.append(
                PlanIssue(
                    "rise_above_100_per_week",
                    f"day {step.day} is {rise:g} mg above {before}; later rises are up to "
                    "100 mg a week",
                    f"steps[{index}].doses_mg",
                )
            )
    return issues


def _taper_errors(steps: Sequence[PlanStep], replaced_daily_mg: float | None) -> list[PlanIssue]:
    """A taper steps down and ends at zero (guideline L74; RULES.md 6), from no more than the
    dose it replaces on its first day (`replaced_daily_mg`, when known)."""
    issues: list[PlanIssue] = []
    if replaced_daily_mg is not None and steps[0].total_mg > replaced_daily_mg + 1e-9:
        issues.append(
            PlanIssue(
                "taper_rises",
                f"day 1 is {steps[0].total_mg:g} mg, above the {replaced_daily_mg:g} mg a day "
                "in force; a taper only steps down",
                "steps[0].doses_mg",
            )
        )
    for index in range(1, len(steps)):
        if steps[index].total_mg > steps[index - 1].total_mg + 1e-9:
            issues.append(
                PlanIssue(
                    "taper_rises",
                    f"day {steps[index].day} rises; a taper only steps down",
                    f"steps[{index}].doses_mg",
                )
            )
    if steps[-1].total_mg > 0 or len(steps) < 2:
        issues.append(
            PlanIssue(
                "taper_must_end_at_zero",
                "a taper's last step has no dose (it ends the course)",
                f"steps[{len(steps) - 1}].doses_mg",
            )
        )
    return issues


def _taper_warnings(steps: Sequence[PlanStep]) -> list[PlanIssue]:
    days = steps[-1].day - 1  # days with a dose before the first day without
    if len(steps) >= 2 and not TAPER_MIN_DAYS <= days <= TAPER_MAX_DAYS:
        return [
            PlanIssue(
                "taper_not_1_to_2_weeks",
                f"this taper lasts {days} days; the guideline tapers over 1-2 weeks",
                f"steps[{len(steps) - 1}].day",
            )
        ]
    return []


def taper_proposal(
    times: Sequence[str], from_mg_per_day: float, days: int = TAPER_MAX_DAYS
) -> list[PlanStep]:
    """Propose a taper from `from_mg_per_day` to zero over `days` days (guideline L74 "taper
    gradually over 1-2 weeks"): day d of n takes (n - d + 1)/(n + 1) of the dose, rounded up
    to 12.5 mg (so every day of the n has a dose), the larger part at bedtime; day n + 1 is the
    first without a dose. ValueError: days outside 7-14, a dose not a multiple of 12.5 mg or
    not above zero."""
    ordered = normalize_times(times)
    if not TAPER_MIN_DAYS <= days <= TAPER_MAX_DAYS:
        raise ValueError(f"a taper lasts {TAPER_MIN_DAYS}-{TAPER_MAX_DAYS} days")
    units = _to_units(from_mg_per_day, "the dose to taper from")
    if units < 1:
        raise ValueError("there is no dose to taper from")
    steps: list[PlanStep] = []
    for day in range(1, days + 2):
        total = -(-units * (days - day + 1) // (days + 1)) * DOSE_STEP_MG  # rounded up
        if steps and math.isclose(steps[-1].total_mg, total):
            continue
        steps.append(PlanStep(day, split_daily_total(total, len(ordered))))
    return steps


def _early_rise(step: PlanStep, day_before_mg: float, field: str) -> PlanIssue | None:
    """RULES.md 1 "a daily rise above 50 mg in the first two weeks" (guideline L55 "Increase
    by 25-50 mg/day"): the warning for a step of those weeks against the day before it."""
    rise = step.total_mg - day_before_mg
    if rise <= EARLY_MAX_DAILY_RISE_MG + 1e-9:
        return None
    return PlanIssue(
        "rise_above_50_per_day",
        f"day {step.day} rises {rise:g} mg; in the first 2 weeks rises are 25-50 mg/day",
        field,
    )


def _rise_warnings(steps: Sequence[PlanStep]) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    for index in range(1, len(steps)):
        step = steps[index]
        field = f"steps[{index}].doses_mg"
        if step.day <= EARLY_PHASE_DAYS:
            early = _early_rise(step, steps[index - 1].total_mg, field)
            if early is not None:
                issues.append(early)
        else:
            since = max(step.day - 7, EARLY_PHASE_DAYS)
            rise = step.total_mg - _total_in_force(steps, since)
            if rise > LATER_MAX_WEEKLY_RISE_MG + 1e-9:
                issues.append(
                    PlanIssue(
                        "rise_above_100_per_week",
                        f"day {step.day} is {rise:g} mg above day {since}; after week 2 rises "
                        "are up to 100 mg a week",
                        field,
                    )
                )
    return issues


def daily_doses(steps: Sequence[PlanStep], day_number: int) -> tuple[float, ...]:
    """The doses on plan day `day_number`: those of the last step with day <= day_number.

    Days after the last step repeat it (the maintenance dose).
    """
    if day_number < 1:
        raise ValueError("plan days start at 1")
    in_force: PlanStep | None = None
    for step in steps:
        if step.day > day_number:
            break
        in_force = step
    if in_force is None:
        raise ValueError("the plan has no step on or before that day")
    return in_force.doses_mg


def needs_retitration(
    last_dose_taken_at: datetime | None,
    first_missed_due_at: datetime | None,
    now: datetime,
    *,
    doses_due_since: datetime | None = None,
) -> bool:
    """Whether doses were missed for more than 48 h, so the plan needs re-titration.

    RULES.md 1 "Missed doses over 2 days (48 h since the last dose taken while doses were
    due)"; guideline L78 and L339 ">2 days". Strictly more than 48 h: 48:00:00 is False,
    48:00:01 True. No missed due dose: False. No dose ever taken: counted from the first
    missed due dose. doses_due_since: the first dose due of the current stretch of due doses
    (after a hold, a resume or a re-titration plan); a last dose taken before it counts from
    it, since no dose was due in between. Naive datetimes are taken as UTC.
    """
    if first_missed_due_at is None:
        return False
    now_utc = as_utc(now)
    if as_utc(first_missed_due_at) > now_utc:
        return False
    since = as_utc(last_dose_taken_at if last_dose_taken_at is not None else first_missed_due_at)
    if doses_due_since is not None and as_utc(doses_due_since) > since:
        since = as_utc(doses_due_since)
    return now_utc - since > RETITRATION_AFTER


def first_missed_due(
    last_dose_taken_at: datetime | None, doses_due_since: datetime | None
) -> datetime | None:
    """The first missed dose as the patient's summary tells it (its last dose taken, and when
    the current stretch of due doses began; None: no doses due): the later of the two."""
    if doses_due_since is None:
        return None
    if last_dose_taken_at is not None and as_utc(last_dose_taken_at) > as_utc(doses_due_since):
        return last_dose_taken_at
    return doses_due_since


def check_resumed_start(low_start: bool, day: int, daily_mg: float) -> None:
    """A resume of a course that has not begun is its start, and a start is low (RULES.md 1
    "start 12.5 mg once or twice daily", RULES.md 6 "initiation and retitration start at
    <= 25 mg on day 1"; guideline L52): a plan that starts low (`low_start`: starts_low in
    treatment.py) whose first days passed while its start was called off would begin at day
    `day`'s dose.
    TransitionRefused when that is above the first day's limit; the clinician sets a
    re-titration plan from day 1 instead."""
    if low_start and daily_mg > MAX_FIRST_DAY_MG + 1e-9:
        raise TransitionRefused(
            "retitration_needed",
            f"Clozapine has not begun, and resuming now would start at day {day} of its plan "
            f"({daily_mg:g} mg a day). Set a re-titration plan that starts at 12.5-25 mg on "
            "day 1 instead.",
        )


def missed_over_48h(
    last_dose_taken_at: datetime | None, doses_due_since: datetime | None, now: datetime
) -> bool:
    """needs_retitration read from the patient's summary (first_missed_due)."""
    return needs_retitration(
        last_dose_taken_at,
        first_missed_due(last_dose_taken_at, doses_due_since),
        now,
        doses_due_since=doses_due_since,
    )
