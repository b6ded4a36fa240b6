"""Dose plans: the clinician's titration plan, versioned so history is never rewritten."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.domain import (
    PlanStep,
    daily_doses,
    normalize_times,
    retitration_proposal,
    split_daily_total,
    standard_plan,
    taper_proposal,
    validate_plan,
)
from server.domain.titration import TAPER_MAX_DAYS, first_day_across_plans
from server.domain.treatment import STARTS_LOW, PlanKind, Rechallenge
from server.models import DosePlan, Patient
from server.policy import Actor
from server.services import course, doses, medicines
from server.services import state as states
from server.services.errors import Invalid, NotFound

MAX_PLAN_DAYS = 366


def _steps(
    session: Session,
    patient: Patient,
    data: dict[str, Any],
    kind: str,
    times: tuple[str, ...],
    today: dt.date,
) -> tuple[str, list[PlanStep]]:
    """(generator, steps): the clinician's own steps, or a proposal: the standard titration or a
    re-titration (asked for, or for an initiation or re-titration with a target), one
    maintenance step at the target dose, or a taper from the dose in force."""
    generator = data.get("titration")
    if "steps" in data and generator not in (None, "custom"):
        raise Invalid({"titration": ["Give either a titration kind or your own steps, not both."]})
    if "steps" in data:
        return "custom", [PlanStep(s["day"], tuple(s["doses_mg"])) for s in data["steps"]]
    if kind == PlanKind.TAPER:
        return "taper", _taper(session, patient, data, times, today)
    target = data.get("target_mg_per_day")
    if target is None:
        raise Invalid({"target_mg_per_day": ["The target daily dose is needed."]})
    if generator is None:
        generator = {"maintenance": "maintenance", "retitration": "retitration"}.get(
            kind, "standard"
        )
    try:
        if generator == "maintenance":
            return generator, [PlanStep(1, split_daily_total(target, len(times)))]
        if generator not in ("standard", "retitration"):
            raise Invalid({"titration": ["Use standard or retitration, or give steps."]})
        make = standard_plan if generator == "standard" else retitration_proposal
        return generator, make(times, target)
    except ValueError as exc:
        raise Invalid({"target_mg_per_day": [str(exc)]}) from exc


def _taper(
    session: Session,
    patient: Patient,
    data: dict[str, Any],
    times: tuple[str, ...],
    today: dt.date,
) -> list[PlanStep]:
    """A taper proposal from the daily dose in force on the taper's first day (or the target
    given), over `taper_days` (7-14, default 14)."""
    start: dt.date = data["start_date"]
    current = _daily_total(session, patient, max(start, today))
    from_mg = data.get("target_mg_per_day") or current
    if not from_mg:
        raise Invalid({"target_mg_per_day": ["There is no dose in force to taper from."]})
    try:
        return taper_proposal(times, from_mg, data.get("taper_days", TAPER_MAX_DAYS))
    except ValueError as exc:
        raise Invalid({"taper_days": [str(exc)]}) from exc


def _first_day_to_come(
    patient: Patient,
    steps: list[PlanStep],
    times: tuple[str, ...],
    start: dt.date,
    now: dt.datetime,
) -> float:
    """The mg of a plan's first-day doses still to come at `now` (those it makes that day)."""
    first_day = doses.doses_of_steps(steps, times, start, patient, start)
    return float(sum(mg for _, instant, mg in first_day if instant >= now))


def _daily_total(session: Session, patient: Patient, on: dt.date) -> float | None:
    """The daily dose the plan in force gives on a local date."""
    plan = states.active_plan(session, patient.id, on)
    if plan is None or on < plan.start_date:
        return None
    return float(sum(states.doses_on(plan, on)))


def set_dose_plan(
    session: Session, *, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> DosePlan:
    """Make a new plan version of a kind (RULES.md 6): initiation or re-titration (day 1 at
    12.5-25 mg), maintenance (an established patient or a dose change), or a taper to zero.

    Refused (422, naming the field) on any hard error of RULES.md 1 (for a plan from today, a
    day above 900 mg counts the earlier plan's doses taken or due today), and (409 or 422) when the
    treatment course does not allow the kind; warnings are kept on the plan and shown. The
    earlier plans' unrecorded doses from the start are replaced, and the new plan's doses made
    for every day already made, in the same transaction; recorded doses stay.
    """
    try:
        times = normalize_times(data["times"])
    except ValueError as exc:
        raise Invalid({"times": [str(exc)]}) from exc
    start: dt.date = data["start_date"]
    today = states.today_for(patient, now)
    if start < today:
        raise Invalid({"start_date": ["A new plan starts today or later: history is kept."]})
    if start > today + dt.timedelta(days=MAX_PLAN_DAYS):
        raise Invalid({"start_date": ["Start within the next year."]})
    kind, baseline_decides, first_start = course.check_plan(session, patient, data.get("kind"), now)
    generator, steps = _steps(session, patient, data, kind, times, today)
    previous = states.latest_plan(session, patient.id)
    check = validate_plan(
        steps,
        times,
        kind,
        previous_daily_mg=_daily_total(session, patient, start - dt.timedelta(days=1)),
        first_course_day=(start - states.watch_from(session, patient, now)).days + 1,
        replaced_daily_mg=_daily_total(session, patient, start),
        first_start=first_start,
    )
    errors = list(check.errors)
    if start == today and not errors:
        # the day has begun: the earlier plan's doses taken or due today stay
        first_day = _first_day_to_come(patient, steps, times, start, now)
        crowded = first_day_across_plans(doses.kept_mg(session, patient, start, now), first_day)
        if crowded is not None:
            errors.append(crowded)
    if errors:
        fields: dict[str, list[str]] = {}
        for issue in errors:
            fields.setdefault(issue.field, []).append(issue.message)
        raise Invalid(fields, "The plan is not safe to use as written.")
    if baseline_decides:
        problem = course.baseline_problem(session, patient, start)
        if problem:
            # the blood count is missing, not the date wrong: named as a field of its own, so
            # the form does not mark its "First day" (the apps point to entering a result)
            raise Invalid({"baseline_anc": [f"A baseline blood count is needed first: {problem}"]})
    warnings = [{"code": w.code, "message": w.message, "field": w.field} for w in check.warnings]
    state = states.get_state(session, patient, now)
    if state.rechallenge == Rechallenge.NOT_ADVISED and kind in STARTS_LOW:
        warnings.insert(0, RECHALLENGE_WARNING)
    plan = DosePlan(
        patient_id=patient.id,
        version=(previous.version + 1) if previous else 1,
        start_date=start,
        times=list(times),
        steps=[{"day": s.day, "doses_mg": list(s.doses_mg)} for s in steps],
        kind=kind,
        generator=generator,
        target_mg_per_day=data.get("target_mg_per_day"),
        warnings=warnings,
        created_by_id=actor.user_id,
        created_at=now,
    )
    if previous is not None and previous.superseded_at is None:
        previous.superseded_at = now
    session.add(plan)
    session.flush()
    course.plan_set(session, patient, plan, now)
    medicines.clozapine_plan_changed(session, patient, now)
    session.commit()
    return plan


# RULES.md 6: "the patient carries a 'rechallenge not advised' marker that every later plan
# shows the clinician" (guideline L139, L149, L182).
RECHALLENGE_WARNING = {
    "code": "rechallenge_not_advised",
    "message": "Restarting clozapine is not advised for this patient (a severe low count or "
    "myocarditis): go ahead only if you judge the benefit greater than the risk.",
    "field": "kind",
}


@dataclass(frozen=True)
class PlannedDose:
    time: str
    mg: float


@dataclass(frozen=True)
class PlanDay:
    """One day of a plan: its number (day 1 is the start date), date and doses."""

    day: int
    date: dt.date
    doses: list[PlannedDose]
    total_mg: float


@dataclass(frozen=True)
class PlanSchedule:
    """A plan and its day-by-day doses up to the maintenance dose (or a taper's end), with the
    course's "rechallenge not advised" marker (RULES.md 6: shown on every later plan)."""

    plan: DosePlan
    rechallenge: str | None
    days: list[PlanDay]

    @property
    def maintenance_from(self) -> dt.date:
        return self.days[-1].date if self.days else self.plan.start_date


def plan_schedule(
    session: Session, plan: DosePlan, patient: Patient, now: dt.datetime
) -> PlanSchedule:
    """A plan day by day, with the course's rechallenge marker."""
    rechallenge = states.get_state(session, patient, now).rechallenge
    steps = states.steps_of(plan)
    last_day = steps[-1].day if steps else 1
    days = []
    for day in range(1, last_day + 1):
        doses = daily_doses(steps, day)
        days.append(
            PlanDay(
                day=day,
                date=plan.start_date + dt.timedelta(days=day - 1),
                doses=[PlannedDose(t, mg) for t, mg in zip(plan.times, doses, strict=True)],
                total_mg=float(sum(doses)),
            )
        )
    return PlanSchedule(plan, rechallenge, days)


def latest_schedule(session: Session, patient: Patient, now: dt.datetime) -> PlanSchedule:
    """The newest plan version, day by day."""
    plan = states.latest_plan(session, patient.id)
    if plan is None:
        raise NotFound("No dose plan yet.")
    return plan_schedule(session, plan, patient, now)
