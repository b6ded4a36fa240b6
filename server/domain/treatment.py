"""The treatment course: what a patient is asked to take follows the state of their treatment.

RULES.md section 6 (v2). The course moves between seven states on named transitions, each with
its cause; `now` (or the patient's `today`) is always an argument:

    not_started --plan--> in_titration --steady dose reached--> stable
    in_titration / stable --ANC interrupt or stop (UK red)--> interrupted
    (also a course whose first plan or restart after a stop is planned for a later day;
    and such a start the baseline decides, on a clinic count below the baseline)
    in_titration / stable --clinician hold--> held
    in_titration / stable --missed doses over 48 h--> needs_retitration   (every time)
    interrupted / held / needs_retitration --re-titration plan, or resume with a reason--> active
    any but not_started --clinician stop--> stopped;  a taper's last step --> stopped
    stopped --initiation or re-titration plan--> in_titration (a rechallenge)

Guideline lines: L74 (taper over 1-2 weeks), L78 and L339 (after more than 2 days without
clozapine, re-initiate at 12.5 mg), L139-L149 (ANC: interrupt at 500-999, stop below 500, do not
rechallenge), L179-L182 (myocarditis: stop, do not rechallenge if confirmed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

# RULES.md 1 and 6; guideline L78 (">2 days" without clozapine: re-initiate at 12.5 mg)
RETITRATION_AFTER: Final = timedelta(hours=48)
RETITRATION_AFTER_HOURS: Final = RETITRATION_AFTER.total_seconds() / 3600


class CourseState(StrEnum):
    """The states of a treatment course (CONTRACT.md "Treatment course (v2)")."""

    NOT_STARTED = "not_started"
    IN_TITRATION = "in_titration"
    STABLE = "stable"
    INTERRUPTED = "interrupted"
    HELD = "held"
    NEEDS_RETITRATION = "needs_retitration"
    STOPPED = "stopped"


COURSE_STATES: Final[frozenset[str]] = frozenset(s.value for s in CourseState)
# The patient takes the plan's doses.
ACTIVE: Final[frozenset[str]] = frozenset({CourseState.IN_TITRATION, CourseState.STABLE})
# Doses are not to be taken: listed as withheld, never reminded, "Taken" refused.
WITHHELD: Final[frozenset[str]] = frozenset(
    {CourseState.INTERRUPTED, CourseState.HELD, CourseState.NEEDS_RETITRATION}
)
# RULES.md 6: "In interrupted, held, needs_retitration and stopped ... doses withheld";
# a stopped course has no doses at all.
NO_DOSES: Final[frozenset[str]] = WITHHELD | {CourseState.STOPPED}


class PlanKind(StrEnum):
    """Kinds of dose plan (RULES.md 6 "Plan kinds")."""

    INITIATION = "initiation"
    RETITRATION = "retitration"
    MAINTENANCE = "maintenance"
    TAPER = "taper"


PLAN_KINDS: Final[frozenset[str]] = frozenset(k.value for k in PlanKind)
# RULES.md 1 and 6: these start at 12.5 mg once or twice daily (a first day <= 25 mg).
STARTS_LOW: Final[frozenset[str]] = frozenset({PlanKind.INITIATION, PlanKind.RETITRATION})


class Cause(StrEnum):
    """Why the course is in its state (shown to the care team as "why")."""

    ENROLLED = "enrolled"
    INITIATION_PLAN = "initiation_plan"
    RETITRATION_PLAN = "retitration_plan"
    MAINTENANCE_PLAN = "maintenance_plan"
    TAPER_PLAN = "taper_plan"
    STEADY_DOSE_REACHED = "steady_dose_reached"
    TAPER_COMPLETED = "taper_completed"
    ANC_INTERRUPT = "anc_interrupt"
    ANC_STOP = "anc_stop"
    BASELINE_LOW = "baseline_low"
    MISSED_DOSES = "missed_doses_48h"
    CLINICIAN_HOLD = "clinician_hold"
    CLINICIAN_RESUME = "clinician_resume"
    CLINICIAN_STOP = "clinician_stop"


_PLAN_CAUSE: Final = {
    PlanKind.INITIATION: Cause.INITIATION_PLAN,
    PlanKind.RETITRATION: Cause.RETITRATION_PLAN,
    PlanKind.MAINTENANCE: Cause.MAINTENANCE_PLAN,
    PlanKind.TAPER: Cause.TAPER_PLAN,
}

_CAUSE_PLAN: Final[dict[str, str]] = {c.value: k.value for k, c in _PLAN_CAUSE.items()}


class Rechallenge(StrEnum):
    """Whether treatment may be started again after it stopped (RULES.md 6)."""

    ADVISED = "advised"
    NOT_ADVISED = "not_advised"


class ClinicianAction(StrEnum):
    """What a clinician may do to a course (CONTRACT.md `treatment-events`)."""

    HOLD = "hold"
    RESUME = "resume"
    STOP = "stop"


class AncTreatment(StrEnum):
    """What an ANC band means for treatment, read from the profile's action code."""

    CONTINUE = "continue"
    INTERRUPT = "interrupt"
    STOP = "stop"


class TransitionRefused(ValueError):
    """A transition the course does not allow; `code` is the API's error code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Course:
    """The course as last changed: its state, since when and why.

    `restart_on`: a re-titration or initiation plan was set while doses are withheld, to start on
    that local date; until then the course keeps its state. `rechallenge` and
    `rechallenge_cause`: the "rechallenge not advised" marker, kept across later states.
    """

    state: str
    since: datetime | None
    cause: str
    restart_on: date | None = None
    restart_cause: str | None = None
    rechallenge: str | None = None
    rechallenge_cause: str | None = None

    @property
    def rechallenge_not_advised(self) -> bool:
        """Whether every later plan must show "rechallenge not advised"."""
        return self.rechallenge == Rechallenge.NOT_ADVISED


@dataclass(frozen=True)
class PlanShape:
    """What the state needs to know of the plan in force today: its kind, when it reaches its
    steady dose (its last step's date) and, for a taper, the first date with no dose."""

    kind: str
    start_date: date
    steady_from: date
    zero_from: date | None = None


@dataclass(frozen=True)
class CourseView:
    """The state the patient is in today: `since` is an instant for a transition, or a local
    date for one the calendar made (the steady dose reached, a taper's end, a restart)."""

    state: str
    since: datetime | date | None
    cause: str
    restart_on: date | None = None

    @property
    def doses_withheld(self) -> bool:
        """RULES.md 6: no dose is offered, reminded or accepted as taken."""
        return self.state in NO_DOSES


NEW_COURSE: Final = Course(state=CourseState.NOT_STARTED, since=None, cause=Cause.ENROLLED)


def _moved(course: Course, state: str, since: datetime, cause: str) -> Course:
    """The course in `state` from `since` because of `cause`, any planned restart called off."""
    return replace(
        course, state=state, since=since, cause=cause, restart_on=None, restart_cause=None
    )


def current(course: Course, plan_today: PlanShape | None, today: date) -> CourseView:
    """The state on `today` (the patient's local date) of a course last changed as `course`,
    with `plan_today` the plan in force that day (RULES.md 6 table).

    An active course is `in_titration` until its plan's steady dose (an initiation,
    re-titration or rising maintenance plan), `stable` from then; a taper is `in_titration`
    (the dose is being changed, so no trough level is due) and `stopped` from its first day
    without a dose (RULES.md 6 "taper ... then ends the course as stopped"). An active course
    whose plan has not started yet is `not_started`. A withheld course with a restart planned
    becomes active on the restart date.
    """
    state = course.state
    if state in WITHHELD or state == CourseState.STOPPED:
        if course.restart_on is None or today < course.restart_on:
            return CourseView(state, course.since, course.cause, course.restart_on)
        return _active(plan_today, today, course.restart_on, course.restart_cause or course.cause)
    if state == CourseState.NOT_STARTED:
        return CourseView(state, course.since, course.cause)
    return _active(plan_today, today, course.since, course.cause)


def _active(
    plan: PlanShape | None, today: date, since: datetime | date | None, cause: str
) -> CourseView:
    """An active course reads its plan: since when and why are the plan's (its first day and
    kind), or the clinician's resume when that came later."""
    if plan is None:
        return CourseView(CourseState.NOT_STARTED, since, cause)
    resumed = cause == Cause.CLINICIAN_RESUME
    if not resumed:
        since, cause = plan.start_date, _PLAN_CAUSE[PlanKind(plan.kind)]
    if plan.kind == PlanKind.TAPER:
        if plan.zero_from is not None and today >= plan.zero_from:
            return CourseView(CourseState.STOPPED, plan.zero_from, Cause.TAPER_COMPLETED)
        return CourseView(CourseState.IN_TITRATION, since, cause)
    if today < plan.steady_from:
        return CourseView(CourseState.IN_TITRATION, since, cause)
    if not resumed and plan.steady_from > plan.start_date:
        return CourseView(CourseState.STABLE, plan.steady_from, Cause.STEADY_DOSE_REACHED)
    return CourseView(CourseState.STABLE, since, cause)  # one step, or resumed at the steady dose


def default_plan_kind(view: CourseView, has_plan: bool) -> str:
    """CONTRACT.md: `initiation` for a first plan (or a restart after a stop), `retitration`
    while the state is `needs_retitration` -- and while held or interrupted too, since a
    paused course takes a re-titration plan only (check_plan_kind) -- else `maintenance`."""
    if not has_plan or view.state == CourseState.STOPPED:
        return PlanKind.INITIATION
    if view.state in WITHHELD:
        return PlanKind.RETITRATION
    return PlanKind.MAINTENANCE


def check_plan_kind(view: CourseView, kind: str) -> None:
    """Whether a plan of `kind` may be set now (RULES.md 6): TransitionRefused if not.

    Leaving interrupted, held or needs_retitration by a plan takes a re-titration plan
    (guideline L78: after more than 2 days, re-initiate at 12.5 mg); a stopped course restarts
    with an initiation or re-titration plan, never at a maintenance dose; a taper steps down
    from an active course only (ANC < 500 and myocarditis stop at once, guideline L74, L139,
    L179); an initiation is a course's first start (or a restart after a stop).
    """
    state = view.state
    if kind not in PLAN_KINDS:
        raise TransitionRefused("invalid_plan_kind", f"Unknown plan kind {kind!r}.", "kind")
    if state in WITHHELD and kind != PlanKind.RETITRATION:
        raise TransitionRefused(
            "retitration_needed",
            "Treatment is paused: restart it with a re-titration plan (12.5-25 mg on day 1) "
            "or resume it with a reason.",
            "kind",
        )
    if state == CourseState.STOPPED and kind not in STARTS_LOW:
        raise TransitionRefused(
            "restart_needs_low_start",
            "Treatment was stopped: a restart is an initiation or re-titration plan starting "
            "at 12.5-25 mg on day 1.",
            "kind",
        )
    if kind == PlanKind.TAPER and state not in ACTIVE:
        raise TransitionRefused(
            "taper_needs_active_course", "Only a course in progress can be tapered.", "kind"
        )
    if kind == PlanKind.INITIATION and state in ACTIVE:
        raise TransitionRefused(
            "already_started",
            "Treatment has started: change the dose with a maintenance plan, or restart from "
            "12.5 mg with a re-titration plan.",
            "kind",
        )


def after_plan(
    course: Course, view: CourseView, kind: str, starts_on: date, today: date, now: datetime
) -> Course:
    """The course once a plan of `kind` starting on `starts_on` is set (checked first with
    check_plan_kind). From a withheld or stopped course, the restart waits for the plan's
    first day; from any other state the plan's state holds from now (current() reads the
    plan in force on each day)."""
    cause = _PLAN_CAUSE[PlanKind(kind)]
    if view.state in NO_DOSES and starts_on > today:
        return replace(course, restart_on=starts_on, restart_cause=cause)
    state = CourseState.STABLE if kind == PlanKind.MAINTENANCE else CourseState.IN_TITRATION
    return _moved(course, state, now, cause)


def anc_treatment(action: str) -> AncTreatment:
    """What a band's action code means for treatment: the profiles' codes begin with
    `continue`, `interrupt` or `stop` (RULES.md 2 tables; guideline L139-L141)."""
    for treatment in (AncTreatment.STOP, AncTreatment.INTERRUPT):
        if action.startswith(treatment.value):
            return treatment
    return AncTreatment.CONTINUE


def after_clinic_anc(
    course: Course,
    view: CourseView,
    treatment: AncTreatment,
    *,
    marker: bool,
    now: datetime,
    below_baseline: bool = False,
) -> Course:
    """The course after a clinic ANC whose band says `treatment` (RULES.md 6: "a clinic ANC in
    a band whose treatment is interrupt or stop (UK: red)" -> interrupted). A course that is
    held or needs re-titration is now interrupted by the count (the stronger reason, and it is
    what must recover before a restart); a planned restart is called off. A course not
    started, or stopped, is interrupted only when a start is planned (a first plan set for a
    later day, or a restart after a stop): that start is called off (RULES.md 2: the plan
    cannot start below the baseline), else there is nothing to interrupt. `below_baseline`:
    the count leaves a planned start that the baseline decides (planned_start, baseline_decides)
    below the baseline, though its band continues treatment (RULES.md 2 line 45 "Baseline
    before starting: >= 1500 (BEN >= 1000), or the plan cannot start"; guideline L89): that
    start is called off the same way, as `baseline_low`. `marker`: the count carries
    "rechallenge not advised" (rechallenge_marker_after_anc), kept in every state once
    clozapine has been taken (a count before the first plan is a baseline: it refuses the
    start, RULES.md 2, and there is nothing to rechallenge)."""
    if marker and view.state != CourseState.NOT_STARTED:
        course = replace(
            course, rechallenge=Rechallenge.NOT_ADVISED, rechallenge_cause=Cause.ANC_STOP
        )
    if treatment is AncTreatment.CONTINUE:
        if below_baseline and _start_planned(course, view):
            return _moved(course, CourseState.INTERRUPTED, now, Cause.BASELINE_LOW)
        return course
    if view.state in (CourseState.NOT_STARTED, CourseState.STOPPED) and not _start_planned(
        course, view
    ):
        return course
    if view.state == CourseState.INTERRUPTED and course.restart_on is None:
        return course
    cause = Cause.ANC_STOP if treatment is AncTreatment.STOP else Cause.ANC_INTERRUPT
    return _moved(course, CourseState.INTERRUPTED, now, cause)


def _start_planned(course: Course, view: CourseView) -> bool:
    """Whether the course starts on a later day by itself: a first plan set that has not begun
    (the course is stored active, and reads not_started until the plan's first day), or a
    restart planned after a pause or a stop."""
    if view.state == CourseState.NOT_STARTED:
        return course.state in ACTIVE
    return view.restart_on is not None


@dataclass(frozen=True)
class PlannedStart:
    """A start the course makes by itself on a later day: its date and its plan's kind."""

    on: date
    kind: str


def planned_start(
    course: Course, view: CourseView, first_plan: PlanShape | None
) -> PlannedStart | None:
    """The start planned for a later day, if any (_start_planned): a first plan not begun
    (`first_plan`: the plan in force on the first day a plan starts), or a restart planned by
    an initiation or re-titration plan while doses are withheld or after a stop."""
    if not _start_planned(course, view):
        return None
    if view.state == CourseState.NOT_STARTED:
        if first_plan is None:
            return None
        return PlannedStart(first_plan.start_date, first_plan.kind)
    kind = _CAUSE_PLAN.get(course.restart_cause) if course.restart_cause else None
    if view.restart_on is None or kind is None:
        return None
    return PlannedStart(view.restart_on, kind)


def rechallenge_marker_after_anc(treatment: AncTreatment, *, ben: bool, uk_lights: bool) -> bool:
    """Whether a count puts "rechallenge not advised" on the course (RULES.md 6 "After ANC <
    500 (UK red)"; guideline L139, L149 "do not rechallenge"): the bands whose treatment is
    stop. Not for BEN patients under the UK traffic lights, whose cut-offs are not encoded
    (RULES.md 2, 7)."""
    return treatment is AncTreatment.STOP and not (ben and uk_lights)


def after_earlier_clinic_anc(course: Course, *, marker: bool, on_clozapine: bool) -> Course:
    """The course after a clinic count older than the newest one (entered late): the newest
    keeps the band and the state (RULES.md 7 "Whose result counts"), but a count that carries
    the marker (rechallenge_marker_after_anc) and was taken once clozapine had been started
    (`on_clozapine`; before, it is a baseline) leaves "rechallenge not advised" all the same
    (RULES.md 6 "After ANC < 500 (UK red)"; guideline L139, L149)."""
    if not marker or not on_clozapine or course.rechallenge == Rechallenge.NOT_ADVISED:
        return course
    return replace(course, rechallenge=Rechallenge.NOT_ADVISED, rechallenge_cause=Cause.ANC_STOP)


def after_missed_doses(course: Course, view: CourseView, now: datetime) -> Course | None:
    """Missed doses over 48 h (RULES.md 1, 6; guideline L78, L339) put an active course in
    needs_retitration, every time it happens; None when the course is not active (no doses
    were due, so nothing was missed)."""
    if view.state not in ACTIVE:
        return None
    return _moved(course, CourseState.NEEDS_RETITRATION, now, Cause.MISSED_DOSES)


def after_taper(course: Course, view: CourseView, ended_at: datetime) -> Course | None:
    """Record the end of a taper that current() already reads as stopped (None otherwise);
    `ended_at`: the start of its first day without a dose."""
    if view.state != CourseState.STOPPED or course.state == CourseState.STOPPED:
        return None
    return _moved(course, CourseState.STOPPED, ended_at, Cause.TAPER_COMPLETED)


def after_clinician(
    course: Course,
    view: CourseView,
    action: str,
    now: datetime,
    *,
    rechallenge: str | None = None,
) -> Course:
    """A clinician's hold, resume or stop (RULES.md 6; CONTRACT.md `treatment-events`).

    hold: an active course is held (a restart planned for a date that has come is over: it
    would otherwise make the course active again), and so is one whose first plan begins on a
    later day; a paused or stopped course with a restart planned for a later day keeps its
    state, the restart called off. resume: a held, interrupted or
    needs-re-titration course goes on with its plan, from now (the reason is the clinician's;
    a resume after more than 48 h without a dose is their judgement, see gap_warning). stop:
    any started course stops; `rechallenge` (advised or not_advised) is required, and
    not_advised leaves the marker.
    TransitionRefused when the action does not apply to the state.
    """
    state = view.state
    if action == ClinicianAction.HOLD:
        if state in ACTIVE or (state == CourseState.NOT_STARTED and _start_planned(course, view)):
            return _moved(course, CourseState.HELD, now, Cause.CLINICIAN_HOLD)
        if view.restart_on is not None:  # paused or stopped: the planned restart is called off
            return replace(course, restart_on=None, restart_cause=None)
        raise TransitionRefused(
            "invalid_transition",
            f"Only a course in progress, or one with a start planned, can be held (it is {state}).",
        )
    if action == ClinicianAction.RESUME:
        if state not in WITHHELD:
            raise TransitionRefused(
                "invalid_transition",
                f"Only a held, interrupted or paused course can be resumed (it is {state}).",
            )
        return _moved(course, CourseState.IN_TITRATION, now, Cause.CLINICIAN_RESUME)
    if action == ClinicianAction.STOP:
        if state in (CourseState.NOT_STARTED, CourseState.STOPPED):
            raise TransitionRefused(
                "invalid_transition", f"There is no course in progress to stop (it is {state})."
            )
        if rechallenge not in (Rechallenge.ADVISED, Rechallenge.NOT_ADVISED):
            raise TransitionRefused(
                "rechallenge_needed",
                "Say whether restarting clozapine later is advised.",
                "rechallenge",
            )
        stopped = _moved(course, CourseState.STOPPED, now, Cause.CLINICIAN_STOP)
        if rechallenge == Rechallenge.NOT_ADVISED:
            return replace(
                stopped, rechallenge=Rechallenge.NOT_ADVISED, rechallenge_cause=Cause.CLINICIAN_STOP
            )
        return stopped
    raise TransitionRefused("invalid_action", f"Unknown action {action!r}.", "action")


def _allowed(choices: type[StrEnum], attempt: Callable[[str], object]) -> list[str]:
    """The choices, in their order, that `attempt` does not refuse (TransitionRefused)."""
    allowed = []
    for choice in choices:
        try:
            attempt(choice)
        except TransitionRefused:
            continue
        allowed.append(choice.value)
    return allowed


def allowed_actions(course: Course, view: CourseView, now: datetime) -> list[str]:
    """The clinician actions the state allows (the apps offer these and no others)."""
    return _allowed(
        ClinicianAction,
        lambda action: after_clinician(course, view, action, now, rechallenge=Rechallenge.ADVISED),
    )


def allowed_plan_kinds(view: CourseView) -> list[str]:
    """The plan kinds the state allows, in the order the apps offer them."""
    return _allowed(PlanKind, lambda kind: check_plan_kind(view, kind))


def baseline_decides(kind: str, begun: bool) -> bool:
    """Whether a plan of `kind` is a start that the baseline count decides (RULES.md 2 line 45
    "Baseline before starting"; guideline L83-L89, the "Pre-Treatment Assessment"): an
    initiation, or a plan starting low for a patient who has not begun clozapine (`begun`: a
    dose has been due; a first plan, or one set again after its start was called off). A
    re-titration after clozapine was taken (guideline L78: re-initiate "as with initial
    treatment", no baseline named), and any maintenance entry, wait for a recovered count
    instead (check_anc_recovered)."""
    return kind == PlanKind.INITIATION or (kind == PlanKind.RETITRATION and not begun)


def starts_low(kind: str, *, first_start: bool) -> bool:
    """Whether a plan starts at 12.5-25 mg on its day 1 (RULES.md 6 "initiation and
    retitration start at <= 25 mg on day 1"; RULES.md 1; guideline L52): an initiation or a
    re-titration, or any plan that is the patient's `first_start` of clozapine
    (is_first_start)."""
    return kind in STARTS_LOW or first_start


def is_first_start(kind: str, *, begun: bool, on_clozapine_since: date, today: date) -> bool:
    """Whether a maintenance plan is a patient's start of clozapine: RULES.md 6 "maintenance
    enters an established patient", and a patient is established when they have begun
    clozapine here (`begun`: a dose has been due) or their enrolment says they were taking it
    before today (`on_clozapine_since`, their clozapine start date). Such a plan is held to
    what every start is: a first day of 12.5-25 mg (RULES.md 1 hard error; guideline L52) and
    a baseline count (RULES.md 2 "Baseline before starting")."""
    return kind == PlanKind.MAINTENANCE and not begun and on_clozapine_since >= today


def check_start_baseline(begun: bool, baseline_problem: str | None) -> None:
    """A resume of a course that has not begun is its start, so the baseline decides it too
    (RULES.md 2 line 45; RULES.md 7 line 134: only a count at most 10 days before the start):
    TransitionRefused naming the problem (`baseline_problem`: why the clinic's counts do not
    allow the start, None when they do)."""
    if not begun and baseline_problem is not None:
        raise TransitionRefused(
            "baseline_anc_needed",
            f"Clozapine has not started yet and a baseline blood count is needed first: "
            f"{baseline_problem}",
        )


def check_anc_recovered(view: CourseView, band_treatment: AncTreatment | None) -> None:
    """Leaving `interrupted` needs the latest clinic count out of the interrupt and stop bands
    (guideline L140: "monitor daily until ANC >= 1000/uL, then may resume"): TransitionRefused
    otherwise. So does a start from `not_started` or `stopped` when the latest clinic count is
    in one of those bands (a count that would interrupt the course at once; a stop is no way
    round an interruption); with no count yet, the baseline check decides (RULES.md 2)."""
    unrecovered = band_treatment in (AncTreatment.INTERRUPT, AncTreatment.STOP)
    if view.state in (CourseState.NOT_STARTED, CourseState.STOPPED) and unrecovered:
        raise TransitionRefused(
            "anc_not_recovered",
            "The latest clinic blood count is in a band that interrupts or stops clozapine: "
            "record a recovered count first.",
        )
    if view.state == CourseState.INTERRUPTED and band_treatment is not AncTreatment.CONTINUE:
        raise TransitionRefused(
            "anc_not_recovered",
            "The latest clinic blood count is still in a band that interrupts or stops "
            "clozapine: record a recovered count first.",
        )


def gap_warning(hours_without_dose: float | None) -> str | None:
    """A resume after more than 48 h without a recorded dose: the clinician is warned that the
    usual dose is not restarted after such a gap unless doses were in fact taken (guideline
    L78); the resume is still theirs to make."""
    if hours_without_dose is not None and hours_without_dose > RETITRATION_AFTER_HOURS:
        return "gap_over_48h"
    return None
