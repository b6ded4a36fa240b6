"""Tasks for the care team: each step down of a patient's ANC schedule waits for their
confirmation (RULES.md 3 and 7, uk-smpc: "the care team confirms each step down").

A task is derived, not stored: it exists while the step down is due and unconfirmed; what is
stored is the confirmation (AncStepDownConfirmation), which the schedule reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain import StepDown, load_profile, pending_step_downs
from server.domain.lab_units import MONITORED_COUNTS
from server.models import AncStepDownConfirmation, Clinic, Patient
from server.policy import Actor
from server.services import schedule_inputs
from server.services import state as states
from server.services.errors import NotFound

STEP_DOWN = "anc_step_down"


def _task(patient: Patient, step: StepDown) -> dict[str, Any]:
    return {
        "id": f"{STEP_DOWN}:{step.clock_from.isoformat()}:{step.from_week}",
        "kind": STEP_DOWN,
        "patient_id": patient.id,
        "patient_name": patient.display_name,
        "since": step.reached_on,
        "detail": {
            "clock_from": step.clock_from,
            "from_week": step.from_week,
            "from_interval_days": step.from_interval_days,
            "to_interval_days": step.to_interval_days,
        },
    }


def for_patient(session: Session, patient: Patient, now: dt.datetime) -> list[dict[str, Any]]:
    """The patient's open tasks (none under a profile whose step downs need no one)."""
    profile = load_profile(patient.clinic.monitoring_profile)
    if not profile.step_down_needs_confirmation:
        return []
    steps = pending_step_downs(
        patient.clozapine_start_date,
        states.today_for(patient, now),
        profile,
        schedule_inputs.treatment_breaks(session, patient),
        schedule_inputs.confirmed_step_downs(session, patient),
    )
    return [_task(patient, step) for step in steps]


def for_clinic(session: Session, actor: Actor, now: dt.datetime) -> list[dict[str, Any]]:
    """Every open task of the actor's clinic, oldest first."""
    clinic = session.get(Clinic, actor.clinic_id or -1)
    if clinic is None or not load_profile(clinic.monitoring_profile).step_down_needs_confirmation:
        return []
    patients = session.scalars(select(Patient).where(Patient.clinic_id == clinic.id))
    tasks = [task for patient in patients for task in for_patient(session, patient, now)]
    return sorted(tasks, key=lambda task: (task["since"], task["patient_id"]))


def confirm(
    session: Session, *, actor: Actor, patient: Patient, task_id: str, now: dt.datetime
) -> dict[str, Any]:
    """The care team confirms a step down: the schedule moves to the rarer phase. Confirming
    one already confirmed answers the same; an unknown or not yet due task is 404."""
    open_tasks = {task["id"]: task for task in for_patient(session, patient, now)}
    task = open_tasks.get(task_id)
    if task is None:
        done = _confirmation(session, patient, task_id)
        if done is None:
            raise NotFound("No such task for this patient.")
        return _answer(session, patient, task_id, done, now)
    detail = task["detail"]
    row = AncStepDownConfirmation(
        patient_id=patient.id,
        clock_from=detail["clock_from"],
        from_week=detail["from_week"],
        confirmed_at=now,
        confirmed_by_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # confirmed a moment ago by a colleague
        found = _confirmation(session, patient, task_id)
        if found is None:
            raise
        row = found
    states.blood_schedule_refreshed(session, patient, now)
    answer = _answer(session, patient, task_id, row, now)
    session.commit()
    return answer


def _confirmation(
    session: Session, patient: Patient, task_id: str
) -> AncStepDownConfirmation | None:
    kind, _, rest = task_id.partition(":")
    clock, _, week = rest.partition(":")
    try:
        clock_from, from_week = dt.date.fromisoformat(clock), int(week)
    except ValueError:
        return None
    if kind != STEP_DOWN:
        return None
    return session.scalars(
        select(AncStepDownConfirmation).where(
            AncStepDownConfirmation.patient_id == patient.id,
            AncStepDownConfirmation.clock_from == clock_from,
            AncStepDownConfirmation.from_week == from_week,
        )
    ).first()


def _answer(
    session: Session,
    patient: Patient,
    task_id: str,
    row: AncStepDownConfirmation,
    now: dt.datetime,
) -> dict[str, Any]:
    anc = next(
        (i for i in states.schedule(session, patient, now) if i.test in MONITORED_COUNTS), None
    )
    return {
        "id": task_id,
        "confirmed_at": row.confirmed_at,
        "next_blood_test": None
        if anc is None
        else {"test": anc.test, "due_date": anc.due_date, "reason": anc.reason},
    }
