"""Reading patients: who may see which, and the summary the apps show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Patient
from server.policy import Actor
from server.services import clinic_settings, escalations
from server.services import state as states
from server.services.content import Content


def visible_to(session: Session, actor: Actor) -> Sequence[Patient]:
    """The patients an actor may see, by the same rule as server.policy.can_see_patient."""
    query = select(Patient)
    if actor.role == "patient":
        query = query.where(Patient.id == (actor.patient_id or -1))
    elif actor.role == "caregiver":
        query = query.where(Patient.id.in_(actor.caregiver_of or {-1}))
    else:
        query = query.where(Patient.clinic_id == (actor.clinic_id or -1))
    return session.scalars(query.order_by(Patient.display_name, Patient.id)).all()


def summary(
    session: Session, patient: Patient, now: dt.datetime, content: Content | None = None
) -> dict[str, Any]:
    """The patient as the apps show them, with their status and open red flags."""
    view = identity(patient)
    view.update(states.status_view(session, patient, now))
    flags = []
    for escalation in escalations.open_for_patient(session, patient.id):
        advice = content.advice_for(escalations.advice_code(escalation)) if content else {}
        flags.append(
            {
                "id": escalation.id,
                "rule": escalation.rule,
                "severity": escalation.severity,
                "status": escalation.status,
                "opened_at": escalation.opened_at,
                "title": advice.get("title", escalation.rule),
                "advice": advice.get("patient", ""),
                "caregiver_advice": advice.get("caregiver", ""),
                "call_now": bool(advice.get("call_now", False)),
            }
        )
    view["open_red_flags"] = flags
    view["care_team_contact"] = clinic_settings.patient_contact(patient.clinic)
    status = view["status"]
    restart = status["restart_on"].isoformat() if status["restart_on"] else None
    view["treatment_advice"] = (
        content.treatment_for(status["treatment"], restart)
        if content and status["doses_withheld"]
        else None
    )
    return view


def identity(patient: Patient) -> dict[str, Any]:
    """Who the patient is, without their clinical status."""
    return {
        "id": patient.id,
        "clinic_id": patient.clinic_id,
        "display_name": patient.display_name,
        "timezone": patient.timezone,
        "clozapine_start_date": patient.clozapine_start_date,
        "benign_ethnic_neutropenia": patient.benign_ethnic_neutropenia,
        "created_at": patient.created_at,
        "tablet_strengths_mg": list(patient.tablet_strengths_mg or []),
    }


def set_tablet_strengths(session: Session, patient: Patient, strengths_mg: list[float]) -> Patient:
    """The clozapine tablet strengths the patient has (RULES.md 1: 12.5, 25, 50, 100, 200
    mg), smallest first; an empty list means not set (doses are then shown in mg only)."""
    patient.tablet_strengths_mg = sorted(set(strengths_mg))
    session.commit()
    return patient
