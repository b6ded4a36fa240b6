"""The treatment course as a state machine: RULES.md section 6; guideline L74, L78, L139-L149,
L179-L182, L339."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from server.domain import (
    PlanStep,
    baseline_allows_start_on,
    check_resumed_start,
    interpret_anc,
    load_profile,
    taper_proposal,
    validate_plan,
)
from server.domain.treatment import (
    NEW_COURSE,
    AncTreatment,
    Cause,
    Course,
    CourseState,
    PlanShape,
    TransitionRefused,
    after_clinic_anc,
    after_clinician,
    after_earlier_clinic_anc,
    after_missed_doses,
    after_plan,
    after_taper,
    allowed_actions,
    allowed_plan_kinds,
    anc_treatment,
    baseline_decides,
    check_anc_recovered,
    check_plan_kind,
    check_start_baseline,
    current,
    default_plan_kind,
    gap_warning,
    is_first_start,
    planned_start,
    rechallenge_marker_after_anc,
    starts_low,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TODAY = date(2026, 12, 2)
S = CourseState
TITRATION = PlanShape("initiation", TODAY, steady_from=TODAY + timedelta(days=13))
MAINTENANCE = PlanShape("maintenance", TODAY, steady_from=TODAY)


def course(state: str, **kw: object) -> Course:
    return replace(NEW_COURSE, state=state, since=NOW - timedelta(days=30), **kw)  # type: ignore[arg-type]


def view(state: str, plan: PlanShape | None = TITRATION, **kw: object):
    return current(course(state, **kw), plan, TODAY)


# --- the state on a day (RULES.md 6 table) ----------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "plan", "day", "state", "cause"),
    [
        # not_started: "no plan yet"
        (S.NOT_STARTED, None, TODAY, S.NOT_STARTED, Cause.ENROLLED),
        # an active course whose plan has not begun yet is not started
        (S.IN_TITRATION, None, TODAY, S.NOT_STARTED, Cause.ENROLLED),
        # in_titration: "an initiation or re-titration plan is rising" ...
        (S.IN_TITRATION, TITRATION, TODAY + timedelta(days=12), S.IN_TITRATION, "initiation_plan"),
        # ... stable: "the plan has reached its steady dose" (its last step's day)
        (S.IN_TITRATION, TITRATION, TODAY + timedelta(days=13), S.STABLE, "steady_dose_reached"),
        # a maintenance plan of one step is steady from its first day
        (S.STABLE, MAINTENANCE, TODAY, S.STABLE, "maintenance_plan"),
        # paused states hold whatever the plan says
        (S.HELD, TITRATION, TODAY + timedelta(days=20), S.HELD, Cause.ENROLLED),
        (S.INTERRUPTED, MAINTENANCE, TODAY, S.INTERRUPTED, Cause.ENROLLED),
        (S.NEEDS_RETITRATION, MAINTENANCE, TODAY, S.NEEDS_RETITRATION, Cause.ENROLLED),
        (S.STOPPED, MAINTENANCE, TODAY, S.STOPPED, Cause.ENROLLED),
    ],
)
def test_the_state_on_a_day(
    stored: str, plan: PlanShape | None, day: date, state: str, cause: str
) -> None:
    got = current(course(stored), plan, day)
    assert (got.state, got.cause) == (state, cause)


def test_a_taper_is_in_titration_until_its_first_day_without_a_dose_then_stopped() -> None:
    """RULES.md 6: "taper steps down to zero over 1-2 weeks and then ends the course as
    stopped"; a taper is a changing dose, so no trough level is due during it."""
    taper = PlanShape("taper", TODAY, TODAY + timedelta(days=14), TODAY + timedelta(days=14))
    assert current(course(S.STABLE), taper, TODAY + timedelta(days=13)).state == S.IN_TITRATION
    ended = current(course(S.STABLE), taper, TODAY + timedelta(days=14))
    assert (ended.state, ended.since, ended.cause) == (
        S.STOPPED,
        TODAY + timedelta(days=14),
        Cause.TAPER_COMPLETED,
    )
    assert ended.doses_withheld
    end = datetime(2026, 12, 16, 0, 0, tzinfo=UTC)
    recorded = after_taper(course(S.STABLE), ended, end)
    assert recorded is not None and (recorded.state, recorded.since) == (S.STOPPED, end)
    assert after_taper(course(S.STOPPED), ended, end) is None  # recorded once


@pytest.mark.parametrize(
    ("state", "withheld"),
    [
        (S.NOT_STARTED, False),
        (S.IN_TITRATION, False),
        (S.STABLE, False),
        # RULES.md 6: "interrupted, held, needs_retitration and stopped ... doses withheld"
        (S.INTERRUPTED, True),
        (S.HELD, True),
        (S.NEEDS_RETITRATION, True),
        (S.STOPPED, True),
    ],
)
def test_which_states_withhold_doses(state: str, withheld: bool) -> None:
    assert view(state, MAINTENANCE).doses_withheld is withheld


# --- missed doses (RULES.md 1 and 6; guideline L78, L339) -------------------------------------


@pytest.mark.parametrize("state", [S.IN_TITRATION, S.STABLE])
def test_missed_doses_pause_an_active_course_every_time(state: str) -> None:
    first = after_missed_doses(course(state), view(state), NOW)
    assert first is not None and first.state == S.NEEDS_RETITRATION
    assert first.cause == Cause.MISSED_DOSES and first.since == NOW
    # re-titrated, then a second gap: needs re-titration again (issue 13's "second gap")
    again = after_plan(first, current(first, TITRATION, TODAY), "retitration", TODAY, TODAY, NOW)
    assert current(again, TITRATION, TODAY).state == S.IN_TITRATION
    later = NOW + timedelta(days=5)
    second = after_missed_doses(again, current(again, TITRATION, TODAY), later)
    assert second is not None and second.state == S.NEEDS_RETITRATION and second.since == later


@pytest.mark.parametrize(
    "state", [S.NOT_STARTED, S.HELD, S.INTERRUPTED, S.NEEDS_RETITRATION, S.STOPPED]
)
def test_no_dose_was_due_so_none_was_missed(state: str) -> None:
    assert after_missed_doses(course(state), view(state), NOW) is None


# --- a clinic blood count (RULES.md 6; guideline L139-L141) ----------------------------------


@pytest.mark.parametrize(
    ("action", "treatment"),
    [
        ("continue", AncTreatment.CONTINUE),
        ("continue_monitor_closely", AncTreatment.CONTINUE),
        ("continue_hematology_consult", AncTreatment.CONTINUE),
        ("interrupt_hematology_consult", AncTreatment.INTERRUPT),  # 500-999 (L140)
        ("stop_hematology_consult", AncTreatment.STOP),  # < 500 (L139)
        ("stop_no_rechallenge", AncTreatment.STOP),  # UK red
    ],
)
def test_a_bands_action_says_what_treatment_does(action: str, treatment: AncTreatment) -> None:
    assert anc_treatment(action) is treatment


@pytest.mark.parametrize(
    ("state", "treatment", "after", "cause"),
    [
        (S.STABLE, AncTreatment.INTERRUPT, S.INTERRUPTED, Cause.ANC_INTERRUPT),
        (S.IN_TITRATION, AncTreatment.STOP, S.INTERRUPTED, Cause.ANC_STOP),
        (S.STABLE, AncTreatment.CONTINUE, S.STABLE, Cause.ENROLLED),
        # the count is the stronger reason for a paused course
        (S.HELD, AncTreatment.INTERRUPT, S.INTERRUPTED, Cause.ANC_INTERRUPT),
        (S.NEEDS_RETITRATION, AncTreatment.STOP, S.INTERRUPTED, Cause.ANC_STOP),
        # nothing to interrupt
        (S.NOT_STARTED, AncTreatment.STOP, S.NOT_STARTED, Cause.ENROLLED),
        (S.STOPPED, AncTreatment.INTERRUPT, S.STOPPED, Cause.ENROLLED),
    ],
)
def test_a_clinic_count_in_an_interrupt_or_stop_band_interrupts(
    state: str, treatment: AncTreatment, after: str, cause: str
) -> None:
    changed = after_clinic_anc(course(state), view(state), treatment, marker=False, now=NOW)
    assert (changed.state, changed.cause) == (after, cause)


@pytest.mark.parametrize(
    ("planned", "plan_today"),
    [
        # a first plan set to begin tomorrow: the course reads not_started today
        (course(S.IN_TITRATION), None),
        # a rechallenge planned for tomorrow after a stop
        (course(S.STOPPED, restart_on=TODAY + timedelta(days=1)), MAINTENANCE),
    ],
)
def test_a_count_calls_off_a_planned_start(planned: Course, plan_today: PlanShape | None) -> None:
    """RULES.md 6: a clinic ANC in a band whose treatment is interrupt or stop -> interrupted
    (doses withheld); RULES.md 2: the plan cannot start below the baseline. A start the
    calendar would make tomorrow is called off, as a restart planned from a pause is."""
    before = current(planned, plan_today, TODAY)
    assert before.state in (S.NOT_STARTED, S.STOPPED)
    changed = after_clinic_anc(planned, before, AncTreatment.INTERRUPT, marker=False, now=NOW)
    assert (changed.state, changed.cause, changed.restart_on) == (
        S.INTERRUPTED,
        Cause.ANC_INTERRUPT,
        None,
    )
    tomorrow = TODAY + timedelta(days=1)
    later = current(changed, PlanShape("initiation", tomorrow, tomorrow), tomorrow)
    assert later.state == S.INTERRUPTED and later.doses_withheld
    # a count in the normal band changes nothing
    kept = after_clinic_anc(planned, before, AncTreatment.CONTINUE, marker=False, now=NOW)
    assert kept == planned


NEXT_WEEK = TODAY + timedelta(days=7)


@pytest.mark.parametrize(
    ("planned", "first_plan", "start"),
    [
        # a first plan set for next week: the course is stored active and reads not_started
        (course(S.IN_TITRATION), PlanShape("initiation", NEXT_WEEK, NEXT_WEEK), "initiation"),
        (course(S.STABLE), PlanShape("maintenance", NEXT_WEEK, NEXT_WEEK), "maintenance"),
        # a restart after a stop, or from a pause, by the plan that set it
        (
            course(S.STOPPED, restart_on=NEXT_WEEK, restart_cause=Cause.INITIATION_PLAN),
            None,
            "initiation",
        ),
        (
            course(S.INTERRUPTED, restart_on=NEXT_WEEK, restart_cause=Cause.RETITRATION_PLAN),
            None,
            "retitration",
        ),
        # nothing planned: enrolled, active today, paused or stopped without a restart
        (NEW_COURSE, None, None),
        (course(S.INTERRUPTED), None, None),
        (course(S.STOPPED), None, None),
    ],
)
def test_the_start_a_course_makes_by_itself(
    planned: Course, first_plan: PlanShape | None, start: str | None
) -> None:
    before = current(planned, None, TODAY)
    found = planned_start(planned, before, first_plan)
    assert (found.kind if found else None) == start
    if found is not None:
        assert found.on == NEXT_WEEK
    active = course(S.IN_TITRATION)
    assert planned_start(active, current(active, TITRATION, TODAY), TITRATION) is None


# RULES.md 2 line 45: "Baseline before starting: >= 1500 (BEN >= 1000), or the plan cannot
# start"; RULES.md 7 line 134: only a count at most 10 days before the start counts.
@pytest.mark.parametrize(
    ("profile", "ben", "earlier", "count", "called_off"),
    [
        ("guideline", False, [], 1499, True),  # mild: continue, but below the baseline
        ("guideline", False, [], 1500, False),
        ("guideline", True, [1100], 999, True),  # BEN mild
        ("guideline", True, [1100], 1000, False),
        ("guideline", True, [900], 1000, True),  # BEN: the latest two counts >= 1000
        ("us-label-2025", False, [], 1499, True),
        ("us-label-2025", True, [1100], 1000, False),
        ("uk-smpc", False, [], 1999, True),  # amber: neutrophils >= 2.0 x10^9/L to start
        ("uk-smpc", False, [], 2000, False),
    ],
)
def test_a_count_below_the_baseline_calls_off_a_start_the_baseline_decides(
    profile: str, ben: bool, earlier: list[float], count: float, called_off: bool
) -> None:
    """The count's own band continues treatment (an interrupt band calls the start off
    anyway); the baseline the profile asks of a start decides whether it still goes ahead."""
    rules = load_profile(profile)
    reading = interpret_anc(count, ben=ben, profile=rules)
    treatment = anc_treatment(reading.action)
    assert treatment is AncTreatment.CONTINUE
    counts = [(TODAY - timedelta(days=3), c) for c in earlier] + [(TODAY, count)]
    check = baseline_allows_start_on(counts, start_date=NEXT_WEEK, ben=ben, profile=rules)
    planned = course(S.IN_TITRATION)
    before = current(planned, None, TODAY)
    start = planned_start(planned, before, PlanShape("initiation", NEXT_WEEK, NEXT_WEEK))
    assert start is not None and baseline_decides(start.kind, begun=False)
    after = after_clinic_anc(
        planned, before, treatment, marker=False, now=NOW, below_baseline=not check.ok
    )
    if called_off:
        assert (after.state, after.cause, after.since) == (S.INTERRUPTED, Cause.BASELINE_LOW, NOW)
        assert current(
            after, PlanShape("initiation", NEXT_WEEK, NEXT_WEEK), NEXT_WEEK
        ).doses_withheld
    else:
        assert after == planned
        assert current(after, TITRATION, TODAY).state == S.IN_TITRATION


@pytest.mark.parametrize("profile", ["guideline", "us-label-2025", "uk-smpc"])
@pytest.mark.parametrize("ben", [False, True])
def test_every_count_below_a_baseline_tells_the_care_team(profile: str, ben: bool) -> None:
    """A start called off below the baseline is told to the team by the count's own
    escalation (RULES.md 2 "Escalations"): every band a count below the baseline falls in has
    one, in every profile (the BEN table where the profile has BEN cut-offs)."""
    rules = load_profile(profile)
    baseline = rules.baseline
    minimum = baseline.general_min_cells_per_ul
    if ben and baseline.ben_min_cells_per_ul is not None:
        minimum = baseline.ben_min_cells_per_ul
    for band in rules.band_rules(ben=ben):
        if band.min_cells_per_ul < minimum:
            assert band.escalation_rule is not None, (profile, ben, band.band)
    assert interpret_anc(minimum - 1, ben=ben, profile=rules).escalation_rule is not None
    assert interpret_anc(minimum, ben=ben, profile=rules).escalation_rule is None


@pytest.mark.parametrize(
    "state", [S.IN_TITRATION, S.STABLE, S.HELD, S.NEEDS_RETITRATION, S.STOPPED, S.NOT_STARTED]
)
def test_below_the_baseline_changes_nothing_without_a_planned_start(state: str) -> None:
    """On clozapine, a mild count continues treatment (RULES.md 2 table): the baseline is for
    a start only."""
    was = course(state) if state != S.NOT_STARTED else NEW_COURSE
    before = current(was, TITRATION, TODAY)
    assert (
        after_clinic_anc(
            was, before, AncTreatment.CONTINUE, marker=False, now=NOW, below_baseline=True
        )
        == was
    )


def test_a_count_calls_off_a_planned_restart() -> None:
    planned = course(S.NEEDS_RETITRATION, restart_on=TODAY + timedelta(days=1))
    changed = after_clinic_anc(
        planned, current(planned, TITRATION, TODAY), AncTreatment.INTERRUPT, marker=False, now=NOW
    )
    assert changed.state == S.INTERRUPTED and changed.restart_on is None


@pytest.mark.parametrize(
    ("treatment", "ben", "uk", "marker"),
    [
        # RULES.md 6 "After ANC < 500 (UK red) ... rechallenge not advised" (L139, L149)
        (AncTreatment.STOP, False, False, True),
        (AncTreatment.STOP, False, True, True),
        # BEN severe is "interrupt" in its own table: no marker
        (AncTreatment.INTERRUPT, True, False, False),
        (AncTreatment.INTERRUPT, False, False, False),
        # RULES.md 7: no "no rechallenge" wording for BEN patients under the UK lights
        (AncTreatment.STOP, True, True, False),
    ],
)
def test_the_rechallenge_marker_after_a_count(
    treatment: AncTreatment, ben: bool, uk: bool, marker: bool
) -> None:
    assert rechallenge_marker_after_anc(treatment, ben=ben, uk_lights=uk) is marker


@pytest.mark.parametrize(
    ("marker", "on_clozapine", "rechallenge"),
    [
        # RULES.md 6 (line 126) "After ANC < 500 (UK red) ... 'rechallenge not advised'": a
        # count entered after a newer one still leaves it once clozapine had been started
        (True, True, "not_advised"),
        (True, False, None),  # a baseline: it refuses a start, nothing to rechallenge
        (False, True, None),  # not a stop band
    ],
)
def test_an_earlier_count_entered_late_leaves_only_the_marker(
    marker: bool, on_clozapine: bool, rechallenge: str | None
) -> None:
    before = course("in_titration")
    after = after_earlier_clinic_anc(before, marker=marker, on_clozapine=on_clozapine)
    assert after.rechallenge == rechallenge
    # the newest count keeps the state (RULES.md 7 "Whose result counts")
    assert (after.state, after.since, after.cause) == (before.state, before.since, before.cause)
    if rechallenge:
        assert after.rechallenge_cause == Cause.ANC_STOP


def test_a_baseline_below_500_refuses_the_start_and_leaves_no_marker() -> None:
    before = after_clinic_anc(
        course(S.NOT_STARTED), view(S.NOT_STARTED, None), AncTreatment.STOP, marker=True, now=NOW
    )
    assert before.state == S.NOT_STARTED and not before.rechallenge_not_advised
    stopped = after_clinic_anc(
        course(S.STOPPED), view(S.STOPPED), AncTreatment.STOP, marker=True, now=NOW
    )
    assert stopped.rechallenge_not_advised  # after treatment, a low count still counts


def test_the_marker_stays_across_later_states() -> None:
    marked = after_clinic_anc(
        course(S.STABLE), view(S.STABLE), AncTreatment.STOP, marker=True, now=NOW
    )
    assert marked.rechallenge_not_advised
    resumed = after_clinician(marked, current(marked, TITRATION, TODAY), "resume", NOW)
    assert resumed.rechallenge_not_advised


@pytest.mark.parametrize(
    ("band_treatment", "refused"),
    [
        (AncTreatment.CONTINUE, False),  # L140: "then may resume" once >= 1000
        (AncTreatment.INTERRUPT, True),
        (AncTreatment.STOP, True),
        (None, True),
    ],
)
def test_leaving_interrupted_needs_a_recovered_count(
    band_treatment: AncTreatment | None, refused: bool
) -> None:
    if refused:
        with pytest.raises(TransitionRefused) as caught:
            check_anc_recovered(view(S.INTERRUPTED), band_treatment)
        assert caught.value.code == "anc_not_recovered"
    else:
        check_anc_recovered(view(S.INTERRUPTED), band_treatment)
    check_anc_recovered(view(S.HELD), None)  # only an interrupted course waits for a count


@pytest.mark.parametrize("state", [S.NOT_STARTED, S.STOPPED])
@pytest.mark.parametrize(
    ("band_treatment", "refused"),
    [
        (AncTreatment.CONTINUE, False),
        (AncTreatment.INTERRUPT, True),
        (AncTreatment.STOP, True),
        (None, False),  # no count yet: the baseline check decides (RULES.md 2)
    ],
)
def test_a_start_waits_for_a_count_that_would_not_interrupt_it(
    state: str, band_treatment: AncTreatment | None, refused: bool
) -> None:
    """RULES.md 6 (interrupted: a clinic ANC in an interrupt or stop band; leaving it takes a
    recovered count, L140): a start from not_started or stopped with such a count is refused
    too, or a stop would be a way round the interruption."""
    if refused:
        with pytest.raises(TransitionRefused) as caught:
            check_anc_recovered(view(state, MAINTENANCE), band_treatment)
        assert caught.value.code == "anc_not_recovered"
    else:
        check_anc_recovered(view(state, MAINTENANCE), band_treatment)


@pytest.mark.parametrize(
    ("kind", "begun", "decides"),
    [
        # RULES.md 2 line 45 "Baseline before starting"; guideline L83-L89
        ("initiation", False, True),
        ("initiation", True, True),
        # a first re-titration, or one set again after a start called off before its first dose
        ("retitration", False, True),
        # after clozapine was taken: a recovered count (check_anc_recovered), guideline L78
        ("retitration", True, False),
        ("maintenance", False, False),
        ("maintenance", True, False),
    ],
)
def test_which_starts_the_baseline_count_decides(kind: str, begun: bool, decides: bool) -> None:
    assert baseline_decides(kind, begun) is decides


@pytest.mark.parametrize(
    ("kind", "begun", "since", "first_start"),
    [
        # RULES.md 6 "maintenance enters an established patient": on clozapine before today
        ("maintenance", False, TODAY - timedelta(days=1), False),
        ("maintenance", False, TODAY, True),  # their first day (RULES.md 1, guideline L52)
        ("maintenance", False, TODAY + timedelta(days=7), True),
        ("maintenance", True, TODAY, False),  # a dose has been due here: a dose change
        ("initiation", False, TODAY, False),  # a start by its kind already
        ("retitration", False, TODAY, False),
    ],
)
def test_a_maintenance_plan_for_a_patient_new_to_clozapine_is_their_start(
    kind: str, begun: bool, since: date, first_start: bool
) -> None:
    """RULES.md 6; RULES.md 1 hard error "a first day above 25 mg"; RULES.md 2 "Baseline
    before starting"."""
    assert is_first_start(kind, begun=begun, on_clozapine_since=since, today=TODAY) is first_start


def test_a_resume_of_a_course_not_begun_is_a_start_the_baseline_decides() -> None:
    """RULES.md 2 line 45: a course whose start was called off before its first dose is
    started by a resume: refused while the clinic's counts do not allow a start."""
    with pytest.raises(TransitionRefused) as caught:
        check_start_baseline(False, "baseline ANC below 1500/uL (general population)")
    assert caught.value.code == "baseline_anc_needed" and "1500" in caught.value.message
    check_start_baseline(False, None)
    check_start_baseline(True, "anything: after clozapine was taken, a recovered count decides")


@pytest.mark.parametrize(
    ("kind", "first_start", "low"),
    [
        ("initiation", False, True),
        ("retitration", False, True),
        ("maintenance", False, False),  # an established patient enters at their dose
        ("maintenance", True, True),  # a new patient's start, whatever the kind
        ("taper", False, False),
    ],
)
def test_which_plans_start_low(kind: str, first_start: bool, low: bool) -> None:
    """RULES.md 6 "initiation and retitration start at <= 25 mg on day 1"; RULES.md 1 "a first
    day above 25 mg" (guideline L52)."""
    assert starts_low(kind, first_start=first_start) is low


@pytest.mark.parametrize(
    ("low_start", "day", "daily_mg", "refused"),
    [
        (True, 1, 12.5, False),
        (True, 2, 25.0, False),  # RULES.md 6: "start at <= 25 mg on day 1"
        (True, 3, 37.5, True),
        (True, 6, 137.5, True),
        (False, 9, 300.0, False),  # an established patient's maintenance dose: not a start
    ],
)
def test_a_resume_of_a_course_not_begun_starts_low(
    low_start: bool, day: int, daily_mg: float, refused: bool
) -> None:
    """RULES.md 1 "start 12.5 mg once or twice daily", 6 "initiation and retitration start at
    <= 25 mg on day 1" (guideline L52): a start called off before its first dose and resumed
    after its plan's first days would begin at a later day's dose."""
    if not refused:
        check_resumed_start(low_start, day, daily_mg)
        return
    with pytest.raises(TransitionRefused) as caught:
        check_resumed_start(low_start, day, daily_mg)
    assert caught.value.code == "retitration_needed"
    assert f"day {day}" in caught.value.message and f"{daily_mg:g} mg" in caught.value.message


# --- a clinician's act (CONTRACT.md treatment-events) ----------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "after", "code"),
    [
        (S.IN_TITRATION, "hold", S.HELD, None),
        (S.STABLE, "hold", S.HELD, None),
        (S.HELD, "hold", None, "invalid_transition"),
        (S.NOT_STARTED, "hold", None, "invalid_transition"),
        (S.HELD, "resume", S.IN_TITRATION, None),
        (S.INTERRUPTED, "resume", S.IN_TITRATION, None),
        (S.NEEDS_RETITRATION, "resume", S.IN_TITRATION, None),
        (S.STABLE, "resume", None, "invalid_transition"),
        (S.STOPPED, "resume", None, "invalid_transition"),
        (S.STABLE, "stop", S.STOPPED, None),
        (S.HELD, "stop", S.STOPPED, None),
        (S.NOT_STARTED, "stop", None, "invalid_transition"),
        (S.STOPPED, "stop", None, "invalid_transition"),
    ],
)
def test_clinician_actions(state: str, action: str, after: str | None, code: str | None) -> None:
    if code is not None:
        with pytest.raises(TransitionRefused) as caught:
            after_clinician(course(state), view(state), action, NOW, rechallenge="advised")
        assert caught.value.code == code
        return
    changed = after_clinician(course(state), view(state), action, NOW, rechallenge="advised")
    assert changed.state == after and changed.since == NOW


def test_a_resumed_course_reads_its_plan_again() -> None:
    resumed = after_clinician(course(S.HELD), view(S.HELD), "resume", NOW)
    steady = current(resumed, TITRATION, TODAY + timedelta(days=20))
    assert (steady.state, steady.cause, steady.since) == (S.STABLE, Cause.CLINICIAN_RESUME, NOW)


def test_a_stop_says_whether_a_restart_is_advised() -> None:
    with pytest.raises(TransitionRefused) as caught:
        after_clinician(course(S.STABLE), view(S.STABLE), "stop", NOW)
    assert caught.value.field == "rechallenge"
    # guideline L182: "Do not rechallenge if myocarditis confirmed"
    stopped = after_clinician(
        course(S.STABLE), view(S.STABLE), "stop", NOW, rechallenge="not_advised"
    )
    assert stopped.rechallenge_not_advised and stopped.rechallenge_cause == Cause.CLINICIAN_STOP
    advised = after_clinician(course(S.STABLE), view(S.STABLE), "stop", NOW, rechallenge="advised")
    assert not advised.rechallenge_not_advised


@pytest.mark.parametrize(
    ("hours", "warning"),
    [(None, None), (47.99, None), (48.0, None), (48.01, "gap_over_48h"), (59, "gap_over_48h")],
)
def test_a_resume_after_more_than_48_hours_warns(hours: float | None, warning: str | None) -> None:
    """RULES.md 1, 6 (guideline L78): after more than 2 days the usual dose is not restarted."""
    assert gap_warning(hours) == warning


# --- plan kinds (RULES.md 6 "Plan kinds"; CONTRACT.md defaults) ------------------------------


@pytest.mark.parametrize(
    ("state", "has_plan", "kind"),
    [
        (S.NOT_STARTED, False, "initiation"),
        (S.NEEDS_RETITRATION, True, "retitration"),
        (S.STABLE, True, "maintenance"),
        (S.IN_TITRATION, True, "maintenance"),
        # a paused course takes a re-titration only: the default follows (CONTRACT.md says
        # needs_retitration; held and interrupted allow nothing else)
        (S.HELD, True, "retitration"),
        (S.INTERRUPTED, True, "retitration"),
        (S.STOPPED, True, "initiation"),
    ],
)
def test_the_default_plan_kind(state: str, has_plan: bool, kind: str) -> None:
    assert default_plan_kind(view(state), has_plan) == kind


@pytest.mark.parametrize(
    ("state", "kind", "code"),
    [
        (S.NOT_STARTED, "initiation", None),
        (S.NOT_STARTED, "maintenance", None),  # an established patient
        (S.NOT_STARTED, "retitration", None),
        (S.NOT_STARTED, "taper", "taper_needs_active_course"),
        (S.STABLE, "maintenance", None),  # a dose change
        (S.STABLE, "taper", None),
        (S.STABLE, "retitration", None),
        (S.STABLE, "initiation", "already_started"),
        # leaving a paused course takes a re-titration (guideline L78)
        (S.NEEDS_RETITRATION, "retitration", None),
        (S.NEEDS_RETITRATION, "maintenance", "retitration_needed"),
        (S.HELD, "maintenance", "retitration_needed"),
        (S.INTERRUPTED, "taper", "retitration_needed"),
        # a restart after a stop starts low
        (S.STOPPED, "initiation", None),
        (S.STOPPED, "retitration", None),
        (S.STOPPED, "maintenance", "restart_needs_low_start"),
        (S.STOPPED, "taper", "restart_needs_low_start"),
        (S.STABLE, "weekly", "invalid_plan_kind"),
    ],
)
def test_which_plan_kinds_a_course_allows(state: str, kind: str, code: str | None) -> None:
    if code is None:
        check_plan_kind(view(state), kind)
        return
    with pytest.raises(TransitionRefused) as caught:
        check_plan_kind(view(state), kind)
    assert caught.value.code == code


def test_a_restart_plan_waits_for_its_first_day() -> None:
    paused = course(S.NEEDS_RETITRATION)
    tomorrow = TODAY + timedelta(days=1)
    planned = after_plan(
        paused, current(paused, TITRATION, TODAY), "retitration", tomorrow, TODAY, NOW
    )
    assert planned.state == S.NEEDS_RETITRATION and planned.restart_on == tomorrow
    plan = PlanShape("retitration", tomorrow, tomorrow + timedelta(days=13))
    assert current(planned, None, TODAY).state == S.NEEDS_RETITRATION
    restarted = current(planned, plan, tomorrow)
    assert (restarted.state, restarted.cause, restarted.since) == (
        S.IN_TITRATION,
        "retitration_plan",
        tomorrow,
    )
    # today's plan: from now
    now_plan = after_plan(
        paused, current(paused, TITRATION, TODAY), "retitration", TODAY, TODAY, NOW
    )
    assert now_plan.state == S.IN_TITRATION and now_plan.restart_on is None


def test_a_hold_after_a_planned_restart_began_calls_the_restart_off() -> None:
    """RULES.md 6 `held`: "a clinician holds treatment ... doses withheld". A restart planned
    for a date that has come is over: holding the restarted course withholds its doses on
    that day and every later one, until the clinician leaves the hold."""
    tomorrow = TODAY + timedelta(days=1)
    plan = PlanShape("retitration", tomorrow, tomorrow + timedelta(days=13))
    planned = course(S.NEEDS_RETITRATION, restart_on=tomorrow, restart_cause="retitration_plan")
    restarted = current(planned, plan, tomorrow)
    assert restarted.state == S.IN_TITRATION
    held = after_clinician(planned, restarted, "hold", NOW + timedelta(days=1))
    assert (held.state, held.restart_on) == (S.HELD, None)
    for later in (tomorrow, tomorrow + timedelta(days=5)):
        assert current(held, plan, later).state == S.HELD
        assert current(held, plan, later).doses_withheld


@pytest.mark.parametrize(
    ("planned", "plan_today"),
    [
        # a first plan set to begin tomorrow (not_started today)
        (course(S.IN_TITRATION), None),
        # a re-titration planned for tomorrow while held, paused or interrupted
        (course(S.HELD, restart_on=TODAY + timedelta(days=1)), TITRATION),
        (course(S.NEEDS_RETITRATION, restart_on=TODAY + timedelta(days=1)), TITRATION),
        (course(S.INTERRUPTED, restart_on=TODAY + timedelta(days=1)), TITRATION),
        # a restart planned for tomorrow after a stop
        (course(S.STOPPED, restart_on=TODAY + timedelta(days=1)), TITRATION),
    ],
)
def test_a_hold_calls_off_a_start_planned_for_a_later_day(
    planned: Course, plan_today: PlanShape | None
) -> None:
    """RULES.md 6 `held`: "a clinician holds treatment (an illness, a procedure, a suspected
    myocarditis)": a start the calendar would make tomorrow can be held before it begins (it
    could only be stopped, or, before a first start, not called off at all). A first start
    is held; a paused or stopped course stays as it is (its cause, and what leaving it takes,
    are kept), its planned restart called off."""
    before = current(planned, plan_today, TODAY)
    assert "hold" in allowed_actions(planned, before, NOW)
    held = after_clinician(planned, before, "hold", NOW)
    expected = S.HELD if before.state == S.NOT_STARTED else planned.state
    assert (held.state, held.restart_on) == (expected, None)
    tomorrow = TODAY + timedelta(days=1)
    later = current(held, PlanShape("retitration", tomorrow, tomorrow), tomorrow)
    assert later.state == expected and later.doses_withheld


# --- plan checks by kind (RULES.md 1 and 6; guideline L52, L57, L74) -------------------------

TIMES = ["08:00", "21:00"]


def codes(issues: tuple[object, ...]) -> set[str]:
    return {getattr(i, "code") for i in issues}  # noqa: B009


@pytest.mark.parametrize(
    ("kind", "steps", "errors", "warnings"),
    [
        # "initiation and retitration start at <= 25 mg on day 1"
        ("initiation", [PlanStep(1, (12.5, 25.0))], {"first_day_above_25"}, set()),
        ("retitration", [PlanStep(1, (12.5, 25.0))], {"first_day_above_25"}, set()),
        ("retitration", [PlanStep(1, (12.5, 12.5))], set(), set()),
        # "maintenance enters an established patient or a dose change at any valid dose"
        ("maintenance", [PlanStep(1, (150.0, 250.0))], set(), set()),
        ("maintenance", [PlanStep(1, (450.0, 450.0))], set(), set()),  # 900: the maximum
        (
            "maintenance",
            [PlanStep(1, (450.0, 462.5))],
            {"above_max_daily_dose"},
            {"single_dose_above_450"},
        ),
        # "a single dose above 450 mg is a warning"
        ("maintenance", [PlanStep(1, (0.0, 462.5))], set(), {"single_dose_above_450"}),
        # a plan is not a way to stop: a taper or the clinician's stop is
        ("maintenance", [PlanStep(1, (0.0, 0.0))], {"plan_ends_without_dose"}, set()),
        (
            "initiation",
            [PlanStep(1, (0.0, 12.5)), PlanStep(2, (0.0, 0.0))],
            {"plan_ends_without_dose"},
            set(),
        ),
        # "taper steps down to zero over 1-2 weeks" (guideline L74)
        ("taper", [PlanStep(1, (100.0, 200.0)), PlanStep(8, (0.0, 0.0))], set(), set()),
        ("taper", [PlanStep(1, (100.0, 200.0)), PlanStep(15, (0.0, 0.0))], set(), set()),
        (
            "taper",
            [PlanStep(1, (100.0, 200.0)), PlanStep(7, (0.0, 0.0))],
            set(),
            {"taper_not_1_to_2_weeks"},
        ),
        (
            "taper",
            [PlanStep(1, (100.0, 200.0)), PlanStep(16, (0.0, 0.0))],
            set(),
            {"taper_not_1_to_2_weeks"},
        ),
        (
            "taper",
            [PlanStep(1, (100.0, 200.0)), PlanStep(8, (50.0, 50.0))],
            {"taper_must_end_at_zero"},
            set(),
        ),
        (
            "taper",
            [PlanStep(1, (100.0, 100.0)), PlanStep(4, (100.0, 150.0)), PlanStep(9, (0.0, 0.0))],
            {"taper_rises"},
            set(),
        ),
    ],
)
def test_plan_checks_by_kind(
    kind: str, steps: list[PlanStep], errors: set[str], warnings: set[str]
) -> None:
    check = validate_plan(steps, TIMES, kind)
    assert codes(check.errors) == errors
    assert codes(check.warnings) == warnings


@pytest.mark.parametrize(
    ("previous", "first_day", "warned"),
    [
        # RULES.md 1 "later raises of up to 100 mg once or twice weekly"
        (300.0, (150.0, 250.0), False),  # +100
        (300.0, (150.0, 262.5), True),  # +112.5
        (None, (150.0, 262.5), False),  # an established patient: nothing to compare with
    ],
)
def test_a_dose_change_rising_over_100_mg_a_week_warns(
    previous: float | None, first_day: tuple[float, float], warned: bool
) -> None:
    check = validate_plan(
        [PlanStep(1, first_day)], TIMES, "maintenance", previous_daily_mg=previous
    )
    assert ("rise_above_100_per_week" in codes(check.warnings)) is warned


@pytest.mark.parametrize("days", [7, 10, 14])
@pytest.mark.parametrize("from_mg", [12.5, 100.0, 400.0, 900.0])
def test_the_taper_proposal_steps_down_to_zero_in_1_to_2_weeks(days: int, from_mg: float) -> None:
    steps = taper_proposal(TIMES, from_mg, days)
    totals = [s.total_mg for s in steps]
    assert totals == sorted(totals, reverse=True) and totals[-1] == 0
    assert totals[0] <= from_mg and steps[-1].day == days + 1
    assert all(total > 0 for total in totals[:-1])  # a dose every day until the last
    assert validate_plan(steps, TIMES, "taper").ok
    assert codes(validate_plan(steps, TIMES, "taper").warnings) <= {"single_dose_above_450"}


@pytest.mark.parametrize("days", [6, 15])
def test_a_taper_proposal_outside_1_to_2_weeks_is_refused(days: int) -> None:
    with pytest.raises(ValueError):
        taper_proposal(TIMES, 300, days)


@pytest.mark.parametrize(
    ("state", "actions", "kinds"),
    [
        (S.NOT_STARTED, [], ["initiation", "retitration", "maintenance"]),
        (S.IN_TITRATION, ["hold", "stop"], ["retitration", "maintenance", "taper"]),
        (S.STABLE, ["hold", "stop"], ["retitration", "maintenance", "taper"]),
        (S.HELD, ["resume", "stop"], ["retitration"]),
        (S.INTERRUPTED, ["resume", "stop"], ["retitration"]),
        (S.NEEDS_RETITRATION, ["resume", "stop"], ["retitration"]),
        (S.STOPPED, [], ["initiation", "retitration"]),
    ],
)
def test_what_each_state_lets_the_care_team_do(
    state: str, actions: list[str], kinds: list[str]
) -> None:
    """The apps offer what these say (one copy of the rules: after_clinician, check_plan_kind)."""
    shown = view(state, MAINTENANCE)
    assert allowed_actions(course(state), shown, NOW) == actions
    assert allowed_plan_kinds(shown) == kinds
