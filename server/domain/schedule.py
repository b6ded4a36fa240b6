"""The monitoring schedule: when each test is next due, and whether it is late.

RULES.md section 3; guideline L97-L104 (ANC), L119-L120 (weight, glucose, lipids), L111 (ECG),
L128 (trough level), L287 (liver tests). Intervals and interruption rules are profile data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from server.domain.codes import AncBand, DueStatus, MonitoredTest, TrafficLight
from server.domain.monitoring_profile import AncPhase, CalendarSchedule, Profile

ANC: Final = MonitoredTest.ANC.value


@dataclass(frozen=True)
class DueTest:
    """The next due date of one test; status "upcoming", "due" (today) or "overdue"."""

    test: str
    due_date: date
    status: DueStatus
    reason: str


@dataclass(frozen=True)
class CountReading:
    """One clinic count (ANC, WBC or both) as the schedule reads it; sequences are newest first.

    first_below_normal: the count was the first below the normal band (RULES.md 2, 7: repeat
    within 24 h). traffic_light: set under a traffic-light profile (uk-smpc).
    """

    collected_on: date
    band: str
    traffic_light: str | None = None
    first_below_normal: bool = False


@dataclass(frozen=True)
class StepDown:
    """A step down of the ANC schedule that waits for the care team (RULES.md 3, uk-smpc).

    clock_from: the date treatment weeks count from (the start, or a restart after a long
    break); from_week: the first week of the rarer phase, reached on reached_on.
    """

    clock_from: date
    from_week: int
    from_interval_days: int
    to_interval_days: int
    reached_on: date


# A confirmed step down: (clock_from, from_week).
ConfirmedStepDowns = Collection[tuple[date, int]]


def due_status(due_date: date, today: date) -> DueStatus:
    """upcoming before the due date, due on it, overdue after it (RULES.md 3)."""
    if today < due_date:
        return "upcoming"
    if today == due_date:
        return "due"
    return "overdue"


@dataclass(frozen=True)
class TreatmentBreak:
    """A break in clozapine: from the last dose taken (its local date `started_on`) to the next
    dose taken (`resumed_on`), `hours` long (RULES.md 6: breaks are measured in hours)."""

    started_on: date
    resumed_on: date
    hours: float


def _check_interruptions(interruptions: Sequence[TreatmentBreak]) -> list[TreatmentBreak]:
    for gap in interruptions:
        if gap.resumed_on < gap.started_on or gap.hours < 0:
            raise ValueError(
                f"interruption resumes ({gap.resumed_on}) before it began ({gap.started_on})"
            )
    return sorted(interruptions, key=lambda gap: (gap.started_on, gap.resumed_on))


def _treatment_clock(
    start_date: date,
    on_date: date,
    profile: Profile,
    interruptions: Sequence[TreatmentBreak],
) -> tuple[date, list[tuple[date, date, int, str]]]:
    """The date treatment weeks count from on `on_date`, and the intensified windows."""
    clock = start_date
    windows: list[tuple[date, date, int, str]] = []
    for gap in _check_interruptions(interruptions):
        restarted = gap.resumed_on
        if restarted > on_date:
            continue  # treatment had not restarted yet on that date
        # the days treated before the break, its last dose's day included
        days_on_treatment = (gap.started_on - clock).days + 1
        for rule in profile.interruption_rules:
            if not rule.matches(gap.hours, days_on_treatment):
                continue
            if rule.effect == "restart":
                clock = restarted
                windows.clear()
            elif rule.interval_days is not None and rule.for_weeks is not None:
                windows.append(
                    (
                        restarted,
                        restarted + timedelta(weeks=rule.for_weeks),
                        rule.interval_days,
                        f"{gap.hours:.0f}-hour break: every {rule.interval_days} days for "
                        f"{rule.for_weeks} weeks from {restarted.isoformat()}",
                    )
                )
            break
    return clock, windows


def _treatment_week(clock: date, on_date: date) -> int:
    """The treatment week `on_date` falls in, weeks counted from `clock` (week 1 = days 0-6)."""
    return max((on_date - clock).days // 7 + 1, 1)


def _phase_in_force(
    profile: Profile, week: int, clock: date, confirmed: ConfirmedStepDowns
) -> tuple[AncPhase, AncPhase | None]:
    """The phase in force in `week`, held at the last step down the care team confirmed when
    the profile asks for confirmation; and the rarer phase waiting for it (None: none)."""
    phase = profile.anc_phases[0]
    for candidate in profile.anc_phases[1:]:
        if candidate.from_week > week:
            break
        if (
            profile.step_down_needs_confirmation
            and candidate.interval_days > phase.interval_days
            and (clock, candidate.from_week) not in confirmed
        ):
            return phase, candidate
        phase = candidate
    return phase, None


def _anc_regime(
    start_date: date,
    on_date: date,
    profile: Profile,
    interruptions: Sequence[TreatmentBreak],
    confirmed: ConfirmedStepDowns = frozenset(),
) -> tuple[int, str]:
    """(interval in days, why) for ANC testing on `on_date`."""
    clock, windows = _treatment_clock(start_date, on_date, profile, interruptions)
    week = _treatment_week(clock, on_date)
    phase, waiting = _phase_in_force(profile, week, clock, confirmed)
    interval = phase.interval_days
    restarted_note = "" if clock == start_date else f" since the restart on {clock.isoformat()}"
    reason = f"treatment week {week}{restarted_note}: {phase.label}"
    if waiting is not None:
        reason += (
            f"; the step down to every {waiting.interval_days} days waits for the care "
            "team's confirmation"
        )
    for window_start, window_end, window_interval, why in windows:
        if window_start <= on_date < window_end and window_interval < interval:
            interval, reason = window_interval, why
    return interval, reason


def pending_step_downs(
    start_date: date,
    today: date,
    profile: Profile,
    interruptions: Sequence[TreatmentBreak] = (),
    confirmed: ConfirmedStepDowns = frozenset(),
) -> list[StepDown]:
    """The step down of the ANC schedule waiting for the care team's confirmation today.

    RULES.md 3 (uk-smpc): "the care team confirms each step down" (weekly to every 2 weeks
    from week 19, to every 4 weeks from week 53). Until confirmed, the schedule keeps the
    more frequent phase. Empty for profiles that do not ask for confirmation.
    """
    if not profile.step_down_needs_confirmation:
        return []
    clock, _ = _treatment_clock(start_date, today, profile, interruptions)
    week = _treatment_week(clock, today)
    phase, waiting = _phase_in_force(profile, week, clock, confirmed)
    if waiting is None:
        return []
    return [
        StepDown(
            clock_from=clock,
            from_week=waiting.from_week,
            from_interval_days=phase.interval_days,
            to_interval_days=waiting.interval_days,
            reached_on=clock + timedelta(weeks=waiting.from_week - 1),
        )
    ]


def red_frequency_holds(readings: Sequence[CountReading], greens_needed: int) -> bool:
    """Whether tests stay at the red frequency: a red result not yet followed by
    `greens_needed` green results in a row (readings newest first).

    RULES.md 2 (uk-smpc) "red ... daily tests until two greens"; RULES.md 7 "after red, tests
    are daily until two greens". An amber between greens starts the count again.
    """
    run = 0
    for reading in readings:
        if reading.traffic_light == TrafficLight.GREEN:
            run += 1
            if run >= greens_needed:
                return False
        elif reading.traffic_light == TrafficLight.RED:
            return True
        else:
            run = 0
    return False


def anc_phase_interval_days(
    start_date: date,
    on_date: date,
    profile: Profile,
    interruptions: Sequence[TreatmentBreak] = (),
    confirmed_step_downs: ConfirmedStepDowns = frozenset(),
) -> int:
    """Days between ANC tests on `on_date` by treatment phase and treatment breaks.

    RULES.md 3. Phase by treatment week counted from start_date (week 1 = days 0-6):
    guideline/us-label-2025 weekly weeks 1-26, every 14 days weeks 27-52, every 28 days after
    (guideline L101-L103; "monthly" taken as 28 days); uk-smpc weekly to week 18, every 14 days
    to week 52, every 28 after. Breaks (TreatmentBreak: from the last dose to the next, in
    hours): guideline > 48 h -> weekly for 26 weeks from the restart (guideline L104);
    us-label-2025 >= 720 h (30 days) -> restarts as a new patient from the restart date, shorter
    breaks keep the schedule; uk-smpc on treatment > 18 weeks and a 72-671 hour break ->
    weekly for 6 weeks, >= 672 hours (4 weeks) -> a new patient (product choice where RULES.md
    is silent). RULES.md 6: a 59 h break is one of more than 2 days.
    uk-smpc's step downs wait for the care team (confirmed_step_downs: (clock_from,
    from_week), see pending_step_downs); until then the more frequent phase holds.
    """
    return _anc_regime(start_date, on_date, profile, interruptions, confirmed_step_downs)[0]


def _latest(last_results: Mapping[str, date], *tests: str) -> date | None:
    found = [last_results[t] for t in tests if t in last_results and last_results[t] is not None]
    return max(found) if found else None


def _band_interval(profile: Profile, band: str) -> int | None:
    try:
        return profile.band_interval_days(band)
    except ValueError:
        # A band this profile does not know (e.g. recorded under another profile): test as
        # often as the profile's most frequent band.
        intervals = [
            r.next_test_in_days
            for r in profile.anc_bands_general + (profile.anc_bands_ben or ())
            if r.next_test_in_days is not None
        ]
        return min(intervals) if intervals else None


def _band_due(
    profile: Profile, band: str | None, last: date | None, band_since: date | None
) -> tuple[date, int] | None:
    """The next count an ANC band below normal asks for, and the band's interval in days: that
    interval after the latest count or the band's start, whichever is later (RULES.md 3).
    None in the normal band, or with no interval or no date to count from."""
    if band is None or band == AncBand.NORMAL:
        return None
    interval = _band_interval(profile, band)
    reference = max((d for d in (last, band_since) if d is not None), default=None)
    if interval is None or reference is None:
        return None
    return reference + timedelta(days=interval), interval


def _reading_due(profile: Profile, readings: Sequence[CountReading]) -> list[tuple[date, str]]:
    """Due dates the latest clinic counts set on their own (RULES.md 2 and 7)."""
    if not readings:
        return []
    newest = readings[0]
    due: list[tuple[date, str]] = []
    if newest.first_below_normal:
        due.append(
            (
                newest.collected_on + timedelta(days=1),
                "a first count below normal: repeat within 24 h to confirm",
            )
        )
    scheme = profile.traffic_light
    greens = scheme.greens_to_end_red_frequency if scheme is not None else None
    if scheme is not None and greens and red_frequency_holds(readings, greens):
        every = scheme.rule_for(TrafficLight.RED.value).next_test_in_days or 1
        due.append(
            (
                newest.collected_on + timedelta(days=every),
                f"after a red result: every {every} day(s) until {greens} green results in a row",
            )
        )
    return due


def _next_anc(
    *,
    start_date: date,
    profile: Profile,
    last_results: Mapping[str, date],
    anc_band: str | None,
    anc_band_since: date | None,
    interruptions: Sequence[TreatmentBreak],
    baseline_done: Mapping[str, bool],
    recent_counts: Sequence[CountReading] = (),
    confirmed_step_downs: ConfirmedStepDowns = frozenset(),
) -> tuple[date, str]:
    code = profile.anc_test
    last = _latest(last_results, code, ANC)
    band_due = _band_due(profile, anc_band, last, anc_band_since)
    if last is None:
        if not baseline_done.get(code, False) and not baseline_done.get(ANC, False):
            return start_date, "baseline count before the first dose"
        last = start_date
    phase_due = _next_by_phase(start_date, last, profile, interruptions, confirmed_step_downs)
    candidates = [phase_due, *_reading_due(profile, recent_counts)]
    if band_due is not None:
        due, interval = band_due
        why = f"ANC {anc_band}: every {interval} day(s) until back in the normal band"
        candidates.insert(0, (due, why))
    return min(candidates, key=lambda item: item[0])  # the first of equals: band, then phase


def _next_by_phase(
    start_date: date,
    last: date,
    profile: Profile,
    interruptions: Sequence[TreatmentBreak],
    confirmed: ConfirmedStepDowns = frozenset(),
) -> tuple[date, str]:
    # A step down to rarer tests takes effect after the first test of the new phase; a step
    # up (new phase or a treatment break) takes effect at once.
    interval_then, reason = _anc_regime(start_date, last, profile, interruptions, confirmed)
    day = last
    while True:
        day += timedelta(days=1)
        interval_now, reason_now = _anc_regime(start_date, day, profile, interruptions, confirmed)
        if (day - last).days >= min(interval_then, interval_now):
            return day, reason_now if interval_now < interval_then else reason


def _nominal_days(schedule: CalendarSchedule) -> Iterator[int]:
    yield from schedule.at_days
    if schedule.then_every_days is None:
        return
    day = schedule.at_days[-1]
    while True:
        day += schedule.then_every_days
        yield day


def _next_calendar(
    schedule: CalendarSchedule,
    start_date: date,
    last: date | None,
    baseline_covered: bool,
) -> date | None:
    """Next date from the schedule not yet covered by the latest result.

    A result counts for a scheduled date if taken in the second half of the interval before it
    (or later): weight on day 5 covers day 7, and the next due is day 14.
    """
    days = _nominal_days(schedule)
    first = next(days)
    if not baseline_covered:
        return start_date + timedelta(days=first)
    previous = first
    for offset in days:
        nominal = start_date + timedelta(days=offset)
        grace = (offset - previous) // 2
        if last is None or last < nominal - timedelta(days=grace):
            return nominal
        previous = offset
    return None


def _after_stop(
    profile: Profile,
    today: date,
    last_results: Mapping[str, date],
    anc_band: str | None,
    anc_band_since: date | None,
) -> list[DueTest]:
    band_due = _band_due(
        profile, anc_band, _latest(last_results, profile.anc_test, ANC), anc_band_since
    )
    if band_due is None:
        return []
    due, interval = band_due
    why = f"ANC {anc_band} after stopping: every {interval} day(s) until back in the normal band"
    return [DueTest(profile.anc_test, due, due_status(due, today), why)]


def monitoring_schedule(
    *,
    start_date: date,
    today: date,
    profile: Profile,
    last_results: Mapping[str, date],
    anc_band: str | None,
    anc_band_since: date | None,
    interruptions: Sequence[TreatmentBreak],
    stable_dose_since: date | None,
    baseline_done: Mapping[str, bool] | None = None,
    recent_counts: Sequence[CountReading] = (),
    confirmed_step_downs: ConfirmedStepDowns = frozenset(),
    stopped: bool = False,
) -> list[DueTest]:
    """The next due test of each kind, soonest first (RULES.md 3).

    ANC (profile.anc_test: "anc", or "wbc_neutrophils" under uk-smpc; results under either
    code count): no result yet -> due on start_date (baseline, guideline L85). Band
    mild/moderate/severe -> the band's frequency from the latest result (3x weekly = every 2
    days, twice weekly = every 3 days, daily = 1). Otherwise the phase interval
    (anc_phase_interval_days): due on the first day the time since the last result reaches the
    interval in force then, or the one in force at the last result if shorter -- a step down
    applies after the first test of the new phase, a step up at once; under a profile whose
    step downs need the care team (uk-smpc), a step down waits for its confirmation
    (confirmed_step_downs: (clock_from, from_week); see pending_step_downs). The latest clinic
    counts (recent_counts, newest first) can bring it forward: a first count below normal is
    due again the day after (RULES.md 7 "First low count"; guideline L141), and after a red
    UK result tests stay daily until two greens in a row (red_frequency_holds).
    Trough level: due stable_dose_since + 7 days (guideline L128 "after 5-7 days at stable
    dose"); not listed without a stable dose or once a level was taken 5+ days into it.
    Weight, glucose_lipids, ecg, liver_tests: the profile's calendar (guideline L119, L120,
    L111, L287); baseline on start_date unless a result exists or baseline_done says so.
    last_results: latest result date per test; interruptions: the treatment breaks.
    stopped: the course has stopped (RULES.md 6 "monitoring continues where the profile asks,
    e.g. ANC after stopping for a low count"): only the ANC while its band is below normal, at
    the band's frequency; nothing else is due.
    """
    done = baseline_done or {}
    if stopped:
        return _after_stop(profile, today, last_results, anc_band, anc_band_since)
    items: list[DueTest] = []

    anc_due, anc_reason = _next_anc(
        start_date=start_date,
        profile=profile,
        last_results=last_results,
        anc_band=anc_band,
        anc_band_since=anc_band_since,
        interruptions=interruptions,
        baseline_done=done,
        recent_counts=recent_counts,
        confirmed_step_downs=confirmed_step_downs,
    )
    items.append(DueTest(profile.anc_test, anc_due, due_status(anc_due, today), anc_reason))

    if stable_dose_since is not None:
        trough = profile.trough
        last_level = last_results.get(MonitoredTest.TROUGH_LEVEL.value)
        earliest = stable_dose_since + timedelta(days=trough.earliest_days_after_stable_dose)
        if last_level is None or last_level < earliest:
            due = stable_dose_since + timedelta(days=trough.due_days_after_stable_dose)
            items.append(
                DueTest(
                    MonitoredTest.TROUGH_LEVEL.value,
                    due,
                    due_status(due, today),
                    f"trough level {trough.earliest_days_after_stable_dose}-"
                    f"{trough.due_days_after_stable_dose} days after the stable dose of "
                    f"{stable_dose_since.isoformat()}, about 12 h after the last dose",
                )
            )

    for schedule in profile.calendar_tests:
        last = last_results.get(schedule.test)
        covered = last is not None or done.get(schedule.test, False)
        due_date = _next_calendar(schedule, start_date, last, covered)
        if due_date is None:
            continue
        reason = schedule.label if covered else f"baseline; then {schedule.label}"
        items.append(DueTest(schedule.test, due_date, due_status(due_date, today), reason))

    order = {item.test: index for index, item in enumerate(items)}
    return sorted(items, key=lambda item: (item.due_date, order[item.test]))
