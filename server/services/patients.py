"""Reading patients: who may see which, and the summary the apps show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from server.domain import AncBandEdge
from server.models import Escalation, Patient
from server.policy import Actor, reach_of
from server.services import clinic_settings, escalations, labs
from server.services import state as states
from server.services.content import Content


def visible_to(session: Session, actor: Actor) -> Sequence[Patient]:
    """The patients an actor may see (server.policy.reach_of)."""
    reach = reach_of(actor)
    seen: ColumnElement[bool]
    if reach.patient_ids is not None:
        seen = Patient.id.in_(sorted(reach.patient_ids))
    else:
        seen = Patient.clinic_id == reach.clinic_id if reach.clinic_id is not None else false()
    query = select(Patient).where(seen)
    return session.scalars(query.order_by(Patient.display_name, Patient.id)).all()


@dataclass(frozen=True)
class OpenRedFlag:
    """An escalation still open, with the advice the patient's side reads for it."""

    escalation: Escalation
    title: str
    advice: str
    caregiver_advice: str
    call_now: bool


@dataclass(frozen=True)
class PatientSummary:
    """The patient as the apps show them: the row, their status and next blood count, their
    open red flags, what to do while doses are withheld, how to reach the care team, and the
    ANC bands their results are read with (the edges the care team's chart draws)."""

    patient: Patient
    status: states.PatientStatus
    next_blood_test: states.NextBloodTest | None
    open_red_flags: list[OpenRedFlag]
    treatment_advice: dict[str, str] | None
    care_team_contact: dict[str, str | None]
    anc_band_edges: tuple[AncBandEdge, ...]


def summary(
    session: Session, patient: Patient, now: dt.datetime, content: Content | None = None
) -> PatientSummary:
    """The patient as the apps show them, with their status and open red flags."""
    current = states.current_status(session, patient, now)
    flags = []
    for escalation in escalations.open_for_patient(session, patient.id):
        advice = content.advice_for(escalations.advice_code(escalation)) if content else {}
        flags.append(
            OpenRedFlag(
                escalation=escalation,
                title=advice.get("title", escalation.rule),
                advice=advice.get("patient", ""),
                caregiver_advice=advice.get("caregiver", ""),
                call_now=bool(advice.get("call_now", False)),
            )
        )
    status = current.status
    restart = status.restart_on.isoformat() if status.restart_on else None
    return PatientSummary(
        patient=patient,
        status=status,
        next_blood_test=current.next_blood_test,
        open_red_flags=flags,
        treatment_advice=content.treatment_for(status.treatment, restart, status.treatment_cause)
        if content and status.doses_withheld
        else None,
        care_team_contact=clinic_settings.patient_contact(patient.clinic),
        anc_band_edges=labs.band_edges(patient),
    )


def set_tablet_strengths(session: Session, patient: Patient, strengths_mg: list[float]) -> Patient:
    """The clozapine tablet strengths the patient has (RULES.md 1: 12.5, 25, 50, 100, 200
    mg), smallest first; an empty list means not set (doses are then shown in mg only)."""
    patient.tablet_strengths_mg = sorted(set(strengths_mg))
    session.commit()
    return patient
