"""Accounts: care-team users, patient enrolment, caregiver invites, activation and sign-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import ActivationCode, CaregiverLink, Clinic, Patient, User
from server.policy import Actor
from server.services import passwords
from server.services import state as states
from server.services.errors import Conflict, Forbidden, Invalid, NotFound

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L or U: easy to read aloud
CODE_LENGTH = 12


@dataclass(frozen=True)
class PasswordPolicy:
    hasher: PasswordHasher
    min_length: int


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _check_password(policy: PasswordPolicy, password: str, email: str) -> str:
    problems = passwords.password_problems(password, min_length=policy.min_length, email=email)
    if problems:
        raise Invalid({"password": problems})
    return policy.hasher.hash(password)


def actor_for(session: Session, user: User) -> Actor:
    """The policy's view of a user: role, clinic, own patient and linked patients."""
    linked: frozenset[int] = frozenset()
    if user.role == "caregiver":
        linked = frozenset(
            session.scalars(
                select(CaregiverLink.patient_id).where(CaregiverLink.caregiver_id == user.id)
            )
        )
    clinic_id = user.clinic_id
    return Actor(user.id, user.role, clinic_id, user.patient_id, linked)


def get_or_create_clinic(session: Session, name: str, now: dt.datetime) -> Clinic:
    clinic = session.scalar(select(Clinic).where(Clinic.name == name))
    if clinic is None:
        clinic = Clinic(name=name, monitoring_profile="guideline", settings={}, created_at=now)
        session.add(clinic)
        session.flush()
    return clinic


def create_care_team_user(
    session: Session,
    *,
    role: str,
    email: str,
    name: str,
    clinic_name: str,
    password: str,
    policy: PasswordPolicy,
    now: dt.datetime,
) -> User:
    """Create a clinician or admin account; the clinic is created if it is new."""
    if role not in ("clinician", "admin"):
        raise Invalid({"role": ["Must be clinician or admin."]})
    email = normalise_email(email)
    password_hash = _check_password(policy, password, email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists.", {"email": ["In use."]})
    clinic = get_or_create_clinic(session, clinic_name.strip(), now)
    user = User(
        email=email,
        display_name=name.strip(),
        role=role,
        password_hash=password_hash,
        clinic_id=clinic.id,
        created_at=now,
    )
    session.add(user)
    session.commit()
    return user


def issue_code(
    session: Session, *, patient: Patient, purpose: str, by: Actor, now: dt.datetime, days: int
) -> str:
    """Store the hash of a new one-time code and return the code itself (shown once)."""
    code = new_code()
    session.add(
        ActivationCode(
            code_hash=hash_code(code),
            purpose=purpose,
            patient_id=patient.id,
            created_by_id=by.user_id,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
    )
    return code


def enrol_patient(
    session: Session, *, actor: Actor, data: dict[str, Any], now: dt.datetime, code_days: int
) -> tuple[Patient, str]:
    """A clinician enrols a patient of their clinic and receives a one-time activation code."""
    if actor.clinic_id is None:
        raise Forbidden("Only a clinic's care team can enrol patients.")
    patient = Patient(
        clinic_id=actor.clinic_id,
        display_name=data["display_name"].strip(),
        timezone=data["timezone"],
        clozapine_start_date=data["clozapine_start_date"],
        benign_ethnic_neutropenia=data.get("benign_ethnic_neutropenia", False),
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(patient)
    session.flush()
    states.enrolled(session, patient, now)
    code = issue_code(
        session, patient=patient, purpose="enrolment", by=actor, now=now, days=code_days
    )
    session.commit()
    return patient, code


def invite_caregiver(
    session: Session, *, actor: Actor, patient: Patient, now: dt.datetime, code_days: int
) -> str:
    """A patient or their clinician invites a caregiver with a one-time code."""
    code = issue_code(
        session, patient=patient, purpose="caregiver", by=actor, now=now, days=code_days
    )
    session.commit()
    return code


def activate(
    session: Session,
    *,
    code: str,
    email: str,
    password: str,
    display_name: str,
    policy: PasswordPolicy,
    now: dt.datetime,
) -> User:
    """Turn a one-time code into a login: the patient's own, or a caregiver linked to them.

    A caregiver who already has an account links the new patient by giving their password.
    """
    email = normalise_email(email)
    code_hash = hash_code(code)
    invalid = Invalid({"code": ["This code is not valid or has expired. Ask for a new one."]})
    pending = session.scalar(
        select(ActivationCode).where(
            ActivationCode.code_hash == code_hash,
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > now,
        )
    )
    if pending is None:
        raise invalid
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        reuse = (
            pending.purpose == "caregiver"
            and existing.role == "caregiver"
            and passwords.verify(policy.hasher, existing.password_hash, password)
        )
        if not reuse:
            raise Conflict(
                "An account with this email already exists.", {"email": ["Already in use."]}
            )
        user = existing
    else:
        password_hash = _check_password(policy, password, email)
        user = User(
            email=email,
            display_name=display_name.strip(),
            role="patient" if pending.purpose == "enrolment" else "caregiver",
            password_hash=password_hash,
            created_at=now,
        )
    if pending.purpose == "enrolment":
        taken = session.scalar(select(User.id).where(User.patient_id == pending.patient_id))
        if taken is not None:
            raise invalid
        user.patient_id = pending.patient_id
    # Claim the code: exactly one concurrent activation can flip used_at.
    claimed = session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == pending.id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise invalid
    session.add(user)
    session.flush()
    pending.used_by_id = user.id
    if pending.purpose == "caregiver":
        linked = session.scalar(
            select(CaregiverLink.id).where(
                CaregiverLink.patient_id == pending.patient_id,
                CaregiverLink.caregiver_id == user.id,
            )
        )
        if linked is None:
            session.add(
                CaregiverLink(patient_id=pending.patient_id, caregiver_id=user.id, created_at=now)
            )
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent sign-up took the email
        session.rollback()
        raise Conflict(
            "An account with this email already exists.", {"email": ["Already in use."]}
        ) from exc
    return user


def authenticate(
    session: Session, *, email: str, password: str, policy: PasswordPolicy, now: dt.datetime
) -> User | None:
    """The user for these credentials, or None (the caller says nothing about which was wrong)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        passwords.dummy_verify(policy.hasher)
        return None
    if not passwords.verify(policy.hasher, user.password_hash, password):
        return None
    if policy.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = policy.hasher.hash(password)
    user.last_sign_in_at = now
    session.commit()
    return user


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    return patient
