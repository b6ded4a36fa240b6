"""Other medicines (laxatives first) and the stock of every medicine, clozapine's included:
listed by the care team or the patient's side, reminded at their times like doses (without
clozapine's rules: no titration, no withholding, no missed-dose flag), marked taken or skipped,
counted down as doses are taken, with a refill reminder a week before the stock runs out.
The rules (when it runs out, when to remind, whether the blood result is in) are in
server/domain/supply.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server.domain import dose_instants, local_date
from server.domain.doses import MISSED_AFTER, TAKE_EARLY_LIMIT, dose_status, event_time_problem
from server.domain.lab_units import MONITORED_COUNTS
from server.domain.supply import (
    BloodForSupply,
    MedicineKind,
    blood_for_supply,
    is_refill_reminder_due,
    list_order,
    medicine_times,
    next_dose_at,
    ran_out_flag,
    refill_reminder_at,
    runs_out_on,
    tablets_per_dose,
)
from server.models import Dose, DosePlan, Medicine, MedicineEvent, OutboxMessage, Patient
from server.policy import Actor
from server.services import escalations, idempotency, outbox, recipients
from server.services import state as states
from server.services.errors import Conflict, Invalid, NotFound
from server.services.sql import batches

# How far ahead a stock is followed (a count that lasts longer has no refill date yet).
FORECAST_DAYS = 400
REFILL_USEFUL_FOR = dt.timedelta(hours=24)


@dataclass(frozen=True)
class MedicineDose:
    """A dose of a medicine today: its time, and whether (and when) it was marked."""

    scheduled_at: dt.datetime
    local_time: str
    status: str
    at: dt.datetime | None


@dataclass(frozen=True)
class SupplyNote:
    """What a reader is told of a stock running low (content/, in their words)."""

    code: str
    title: str
    text: str


@dataclass(frozen=True)
class MedicineOnDay:
    """A medicine with today's doses and its supply (whether a refill is due, whether the
    blood result clozapine's next supply needs is in, and what the reader is told)."""

    medicine: Medicine
    refill_due: bool
    blood_for_supply: str | None
    supply_note: SupplyNote | None
    today: list[MedicineDose]


@dataclass(frozen=True)
class MedicinesOfDay:
    """Every medicine still taken, on the patient's local date."""

    date: dt.date
    items: list[MedicineOnDay]


@dataclass(frozen=True)
class MarkedMedicine:
    """A medicine's dose event just recorded, and the medicine (its stock counted down)."""

    event: MedicineEvent
    medicine: Medicine


# --- reading -----------------------------------------------------------------------------------


def listed(session: Session, patient: Patient) -> list[Medicine]:
    """The patient's medicines still taken, laxatives first."""
    rows = session.scalars(
        select(Medicine).where(Medicine.patient_id == patient.id, Medicine.stopped_at.is_(None))
    ).all()
    return sorted(rows, key=lambda m: list_order(m.kind, m.name))


def _get(session: Session, patient: Patient, medicine_id: int) -> Medicine:
    medicine = session.get(Medicine, medicine_id)
    if medicine is None or medicine.patient_id != patient.id or medicine.stopped_at is not None:
        raise NotFound("No such medicine for this patient.", {"medicine_id": ["Unknown."]})
    return medicine


def day_slots(medicine: Medicine, patient: Patient, on: dt.date) -> list[dt.datetime]:
    """The instants of a medicine's doses on a local date (none for clozapine: the plan's),
    from the moment it was listed."""
    if medicine.kind == MedicineKind.CLOZAPINE or not medicine.times:
        return []
    found = sorted(dose_instants(on, medicine.times, patient.timezone))
    return [slot for slot in found if slot >= medicine.created_at]


def _events(
    session: Session, medicine_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.datetime], MedicineEvent]:
    if not medicine_ids:
        return {}
    rows = session.scalars(
        select(MedicineEvent).where(
            MedicineEvent.medicine_id.in_(medicine_ids),
            MedicineEvent.scheduled_at >= start,
            MedicineEvent.scheduled_at <= end,
        )
    ).all()
    return {(e.medicine_id, e.scheduled_at): e for e in rows}


def _anc_due(session: Session, patient: Patient, now: dt.datetime) -> dt.date | None:
    """The next ANC due date by the clinic's monitoring schedule (server/domain/schedule.py)."""
    due = next(
        (t for t in states.schedule(session, patient, now) if t.test in MONITORED_COUNTS), None
    )
    return due.due_date if due else None


def blood_note(session: Session, medicine: Medicine, patient: Patient, now: dt.datetime) -> str:
    """For clozapine: whether the blood result its next supply needs is in."""
    if medicine.kind != MedicineKind.CLOZAPINE or medicine.runs_out_on is None:
        return BloodForSupply.UNKNOWN.value
    return blood_for_supply(_anc_due(session, patient, now), medicine.runs_out_on).value


def overview(
    session: Session, patient: Patient, now: dt.datetime, content: Any, role: str
) -> MedicinesOfDay:
    """Every medicine with today's doses (and whether each is marked) and its supply."""
    today = states.today_for(patient, now)
    rows = listed(session, patient)
    slots = {m.id: day_slots(m, patient, today) for m in rows}
    every = [s for found in slots.values() for s in found]
    events = _events(session, [m.id for m in rows], min(every), max(every)) if every else {}
    return MedicinesOfDay(
        date=today,
        items=[
            medicine_on_day(
                session, m, patient, now, content, role, slots[m.id], events, today=today
            )
            for m in rows
        ],
    )


def medicine_on_day(
    session: Session,
    medicine: Medicine,
    patient: Patient,
    now: dt.datetime,
    content: Any,
    role: str,
    slots: Sequence[dt.datetime] | None = None,
    events: dict[tuple[int, dt.datetime], MedicineEvent] | None = None,
    *,
    today: dt.date | None = None,
) -> MedicineOnDay:
    """A medicine with today's doses and its supply, as `role` reads it."""
    today = today or states.today_for(patient, now)
    slots = day_slots(medicine, patient, today) if slots is None else slots
    if events is None:
        events = _events(session, [medicine.id], slots[0], slots[-1]) if slots else {}
    doses = []
    for slot in slots:
        event = events.get((medicine.id, slot))
        doses.append(
            MedicineDose(
                scheduled_at=slot,
                local_time=slot.astimezone(ZoneInfo(patient.timezone)).strftime("%H:%M"),
                status=event.status if event else dose_status("pending", slot, now),
                at=event.at if event else None,
            )
        )
    refill_due = is_refill_reminder_due(medicine.runs_out_on, today)
    blood = blood_note(session, medicine, patient, now) if refill_due else None
    return MedicineOnDay(
        medicine=medicine,
        refill_due=refill_due,
        blood_for_supply=blood,
        supply_note=_supply_note(content, medicine, refill_due, blood, role),
        today=doses,
    )


def _supply_note(
    content: Any, medicine: Medicine, refill_due: bool, blood: str | None, role: str
) -> SupplyNote | None:
    """What the patient's side (or the care team) reads about a stock running low."""
    if not refill_due:
        return None
    key = f"clozapine_blood_{blood}" if medicine.kind == MedicineKind.CLOZAPINE else "refill"
    entry = content.supply[key]
    reader = {"patient": "patient", "caregiver": "caregiver"}.get(role, "clinician")
    return SupplyNote(key, str(entry["title"]), str(entry[reader]))


# --- writing -----------------------------------------------------------------------------------


def _check(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields a medicine of a kind takes, checked (clozapine takes its times from the plan
    and counts its stock in tablets of one strength)."""
    values = dict(data)
    if "name" in values and not values["name"].strip():
        raise Invalid({"name": ["Give the medicine's name."]})
    if kind == MedicineKind.CLOZAPINE:
        if values.get("times"):
            raise Invalid({"times": ["Clozapine's times come from the dose plan."]})
        values["times"] = []
        if values.get("units_per_dose") is not None:
            raise Invalid({"units_per_dose": ["Clozapine's doses come from the dose plan."]})
        if values.get("stock") is not None and not values.get("strength_mg"):
            raise Invalid({"strength_mg": ["Say which tablet strength the stock is counted in."]})
    else:
        if values.get("strength_mg") is not None:
            raise Invalid({"strength_mg": ["Only for clozapine."]})
        if "times" in values:
            try:
                values["times"] = list(medicine_times(values["times"]))
            except ValueError as exc:
                raise Invalid({"times": [str(exc)]}) from exc
    return values


def add_medicine(
    session: Session, *, actor: Actor, patient: Patient, data: dict[str, Any], now: dt.datetime
) -> Medicine:
    """List a medicine with its times and stock (one clozapine stock per patient)."""
    kind = data["kind"]
    values = _check(data, kind)
    if kind != MedicineKind.CLOZAPINE and "times" not in values:
        raise Invalid({"times": ["Give the times of day it is taken."]})
    if kind == MedicineKind.CLOZAPINE and any(m.kind == kind for m in listed(session, patient)):
        raise Conflict(
            "Clozapine is already listed: update its stock instead.", {"kind": ["Listed."]}
        )
    medicine = Medicine(
        patient_id=patient.id,
        kind=kind,
        name=values["name"].strip(),
        times=values.get("times", []),
        dose_text=values.get("dose_text"),
        units_per_dose=(
            None if kind == MedicineKind.CLOZAPINE else values.get("units_per_dose") or 1.0
        ),
        strength_mg=values.get("strength_mg"),
        stock=values.get("stock"),
        stock_counted_at=now if values.get("stock") is not None else None,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(medicine)
    session.flush()
    _plan_reminders(session, medicine, patient, now)
    session.commit()
    return medicine


def change_medicine(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    medicine_id: int,
    data: dict[str, Any],
    now: dt.datetime,
) -> Medicine:
    """Change a medicine's name, times, dose or strength; a new `stock` is a new count (a
    refill: its refill reminder comes again); `stopped: true` takes it off the list."""
    medicine = _get(session, patient, medicine_id)
    values = _check(data, medicine.kind)
    if values.pop("stopped", False):
        medicine.stopped_at = now
        medicine.next_reminder_at = None
        medicine.next_refill_reminder_at = None
        _cancel_reminders(session, medicine.id, "medicine stopped")
    else:
        for name in ("name", "times", "dose_text", "units_per_dose", "strength_mg"):
            if name in values:
                value = values[name]
                setattr(medicine, name, value.strip() if name == "name" else value)
        if medicine.kind != MedicineKind.CLOZAPINE and not medicine.units_per_dose:
            medicine.units_per_dose = 1.0
        if "stock" in values:
            medicine.stock = values["stock"]
            medicine.stock_counted_at = now if values["stock"] is not None else None
            medicine.refill_reminded_at = None  # a new count: its own refill reminder
        if (
            medicine.kind == MedicineKind.CLOZAPINE
            and medicine.stock is not None
            and not medicine.strength_mg
        ):
            raise Invalid({"strength_mg": ["Say which tablet strength the stock is in."]})
        _plan_reminders(session, medicine, patient, now)
    medicine.updated_at = now
    session.commit()
    return medicine


def _cancel_reminders(session: Session, medicine_id: int, reason: str) -> None:
    """Reminders not yet sent for a medicine taken off the list are not sent."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            or_(
                OutboxMessage.dedupe_key.like(f"medicine:{medicine_id}:%"),
                OutboxMessage.dedupe_key.like(f"refill:{medicine_id}:%"),
            ),
        )
        .values(status="cancelled", last_error=reason)
        .execution_options(synchronize_session=False)
    )


def _plan_reminders(session: Session, medicine: Medicine, patient: Patient, now: dt.datetime):
    """The next dose reminder and the stock's forecast (and so its refill reminder)."""
    medicine.next_reminder_at = (
        next_dose_at(medicine.times, patient.timezone, now)
        if medicine.kind != MedicineKind.CLOZAPINE
        else None
    )
    refresh_supply(session, medicine, patient, now)


def refresh_supply(session: Session, medicine: Medicine, patient: Patient, now: dt.datetime):
    """When the stock runs out, followed over the doses still to take, and the refill
    reminder's moment (none again for a count already reminded about)."""
    runs_out = None
    if medicine.stock is not None:
        runs_out = runs_out_on(max(medicine.stock, 0.0), _uses(session, medicine, patient, now))
    medicine.runs_out_on = runs_out
    if medicine.refill_reminded_at is None:
        medicine.next_refill_reminder_at = refill_reminder_at(runs_out, patient.timezone, now)


def _uses(
    session: Session, medicine: Medicine, patient: Patient, now: dt.datetime
) -> Iterator[tuple[dt.date, float]]:
    """The doses still to take from now, in time order, as (local date, units of stock);
    doses already marked are left out."""
    today = states.today_for(patient, now)
    if medicine.kind == MedicineKind.CLOZAPINE:
        yield from _clozapine_uses(session, medicine, patient, now, today)
        return
    units = medicine.units_per_dose or 1.0
    # a dose can be marked up to 12 hours before its time: those are off the stock already
    marked = set(_events(session, [medicine.id], now, now + TAKE_EARLY_LIMIT))
    for offset in range(FORECAST_DAYS):
        day = today + dt.timedelta(days=offset)
        for slot in day_slots(medicine, patient, day):
            if slot > now and (medicine.id, slot) not in marked:
                yield day, units


def _clozapine_uses(
    session: Session, medicine: Medicine, patient: Patient, now: dt.datetime, today: dt.date
) -> Iterator[tuple[dt.date, float]]:
    """Clozapine: the plans' doses (the newest version in force each day) in tablets of the
    counted strength, while the treatment course lets them be taken."""
    if not medicine.strength_mg or states.course_view(session, patient, now).doses_withheld:
        return
    from server.services.doses import planned_doses

    plans = session.scalars(
        select(DosePlan).where(DosePlan.patient_id == patient.id).order_by(DosePlan.version)
    ).all()
    if not plans:
        return
    marked = set(
        session.scalars(
            select(Dose.scheduled_at).where(
                Dose.patient_id == patient.id,
                Dose.scheduled_at > now,
                Dose.status.in_(("taken", "skipped")),
            )
        )
    )
    for offset in range(FORECAST_DAYS):
        day = today + dt.timedelta(days=offset)
        in_force = [p for p in plans if p.start_date <= day]
        if not in_force:
            continue
        for _, instant, mg in planned_doses(in_force[-1], patient, day):
            if instant > now and instant not in marked:
                yield day, tablets_per_dose(mg, medicine.strength_mg)


def clozapine_plan_changed(session: Session, patient: Patient, now: dt.datetime) -> None:
    """A new plan changes how fast the clozapine stock goes (the caller commits)."""
    for medicine in listed(session, patient):
        if medicine.kind == MedicineKind.CLOZAPINE:
            refresh_supply(session, medicine, patient, now)


def clozapine_dose_recorded(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    dose: Dose,
    status: str,
    reason: str | None,
    now: dt.datetime,
    content: Any,
) -> None:
    """A clozapine dose marked: a dose taken comes off the stock; a dose skipped because the
    patient has run out tells the care team (domain/supply.py ran_out_flag). In the caller's
    transaction."""
    clozapine = next((m for m in listed(session, patient) if m.kind == "clozapine"), None)
    taken = status == "taken" and clozapine is not None and clozapine.stock is not None
    if taken and clozapine is not None and clozapine.stock is not None and clozapine.strength_mg:
        used = tablets_per_dose(dose.mg, clozapine.strength_mg)
        clozapine.stock = max(clozapine.stock - used, 0.0)
        refresh_supply(session, clozapine, patient, now)
    flag = ran_out_flag(MedicineKind.CLOZAPINE, status, reason)
    if flag is None:
        return
    title = content.advice_for(flag.advice)["title"] if content is not None else flag.rule
    evidence = {
        "kind": "dose_event",
        "dose_id": dose.id,
        "scheduled_at": dose.scheduled_at.isoformat(),
        "stock": clozapine.stock if clozapine else None,
    }
    escalations.raise_reported_flag(
        session, flag, title, patient=patient, reporter=actor, evidence=evidence, now=now
    )


def _record_event(session: Session, entry: idempotency.Entry) -> MarkedMedicine:
    actor, patient, data, now = entry.actor, entry.patient, entry.data, entry.now
    medicine = _get(session, patient, data["medicine_id"])
    if medicine.kind == MedicineKind.CLOZAPINE:
        raise Invalid({"medicine_id": ["Clozapine doses are marked on the dose itself."]})
    slot: dt.datetime = data["scheduled_at"].astimezone(dt.UTC)
    day = local_date(slot, patient.timezone)
    if slot not in day_slots(medicine, patient, day):
        raise Invalid({"scheduled_at": ["This medicine has no dose at that time."]})
    problem = event_time_problem(slot, data["at"], now)
    if problem:
        raise Invalid({"at": [problem]})
    if (medicine.id, slot) in _events(session, [medicine.id], slot, slot):
        raise Conflict("This dose is already recorded.", {"scheduled_at": ["Already recorded."]})
    event = MedicineEvent(
        patient_id=patient.id,
        medicine_id=medicine.id,
        scheduled_at=slot,
        status=data["status"],
        at=data["at"],
        reason=data.get("reason_code"),
        recorded_by_id=actor.user_id,
        recorded_at=now,
    )
    session.add(event)
    if data["status"] == "taken" and medicine.stock is not None:
        medicine.stock = max(medicine.stock - (medicine.units_per_dose or 1.0), 0.0)
    session.flush()
    refresh_supply(session, medicine, patient, now)
    return MarkedMedicine(event, medicine)


def record_event(session: Session, entry: idempotency.Entry) -> idempotency.Outcome:
    """Mark a dose of another medicine taken or skipped; the same Idempotency-Key answers
    once."""

    return entry.once(session, lambda: _record_event(session, entry))


# --- reminders (the dispatch cycle) ------------------------------------------------------------


def enqueue_reminders(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    """Dose reminders of other medicines at their times (to whoever logs for the patient, as
    for clozapine doses), and refill reminders a week before a stock runs out (to the patient
    and their caregivers, as for blood tests), for the medicines `ids` (the cycle's medicine
    reminders step finds them). Each moment's messages are added once (their keys), and the
    medicine's next moment moved on."""
    if not ids:
        return 0
    found = [
        (medicine, patient)
        for batch in batches(ids)
        for medicine, patient in session.execute(
            select(Medicine, Patient)
            .join(Patient, Patient.id == Medicine.patient_id)
            .where(Medicine.id.in_(batch))
        )
    ]
    doses = [(m, p) for m, p in found if m.next_reminder_at and m.next_reminder_at <= now]
    refills = [
        (m, p) for m, p in found if m.next_refill_reminder_at and m.next_refill_reminder_at <= now
    ]
    rows = _dose_rows(session, doses, now) + _refill_rows(session, refills, now)
    new = outbox.enqueue(session, rows, now)
    session.commit()
    return new


def _dose_rows(
    session: Session, due: Sequence[tuple[Medicine, Patient]], now: dt.datetime
) -> list[dict[str, Any]]:
    if not due:
        return []
    loggers = recipients.loggers(session, (p.id for _, p in due))
    slots = [m.next_reminder_at for m, _ in due if m.next_reminder_at]
    marked = _events(session, [m.id for m, _ in due], min(slots), max(slots))
    rows: list[dict[str, Any]] = []
    for medicine, patient in due:
        slot = medicine.next_reminder_at
        assert slot is not None
        if (medicine.id, slot) not in marked:
            for user_id, suffix in loggers.get(patient.id, []):
                rows.append(
                    {
                        "dedupe_key": f"medicine:{medicine.id}:{int(slot.timestamp())}{suffix}",
                        "kind": "medicine",
                        "recipient_user_id": user_id,
                        "patient_id": patient.id,
                        "due_at": slot,
                        "expires_at": slot + MISSED_AFTER,
                        "payload": {"medicine_id": medicine.id, "slot": slot.isoformat()},
                    }
                )
        medicine.next_reminder_at = next_dose_at(medicine.times, patient.timezone, max(slot, now))
    return rows


def _refill_rows(
    session: Session, due: Sequence[tuple[Medicine, Patient]], now: dt.datetime
) -> list[dict[str, Any]]:
    if not due:
        return []
    logins = recipients.logins(session, (p.id for _, p in due))
    carers = recipients.caregivers(session, (p.id for _, p in due))
    rows: list[dict[str, Any]] = []
    for medicine, patient in due:
        moment = medicine.next_refill_reminder_at
        assert moment is not None
        counted = medicine.stock_counted_at or moment
        payload = {
            "medicine_id": medicine.id,
            "runs_out_on": medicine.runs_out_on.isoformat() if medicine.runs_out_on else None,
            "clozapine": medicine.kind == MedicineKind.CLOZAPINE,
            "blood": blood_note(session, medicine, patient, now),
        }
        for user_id in [logins.get(patient.id), *carers.get(patient.id, [])]:
            if user_id is None:
                continue
            rows.append(
                {
                    "dedupe_key": f"refill:{medicine.id}:{int(counted.timestamp())}:{user_id}",
                    "kind": "refill",
                    "recipient_user_id": user_id,
                    "patient_id": patient.id,
                    "due_at": moment,
                    "expires_at": moment + REFILL_USEFUL_FOR,
                    "payload": payload,
                }
            )
        medicine.refill_reminded_at = now
        medicine.next_refill_reminder_at = None
    return rows


def already_marked(session: Session, messages: Iterable[Any]) -> set[int]:
    """Medicine reminders (outbox.Claimed) whose dose was marked meanwhile, or whose medicine
    was taken off the list: not sent."""
    wanted = [m for m in messages if m.kind == "medicine" and m.payload.get("medicine_id")]
    if not wanted:
        return set()
    ids = sorted({int(m.payload["medicine_id"]) for m in wanted})
    stopped = set(
        session.scalars(
            select(Medicine.id).where(Medicine.id.in_(ids), Medicine.stopped_at.is_not(None))
        )
    )
    slots = [dt.datetime.fromisoformat(m.payload["slot"]) for m in wanted]
    marked = _events(session, ids, min(slots), max(slots))
    return {
        m.id
        for m, slot in zip(wanted, slots, strict=True)
        if int(m.payload["medicine_id"]) in stopped
        or (int(m.payload["medicine_id"]), slot) in marked
    }
