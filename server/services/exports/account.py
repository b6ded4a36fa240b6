"""The patient's right of access (a zip of JSON files) and account deletion on request.

What deletion removes and what it keeps (documented for the clinic's records officer):

- removed: the diaries the patient and caregivers kept (bowel movements, symptom reports,
  weights, dose events and the scheduled doses, the other medicines listed with their stock and
  doses marked), lab results the patient or caregiver
  reported themselves, the derived status row, caregiver links, activation and invite codes,
  calendar feeds, the patient login's push subscriptions and stored idempotent answers
  (they repeat diary content);
- anonymised: the patient row (name replaced) and the patient's login (email, name and
  password replaced, every session ended): rows that the audit trail and the clinic's
  records point to stay, but no longer say who the person was;
- kept: the audit trail (append-only: the database refuses deletes), and the clinic's own
  clinical record: dose plans (prescriptions), lab results entered by the clinic, escalations
  with their history, treatment interruptions. Clinical records carry legal retention duties
  (for example mental-health records in England: 20 years); the clinic's own record system is
  where they are erased when that period ends.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
import zipfile
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from server.models import (
    ActivationCode,
    AuditEvent,
    BowelMovement,
    CaregiverLink,
    Dose,
    DoseEvent,
    DosePlan,
    Escalation,
    EscalationEvent,
    IdempotencyRecord,
    LabResult,
    Medicine,
    MedicineEvent,
    Patient,
    PatientState,
    PushSubscription,
    SymptomReport,
    TreatmentInterruption,
    User,
    Weight,
)
from server.models_exports import CalendarFeed, DeletionRequest
from server.policy import Actor
from server.services.errors import Conflict

# one JSON file per table in the zip; the patient's own rows of each
PATIENT_TABLES: dict[str, Any] = {
    "dose_plans.json": DosePlan,
    "doses.json": Dose,
    "dose_events.json": DoseEvent,
    "bowel_movements.json": BowelMovement,
    "symptom_reports.json": SymptomReport,
    "weights.json": Weight,
    "lab_results.json": LabResult,
    "medicines.json": Medicine,
    "medicine_events.json": MedicineEvent,
    "escalations.json": Escalation,
    "treatment_interruptions.json": TreatmentInterruption,
    "caregiver_links.json": CaregiverLink,
    "deletion_requests.json": DeletionRequest,
    "audit_events.json": AuditEvent,
}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def row_dict(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in skip
    }


def account_zip(session: Session, patient: Patient, now: dt.datetime) -> bytes:
    """Every record held about the patient, one JSON file per table, with the audit trail."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: Any) -> None:
            archive.writestr(name, json.dumps(data, indent=1, ensure_ascii=False))

        put(
            "README.json",
            {
                "exported_at": now.isoformat(),
                "patient_id": patient.id,
                "files": ["patient.json", *PATIENT_TABLES, "escalation_events.json"],
            },
        )
        put("patient.json", row_dict(patient))
        for name, model in PATIENT_TABLES.items():
            rows = session.scalars(
                select(model).where(model.patient_id == patient.id).order_by(model.id)
            )
            put(name, [row_dict(r) for r in rows])
        events = session.scalars(
            select(EscalationEvent)
            .join(Escalation, Escalation.id == EscalationEvent.escalation_id)
            .where(Escalation.patient_id == patient.id)
            .order_by(EscalationEvent.id)
        )
        put("escalation_events.json", [row_dict(e) for e in events])
    return buffer.getvalue()


def request_deletion(
    session: Session, actor: Actor, patient: Patient, reason: str | None, now: dt.datetime
) -> DeletionRequest:
    """Record the patient's request; the clinic's admin carries it out. One open at a time."""
    pending = _pending(session, patient)
    if pending is not None:
        return pending
    request = DeletionRequest(
        patient_id=patient.id, requested_by_id=actor.user_id, requested_at=now, reason=reason
    )
    session.add(request)
    session.commit()
    return request


def _pending(session: Session, patient: Patient) -> DeletionRequest | None:
    return session.scalars(
        select(DeletionRequest).where(
            DeletionRequest.patient_id == patient.id, DeletionRequest.completed_at.is_(None)
        )
    ).first()


def delete_patient(
    session: Session, actor: Actor, patient: Patient, now: dt.datetime
) -> DeletionRequest:
    """Carry out a pending deletion request (see the module docstring for what stays)."""
    request = _pending(session, patient)
    if request is None:
        raise Conflict("There is no pending deletion request for this patient.")
    pid = patient.id
    login = session.scalars(select(User).where(User.patient_id == pid)).first()
    dose_ids = select(Dose.id).where(Dose.patient_id == pid)
    session.execute(delete(DoseEvent).where(DoseEvent.dose_id.in_(dose_ids)))
    session.execute(delete(Dose).where(Dose.patient_id == pid))
    session.execute(delete(MedicineEvent).where(MedicineEvent.patient_id == pid))
    session.execute(delete(Medicine).where(Medicine.patient_id == pid))
    for model in (BowelMovement, SymptomReport, Weight, CaregiverLink, ActivationCode):
        session.execute(delete(model).where(model.patient_id == pid))
    session.execute(
        delete(LabResult).where(LabResult.patient_id == pid, LabResult.source != "clinic")
    )
    session.execute(delete(PatientState).where(PatientState.patient_id == pid))
    session.execute(delete(CalendarFeed).where(CalendarFeed.patient_id == pid))
    if login is not None:
        session.execute(delete(PushSubscription).where(PushSubscription.user_id == login.id))
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == login.id))
        login.email = f"deleted-{login.id}@deleted.invalid"
        login.display_name = "Deleted user"
        login.password_hash = "!deleted-" + secrets.token_hex(8)  # matches no password
        login.session_version += 1
    patient.display_name = f"Deleted patient {pid}"
    request.completed_at = now
    request.completed_by_id = actor.user_id
    session.commit()
    return request
