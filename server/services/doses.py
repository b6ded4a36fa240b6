"""The doses of a day, made from the plan in force, and dose events (taken or skipped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain import daily_doses, dose_instants
from server.domain.doses import dose_status, event_time_problem, plan_day
from server.models import Dose, DoseEvent, Patient, TreatmentInterruption
from server.policy import Actor
from server.services import idempotency
from server.services import state as states
from server.services.errors import Conflict, Invalid, NotFound
from server.services.sql import insert_for


def materialise(session: Session, patient: Patient, on: dt.date) -> None:
    """Insert the day's doses from the plan in force (once: a unique key per plan and time)."""
    plan = states.active_plan(session, patient.id, on)
    if plan is None:
        return
    doses = daily_doses(states.steps_of(plan), plan_day(plan.start_date, on))
    instants = dose_instants(on, plan.times, patient.timezone)
    rows = [
        {
            "patient_id": patient.id,
            "plan_id": plan.id,
            "local_date": on,
            "local_time": time,
            "scheduled_at": instant,
            "mg": mg,
            "status": "pending",
        }
        for time, instant, mg in zip(plan.times, instants, doses, strict=True)
        if mg > 0
    ]
    if not rows:
        return
    insert = insert_for(session)
    session.execute(insert(Dose).values(rows).on_conflict_do_nothing())


def day_doses(session: Session, patient: Patient, on: dt.date) -> Sequence[Dose]:
    materialise(session, patient, on)
    return session.scalars(
        select(Dose)
        .where(Dose.patient_id == patient.id, Dose.local_date == on, Dose.status != "cancelled")
        .order_by(Dose.scheduled_at)
    ).all()


def dose_view(dose: Dose, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": dose.id,
        "scheduled_at": dose.scheduled_at,
        "local_date": dose.local_date,
        "local_time": dose.local_time,
        "mg": dose.mg,
        "status": dose_status(dose.status, dose.scheduled_at, now),
        "status_at": dose.status_at,
    }


def doses_of_day(
    session: Session, patient: Patient, on: dt.date | None, now: dt.datetime
) -> dict[str, Any]:
    day = on or states.today_for(patient, now)
    doses = day_doses(session, patient, day)
    session.commit()  # materialised rows are kept
    return {"date": day, "doses": [dose_view(d, now) for d in doses]}


def _record_event(
    session: Session, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> tuple[DoseEvent, Dose]:
    dose = session.get(Dose, data["dose_id"])
    if dose is None or dose.patient_id != patient.id:
        raise NotFound("No such dose for this patient.", {"dose_id": ["Unknown dose."]})
    if dose.status == "cancelled":
        raise Conflict("This dose was replaced by a newer plan.", {"dose_id": ["Replaced."]})
    if dose.status == data["status"]:
        raise Conflict(
            f"This dose is already recorded as {dose.status}.", {"dose_id": ["Already recorded."]}
        )
    problem = event_time_problem(dose.scheduled_at, data["at"], now)
    if problem:
        raise Invalid({"at": [problem]})
    event = DoseEvent(
        patient_id=patient.id,
        dose_id=dose.id,
        status=data["status"],
        at=data["at"],
        reason=data.get("reason"),
        recorded_by_id=actor.user_id,
        recorded_at=now,
    )
    session.add(event)
    dose.status = data["status"]
    dose.status_at = data["at"]
    session.flush()
    state = states.get_state(session, patient, now)
    state.last_dose_taken_at = session.scalar(
        select(func.max(Dose.status_at)).where(
            Dose.patient_id == patient.id, Dose.status == "taken"
        )
    )
    if data["status"] == "taken":
        gap = session.scalars(
            select(TreatmentInterruption).where(
                TreatmentInterruption.patient_id == patient.id,
                TreatmentInterruption.restarted_on.is_(None),
            )
        ).first()
        if gap is not None:
            gap.restarted_on = states.today_for(patient, data["at"])
            states.refresh_next_blood_test(session, patient, now)
    state.updated_at = now
    return event, dose


def record_dose_event(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    data: dict[str, Any],
    now: dt.datetime,
    claim: idempotency.Claim | None,
) -> idempotency.Outcome:
    """Mark a dose taken or skipped; the same Idempotency-Key answers once."""

    def present(result: tuple[DoseEvent, Dose]) -> dict[str, Any]:
        event, dose = result
        return {
            "id": event.id,
            "dose_id": dose.id,
            "status": event.status,
            "at": event.at.isoformat(),
            "reason": event.reason,
            "dose": {
                "id": dose.id,
                "scheduled_at": dose.scheduled_at.isoformat(),
                "mg": dose.mg,
                "status": dose.status,
            },
        }

    return idempotency.run_once(
        session, claim, now, lambda: _record_event(session, actor, patient, data, now), present
    )


def dose_events(
    session: Session, patient: Patient, since: dt.datetime | None, limit: int
) -> Sequence[DoseEvent]:
    query = select(DoseEvent).where(DoseEvent.patient_id == patient.id)
    if since is not None:
        query = query.where(DoseEvent.recorded_at >= since)
    return session.scalars(query.order_by(DoseEvent.at.desc()).limit(limit)).all()
