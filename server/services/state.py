"""A patient's stored summary (`patient_state`) and the status the apps show.

This module is the only writer of `patient_state`: every change is one of the named
transitions below (enrolled, bowel_movement_logged, dose_taken, course_changed,
clinic_anc_recorded, blood_schedule_refreshed, check_in_planned, blood_reminder_planned,
doses_made). The treatment course's rules are pure (server/domain/treatment.py); what a
transition does to doses and reminders is services/course.py's. A test checks that no other
module writes these columns (tests/services/test_summary_owner.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from server.domain import (
    DueTest,
    PlanStep,
    daily_doses,
    dose_instants,
    load_profile,
    local_date,
    monitoring_schedule,
)
from server.domain import treatment as course_rules
from server.domain.doses import plan_day
from server.domain.lab_units import MONITORED_COUNTS, monitored_test
from server.models import (
    BowelMovement,
    Dose,
    DosePlan,
    LabResult,
    Patient,
    PatientState,
    PushSubscription,
    ReminderSettings,
    TreatmentInterruption,
    User,
)
from server.services import schedule_inputs
from server.services.reminder_times import next_blood_reminder, next_check_in
from server.services.sql import batches

STATES = cast(Table, PatientState.__table__)


# --- reading -----------------------------------------------------------------------------------


def get_state(
    session: Session, patient: Patient, now: dt.datetime, *, for_update: bool = False
) -> PatientState:
    """The patient's summary row (made on first use, as at enrolment).

    for_update: a transition is about to decide on the row and change it (a hold, resume or
    stop, a plan, a clinic count, missed doses). The row is read afresh and locked until the
    transaction ends (PostgreSQL: SELECT ... FOR NO KEY UPDATE, the lock its own UPDATE takes),
    so that of two transitions at once the second waits here and decides on the first one's
    result instead of writing over it. SQLite renders no lock: a transaction that may write
    already holds the single write lock from its first statement (server/db.py). Reads that
    change nothing (the apps' GETs) never take it."""
    if for_update:
        # afresh: an object loaded earlier in the session keeps its values otherwise
        state = session.get(
            PatientState, patient.id, with_for_update={"key_share": True}, populate_existing=True
        )
    else:
        state = session.get(PatientState, patient.id)
    if state is None:
        state = _new_state(patient, now)
        session.add(state)
        session.flush()
    return state


def lock_states(session: Session, patient_ids: Sequence[int]) -> None:
    """The summary rows of many patients read afresh and locked, as `get_state(...,
    for_update=True)` reads one, for a batch that then decides on each course (the cycle's
    doses made ahead). In patient order, IN_BATCH at a time: two workers locking overlapping
    batches take turns instead of deadlocking, and one statement per batch keeps the batch
    fast. get_state then answers from the rows read here."""
    for batch in batches(sorted(patient_ids)):
        session.scalars(
            select(PatientState)
            .where(PatientState.patient_id.in_(batch))
            .order_by(PatientState.patient_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()


def today_for(patient: Patient, now: dt.datetime) -> dt.date:
    return local_date(now, patient.timezone)


def steps_of(plan: DosePlan) -> list[PlanStep]:
    return [PlanStep(int(s["day"]), tuple(float(d) for d in s["doses_mg"])) for s in plan.steps]


def doses_on(plan: DosePlan, on: dt.date) -> tuple[float, ...]:
    """The mg of each of the plan's dose times on a local date, read by the plan's own days
    (day 1 = its start date)."""
    return daily_doses(steps_of(plan), plan_day(plan.start_date, on))


def active_plan(session: Session, patient_id: int, on: dt.date) -> DosePlan | None:
    """The plan in force on a local date: the newest version that has started by then."""
    return session.scalars(
        select(DosePlan)
        .where(DosePlan.patient_id == patient_id, DosePlan.start_date <= on)
        .order_by(DosePlan.version.desc())
        .limit(1)
    ).first()


def latest_plan(session: Session, patient_id: int) -> DosePlan | None:
    return session.scalars(
        select(DosePlan)
        .where(DosePlan.patient_id == patient_id)
        .order_by(DosePlan.version.desc())
        .limit(1)
    ).first()


def stable_dose_since(plan: DosePlan | None) -> dt.date | None:
    """The date the plan reaches its maintenance dose (its last step)."""
    if plan is None or not plan.steps:
        return None
    return plan.start_date + dt.timedelta(days=int(plan.steps[-1]["day"]) - 1)


def plan_shape(plan: DosePlan | None) -> course_rules.PlanShape | None:
    """What the course's state needs to know of a plan (server/domain/treatment.py)."""
    if plan is None or not plan.steps:
        return None
    steady = stable_dose_since(plan)
    assert steady is not None
    zero_from = None
    if plan.kind == course_rules.PlanKind.TAPER and not any(plan.steps[-1]["doses_mg"]):
        zero_from = steady
    return course_rules.PlanShape(plan.kind, plan.start_date, steady, zero_from)


def watch_from(session: Session, patient: Patient, now: dt.datetime) -> dt.date:
    """Day 1 of the myocarditis watch: the current course's start (RULES.md 6: it starts again
    with a re-titration), else the clozapine start date."""
    return get_state(session, patient, now).course_started_on or patient.clozapine_start_date


def watch_from_on(session: Session, patient: Patient, day: dt.date, now: dt.datetime) -> dt.date:
    """Day 1 of the myocarditis watch in force on a local date: the current course's start
    (watch_from) from that day on; before it, the start of the course then -- the latest
    initiation or re-titration plan begun by that date, else the clozapine start date
    (RULES.md 6: the watch starts again with a re-titration, not before it)."""
    current = watch_from(session, patient, now)
    if day >= current:
        return current
    earlier = session.scalars(
        select(DosePlan.start_date)
        .where(
            DosePlan.patient_id == patient.id,
            DosePlan.kind.in_(sorted(str(kind) for kind in course_rules.STARTS_LOW)),
            DosePlan.start_date <= day,
        )
        .order_by(DosePlan.start_date.desc())
        .limit(1)
    ).first()
    return earlier or patient.clozapine_start_date


def course_of(state: PatientState) -> course_rules.Course:
    """The course as last changed, from its stored columns."""
    return course_rules.Course(
        state=state.treatment_status,
        since=state.treatment_since,
        cause=state.treatment_cause,
        restart_on=state.restart_on,
        restart_cause=state.restart_cause,
        rechallenge=state.rechallenge,
        rechallenge_cause=state.rechallenge_cause,
    )


def course_view(
    session: Session,
    patient: Patient,
    now: dt.datetime,
    on: dt.date | None = None,
    *,
    for_update: bool = False,
) -> course_rules.CourseView:
    """The state of the patient's treatment on a local date (default today); for_update: read
    by a transition that will change it, the summary row locked first (get_state)."""
    day = on or today_for(patient, now)
    state = get_state(session, patient, now, for_update=for_update)
    return course_rules.current(
        course_of(state), plan_shape(active_plan(session, patient.id, day)), day
    )


def treatment_status(session: Session, patient: Patient, now: dt.datetime) -> str:
    """One of RULES.md 6's seven states, today."""
    return course_view(session, patient, now).state


def schedule(session: Session, patient: Patient, now: dt.datetime) -> list[DueTest]:
    """The next due date of each monitored test (RULES.md 3, the clinic's profile)."""
    state = get_state(session, patient, now)
    today = today_for(patient, now)
    latest = session.execute(
        select(LabResult.test, func.max(LabResult.collected_at))
        # only the clinic's results decide the schedule (RULES.md 7 "Whose result counts")
        .where(LabResult.patient_id == patient.id, LabResult.source == "clinic")
        .group_by(LabResult.test)
    ).all()
    last_results: dict[str, dt.date] = {}
    for test, collected in latest:
        if collected is None:
            continue
        if isinstance(collected, str):  # SQLite max() returns text
            collected = dt.datetime.fromisoformat(collected).replace(tzinfo=dt.UTC)
        elif collected.tzinfo is None:
            collected = collected.replace(tzinfo=dt.UTC)
        key = monitored_test(test)
        day = local_date(collected, patient.timezone)
        if key not in last_results or day > last_results[key]:
            last_results[key] = day
    plan = active_plan(session, patient.id, today)
    view = course_rules.current(course_of(state), plan_shape(plan), today)
    stable = stable_dose_since(plan) if view.state == course_rules.CourseState.STABLE else None
    profile = load_profile(patient.clinic.monitoring_profile)
    return monitoring_schedule(
        start_date=patient.clozapine_start_date,
        today=today,
        profile=profile,
        last_results=last_results,
        anc_band=state.anc_band,
        anc_band_since=state.anc_band_since,
        interruptions=schedule_inputs.treatment_breaks(session, patient),
        stable_dose_since=stable if stable is not None and stable <= today else None,
        recent_counts=schedule_inputs.recent_clinic_counts(session, patient),
        confirmed_step_downs=schedule_inputs.confirmed_step_downs(session, patient)
        if profile.step_down_needs_confirmation
        else frozenset(),
        stopped=view.state == course_rules.CourseState.STOPPED,
    )


@dataclass(frozen=True)
class Adherence:
    """Doses taken of those due in the last 7 days."""

    taken: int
    due: int


@dataclass(frozen=True)
class PatientStatus:
    """Where the patient's treatment stands today, and what the care team may do now (the
    apps offer these actions and plan kinds and no others)."""

    adherence_7d: Adherence
    push_reachable: bool
    treatment: str
    treatment_since: dt.datetime | None
    treatment_cause: str
    restart_on: dt.date | None
    rechallenge: str | None
    rechallenge_cause: str | None
    doses_withheld: bool
    treatment_actions: list[str]
    plan_kinds: list[str]
    default_plan_kind: str
    anc_band: str | None
    needs_retitration: bool
    last_bowel_movement_at: dt.datetime | None
    last_dose_taken_at: dt.datetime | None
    tracking_since: dt.datetime | None


@dataclass(frozen=True)
class NextBloodTest:
    """The next count the monitoring schedule asks for, and how many days away it is."""

    test: str
    due_date: dt.date
    status: str
    days_away: int


@dataclass(frozen=True)
class CurrentStatus:
    status: PatientStatus
    next_blood_test: NextBloodTest | None


def current_status(session: Session, patient: Patient, now: dt.datetime) -> CurrentStatus:
    """The patient's status today and their next blood count (read together, once)."""
    state = get_state(session, patient, now)
    today = today_for(patient, now)
    view = course_view(session, patient, now)
    anc = next(
        (item for item in schedule(session, patient, now) if item.test in MONITORED_COUNTS), None
    )
    status = PatientStatus(
        adherence_7d=adherence(session, patient, now),
        push_reachable=push_reachable(session, patient),
        treatment=view.state,
        treatment_since=_since_instant(view.since, patient),
        treatment_cause=view.cause,
        restart_on=view.restart_on,
        rechallenge=state.rechallenge,
        rechallenge_cause=state.rechallenge_cause,
        doses_withheld=view.doses_withheld,
        treatment_actions=course_rules.allowed_actions(course_of(state), view, now),
        plan_kinds=course_rules.allowed_plan_kinds(view),
        default_plan_kind=course_rules.default_plan_kind(
            view, latest_plan(session, patient.id) is not None
        ),
        anc_band=state.anc_band,
        needs_retitration=view.state == course_rules.CourseState.NEEDS_RETITRATION,
        last_bowel_movement_at=state.last_bowel_movement_at,
        last_dose_taken_at=state.last_dose_taken_at,
        tracking_since=state.tracking_since,
    )
    if anc is None:
        return CurrentStatus(status, None)
    days_away = (anc.due_date - today).days
    return CurrentStatus(status, NextBloodTest(anc.test, anc.due_date, anc.status, days_away))


def _since_instant(since: dt.datetime | dt.date | None, patient: Patient) -> dt.datetime | None:
    """A transition's instant, or the local midnight that starts a date the calendar chose."""
    if since is None or isinstance(since, dt.datetime):
        return since
    return local_midnight(since, patient.timezone)


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    return dose_instants(day, ["00:00"], zone)[0]


def adherence(session: Session, patient: Patient, now: dt.datetime) -> Adherence:
    """Doses taken of those due in the last 7 days (withheld and cancelled ones were not due)."""
    rows = session.execute(
        select(Dose.status, func.count())
        .where(
            Dose.patient_id == patient.id,
            Dose.scheduled_at > now - dt.timedelta(days=7),
            Dose.scheduled_at <= now,
            Dose.status.not_in(("cancelled", "withheld")),
        )
        .group_by(Dose.status)
    ).all()
    counts = {status: int(n) for status, n in rows}
    return Adherence(taken=counts.get("taken", 0), due=sum(counts.values()))


def push_reachable(session: Session, patient: Patient) -> bool:
    """Whether the patient's own login has a push subscription."""
    return (
        session.scalar(
            select(PushSubscription.id)
            .join(User, User.id == PushSubscription.user_id)
            .where(User.patient_id == patient.id)
            .limit(1)
        )
        is not None
    )


# --- transitions: the only writes of patient_state ------------------------------------------


def _new_state(patient: Patient, now: dt.datetime) -> PatientState:
    return PatientState(
        patient_id=patient.id,
        updated_at=now,
        treatment_status=course_rules.CourseState.NOT_STARTED.value,
        treatment_cause=course_rules.Cause.ENROLLED.value,
        # RULES.md 7: every enrolled patient is tracked from enrolment, whoever logs
        tracking_since=now,
    )


def enrolled(session: Session, patient: Patient, now: dt.datetime) -> PatientState:
    """A patient's summary at enrolment: tracking starts, the first blood test is due, and
    the daily check-in of days 1-28 from the clozapine start date."""
    state = get_state(session, patient, now)
    blood_schedule_refreshed(session, patient, now)
    check_in_planned(state, patient, None, now)
    return state


_NEWEST_BOWEL_MOVEMENT = (
    select(BowelMovement.occurred_at)
    .where(BowelMovement.patient_id == bindparam("summary_patient_id"))
    .order_by(BowelMovement.occurred_at.desc())
    .limit(1)
)
# built once: every bowel movement logged runs it
_REFRESH_BOWEL_SUMMARIES = (
    update(STATES)
    .where(STATES.c.patient_id == bindparam("summary_patient_id"))
    .values(
        last_bowel_movement_at=_NEWEST_BOWEL_MOVEMENT.scalar_subquery(),
        third_last_bowel_movement_at=_NEWEST_BOWEL_MOVEMENT.offset(2).scalar_subquery(),
        updated_at=bindparam("summary_now"),
    )
)


def bowel_movement_logged(session: Session, patient: Patient, now: dt.datetime) -> None:
    """Set the last- and third-last-movement summaries from the diary (flushed), in one UPDATE."""
    statement = _REFRESH_BOWEL_SUMMARIES
    params = {"summary_patient_id": patient.id, "summary_now": now}
    if session.execute(statement, params).rowcount == 0:  # type: ignore[attr-defined]
        get_state(session, patient, now)  # the first entry of a patient without a summary
        session.execute(statement, params)
    loaded = session.identity_map.get(Session.identity_key(PatientState, patient.id))
    if loaded is not None:  # an object read earlier in this session reloads on next use
        session.expire(
            loaded, ["last_bowel_movement_at", "third_last_bowel_movement_at", "updated_at"]
        )


def dose_taken(session: Session, patient: Patient, now: dt.datetime) -> dt.datetime | None:
    """The last dose taken, from the doses (a dose marked taken, or unmarked); a break in
    treatment ends with the first dose taken after it. Returns the last dose taken."""
    state = get_state(session, patient, now)
    state.last_dose_taken_at = session.scalar(
        select(func.max(Dose.status_at)).where(
            Dose.patient_id == patient.id, Dose.status == "taken"
        )
    )
    state.updated_at = now
    return state.last_dose_taken_at


def course_changed(
    session: Session,
    patient: Patient,
    course: course_rules.Course,
    now: dt.datetime,
    *,
    course_started_on: dt.date | None = None,
) -> PatientState:
    """Store the course as changed by a transition of server/domain/treatment.py.

    course_started_on: a new course (an initiation or re-titration) whose days 1-28
    myocarditis watch starts that day. A stopped course ends diary tracking; a course that
    starts again resumes it.
    """
    state = get_state(session, patient, now)
    state.treatment_status = course.state
    state.treatment_since = course.since
    state.treatment_cause = course.cause
    state.restart_on = course.restart_on
    state.restart_cause = course.restart_cause
    state.rechallenge = course.rechallenge
    state.rechallenge_cause = course.rechallenge_cause
    if course.state == course_rules.CourseState.STOPPED and course.restart_on is None:
        state.tracking_since = None
    elif state.tracking_since is None:
        state.tracking_since = now
    if course_started_on is not None:
        state.course_started_on = course_started_on
        check_in_planned(state, patient, session.get(ReminderSettings, patient.id), now)
    state.updated_at = now
    return state


def doses_due(
    session: Session, patient: Patient, first_due: dt.datetime | None, now: dt.datetime
) -> None:
    """Doses are due from `first_due` (the missed-dose clock runs from it), or none are (None:
    not started, withheld or stopped)."""
    state = get_state(session, patient, now)
    state.doses_due_since = first_due
    state.updated_at = now


def clinic_anc_recorded(
    session: Session, patient: Patient, band: str, collected_at: dt.datetime, now: dt.datetime
) -> bool:
    """Keep the band of the newest clinic count (an older result entered late changes nothing);
    True when this count is the newest (decided on the row locked: get_state)."""
    state = get_state(session, patient, now, for_update=True)
    if state.last_anc_at is not None and collected_at < state.last_anc_at:
        return False
    if band != state.anc_band:
        state.anc_band_since = local_date(collected_at, patient.timezone)
    state.anc_band = band
    state.last_anc_at = collected_at
    state.updated_at = now
    return True


def blood_schedule_refreshed(
    session: Session, patient: Patient, now: dt.datetime
) -> DueTest | None:
    """Store the next ANC due date (the time-based rules read it for every patient at once) and
    plan its reminder."""
    state = get_state(session, patient, now)
    anc = next(
        (item for item in schedule(session, patient, now) if item.test in MONITORED_COUNTS), None
    )
    due = anc.due_date if anc else None
    if due != state.next_blood_test_due or state.next_blood_reminder_at is None:
        state.next_blood_test_due = due
        state.next_blood_reminder_at = next_blood_reminder(due, patient.timezone, now)
    state.updated_at = now
    return anc


def blood_reminder_planned(state: PatientState, patient: Patient, now: dt.datetime) -> None:
    """After a blood-test reminder went out: the next one (the day itself, or none)."""
    state.next_blood_reminder_at = next_blood_reminder(
        state.next_blood_test_due, patient.timezone, now
    )


def check_in_planned(
    state: PatientState, patient: Patient, settings: ReminderSettings | None, now: dt.datetime
) -> None:
    """The next daily check-in of the myocarditis watch (days 1-28 of the current course), at
    the patient's check-in time (`settings`: theirs, or None for the defaults), outside quiet
    hours; none while the diary is not tracked."""
    first_day = state.course_started_on or patient.clozapine_start_date
    state.next_check_in_at = (
        next_check_in(first_day, patient.timezone, settings, now)
        if state.tracking_since is not None
        else None
    )


def doses_made(
    state: PatientState, patient: Patient, made_until: dt.date, now: dt.datetime
) -> None:
    """Doses exist up to `made_until` (the patient's local date); the next day is made at the
    local midnight that starts it."""
    state.doses_made_until = made_until
    state.doses_make_at = local_midnight(made_until, patient.timezone)
    state.updated_at = now


def interruption_started(
    session: Session, patient: Patient, now: dt.datetime
) -> TreatmentInterruption | None:
    """A break in treatment begins at the last dose taken (or now, if none was): one open at a
    time (a hold that becomes an interruption is one break)."""
    open_gap = _open_interruption(session, patient)
    if open_gap is not None:
        return open_gap
    state = get_state(session, patient, now)
    gap = TreatmentInterruption(
        patient_id=patient.id, gap_from=state.last_dose_taken_at or now, created_at=now
    )
    session.add(gap)
    return gap


def dose_taken_at(
    session: Session, patient: Patient, taken_at: dt.datetime, now: dt.datetime
) -> None:
    """A dose taken at `taken_at` and just recorded: taken before a break began (logged late,
    from an offline phone, once the course was paused), the break starts at it, the last dose
    taken before the pause, rather than earlier; otherwise the first dose taken after a break
    ends it. The blood-test schedule follows either way (RULES.md 3 Interruption, 6)."""
    later = session.scalars(
        select(TreatmentInterruption)
        .where(
            TreatmentInterruption.patient_id == patient.id,
            TreatmentInterruption.created_at > taken_at,
        )
        .order_by(TreatmentInterruption.created_at)
        .limit(1)
    ).first()
    if later is None:
        interruption_ended(session, patient, taken_at, now)
        return
    session.flush()
    last_before = session.scalar(
        select(func.max(Dose.status_at)).where(
            Dose.patient_id == patient.id,
            Dose.status == "taken",
            Dose.status_at <= later.created_at,
        )
    )
    if last_before is not None and last_before != later.gap_from:
        later.gap_from = last_before
        session.flush()
        blood_schedule_refreshed(session, patient, now)


def interruption_ended(
    session: Session, patient: Patient, resumed_at: dt.datetime, now: dt.datetime
) -> bool:
    """The first dose taken after a break ends it; the blood-test schedule follows (RULES.md 3
    Interruption). True when a break ended."""
    gap = _open_interruption(session, patient)
    if gap is None or resumed_at <= gap.gap_from:
        return False
    gap.resumed_at = resumed_at
    session.flush()
    blood_schedule_refreshed(session, patient, now)
    return True


def _open_interruption(session: Session, patient: Patient) -> TreatmentInterruption | None:
    return session.scalars(
        select(TreatmentInterruption).where(
            TreatmentInterruption.patient_id == patient.id,
            TreatmentInterruption.resumed_at.is_(None),
        )
    ).first()
