"""CSV exports of each diary and of lab results, guarded against spreadsheet formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import BowelMovement, Dose, LabResult, Patient, SymptomReport, Weight

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell as text; one a spreadsheet would run as a formula is prefixed with a quote.

    Numbers are written by us (never a formula), so a negative number stays a number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rows_bowel(session: Session, patient: Patient) -> Iterable[list[Any]]:
    for r in session.scalars(
        select(BowelMovement)
        .where(BowelMovement.patient_id == patient.id)
        .order_by(BowelMovement.occurred_at)
    ):
        yield [r.id, r.occurred_at, r.bristol_type, r.notes, r.recorded_at]


def _rows_symptoms(session: Session, patient: Patient) -> Iterable[list[Any]]:
    for r in session.scalars(
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient.id)
        .order_by(SymptomReport.occurred_at)
    ):
        flags = [f["rule"] for f in r.red_flags or []]
        yield [r.id, r.occurred_at, r.symptoms, r.temperature_c, flags, r.notes, r.recorded_at]


def _rows_doses(session: Session, patient: Patient) -> Iterable[list[Any]]:
    for r in session.scalars(
        select(Dose)
        .where(Dose.patient_id == patient.id, Dose.status != "cancelled")
        .order_by(Dose.scheduled_at)
    ):
        yield [r.id, r.local_date, r.local_time, r.scheduled_at, r.mg, r.status, r.status_at]


def _rows_labs(session: Session, patient: Patient) -> Iterable[list[Any]]:
    for r in session.scalars(
        select(LabResult).where(LabResult.patient_id == patient.id).order_by(LabResult.collected_at)
    ):
        band = (r.interpretation or {}).get("band")
        yield [r.id, r.collected_at, r.test, r.value, r.unit, r.wbc_10e9_l, band, r.source]


def _rows_weights(session: Session, patient: Patient) -> Iterable[list[Any]]:
    for r in session.scalars(
        select(Weight).where(Weight.patient_id == patient.id).order_by(Weight.measured_at)
    ):
        yield [r.id, r.measured_at, r.kg, r.recorded_at]


KINDS: dict[str, tuple[list[str], Callable[[Session, Patient], Iterable[list[Any]]]]] = {
    "bowel-movements": (
        ["id", "occurred_at", "bristol_type", "notes", "recorded_at"],
        _rows_bowel,
    ),
    "symptoms": (
        ["id", "occurred_at", "symptoms", "temperature_c", "red_flags", "notes", "recorded_at"],
        _rows_symptoms,
    ),
    "doses": (
        ["id", "local_date", "local_time", "scheduled_at", "mg", "status", "status_at"],
        _rows_doses,
    ),
    "lab-results": (
        ["id", "collected_at", "test", "value", "unit", "wbc_10e9_l", "band", "source"],
        _rows_labs,
    ),
    "weights": (["id", "measured_at", "kg", "recorded_at"], _rows_weights),
}


def csv_export(session: Session, patient: Patient, kind: str) -> str:
    """One diary (or the lab results) as RFC 4180 CSV, oldest first."""
    header, rows = KINDS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows(session, patient):
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
