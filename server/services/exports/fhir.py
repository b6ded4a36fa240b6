"""A patient's records as a FHIR R4 Bundle of type collection (plain dicts, JSON-ready)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    BowelMovement,
    Dose,
    DoseEvent,
    DosePlan,
    Escalation,
    LabResult,
    Patient,
    SymptomReport,
    Weight,
)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NAMESPACE = uuid.UUID("6f1c1b0e-4a55-4a8e-9a43-2f1d6c9b7e10")

CLOZAPINE = {
    "coding": [{"system": RXNORM, "code": "2626", "display": "clozapine"}],
    "text": "Clozapine",
}
# the vital signs exported, by resource kind: LOINC code and display, UCUM unit
VITAL_SIGNS = {
    "temp": ("8310-5", "Body temperature", "Cel"),
    "weight": ("29463-7", "Body weight", "kg"),
}
TASK_STATUS = {"open": "requested", "acknowledged": "accepted", "resolved": "completed"}
TASK_PRIORITY = {"emergency": "stat", "urgent": "urgent", "routine": "routine"}


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _url(kind: str, row_id: int) -> str:
    """A stable urn:uuid for one row, so a re-export names the same resource the same way."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{row_id}')}"


def _ref(kind: str, row_id: int) -> dict[str, str]:
    return {"reference": _url(kind, row_id)}


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": code, "display": display}]}]


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": round(value, 3), "unit": unit, "system": UCUM, "code": code}


def patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": f"patient-{patient.id}",
        "identifier": [{"system": "urn:companion:patient", "value": str(patient.id)}],
        "active": True,
        "name": [{"text": patient.display_name}],
    }


def _plan_dosage(plan: DosePlan) -> list[dict[str, Any]]:
    """One dosage instruction per titration step, each bounded to the days it applies."""
    instructions = []
    steps = sorted(plan.steps, key=lambda s: int(s["day"]))
    for index, step in enumerate(steps):
        start = plan.start_date + dt.timedelta(days=int(step["day"]) - 1)
        bounds: dict[str, str] = {"start": start.isoformat()}
        if index + 1 < len(steps):
            end = plan.start_date + dt.timedelta(days=int(steps[index + 1]["day"]) - 2)
            bounds["end"] = end.isoformat()
        doses = [float(d) for d in step["doses_mg"]]
        times = [f"{t}:00" for t, mg in zip(plan.times, doses, strict=False) if mg > 0]
        parts = [f"{mg:g} mg at {t}" for t, mg in zip(plan.times, doses, strict=False) if mg > 0]
        instruction: dict[str, Any] = {
            "sequence": index + 1,
            "text": f"From day {step['day']}: " + (", ".join(parts) or "no dose"),
            "timing": {"repeat": {"boundsPeriod": bounds}},
            "maxDosePerPeriod": {
                "numerator": _quantity(sum(doses), "mg", "mg"),
                "denominator": _quantity(1, "day", "d"),
            },
        }
        if times:
            instruction["timing"]["repeat"]["timeOfDay"] = times
        if len(set(d for d in doses if d > 0)) == 1:
            instruction["doseAndRate"] = [{"doseQuantity": _quantity(max(doses), "mg", "mg")}]
        instructions.append(instruction)
    return instructions


def medication_request(plan: DosePlan, patient_url: str, latest: bool) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"plan-{plan.id}",
        "status": "active" if latest and plan.superseded_at is None else "completed",
        "intent": "order",
        "medicationCodeableConcept": CLOZAPINE,
        "subject": {"reference": patient_url},
        "authoredOn": _instant(plan.created_at),
        "note": [{"text": f"Plan version {plan.version} ({plan.kind})"}],
        "dosageInstruction": _plan_dosage(plan),
    }


def medication_administration(dose: Dose, patient_url: str, reason: str | None) -> dict[str, Any]:
    taken = dose.status == "taken"
    when = dose.status_at if taken and dose.status_at else dose.scheduled_at
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"dose-{dose.id}",
        "status": "completed" if taken else "not-done",
        "medicationCodeableConcept": CLOZAPINE,
        "subject": {"reference": patient_url},
        "effectiveDateTime": _instant(when),
        "request": _ref("plan", dose.plan_id),
        "dosage": {"dose": _quantity(dose.mg, "mg", "mg")},
    }
    if not taken:
        resource["statusReason"] = [{"text": reason or "Skipped"}]
    return resource


def _observation(
    kind: str,
    row_id: int,
    patient_url: str,
    at: dt.datetime,
    code: dict[str, Any],
    category: list[dict[str, Any]],
    value: dict[str, Any],
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{kind}-{row_id}",
        "status": "final",
        "category": category,
        "code": code,
        "subject": {"reference": patient_url},
        "effectiveDateTime": _instant(at),
        **value,
    }


def _loinc(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def lab_observations(result: LabResult, patient_url: str) -> list[dict[str, Any]]:
    """ANC (converted to 10*9/L, interpreted from its band) and WBC; other tests are not
    exported to FHIR yet."""
    lab = _category("laboratory", "Laboratory")
    note = [] if result.source == "clinic" else [{"text": f"Reported by the {result.source}"}]
    out = []
    if result.test == "anc" and result.normalised_value is not None:
        band = (result.interpretation or {}).get("band")
        anc = _observation(
            "anc",
            result.id,
            patient_url,
            result.collected_at,
            _loinc("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
            lab,
            {"valueQuantity": _quantity(result.normalised_value / 1000, "10*9/L", "10*9/L")},
        )
        if band:
            flag = "N" if band == "normal" else "L"
            anc["interpretation"] = [
                {
                    "coding": [{"system": INTERPRETATION, "code": flag}],
                    "text": f"ANC band: {band}",
                }
            ]
        if note:
            anc["note"] = note
        out.append(anc)
    wbc_value = result.wbc_10e9_l if result.test == "anc" else None
    if result.test == "wbc" and result.value is not None:
        wbc_value = result.value
    if wbc_value is not None:
        wbc = _observation(
            "wbc",
            result.id,
            patient_url,
            result.collected_at,
            _loinc("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
            lab,
            {"valueQuantity": _quantity(wbc_value, "10*9/L", "10*9/L")},
        )
        if note:
            wbc["note"] = note
        out.append(wbc)
    return out


def bristol_observation(entry: BowelMovement, patient_url: str) -> dict[str, Any]:
    code = {
        "coding": [{"system": SNOMED, "code": "443172007", "display": "Bristol stool form score"}],
        "text": "Bristol stool form score",
    }
    return _observation(
        "bm",
        entry.id,
        patient_url,
        entry.occurred_at,
        code,
        _category("survey", "Survey"),
        {"valueInteger": entry.bristol_type},
    )


def vital_sign_observation(
    kind: str, row_id: int, patient_url: str, at: dt.datetime, value: float
) -> dict[str, Any]:
    """One of the VITAL_SIGNS measured at `at`, as an Observation of its quantity."""
    code, display, unit = VITAL_SIGNS[kind]
    return _observation(
        kind,
        row_id,
        patient_url,
        at,
        _loinc(code, display),
        _category("vital-signs", "Vital Signs"),
        {"valueQuantity": _quantity(value, unit, unit)},
    )


def flag_resource(escalation: Escalation, patient_url: str) -> dict[str, Any]:
    return {
        "resourceType": "Flag",
        "id": f"flag-{escalation.id}",
        "status": "active",
        "code": {"text": f"{escalation.rule}: {escalation.summary}"},
        "subject": {"reference": patient_url},
        "period": {"start": _instant(escalation.opened_at)},
    }


def task_resource(escalation: Escalation, patient_url: str) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"escalation-{escalation.id}",
        "status": TASK_STATUS[escalation.status],
        "intent": "order",
        "priority": TASK_PRIORITY.get(escalation.severity, "routine"),
        "code": {"text": escalation.rule},
        "description": escalation.summary,
        "for": {"reference": patient_url},
        "authoredOn": _instant(escalation.opened_at),
        "lastModified": _instant(
            escalation.resolved_at or escalation.acknowledged_at or escalation.opened_at
        ),
    }
    if escalation.status != "resolved":
        task["focus"] = _ref("flag", escalation.id)
    else:
        period = {"start": _instant(escalation.opened_at)}
        if escalation.resolved_at:
            period["end"] = _instant(escalation.resolved_at)
        task["executionPeriod"] = period
    if escalation.resolution_note:
        task["note"] = [{"text": escalation.resolution_note}]
    return task


def patient_bundle(session: Session, patient: Patient, now: dt.datetime) -> dict[str, Any]:
    """Everything the FHIR export carries for one patient, as a Bundle of type collection."""
    patient_url = _url("patient", patient.id)
    entries: list[tuple[str, dict[str, Any]]] = [(patient_url, patient_resource(patient))]

    plans = session.scalars(
        select(DosePlan).where(DosePlan.patient_id == patient.id).order_by(DosePlan.version)
    ).all()
    for plan in plans:
        latest = plan is plans[-1]
        entries.append((_url("plan", plan.id), medication_request(plan, patient_url, latest)))

    reasons = dict(
        session.execute(
            select(DoseEvent.dose_id, DoseEvent.reason)
            .where(DoseEvent.patient_id == patient.id, DoseEvent.status == "skipped")
            .order_by(DoseEvent.recorded_at)
        ).all()
    )
    doses = session.scalars(
        select(Dose)
        .where(Dose.patient_id == patient.id, Dose.status.in_(("taken", "skipped")))
        .order_by(Dose.scheduled_at)
    )
    for dose in doses:
        resource = medication_administration(dose, patient_url, reasons.get(dose.id))
        entries.append((_url("dose", dose.id), resource))

    labs = session.scalars(
        select(LabResult)
        .where(LabResult.patient_id == patient.id, LabResult.test.in_(("anc", "wbc")))
        .order_by(LabResult.collected_at)
    )
    for result in labs:
        for observation in lab_observations(result, patient_url):
            kind = observation["id"].split("-", 1)[0]
            entries.append((_url(kind, result.id), observation))

    for entry in session.scalars(
        select(BowelMovement)
        .where(BowelMovement.patient_id == patient.id)
        .order_by(BowelMovement.occurred_at)
    ):
        entries.append((_url("bm", entry.id), bristol_observation(entry, patient_url)))

    for report in session.scalars(
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient.id, SymptomReport.temperature_c.is_not(None))
        .order_by(SymptomReport.occurred_at)
    ):
        assert report.temperature_c is not None  # the query keeps only reports with one
        resource = vital_sign_observation(
            "temp", report.id, patient_url, report.occurred_at, report.temperature_c
        )
        entries.append((_url("temp", report.id), resource))

    for weight in session.scalars(
        select(Weight).where(Weight.patient_id == patient.id).order_by(Weight.measured_at)
    ):
        resource = vital_sign_observation(
            "weight", weight.id, patient_url, weight.measured_at, weight.kg
        )
        entries.append((_url("weight", weight.id), resource))

    for escalation in session.scalars(
        select(Escalation).where(Escalation.patient_id == patient.id).order_by(Escalation.opened_at)
    ):
        if escalation.status != "resolved":
            entries.append((_url("flag", escalation.id), flag_resource(escalation, patient_url)))
        entries.append((_url("escalation", escalation.id), task_resource(escalation, patient_url)))

    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(NAMESPACE, f"bundle/{patient.id}/{now.isoformat()}")),
        "type": "collection",
        "timestamp": _instant(now),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
