"""The doses of a day, made from the plan in force, and dose events (taken or skipped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, exists, func, literal, not_, or_, select, update
from sqlalchemy.orm import Session

from server.domain import PlanStep, daily_doses, dose_instants
from server.domain.doses import (
    MISSED_AFTER,
    can_mark,
    dose_status,
    event_time_problem,
    marking_window,
    plan_day,
    was_taken_before_pause,
)
from server.domain.dosetimes import as_utc
from server.domain.tablets import Tablets, split_dose
from server.domain.treatment import WITHHELD, CourseState, CourseView
from server.models import Dose, DoseEvent, DosePlan, Patient
from server.services import idempotency, medicines
from server.services import state as states
from server.services.errors import Conflict, Invalid, NotFound
from server.services.sql import insert_for

# How far ahead the first dose of a plan is looked for (a plan's first days may have no dose
# at some times, never a week without one).
FIRST_DOSE_WITHIN_DAYS = 14


@dataclass(frozen=True)
class DoseOnDay:
    """A dose as the patient's Today shows it: its status now (a pending dose long past is
    missed), its tablets, and whether (and from when until when) marking it taken or skipped
    would be accepted."""

    dose: Dose
    status: str
    tablets: tuple[Tablets, ...] | None  # None: strengths not set; (): they cannot make it
    can_mark: bool
    mark_from: dt.datetime
    mark_until: dt.datetime


@dataclass(frozen=True)
class DayOfDoses:
    """A local date's doses and whether the treatment course withholds them."""

    date: dt.date
    treatment: str
    doses_withheld: bool
    doses: list[DoseOnDay]


@dataclass(frozen=True)
class MarkedDose:
    """A dose event just recorded and the dose it marked."""

    event: DoseEvent
    dose: Dose


def planned_doses(
    plan: DosePlan, patient: Patient, on: dt.date
) -> list[tuple[str, dt.datetime, float]]:
    """(time, instant, mg) of each dose the plan gives on a local date (none of 0 mg)."""
    return doses_of_steps(states.steps_of(plan), plan.times, plan.start_date, patient, on)


def doses_of_steps(
    steps: Sequence[PlanStep],
    times: Sequence[str],
    start: dt.date,
    patient: Patient,
    on: dt.date,
) -> list[tuple[str, dt.datetime, float]]:
    """planned_doses for a plan's steps and times starting on `start` (one not saved yet)."""
    if on < start:
        return []
    doses = daily_doses(steps, plan_day(start, on))
    instants = dose_instants(on, times, patient.timezone)
    return [
        (time, instant, mg)
        for time, instant, mg in zip(times, instants, doses, strict=True)
        if mg > 0
    ]


def materialise(
    session: Session,
    patient: Patient,
    on: dt.date,
    *,
    status: str = "pending",
    status_at: dt.datetime | None = None,
    not_before: dt.datetime | None = None,
) -> None:
    """Insert the day's doses from the plan in force (once: a unique key per plan and time),
    as `status` (pending, or withheld while the course withholds them, with `status_at` the
    moment it was paused); none before `not_before` (a plan made today has no doses before it
    was made)."""
    plan = states.active_plan(session, patient.id, on)
    if plan is None:
        return
    rows = [
        {
            "patient_id": patient.id,
            "plan_id": plan.id,
            "local_date": on,
            "local_time": time,
            "scheduled_at": instant,
            "mg": mg,
            "status": status,
            "status_at": status_at,
        }
        for time, instant, mg in planned_doses(plan, patient, on)
        if not_before is None or instant >= not_before
    ]
    if not rows:
        return
    insert = insert_for(session)
    session.execute(insert(Dose).values(rows).on_conflict_do_nothing())


def first_dose_after(
    session: Session, patient: Patient, after: dt.datetime, plan: DosePlan | None = None
) -> dt.datetime | None:
    """The first dose (above 0 mg) the plans give after an instant: the missed-dose clock
    starts there (RULES.md 6 "The missed-dose clock starts at the first non-zero dose")."""
    day = states.today_for(patient, after)
    for _ in range(FIRST_DOSE_WITHIN_DAYS + 1):
        in_force = plan if plan is not None and plan.start_date <= day else None
        in_force = in_force or states.active_plan(session, patient.id, day)
        if in_force is not None:
            for _, instant, _ in planned_doses(in_force, patient, day):
                if instant > after:
                    return instant
        day += dt.timedelta(days=1)
    return None


def _was_due(patient: Patient, now: dt.datetime) -> Any:
    """A dose of the patient's that has been due: marked, left pending past its time, or
    withheld or cancelled once its time had come."""
    return and_(
        Dose.patient_id == patient.id,
        or_(
            Dose.status.in_(("taken", "skipped")),
            and_(Dose.status == "pending", Dose.scheduled_at <= now),
            and_(
                Dose.status.in_(("withheld", "cancelled")),
                Dose.status_at >= Dose.scheduled_at,
            ),
        ),
    )


def clozapine_begun(session: Session, patient: Patient, now: dt.datetime) -> bool:
    """Whether the patient has begun clozapine: a dose has been due (_was_due). A start called
    off before its first dose, or a plan not begun, has none (RULES.md 2 "Baseline before
    starting")."""
    return bool(session.scalar(select(exists().where(_was_due(patient, now)))))


def first_due_at(session: Session, patient: Patient, now: dt.datetime) -> dt.datetime | None:
    """When the patient's first dose came due (_was_due), None if none has."""
    first = session.scalar(select(func.min(Dose.scheduled_at)).where(_was_due(patient, now)))
    return None if first is None else as_utc(first)


def withhold(session: Session, patient: Patient, now: dt.datetime, *, stop: bool) -> list[int]:
    """Doses not yet taken that are still to come (or not yet missed) are withheld (RULES.md
    6), or cancelled when treatment stops; doses already missed stay as they were. Returns
    their ids (their queued reminders are then cancelled)."""
    found = session.execute(
        update(Dose)
        .where(
            Dose.patient_id == patient.id,
            Dose.status == "pending",
            Dose.scheduled_at > now - MISSED_AFTER,
        )
        .values(status="cancelled" if stop else "withheld", status_at=now)
        .returning(Dose.id)
        .execution_options(synchronize_session=False)
    )
    return [row.id for row in found]


def release(session: Session, patient: Patient, now: dt.datetime) -> None:
    """A resumed course: its withheld doses still to come are due again."""
    session.execute(
        update(Dose)
        .where(Dose.patient_id == patient.id, Dose.status == "withheld", Dose.scheduled_at > now)
        .values(status="pending", status_at=None)
        .execution_options(synchronize_session=False)
    )


def _replaced_at(now: dt.datetime) -> Any:
    """The doses a new plan replaces at `now` (replace_from): not recorded (pending or
    withheld) and still to come."""
    return and_(Dose.scheduled_at > now, Dose.status.in_(("pending", "withheld")))


def kept_mg(session: Session, patient: Patient, on: dt.date, now: dt.datetime) -> float:
    """The mg of a local date's doses that a new plan from that date keeps (not _replaced_at)
    and that count for the day: taken, or pending once their time has come (still to be
    taken and marked)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Dose.mg), 0)).where(
            Dose.patient_id == patient.id,
            Dose.local_date == on,
            Dose.status.in_(("taken", "pending")),
            not_(_replaced_at(now)),
        )
    )
    return float(total or 0)


def replace_from(
    session: Session, patient: Patient, plan: DosePlan, start: dt.date, now: dt.datetime
) -> list[int]:
    """A new plan from `start`: the earlier plans' doses from then on that were not recorded
    (pending or withheld) and are still to come are cancelled (those already due stay, as
    missed or withheld, for the record); returns their ids. A cancelled dose keeps in status_at
    the moment it stopped being due: a withheld one, the pause (a dose taken before it, logged
    late, is still recorded: _check_taken_before_change); a pending one, now."""
    found = session.execute(
        update(Dose)
        .where(
            Dose.patient_id == patient.id,
            Dose.plan_id != plan.id,
            Dose.local_date >= start,
            _replaced_at(now),
        )
        .values(
            status="cancelled",
            status_at=case(
                (
                    and_(Dose.status == "withheld", Dose.status_at.is_not(None)),
                    Dose.status_at,
                ),
                else_=literal(now, Dose.status_at.type),
            ),
        )
        .returning(Dose.id)
        .execution_options(synchronize_session=False)
    )
    return [row.id for row in found]


def day_doses(session: Session, patient: Patient, on: dt.date) -> Sequence[Dose]:
    """The doses made for a local date (reading never makes them: the plan and the worker do)."""
    return session.scalars(
        select(Dose)
        .where(Dose.patient_id == patient.id, Dose.local_date == on, Dose.status != "cancelled")
        .order_by(Dose.scheduled_at)
    ).all()


def tablets_for(mg: float, strengths_mg: list[float] | None) -> tuple[Tablets, ...] | None:
    """The tablets that make a dose (None when the patient's strengths are not set; () when
    they cannot make it, and the patient is to ask the care team)."""
    if not strengths_mg:
        return None
    return split_dose(mg, strengths_mg) or ()


def dose_on_day(dose: Dose, patient: Patient, now: dt.datetime, *, withheld: bool) -> DoseOnDay:
    """A dose as the patient's Today shows it (DoseOnDay)."""
    status = dose_status(dose.status, dose.scheduled_at, now)
    opens, closes = marking_window(dose.scheduled_at)
    return DoseOnDay(
        dose=dose,
        status=status,
        tablets=tablets_for(dose.mg, patient.tablet_strengths_mg),
        can_mark=can_mark(status, dose.scheduled_at, now, withheld=withheld),
        mark_from=opens,
        mark_until=closes,
    )


def doses_of_day(
    session: Session, patient: Patient, on: dt.date | None, now: dt.datetime
) -> DayOfDoses:
    """A day's doses (default today) and whether the treatment course withholds them."""
    day = on or states.today_for(patient, now)
    view = states.course_view(session, patient, now)
    withheld = view.doses_withheld
    return DayOfDoses(
        date=day,
        treatment=view.state,
        doses_withheld=withheld,
        doses=[
            dose_on_day(d, patient, now, withheld=withheld)
            for d in day_doses(session, patient, day)
        ],
    )


def paused_at(dose: Dose, view: CourseView) -> dt.datetime | None:
    """When the course was paused for this dose: a withheld dose keeps the moment it was
    withheld (a resume the same day leaves it so); a dose left unmarked before a pause that
    lasts, the course's pause; None for a stopped course (stopped_at answers for the doses
    its stop cancelled)."""
    if dose.status == "withheld" and dose.status_at is not None:
        return dose.status_at
    if view.state in WITHHELD and isinstance(view.since, dt.datetime):
        return view.since
    return None


def stopped_at(dose: Dose, view: CourseView) -> dt.datetime | None:
    """When a stop cancelled this dose: the course is stopped and the dose was cancelled at
    that very moment (`withhold(stop=True)` writes it in status_at). None for a dose a newer
    plan replaced (_check_taken_before_change answers for those)."""
    if (
        dose.status == "cancelled"
        and view.state == CourseState.STOPPED
        and isinstance(view.since, dt.datetime)
        and dose.status_at is not None
        and as_utc(dose.status_at) == as_utc(view.since)
    ):
        return view.since
    return None


def _local_moment(moment: dt.datetime, patient: Patient) -> str:
    local = as_utc(moment).astimezone(ZoneInfo(patient.timezone))
    return f"{local:%Y-%m-%d %H:%M} ({patient.timezone})"


def _check_taken_before_change(dose: Dose, patient: Patient, data: dict[str, Any]) -> None:
    """A dose a newer plan replaced (a restart plan after a hold or a stop, or a change of
    dose): recorded taken when it was taken before it stopped being due (status_at: the pause,
    the stop or the plan, whichever came first; replace_from), inside its window, for it was
    swallowed while the course was running (RULES.md 6; nothing a patient entered is lost).
    Otherwise 409 `dose_replaced`: the care team changed it, and the patient is to check
    today's doses (the new plan's)."""
    changed = dose.status_at
    if (
        data["status"] == "taken"
        and changed is not None
        and was_taken_before_pause(dose.scheduled_at, data["at"], changed)
    ):
        return
    moment = f" at {_local_moment(changed, patient)}" if changed is not None else ""
    if data["status"] == "taken" and (changed is None or as_utc(data["at"]) >= as_utc(changed)):
        message = (
            f"Your care team changed this dose{moment}: a dose taken after that cannot be "
            "recorded as this one. Check today's doses."
        )
    else:
        message = (
            f"Your care team changed this dose{moment}: it is no longer due. Check today's doses."
        )
    raise Conflict(message, {"dose_id": ["Replaced."]}, code="dose_replaced")


def _check_taken_before_pause(
    dose: Dose, paused: dt.datetime | None, patient: Patient, data: dict[str, Any], *, stop: bool
) -> None:
    """A dose of a paused course, or one a stop cancelled, is refused (409 `dose_withheld`,
    RULES.md 6), unless it is recorded taken at a time before the pause or the stop (`paused`),
    inside its window (was_taken_before_pause)."""
    if (
        data["status"] == "taken"
        and paused is not None
        and was_taken_before_pause(dose.scheduled_at, data["at"], paused)
    ):
        return
    message = "This dose is withheld: do not take it. The care team will say when to restart."
    if paused is not None:
        moment = _local_moment(paused, patient)
        after = data["status"] == "taken" and as_utc(data["at"]) >= as_utc(paused)
        if after and not stop:
            message = (
                f"Treatment was paused at {moment}: a dose taken after that cannot be "
                "recorded. Do not take doses until the care team says to restart."
            )
        elif after:
            message = (
                f"Treatment was stopped at {moment}: a dose taken after that cannot be "
                "recorded. Do not take clozapine unless the care team says to restart."
            )
        elif stop:
            message = (
                f"Treatment was stopped at {moment}: this dose is no longer due. Do not take "
                "clozapine unless the care team says to restart."
            )
    raise Conflict(message, {"dose_id": ["Withheld."]}, code="dose_withheld")


def _record_event(session: Session, entry: idempotency.Entry, content: Any = None) -> MarkedDose:
    actor, patient, data, now = entry.actor, entry.patient, entry.data, entry.now
    # the course first, its summary row locked (as a transition reads it): a hold or a count
    # at the same moment withholds the doses after locking that row, so this event waits for
    # it and then reads the dose as it left it (the same order, so the two never deadlock)
    view = states.course_view(session, patient, now, for_update=True)
    dose = session.get(Dose, data["dose_id"])
    if dose is None or dose.patient_id != patient.id:
        raise NotFound("No such dose for this patient.", {"dose_id": ["Unknown dose."]})
    if dose.status == "cancelled":
        stopped = stopped_at(dose, view)
        if stopped is None:
            _check_taken_before_change(dose, patient, data)
        else:
            _check_taken_before_pause(dose, stopped, patient, data, stop=True)
    elif dose.status == "withheld" or view.doses_withheld:
        _check_taken_before_pause(dose, paused_at(dose, view), patient, data, stop=False)
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
        reason_code=data.get("reason_code"),
        recorded_by_id=actor.user_id,
        recorded_at=now,
    )
    session.add(event)
    dose.status = data["status"]
    dose.status_at = data["at"]
    session.flush()
    medicines.clozapine_dose_recorded(
        session,
        actor=actor,
        patient=patient,
        dose=dose,
        status=data["status"],
        reason=data.get("reason_code"),
        now=now,
        content=content,
    )
    states.dose_taken(session, patient, now)
    if data["status"] == "taken":
        states.dose_taken_at(session, patient, data["at"], now)
    return MarkedDose(event, dose)


def record_dose_event(
    session: Session, entry: idempotency.Entry, content: Any = None
) -> idempotency.Outcome:
    """Mark a dose taken or skipped; the same Idempotency-Key answers once. A dose taken comes
    off the clozapine stock; one skipped because the patient has run out tells the care team
    (services/medicines.py)."""

    return entry.once(session, lambda: _record_event(session, entry, content))


def of_dates(patient: Patient, first: dt.date, last: dt.date) -> Select[dt.date, str, dt.datetime]:
    """The patient's doses of the local dates first..last (local date, status, scheduled
    instant), those a newer plan replaced left out."""
    return select(Dose.local_date, Dose.status, Dose.scheduled_at).where(
        Dose.patient_id == patient.id,
        Dose.local_date >= first,
        Dose.local_date <= last,
        Dose.status != "cancelled",
    )


def dose_events(
    session: Session, patient: Patient, since: dt.datetime | None, limit: int
) -> Sequence[DoseEvent]:
    query = select(DoseEvent).where(DoseEvent.patient_id == patient.id)
    if since is not None:
        query = query.where(DoseEvent.recorded_at >= since)
    return session.scalars(query.order_by(DoseEvent.at.desc()).limit(limit)).all()
