"""The treatment course's use cases: a plan set, a clinic count, missed doses, a taper's end,
and a clinician's hold, resume or stop, with what each does to the doses, the reminders and
the record (RULES.md 6).

The rules that decide are pure (server/domain/treatment.py); the patient's summary is written
by services/state.py; every change of state is a `treatment_event` row, in the same
transaction as its effects. Each use case reads the course with the patient's summary row
locked (`states.course_view(..., for_update=True)`, or `states.clinic_anc_recorded`), so
that two at once for one patient (two clinicians, or a clinician and the worker's cycle)
take turns, the second deciding on the first one's result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain import (
    Rule,
    baseline_allows_start_on,
    check_resumed_start,
    load_profile,
    local_date,
    to_cells_per_ul,
)
from server.domain import treatment as rules
from server.domain.doses import plan_day
from server.domain.titration import missed_over_48h
from server.models import DosePlan, LabResult, Patient, TreatmentEvent, User
from server.policy import Actor
from server.services import doses, escalations, outbox
from server.services import state as states
from server.services.errors import Conflict, Invalid

DAYS_MADE_AHEAD = 1  # today and tomorrow (patient-local) exist at any time


def _refused(refusal: rules.TransitionRefused) -> Conflict | Invalid:
    if refusal.field is not None:
        return Invalid({refusal.field: [refusal.message]}, refusal.message, refusal.code)
    return Conflict(refusal.message, code=refusal.code)


def _record(
    session: Session,
    patient: Patient,
    before: rules.CourseView,
    after: rules.Course,
    now: dt.datetime,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    reason: str | None = None,
    rechallenge: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TreatmentEvent:
    view = states.course_view(session, patient, now)
    event = TreatmentEvent(
        patient_id=patient.id,
        at=now,
        action=action,
        cause=view.cause if view.state == after.state else after.cause,
        from_state=before.state,
        to_state=view.state,
        reason=reason,
        rechallenge=rechallenge,
        detail=detail or {},
        actor_id=actor_id,
    )
    session.add(event)
    return event


def _pause(
    session: Session, patient: Patient, before: rules.CourseView, now: dt.datetime, *, stop: bool
) -> None:
    """Doses stop being offered: those still to come are withheld (or cancelled, for a stop),
    their queued reminders cancelled, and the missed-dose clock stops; a break begins."""
    withheld = doses.withhold(session, patient, now, stop=stop)
    outbox.cancel_dose_reminders(session, patient.id, withheld or None, "treatment withheld")
    states.doses_due(session, patient, None, now)
    if before.state != rules.CourseState.NOT_STARTED:
        states.interruption_started(session, patient, now)


def _change(
    session: Session,
    patient: Patient,
    before: rules.CourseView,
    after: rules.Course,
    now: dt.datetime,
) -> rules.CourseView:
    """Store `after` and apply what the change of state means for the doses: a course that
    was taking doses, or had a restart planned (its days already made hold pending doses, and
    the change called it off), or that stops, has none to come."""
    states.course_changed(session, patient, after, now)
    view = states.course_view(session, patient, now)
    stopped = view.state == rules.CourseState.STOPPED
    if view.state in rules.NO_DOSES and (
        before.state not in rules.NO_DOSES or before.restart_on is not None or stopped
    ):
        _pause(session, patient, before, now, stop=stopped)
    return view


# --- a plan ------------------------------------------------------------------------------------


def baseline_problem(session: Session, patient: Patient, start: dt.date) -> str | None:
    """Why the clinic's counts do not allow a start on `start` (None when they do): RULES.md 2,
    a baseline ANC >= 1500 (BEN >= 1000) by the patient's profile; RULES.md 7, only the
    clinic's counts, taken no more than 10 days before the start."""
    rows = session.scalars(
        select(LabResult)
        .where(
            LabResult.patient_id == patient.id,
            LabResult.test == "anc",
            LabResult.source == "clinic",
        )
        .order_by(LabResult.collected_at, LabResult.id)
    ).all()
    counts = [
        # the start is the patient's own date: so is the day a count was taken on
        (
            local_date(row.collected_at, patient.timezone),
            to_cells_per_ul(row.value, row.unit or "cells/uL"),
        )
        for row in rows
        if row.value is not None
    ]
    check = baseline_allows_start_on(
        counts,
        start_date=start,
        ben=patient.benign_ethnic_neutropenia,
        profile=load_profile(patient.clinic.monitoring_profile),
    )
    return None if check.ok else check.reason


def check_plan(
    session: Session, patient: Patient, kind: str | None, now: dt.datetime
) -> tuple[str, bool, bool]:
    """The plan's kind (the contract's default when left out), refused when the course does
    not allow it, or the latest clinic count does not (RULES.md 6); and whether the plan is a
    start the baseline decides (baseline_decides, or a maintenance plan that is a patient's
    first start: then the baseline check answers instead, dose_plans, RULES.md 2, which names
    the missing count); and whether it is such a first start (is_first_start: its first day
    is held to 12.5-25 mg, RULES.md 1)."""
    view = states.course_view(session, patient, now, for_update=True)
    has_plan = states.latest_plan(session, patient.id) is not None
    chosen = kind or rules.default_plan_kind(view, has_plan)
    try:
        rules.check_plan_kind(view, chosen)
        begun = doses.clozapine_begun(session, patient, now)
        first_start = rules.is_first_start(
            chosen,
            begun=begun,
            on_clozapine_since=patient.clozapine_start_date,
            today=states.today_for(patient, now),
        )
        decides = first_start or rules.baseline_decides(chosen, begun)
        if not decides:
            rules.check_anc_recovered(view, _band_treatment(session, patient, now))
    except rules.TransitionRefused as refusal:
        raise _refused(refusal) from None
    return chosen, decides, first_start


def plan_set(session: Session, patient: Patient, plan: DosePlan, now: dt.datetime) -> None:
    """A new plan version (flushed): the earlier plans' doses from its start are replaced by its
    own for every day already made (so no reminder is lost), the course moves on, and the
    missed-dose clock restarts with a new course (RULES.md 6; issue: a plan change never loses
    the day's reminders)."""
    today = states.today_for(patient, now)
    before = states.course_view(session, patient, now, for_update=True)
    state = states.get_state(session, patient, now)
    after = rules.after_plan(
        states.course_of(state), before, plan.kind, plan.start_date, today, now
    )
    starts_course = plan.kind in rules.STARTS_LOW
    states.course_changed(
        session, patient, after, now, course_started_on=plan.start_date if starts_course else None
    )
    replaced = doses.replace_from(session, patient, plan, plan.start_date, now)
    outbox.cancel_dose_reminders(session, patient.id, replaced, "replaced by a new plan")
    made_until = max(state.doses_made_until or today, today + dt.timedelta(days=DAYS_MADE_AHEAD))
    make_days(session, patient, max(plan.start_date, today), made_until, now, not_before=now)
    states.doses_made(state, patient, made_until, now)
    if starts_course or before.state not in rules.ACTIVE or state.doses_due_since is None:
        first = max(now, states.local_midnight(plan.start_date, patient.timezone))
        states.doses_due(
            session, patient, doses.first_dose_after(session, patient, first, plan), now
        )
    _record(
        session,
        patient,
        before,
        after,
        now,
        actor_id=plan.created_by_id,
        detail={"plan_id": plan.id, "version": plan.version, "kind": plan.kind},
    )
    if before.state == rules.CourseState.NEEDS_RETITRATION:
        escalations.resolved_by_treatment(
            session,
            patient.id,
            Rule.MISSED_DOSES_48H,
            plan.created_by_id,
            f"Re-titration plan (version {plan.version}) from {plan.start_date.isoformat()}.",
            now,
        )
    states.blood_schedule_refreshed(session, patient, now)


def make_days(
    session: Session,
    patient: Patient,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    *,
    not_before: dt.datetime | None = None,
) -> None:
    """Make the doses of each local date from `first` to `last` as the course has them that
    day: due, withheld, or none once stopped."""
    state = states.get_state(session, patient, now)
    course = states.course_of(state)
    day = first
    while day <= last:
        plan = states.active_plan(session, patient.id, day)
        view = rules.current(course, states.plan_shape(plan), day)
        if view.state in rules.WITHHELD:
            # the moment the course was paused: a dose taken before it may still be recorded
            paused = view.since if isinstance(view.since, dt.datetime) else None
            doses.materialise(
                session, patient, day, status="withheld", status_at=paused, not_before=not_before
            )
        elif view.state != rules.CourseState.STOPPED:
            doses.materialise(session, patient, day, not_before=not_before)
        day += dt.timedelta(days=1)


def make_ahead(
    session: Session, patient: Patient, now: dt.datetime, *, locked: bool = False
) -> None:
    """The worker's step for one patient: today's and tomorrow's doses (from yesterday, so that
    a worker that was down still finds them). The course is read locked (`locked`: the caller
    has locked the summary row already, states.lock_states), so that the days are not made
    pending from a course a hold is changing at that moment (RULES.md 6)."""
    state = states.get_state(session, patient, now, for_update=not locked)
    today = states.today_for(patient, now)
    first = today - dt.timedelta(days=1)
    if state.doses_made_until is not None:
        first = max(first, state.doses_made_until + dt.timedelta(days=1))
    last = today + dt.timedelta(days=DAYS_MADE_AHEAD)
    make_days(session, patient, first, last, now)
    states.doses_made(state, patient, last, now)


# --- what the product sees ---------------------------------------------------------------------


def _band_treatment(
    session: Session, patient: Patient, now: dt.datetime
) -> rules.AncTreatment | None:
    """What the newest clinic count's band means for treatment (None: no count yet)."""
    band = states.get_state(session, patient, now).anc_band
    if band is None:
        return None
    profile = load_profile(patient.clinic.monitoring_profile)
    actions = [
        (r.band, r.action) for r in profile.band_rules(ben=patient.benign_ethnic_neutropenia)
    ]
    if profile.traffic_light is not None:
        actions += [(r.band, r.action) for r in profile.traffic_light.lights]
    return rules.anc_treatment(next((a for b, a in actions if b == band), "continue"))


@dataclass(frozen=True)
class CountApplied:
    """What a clinic count did to the course: `newest` (its band is kept), and the date of a
    planned start it called off for being below the baseline (`start_called_off`)."""

    newest: bool
    start_called_off: dt.date | None = None


def _below_baseline(
    session: Session,
    patient: Patient,
    course: rules.Course,
    before: rules.CourseView,
    now: dt.datetime,
) -> dt.date | None:
    """The date of a start planned for a later day that the baseline decides and the clinic's
    counts no longer allow (RULES.md 2 "Baseline before starting ... or the plan cannot
    start"), else None."""
    first_start = session.scalar(
        select(func.min(DosePlan.start_date)).where(DosePlan.patient_id == patient.id)
    )
    first_plan = (
        None if first_start is None else states.active_plan(session, patient.id, first_start)
    )
    start = rules.planned_start(course, before, states.plan_shape(first_plan))
    if start is None or not rules.baseline_decides(
        start.kind, doses.clozapine_begun(session, patient, now)
    ):
        return None
    return start.on if baseline_problem(session, patient, start.on) else None


def clinic_anc(
    session: Session,
    patient: Patient,
    *,
    band: str,
    action: str,
    collected_at: dt.datetime,
    result_id: int,
    now: dt.datetime,
) -> CountApplied:
    """A clinic blood count: its band is kept when it is the newest, and a band whose
    treatment is interrupt or stop (UK red) interrupts the course (RULES.md 6); so does a
    count that leaves a start planned for a later day below the baseline the start needs
    (RULES.md 2), calling that start off. An older count entered late changes neither, but may
    leave the rechallenge marker."""
    profile = load_profile(patient.clinic.monitoring_profile)
    treatment = rules.anc_treatment(action)
    marker = rules.rechallenge_marker_after_anc(
        treatment,
        ben=patient.benign_ethnic_neutropenia,
        uk_lights=profile.traffic_light is not None,
    )
    if not states.clinic_anc_recorded(session, patient, band, collected_at, now):
        first_plan = session.scalar(
            select(func.min(DosePlan.start_date)).where(DosePlan.patient_id == patient.id)
        )
        taken_on = local_date(collected_at, patient.timezone)
        course = states.course_of(states.get_state(session, patient, now))
        after = rules.after_earlier_clinic_anc(
            course, marker=marker, on_clozapine=first_plan is not None and first_plan <= taken_on
        )
        if after != course:
            states.course_changed(session, patient, after, now)
        return CountApplied(newest=False)
    before = states.course_view(session, patient, now)
    state = states.get_state(session, patient, now)
    course = states.course_of(state)
    called_off = None
    if treatment is rules.AncTreatment.CONTINUE:
        called_off = _below_baseline(session, patient, course, before, now)
    after = rules.after_clinic_anc(
        course, before, treatment, marker=marker, now=now, below_baseline=called_off is not None
    )
    if after != course:
        view = _change(session, patient, before, after, now)
        if view.state != before.state:
            _record(session, patient, before, after, now, detail={"lab_result_id": result_id})
    return CountApplied(newest=True, start_called_off=called_off)


def missed_doses(session: Session, patient: Patient, now: dt.datetime) -> bool:
    """Missed doses over 48 h (the time rule held): an active course needs re-titration, every
    time (True); a taper that ended is recorded as stopped instead (RULES.md 6)."""
    before = states.course_view(session, patient, now, for_update=True)
    state = states.get_state(session, patient, now)
    course = states.course_of(state)
    since = before.since
    ended_at = (
        states.local_midnight(since, patient.timezone)
        if isinstance(since, dt.date) and not isinstance(since, dt.datetime)
        else now
    )
    ended = rules.after_taper(course, before, ended_at)
    if ended is not None:
        _change(session, patient, before, ended, now)
        _record(session, patient, before, ended, now)
        return False
    # decided again on the row as locked: a dose logged late may have come in since the
    # cycle read its candidates
    if not missed_over_48h(state.last_dose_taken_at, state.doses_due_since, now):
        return False
    after = rules.after_missed_doses(course, before, now)
    if after is None:
        return False
    _change(session, patient, before, after, now)
    _record(session, patient, before, after, now)
    return True


# --- a clinician's act -------------------------------------------------------------------------


def act(
    session: Session, *, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> tuple[TreatmentEvent, str | None]:
    """A clinician holds, resumes or stops treatment (CONTRACT.md `treatment-events`), with a
    reason; resuming an interrupted course needs a recovered count; a resume after more than
    48 h without a dose (counted from the first dose due when none was taken) comes back with
    a warning. Commits."""
    action, reason = data["action"], data["reason"].strip()
    if not reason:
        raise Invalid({"reason": ["Say why, in a few words."]})
    rechallenge = data.get("rechallenge")
    if rechallenge is not None and action != rules.ClinicianAction.STOP:
        raise Invalid({"rechallenge": ["Only a stop says whether a restart is advised."]})
    before = states.course_view(session, patient, now, for_update=True)
    state = states.get_state(session, patient, now)
    try:
        if action == rules.ClinicianAction.RESUME:
            rules.check_anc_recovered(before, _band_treatment(session, patient, now))
            _check_start(session, patient, before, now)
        after = rules.after_clinician(
            states.course_of(state), before, action, now, rechallenge=rechallenge
        )
    except rules.TransitionRefused as refusal:
        raise _refused(refusal) from None
    warning = None
    if action == rules.ClinicianAction.RESUME:
        # RULES.md 1: 48 h since the last dose taken while doses were due; none taken: since
        # the first dose due (as needs_retitration counts it)
        last = state.last_dose_taken_at or doses.first_due_at(session, patient, now)
        hours = None if last is None else (now - last).total_seconds() / 3600
        warning = rules.gap_warning(hours)
        states.course_changed(session, patient, after, now)
        doses.release(session, patient, now)
        states.doses_due(session, patient, doses.first_dose_after(session, patient, now), now)
        if before.state == rules.CourseState.NEEDS_RETITRATION:
            escalations.resolved_by_treatment(
                session, patient.id, Rule.MISSED_DOSES_48H, actor.user_id, f"Resumed: {reason}", now
            )
    else:
        _change(session, patient, before, after, now)
    event = _record(
        session,
        patient,
        before,
        after,
        now,
        actor_id=actor.user_id,
        action=action,
        reason=reason,
        rechallenge=rechallenge,
        detail={"warning": warning} if warning else {},
    )
    states.blood_schedule_refreshed(session, patient, now)
    session.commit()
    return event, warning


def _check_start(
    session: Session, patient: Patient, before: rules.CourseView, now: dt.datetime
) -> None:
    """A resume of a course that has not begun is its start, on the day the plan starts or
    today if that day has passed: the baseline decides it (RULES.md 2, 7), and it starts at
    the plan's first day's dose, not a later day's (RULES.md 1, 6)."""
    if before.state not in rules.WITHHELD:
        return  # the resume is refused as a transition
    if doses.clozapine_begun(session, patient, now):
        return
    plan = states.latest_plan(session, patient.id)
    today = states.today_for(patient, now)
    start = today if plan is None else max(plan.start_date, today)
    rules.check_start_baseline(False, baseline_problem(session, patient, start))
    if plan is not None:
        starts_low = rules.starts_low(
            plan.kind,
            first_start=rules.is_first_start(
                plan.kind,
                begun=False,
                on_clozapine_since=patient.clozapine_start_date,
                today=plan.start_date,
            ),
        )
        check_resumed_start(
            starts_low, plan_day(plan.start_date, start), sum(states.doses_on(plan, start))
        )


def events(session: Session, patient: Patient, limit: int = 200) -> Sequence[TreatmentEvent]:
    """The course's history, newest first."""
    return session.scalars(
        select(TreatmentEvent)
        .where(TreatmentEvent.patient_id == patient.id)
        .order_by(TreatmentEvent.at.desc(), TreatmentEvent.id.desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class CourseEvent:
    """A change of the treatment course with who acted; just made by a clinician, also the
    status the course is now in."""

    event: TreatmentEvent
    by: str | None
    status: states.PatientStatus | None = None

    @property
    def warning(self) -> str | None:
        """gap_over_48h: resumed after more than 48 h without a dose."""
        return (self.event.detail or {}).get("warning")


def with_actors(session: Session, rows: Sequence[TreatmentEvent]) -> list[CourseEvent]:
    """Events with who acted, for the care team and the patient's timeline."""
    people = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({row.actor_id for row in rows if row.actor_id})
            )
        ).all()
    )
    return [CourseEvent(row, people.get(row.actor_id or 0)) for row in rows]


def acted(
    session: Session, event: TreatmentEvent, patient: Patient, now: dt.datetime
) -> CourseEvent:
    """A clinician's act as its answer: the event, who acted, and the status it led to."""
    entry = with_actors(session, [event])[0]
    status = states.current_status(session, patient, now).status
    return CourseEvent(entry.event, entry.by, status)
