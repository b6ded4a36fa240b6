"""Lab results and the blood-test schedule: ANC bands, escalations, the next test due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import (
    check_liver_tests,
    interpret_anc,
    interpret_uk_traffic_light,
    load_profile,
    to_cells_per_ul,
)
from server.models import LabResult, Patient
from server.policy import Actor
from server.services import course, escalations, idempotency
from server.services import state as states
from server.services.content import Content
from server.services.diary import check_log_time
from server.services.errors import Invalid

# The tests the product records, and the units each accepts (the first is canonical).
UNITS: dict[str, tuple[str, ...]] = {
    "anc": ("cells/uL", "10^9/L"),
    "wbc": ("10^9/L",),
    "trough_level": ("ng/mL",),
    "fasting_glucose": ("mmol/L", "mg/dL"),
    "lipids": ("mmol/L", "mg/dL"),
    "alt": ("U/L",),
    "ast": ("U/L",),
    "bilirubin": ("umol/L", "mg/dL"),
    "ecg": ("ms",),
    "troponin": ("ng/L",),
    "crp": ("mg/L",),
}
# Plausible ranges (a typo guard, not a clinical limit), in the canonical unit of each test.
RANGES: dict[str, tuple[float, float]] = {
    "anc": (0, 100_000),
    "wbc": (0, 500),
    "trough_level": (0, 10_000),
    "fasting_glucose": (0, 200),
    "lipids": (0, 200),
    "alt": (0, 50_000),
    "ast": (0, 50_000),
    "bilirubin": (0, 2_000),
    "ecg": (200, 800),
    "troponin": (0, 1_000_000),
    "crp": (0, 1_000),
}
TO_CANONICAL = {
    "mg/dL:fasting_glucose": 1 / 18.0,
    "mg/dL:lipids": 1 / 38.67,
    "mg/dL:bilirubin": 17.1,
}


def _canonical(test: str, value: float, unit: str) -> float:
    if test == "anc":
        return to_cells_per_ul(value, unit)
    return value * TO_CANONICAL.get(f"{unit}:{test}", 1.0)


def _interpret(
    session: Session, patient: Patient, result: LabResult, now: dt.datetime
) -> dict[str, Any]:
    state = states.get_state(session, patient, now)
    profile = load_profile(patient.clinic.monitoring_profile)
    cells = result.normalised_value or 0.0
    if profile.traffic_light is not None and result.wbc_10e9_l is not None:
        reading = interpret_uk_traffic_light(
            result.wbc_10e9_l, cells / 1000, profile, previous_band=state.anc_band
        )
    else:
        reading = interpret_anc(
            cells,
            ben=patient.benign_ethnic_neutropenia,
            profile=profile,
            previous_band=state.anc_band,
        )
    return {
        "band": reading.band,
        "action": reading.action,
        "action_text": reading.action_text,
        "monitoring": reading.monitoring,
        "next_test_in_days": reading.next_test_in_days,
        "confirm_within_24h": reading.confirm_within_24h,
        "traffic_light": reading.traffic_light,
        "escalation_rule": reading.escalation_rule,
        "severity": reading.severity,
    }


def record_lab_result(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    data: dict[str, Any],
    now: dt.datetime,
    claim: idempotency.Claim | None,
    content: Content,
) -> idempotency.Outcome:
    """Record a result; an ANC is banded, updates the schedule and escalates a low band."""
    test, unit, value = data["test"], data.get("unit"), data.get("value")
    if unit not in UNITS[test]:
        raise Invalid({"unit": [f"Use one of: {', '.join(UNITS[test])}."]})
    if value is None:
        raise Invalid({"value": ["A value is needed."]})
    canonical = _canonical(test, value, unit)
    low, high = RANGES[test]
    if not low <= canonical <= high:
        raise Invalid({"value": [f"This value is outside what is possible for {test}."]})
    if data.get("wbc") is not None and test != "anc":
        raise Invalid({"wbc": ["A WBC count goes with an ANC result only."]})
    check_log_time("collected_at", data["collected_at"], now)
    source = "clinic" if actor.role in ("clinician", "admin") else actor.role

    def work() -> LabResult:
        result = LabResult(
            patient_id=patient.id,
            test=test,
            value=value,
            unit=unit,
            normalised_value=canonical,
            wbc_10e9_l=data.get("wbc"),
            collected_at=data["collected_at"],
            source=source,
            recorded_by_id=actor.user_id,
            recorded_at=now,
        )
        session.add(result)
        session.flush()
        flag_rule, severity, summary = None, None, ""
        if test == "anc":
            reading = _interpret(session, patient, result, now)
            if source == "clinic":  # RULES.md 7: only the clinic's results decide the course
                course.clinic_anc(
                    session,
                    patient,
                    band=reading["band"],
                    action=reading["action"],
                    collected_at=result.collected_at,
                    result_id=result.id,
                    now=now,
                )
            flag_rule, severity = reading["escalation_rule"], reading["severity"]
            summary = f"ANC {value:g} {unit} ({reading['band']})"
        if test in ("alt", "ast") and data.get("upper_limit"):
            liver = check_liver_tests(
                canonical, data["upper_limit"], symptomatic=bool(data.get("symptomatic"))
            )
            if liver is not None:
                flag_rule, severity = liver.rule, liver.severity
                summary = f"{test.upper()} {value:g} U/L with symptoms"
        anc_due = states.blood_schedule_refreshed(session, patient, now)
        interpretation: dict[str, Any] = {}
        if test == "anc":
            interpretation = {
                **reading,
                "next_test_due": anc_due.due_date.isoformat() if anc_due else None,
            }
        result.interpretation = interpretation or None
        if flag_rule is not None and severity is not None:
            escalations.raise_flag(
                session,
                patient=patient,
                rule=flag_rule,
                severity=severity,
                summary=summary + ("" if source == "clinic" else f", reported by the {source}"),
                evidence={"kind": "lab_result", "lab_result_id": result.id, "source": source},
                now=now,
            )
        return result

    return idempotency.run_once(session, claim, now, work, lambda r: lab_view(r, content))


def lab_view(result: LabResult, content: Content | None = None) -> dict[str, Any]:
    interpretation = result.interpretation
    return {
        "id": result.id,
        "test": result.test,
        "value": result.value,
        "unit": result.unit,
        "wbc": result.wbc_10e9_l,
        "collected_at": result.collected_at.isoformat(),
        "source": result.source,
        "band": interpretation.get("band") if interpretation else None,
        "interpretation": interpretation,
        "recorded_at": result.recorded_at.isoformat(),
    }


def results(
    session: Session, patient: Patient, *, since: dt.datetime | None, limit: int
) -> Sequence[LabResult]:
    query = select(LabResult).where(LabResult.patient_id == patient.id)
    if since is not None:
        query = query.where(LabResult.recorded_at >= since)
    return session.scalars(query.order_by(LabResult.collected_at.desc()).limit(limit)).all()


def blood_tests(session: Session, patient: Patient, now: dt.datetime) -> dict[str, Any]:
    """What is due (upcoming, due or overdue) and what was done."""
    upcoming = [
        {"test": item.test, "due_date": item.due_date, "status": item.status, "reason": item.reason}
        for item in states.schedule(session, patient, now)
    ]
    history = [lab_view(r) for r in results(session, patient, since=None, limit=200)]
    return {"upcoming": upcoming, "history": history}
