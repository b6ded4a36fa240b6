"""Demo data for `companion seed-demo`: a clinic, a clinician, a patient and a caregiver."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ActivationCode, CaregiverLink, DosePlan, Patient, User
from server.services import course, diary, dose_plans, doses, labs, medicines
from server.services.accounts import PasswordPolicy, actor_for, get_or_create_clinic, hash_code
from server.services.content import Content
from server.services.idempotency import Entry

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


def seed(session: Session, policy: PasswordPolicy, now: dt.datetime, content: Content) -> list[str]:
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
    alex = session.get(Patient, patient_user.patient_id)
    if (
        alex is not None
        and not session.scalars(select(DosePlan.id).where(DosePlan.patient_id == alex.id)).first()
    ):
        _clinical_history(session, alex, clinician, patient_user, now, content)
    return [
        f"demo clinic: {CLINIC}",
        f"clinician: {CLINICIAN}",
        f"patient:   {PATIENT}",
        f"caregiver: {CAREGIVER}",
        f"password for all three: {PASSWORD}",
    ]


def _clinical_history(
    session: Session,
    patient: Patient,
    clinician: User,
    patient_user: User,
    now: dt.datetime,
    content: Content,
) -> None:
    """Three weeks on clozapine: weekly counts, a standard plan, doses mostly taken, a diary."""
    team = actor_for(session, clinician)
    alex = actor_for(session, patient_user)
    start = patient.clozapine_start_date
    begin = dt.datetime.combine(start, dt.time(7, 0), dt.UTC)
    for week, count in enumerate((2100, 1900, 1800, 2000)):
        at = begin - dt.timedelta(days=1) + dt.timedelta(days=7 * week)
        if at < now:
            anc = {"test": "anc", "value": count, "unit": "cells/uL", "collected_at": at}
            labs.record_lab_result(
                session, Entry(team, patient, anc, at + dt.timedelta(hours=2)), content
            )
    data = {
        "start_date": start,
        "times": ["08:00", "21:00"],
        "titration": "standard",
        "target_mg_per_day": 350,
    }
    dose_plans.set_dose_plan(session, actor=team, patient=patient, data=data, now=begin)
    day = start
    while day < now.date():
        # the doses as the worker makes them, a day ahead, at the patient's midnight
        course.make_ahead(session, patient, dt.datetime.combine(day, dt.time(0, 5), dt.UTC))
        for dose in doses.day_doses(session, patient, day):
            when = dose.scheduled_at + dt.timedelta(minutes=10)
            if when >= now or (day.toordinal() % 9 == 0 and dose.local_time == "08:00"):
                continue  # now and then a morning dose is not marked
            taken = {"dose_id": dose.id, "status": "taken", "at": when}
            doses.record_dose_event(
                session, Entry(alex, patient, taken, when + dt.timedelta(minutes=1))
            )
        if day.toordinal() % 3 != 0:
            at = dt.datetime.combine(day, dt.time(9, 30), dt.UTC)
            movement = {"occurred_at": at, "bristol_type": 3 + day.toordinal() % 3}
            diary.record_bowel_movement(session, Entry(alex, patient, movement, at))
        day += dt.timedelta(days=1)
    # a laxative at breakfast and bedtime, and a clozapine count that runs low within a week
    for medicine in (
        {"kind": "laxative", "name": "Senna", "times": ["08:00", "21:00"], "dose_text": "2 tablets",
         "units_per_dose": 2, "stock": 60},
        {"kind": "clozapine", "name": "Clozapine", "strength_mg": 25, "stock": 40},
    ):  # fmt: skip
        medicines.add_medicine(session, actor=team, patient=patient, data=medicine, now=now)
    at = now - dt.timedelta(days=2)
    symptoms = {"occurred_at": at, "symptoms": ["sedation", "hypersalivation"]}
    diary.record_symptoms(session, Entry(alex, patient, symptoms, at), content)
    session.commit()
