"""Demo data for `companion seed-demo`: a clinic, a clinician, a patient and a caregiver."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ActivationCode, CaregiverLink, Patient, User
from server.services.accounts import PasswordPolicy, get_or_create_clinic, hash_code

CLINIC = "Demo clinic"
PASSWORD = "demo-password-2026"  # noqa: S105 - printed by the command; demo data only
CLINICIAN = "clinician@demo.example"
PATIENT = "patient@demo.example"
CAREGIVER = "caregiver@demo.example"


def _user(
    session: Session, policy: PasswordPolicy, email: str, name: str, role: str, now: dt.datetime
) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            display_name=name,
            role=role,
            password_hash=policy.hasher.hash(PASSWORD),
            created_at=now,
        )
        session.add(user)
    return user


def seed(session: Session, policy: PasswordPolicy, now: dt.datetime) -> list[str]:
    """Create (once) the demo accounts; running it again changes nothing."""
    clinic = get_or_create_clinic(session, CLINIC, now)
    clinician = _user(session, policy, CLINICIAN, "Dr Demo", "clinician", now)
    clinician.clinic_id = clinic.id
    session.flush()
    patient_user = _user(session, policy, PATIENT, "Alex (demo)", "patient", now)
    if patient_user.patient_id is None:
        patient = Patient(
            clinic_id=clinic.id,
            display_name="Alex (demo)",
            timezone="Europe/London",
            clozapine_start_date=(now - dt.timedelta(days=21)).date(),
            benign_ethnic_neutropenia=False,
            created_at=now,
            created_by_id=clinician.id,
        )
        session.add(patient)
        session.flush()
        patient_user.patient_id = patient.id
        # a used enrolment code, as if Alex had activated the account in the clinic
        session.add(
            ActivationCode(
                code_hash=hash_code(f"demo-enrolment-{patient.id}"),
                purpose="enrolment",
                patient_id=patient.id,
                created_by_id=clinician.id,
                created_at=now,
                expires_at=now,
                used_at=now,
            )
        )
    session.flush()
    caregiver = _user(session, policy, CAREGIVER, "Sam (demo caregiver)", "caregiver", now)
    session.flush()
    linked = session.scalar(
        select(CaregiverLink.id).where(
            CaregiverLink.caregiver_id == caregiver.id,
            CaregiverLink.patient_id == patient_user.patient_id,
        )
    )
    if linked is None and patient_user.patient_id is not None:
        session.add(
            CaregiverLink(
                patient_id=patient_user.patient_id, caregiver_id=caregiver.id, created_at=now
            )
        )
    session.commit()
    return [
        f"demo clinic: {CLINIC}",
        f"clinician: {CLINICIAN}",
        f"patient:   {PATIENT}",
        f"caregiver: {CAREGIVER}",
        f"password for all three: {PASSWORD}",
    ]
