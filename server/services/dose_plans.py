"""Dose plans: the clinician's titration plan, versioned so history is never rewritten."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.domain import (
    PlanStep,
    baseline_allows_start_on,
    daily_doses,
    dose_instants,
    load_profile,
    local_date,
    normalize_times,
    retitration_proposal,
    standard_plan,
    to_cells_per_ul,
    validate_plan,
)
from server.models import Dose, DosePlan, LabResult, Patient
from server.policy import Actor
from server.services import state as states
from server.services.errors import Invalid

MAX_PLAN_DAYS = 366


def _steps(data: dict[str, Any], times: tuple[str, ...]) -> tuple[str, list[PlanStep]]:
    if "steps" in data and data.get("titration") not in (None, "custom"):
        raise Invalid({"titration": ["Give either a titration kind or your own steps, not both."]})
    if "steps" in data:
        return "custom", [PlanStep(s["day"], tuple(s["doses_mg"])) for s in data["steps"]]
    kind = data.get("titration")
    target = data.get("target_mg_per_day")
    if kind not in ("standard", "retitration"):
        raise Invalid({"titration": ["Use standard or retitration, or give steps."]})
    if target is None:
        raise Invalid({"target_mg_per_day": ["The target daily dose is needed."]})
    try:
        make = standard_plan if kind == "standard" else retitration_proposal
        return kind, make(times, target)
    except ValueError as exc:
        raise Invalid({"target_mg_per_day": [str(exc)]}) from exc


def _baseline_problem(session: Session, patient: Patient, start: dt.date) -> str | None:
    """RULES.md 2: the plan cannot start without a baseline ANC >= 1500 (BEN >= 1000); RULES.md
    7: only the clinic's counts, taken no more than 10 days before the start."""
    rows = session.scalars(
        select(LabResult)
        .where(
            LabResult.patient_id == patient.id,
            LabResult.test == "anc",
            LabResult.source == "clinic",
        )
        .order_by(LabResult.collected_at)
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


def set_dose_plan(
    session: Session, *, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> DosePlan:
    """Make a new plan version from the standard generator or the clinician's steps.

    Refused (422, naming the field) on any hard error of RULES.md 1; warnings are kept on the
    plan and shown. Pending doses from the start date on are replaced; recorded ones stay.
    """
    try:
        times = normalize_times(data["times"])
    except ValueError as exc:
        raise Invalid({"times": [str(exc)]}) from exc
    kind, steps = _steps(data, times)
    check = validate_plan(steps, times)
    if check.errors:
        fields: dict[str, list[str]] = {}
        for issue in check.errors:
            fields.setdefault(issue.field, []).append(issue.message)
        raise Invalid(fields, "The plan is not safe to use as written.")
    start: dt.date = data["start_date"]
    today = states.today_for(patient, now)
    if start < today:
        raise Invalid({"start_date": ["A new plan starts today or later: history is kept."]})
    if start > today + dt.timedelta(days=MAX_PLAN_DAYS):
        raise Invalid({"start_date": ["Start within the next year."]})
    previous = states.latest_plan(session, patient.id)
    if previous is None:
        problem = _baseline_problem(session, patient, start)
        if problem:
            raise Invalid({"start_date": [f"A baseline blood count is needed first: {problem}"]})
    plan = DosePlan(
        patient_id=patient.id,
        version=(previous.version + 1) if previous else 1,
        start_date=start,
        times=list(times),
        steps=[{"day": s.day, "doses_mg": list(s.doses_mg)} for s in steps],
        kind=kind,
        target_mg_per_day=data.get("target_mg_per_day"),
        warnings=[{"code": w.code, "message": w.message, "field": w.field} for w in check.warnings],
        created_by_id=actor.user_id,
        created_at=now,
    )
    if previous is not None and previous.superseded_at is None:
        previous.superseded_at = now
    session.add(plan)
    session.flush()
    session.execute(
        update(Dose)
        .where(
            Dose.patient_id == patient.id,
            Dose.plan_id != plan.id,
            Dose.local_date >= start,
            Dose.status == "pending",
        )
        .values(status="cancelled", status_at=now)
    )
    state = states.get_state(session, patient, now)
    first_dose = dose_instants(start, times, patient.timezone)[0]
    if state.doses_due_since is None or state.needs_retitration:
        # after a gap, the missed-dose clock restarts with the clinician's new plan
        state.doses_due_since = first_dose
        state.needs_retitration = False
    state.updated_at = now
    states.refresh_next_blood_test(session, patient, now)
    session.commit()
    return plan


def plan_view(plan: DosePlan, patient: Patient) -> dict[str, Any]:
    """The plan and its day-by-day doses up to the maintenance dose."""
    steps = states.steps_of(plan)
    last_day = steps[-1].day if steps else 1
    days = []
    for day in range(1, last_day + 1):
        doses = daily_doses(steps, day)
        days.append(
            {
                "day": day,
                "date": plan.start_date + dt.timedelta(days=day - 1),
                "doses": [
                    {"time": time, "mg": mg} for time, mg in zip(plan.times, doses, strict=True)
                ],
                "total_mg": float(sum(doses)),
            }
        )
    return {
        "id": plan.id,
        "patient_id": patient.id,
        "version": plan.version,
        "kind": plan.kind,
        "start_date": plan.start_date,
        "times": plan.times,
        "target_mg_per_day": plan.target_mg_per_day,
        "steps": plan.steps,
        "warnings": plan.warnings,
        "created_at": plan.created_at,
        "days": days,
        "maintenance_from": days[-1]["date"] if days else plan.start_date,
    }
