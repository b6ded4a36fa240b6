"""Tasks for the care team: each step down of a patient's ANC schedule waits for their
confirmation (RULES.md 3 and 7, uk-smpc: "the care team confirms each step down").

A task is derived, not stored: it exists while the step down is due and unconfirmed; what is
stored is the confirmation (AncStepDownConfirmation), which the schedule reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain import StepDown, load_profile, pending_step_downs
from server.domain.lab_units import MONITORED_COUNTS
from server.domain.schedule import DueTest
from server.models import AncStepDownConfirmation, Clinic, Patient
from server.policy import Actor
from server.services import schedule_inputs
from server.services import state as states
from server.services.errors import NotFound

STEP_DOWN = "anc_step_down"


@dataclass(frozen=True)
class CareTask:
    """A step down of a patient's ANC schedule that waits for the care team's confirmation."""

    patient: Patient
    detail: StepDown
    kind: str = STEP_DOWN

    @property
    def id(self) -> str:
        return f"{STEP_DOWN}:{self.detail.clock_from.isoformat()}:{self.detail.from_week}"

    @property
    def since(self) -> dt.date:
        return self.detail.reached_on


@dataclass(frozen=True)
class Confirmed:
    """A task confirmed (now or before), and the next count the schedule then asks for."""

    id: str
    confirmed_at: dt.datetime
    next_blood_test: DueTest | None


def for_patient(session: Session, patient: Patient, now: dt.datetime) -> list[CareTask]:
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
    return [CareTask(patient, step) for step in steps]


def for_clinic(session: Session, actor: Actor, now: dt.datetime) -> list[CareTask]:
    """Every open task of the actor's clinic, oldest first."""
    clinic = session.get(Clinic, actor.clinic_id or -1)
    if clinic is None or not load_profile(clinic.monitoring_profile).step_down_needs_confirmation:
        return []
    patients = session.scalars(select(Patient).where(Patient.clinic_id == clinic.id))
    tasks = [task for patient in patients for task in for_patient(session, patient, now)]
    return sorted(tasks, key=lambda task: (task.since, task.patient.id))


def confirm(
    session: Session, *, actor: Actor, patient: Patient, task_id: str, now: dt.datetime
) -> Confirmed:
    """The care team confirms a step down: the schedule moves to the rarer phase. Confirming
    one already confirmed answers the same; an unknown or not yet due task is 404."""
    open_tasks = {task.id: task for task in for_patient(session, patient, now)}
    task = open_tasks.get(task_id)
    if task is None:
        done = _confirmation(session, patient, task_id)
        if done is None:
            raise NotFound("No such task for this patient.")
        return _answer(session, patient, task_id, done, now)
    row = AncStepDownConfirmation(
        patient_id=patient.id,
        clock_from=task.detail.clock_from,
        from_week=task.detail.from_week,
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
) -> Confirmed:
    anc = next(
        (i for i in states.schedule(session, patient, now) if i.test in MONITORED_COUNTS), None
    )
    return Confirmed(task_id, row.confirmed_at, anc)
