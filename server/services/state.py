"""A patient's stored summaries and the status the apps show (treatment, ANC band, tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from server.domain import (
    DueTest,
    PlanStep,
    load_profile,
    local_date,
    monitoring_schedule,
)
from server.models import (
    BowelMovement,
    Dose,
    DosePlan,
    LabResult,
    Patient,
    PatientState,
    PushSubscription,
    User,
)
from server.services import schedule_inputs
from server.services.reminder_times import plan_blood_reminder

ANC_TESTS = ("anc", "wbc_neutrophils")
STATES = cast(Table, PatientState.__table__)


def get_state(session: Session, patient: Patient, now: dt.datetime) -> PatientState:
    """The patient's summary row (made on first use)."""
    state = session.get(PatientState, patient.id)
    if state is None:
        state = PatientState(patient_id=patient.id, updated_at=now, treatment_status="not_started")
        session.add(state)
        session.flush()
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


def refresh_bowel_summaries(session: Session, patient: Patient, now: dt.datetime) -> None:
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


def today_for(patient: Patient, now: dt.datetime) -> dt.date:
    return local_date(now, patient.timezone)


def steps_of(plan: DosePlan) -> list[PlanStep]:
    return [PlanStep(int(s["day"]), tuple(float(d) for d in s["doses_mg"])) for s in plan.steps]


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
        key = _schedule_key(test)
        day = local_date(collected, patient.timezone)
        if key not in last_results or day > last_results[key]:
            last_results[key] = day
    interruptions = schedule_inputs.treatment_breaks(session, patient)
    plan = active_plan(session, patient.id, today)
    stable = stable_dose_since(plan)
    profile = load_profile(patient.clinic.monitoring_profile)
    return monitoring_schedule(
        start_date=patient.clozapine_start_date,
        today=today,
        profile=profile,
        last_results=last_results,
        anc_band=state.anc_band,
        anc_band_since=state.anc_band_since,
        interruptions=interruptions,
        stable_dose_since=stable if stable is not None and stable <= today else None,
        recent_counts=schedule_inputs.recent_clinic_counts(session, patient),
        confirmed_step_downs=schedule_inputs.confirmed_step_downs(session, patient)
        if profile.step_down_needs_confirmation
        else frozenset(),
    )


def _schedule_key(test: str) -> str:
    return {
        "fasting_glucose": "glucose_lipids",
        "lipids": "glucose_lipids",
        "alt": "liver_tests",
        "ast": "liver_tests",
        "bilirubin": "liver_tests",
        "wbc": "wbc_neutrophils",
    }.get(test, test)


def refresh_next_blood_test(session: Session, patient: Patient, now: dt.datetime) -> DueTest | None:
    """Store the next ANC due date (the time-based rules read it for every patient at once)."""
    state = get_state(session, patient, now)
    anc = next((item for item in schedule(session, patient, now) if item.test in ANC_TESTS), None)
    due = anc.due_date if anc else None
    if due != state.next_blood_test_due or state.next_blood_reminder_at is None:
        state.next_blood_test_due = due
        plan_blood_reminder(state, patient, now)
    state.updated_at = now
    return anc


def treatment_status(session: Session, patient: Patient, now: dt.datetime) -> str:
    """not_started, in_titration, stable, interrupted or needs_retitration."""
    state = get_state(session, patient, now)
    if state.needs_retitration:
        return "needs_retitration"
    if state.anc_band in ("moderate", "severe"):
        return "interrupted"
    today = today_for(patient, now)
    plan = active_plan(session, patient.id, today)
    if plan is None:
        return "not_started"
    stable = stable_dose_since(plan)
    return "stable" if stable is not None and today >= stable else "in_titration"


def status_view(session: Session, patient: Patient, now: dt.datetime) -> dict[str, Any]:
    state = get_state(session, patient, now)
    today = today_for(patient, now)
    anc = next((item for item in schedule(session, patient, now) if item.test in ANC_TESTS), None)
    return {
        "status": {
            "adherence_7d": adherence(session, patient, now),
            "push_reachable": push_reachable(session, patient),
            "treatment": treatment_status(session, patient, now),
            "anc_band": state.anc_band,
            "needs_retitration": state.needs_retitration,
            "last_bowel_movement_at": state.last_bowel_movement_at,
            "last_dose_taken_at": state.last_dose_taken_at,
            "tracking_since": state.tracking_since,
        },
        "next_blood_test": None
        if anc is None
        else {
            "test": anc.test,
            "due_date": anc.due_date,
            "status": anc.status,
            "days_away": (anc.due_date - today).days,
        },
    }


def adherence(session: Session, patient: Patient, now: dt.datetime) -> dict[str, int]:
    """Doses taken of those due in the last 7 days."""
    rows = session.execute(
        select(Dose.status, func.count())
        .where(
            Dose.patient_id == patient.id,
            Dose.scheduled_at > now - dt.timedelta(days=7),
            Dose.scheduled_at <= now,
            Dose.status != "cancelled",
        )
        .group_by(Dose.status)
    ).all()
    counts = {status: int(n) for status, n in rows}
    return {"taken": counts.get("taken", 0), "due": sum(counts.values())}


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
