"""The patient's diaries: bowel movements, symptom reports (with red flags), weights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.orm import Session

from server.domain import hours_since, is_plausible_temperature, local_date, read_symptom_report
from server.domain.dosetimes import FUTURE_SKEW
from server.models import BowelMovement, Patient, PatientState, SymptomReport, Weight
from server.services import escalations, idempotency
from server.services import state as states
from server.services.content import Content
from server.services.errors import Invalid

OLDEST = dt.timedelta(days=366)
Row = TypeVar("Row", BowelMovement, SymptomReport, Weight)
BOWEL_MOVEMENTS = cast(Table, BowelMovement.__table__)
# built once, on the Table: the most frequent entry of all needs no unit of work
INSERT_BOWEL_MOVEMENT = insert(BOWEL_MOVEMENTS).returning(BOWEL_MOVEMENTS.c.id)


@dataclass(frozen=True, slots=True)
class LoggedBowelMovement:
    """A bowel movement as inserted (the hot path writes the row without a unit of work)."""

    id: int
    patient_id: int
    occurred_at: dt.datetime
    bristol_type: int
    notes: str | None
    recorded_by_id: int
    recorded_at: dt.datetime


@dataclass(frozen=True)
class RedFlagAdvice:
    """A red flag of a symptom report with its advice in the reader's words (content/)."""

    rule: str
    severity: str
    advice_code: str
    advice: str
    caregiver_advice: str | None
    title: str
    call_now: bool
    guidance: str | None


@dataclass(frozen=True)
class ReadSymptoms:
    """A symptom report as the reader gets it: its red flags' advice in their words and, just
    reported, the escalations it opened and the fields not saved (with why)."""

    report: SymptomReport
    red_flags: list[RedFlagAdvice]
    escalation_ids: list[int] = field(default_factory=list)
    refused_fields: dict[str, list[str]] = field(default_factory=dict)


def check_log_time(field: str, at: dt.datetime, now: dt.datetime) -> None:
    """A diary entry happened in the past year, not in the future (a little clock skew is ok)."""
    if at > now + FUTURE_SKEW:
        raise Invalid({field: ["This time is in the future."]})
    if at < now - OLDEST:
        raise Invalid({field: ["This is more than a year ago."]})


def record_bowel_movement(session: Session, entry: idempotency.Entry) -> idempotency.Outcome:
    """Log a bowel movement (Bristol type 1-7) and keep the last-movement summaries current."""
    data, now = entry.data, entry.now
    check_log_time("occurred_at", data["occurred_at"], now)

    def work() -> LoggedBowelMovement:
        row = {
            "patient_id": entry.patient.id,
            "occurred_at": data["occurred_at"],
            "bristol_type": data["bristol_type"],
            "notes": data.get("notes"),
            "recorded_by_id": entry.actor.user_id,
            "recorded_at": now,
        }
        row["id"] = session.execute(INSERT_BOWEL_MOVEMENT, row).scalar_one()
        states.bowel_movement_logged(session, entry.patient, now)
        return LoggedBowelMovement(**row)

    return entry.once(session, work)


def red_flags_for(report: SymptomReport, content: Content) -> list[RedFlagAdvice]:
    """The report's red flags with the advice `content` gives for each."""
    flags = []
    for flag in report.red_flags:
        advice = content.advice_for(flag["advice"])
        flags.append(
            RedFlagAdvice(
                rule=flag["rule"],
                severity=flag["severity"],
                advice_code=flag["advice"],
                advice=advice["patient"],
                caregiver_advice=advice.get("caregiver"),
                title=advice["title"],
                call_now=bool(advice.get("call_now", False)),
                guidance=advice.get("guidance"),
            )
        )
    return flags


def _temperature_refusal(value: float) -> str:
    """Why a temperature was not saved, in plain words (the app shows its own)."""
    if 86 <= value <= 113:
        return (
            "This looks like °F. Enter the temperature in °C, between 30 and 45 (for example 38.5)."
        )
    return "Please check the temperature: enter it in °C, between 30 and 45 (for example 38.5)."


def _hours_without_bowel_movement(
    session: Session, patient: Patient, state: PatientState | None, at: dt.datetime
) -> float | None:
    """Hours from the last bowel movement logged at or before `at` (or from when tracking
    began) to `at`; None when the diary cannot say (RULES.md 7 "Obstruction from the diary")."""
    last = session.scalar(
        select(func.max(BowelMovement.occurred_at)).where(
            BowelMovement.patient_id == patient.id, BowelMovement.occurred_at <= at
        )
    )
    if isinstance(last, str):  # SQLite max() returns text
        last = dt.datetime.fromisoformat(last)
    reference = last or (state.tracking_since if state is not None else None)
    if reference is None or hours_since(reference, at) < 0:
        return None
    return hours_since(reference, at)


def record_symptoms(
    session: Session, entry: idempotency.Entry, content: Content
) -> idempotency.Outcome:
    """Log a symptom report (a temperature alone is one); a red flag opens (or adds to) its
    escalation in the same transaction, and the answer carries the advice to show the patient
    at once. The report is read with the clinic's current ANC band and the bowel diary
    (RULES.md 7). An implausible temperature is refused on its own field: the symptoms are
    still recorded and flagged, and the answer's refused_fields says why."""
    actor, patient, data, now = entry.actor, entry.patient, entry.data, entry.now
    check_log_time("occurred_at", data["occurred_at"], now)
    occurred_at: dt.datetime = data["occurred_at"]
    day = local_date(occurred_at, patient.timezone)
    # day 1 of the myocarditis watch: the current course's start (RULES.md 6)
    days_on = (day - states.watch_from(session, patient, now)).days + 1
    symptoms = data["symptoms"]
    temperature = data.get("temperature_c")
    refused: dict[str, list[str]] = {}
    if temperature is not None and not is_plausible_temperature(temperature):
        refused["temperature_c"] = [_temperature_refusal(temperature)]
        if not symptoms:
            raise Invalid(refused)
        temperature = None
    state = session.get(PatientState, patient.id)
    try:
        flags = read_symptom_report(
            symptoms,
            temperature_c=temperature,
            days_on_clozapine=days_on if days_on >= 1 else None,
            # the clinic's band only: a patient's copy never sets it (RULES.md 7)
            clinic_anc_band=state.anc_band if state is not None else None,
            hours_without_bowel_movement=_hours_without_bowel_movement(
                session, patient, state, occurred_at
            ),
        )
    except ValueError as exc:
        raise Invalid({"symptoms": [str(exc)]}) from exc

    def work() -> ReadSymptoms:
        report = SymptomReport(
            patient_id=patient.id,
            occurred_at=occurred_at,
            symptoms=sorted(set(symptoms)),
            temperature_c=temperature,
            notes=data.get("notes"),
            red_flags=[{"rule": f.rule, "severity": f.severity, "advice": f.advice} for f in flags],
            recorded_by_id=actor.user_id,
            recorded_at=now,
        )
        session.add(report)
        session.flush()
        opened = []
        for flag in flags:
            title = content.english.advice_for(flag.advice)["title"]  # the care team's words
            evidence = {
                "kind": "symptom_report",
                "symptom_report_id": report.id,
                "symptoms": report.symptoms,
                "temperature_c": report.temperature_c,
                **({"temperature_refused": data["temperature_c"]} if refused else {}),
            }
            escalation, _ = escalations.raise_reported_flag(
                session, flag, title, patient=patient, reporter=actor, evidence=evidence, now=now
            )
            opened.append(escalation.id)
        return ReadSymptoms(report, red_flags_for(report, content), opened, refused)

    return entry.once(session, work)


def record_weight(session: Session, entry: idempotency.Entry) -> idempotency.Outcome:
    """Log a weight in kg."""
    check_log_time("measured_at", entry.data["measured_at"], entry.now)

    def work() -> Weight:
        weight = Weight(
            patient_id=entry.patient.id,
            measured_at=entry.data["measured_at"],
            kg=entry.data["kg"],
            recorded_by_id=entry.actor.user_id,
            recorded_at=entry.now,
        )
        session.add(weight)
        session.flush()
        return weight

    return entry.once(session, work)


def listing(
    session: Session,
    model: type[Row],
    patient: Patient,
    *,
    since: dt.datetime | None,
    limit: int,
) -> Sequence[Row]:
    """A diary, newest first; `since` keeps entries recorded at or after that instant."""
    when = {
        BowelMovement: BowelMovement.occurred_at,
        SymptomReport: SymptomReport.occurred_at,
        Weight: Weight.measured_at,
    }[model]
    query = select(model).where(model.patient_id == patient.id)
    if since is not None:
        query = query.where(model.recorded_at >= since)
    return session.scalars(query.order_by(when.desc()).limit(limit)).all()


def bowel_movements_between(
    patient: Patient, start: dt.datetime, end: dt.datetime
) -> Select[dt.datetime, int]:
    """When and of which Bristol type the patient's bowel movements in [start, end) were."""
    return select(BowelMovement.occurred_at, BowelMovement.bristol_type).where(
        BowelMovement.patient_id == patient.id,
        BowelMovement.occurred_at >= start,
        BowelMovement.occurred_at < end,
    )


def symptom_reports(
    session: Session,
    patient: Patient,
    *,
    since: dt.datetime | None,
    limit: int,
    content: Content,
) -> list[ReadSymptoms]:
    """Symptom reports, newest first, their red flags' advice in the words of `content`."""
    rows = listing(session, SymptomReport, patient, since=since, limit=limit)
    return [ReadSymptoms(r, red_flags_for(r, content)) for r in rows]
