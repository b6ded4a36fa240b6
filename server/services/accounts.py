"""Accounts: care-team users, patient enrolment, caregiver invites, activation and sign-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import (
    ActivationCode,
    CaregiverLink,
    Clinic,
    OutboxMessage,
    Patient,
    ResetCode,
    User,
)
from server.policy import Actor
from server.services import passwords, sessions
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


@dataclass(frozen=True)
class Person:
    """A signed-in person as the apps know them: the User row and the patients they care
    for (a caregiver's)."""

    user: User
    caregiver_of: list[int]


def person(session: Session, user: User) -> Person:
    return Person(user, sorted(actor_for(session, user).caregiver_of))


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


@dataclass(frozen=True)
class IssuedCode:
    """A one-time code (shown once, stored only as a hash) and when it stops working."""

    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class IssuedResetCode(IssuedCode):
    """A password reset code and the login it is for."""

    user: User


@dataclass(frozen=True)
class Caregiver:
    user: User
    since: dt.datetime


@dataclass(frozen=True)
class CareCircle:
    """The patient's own login (once made), who cares for them, and the open invites."""

    login: User | None
    caregivers: list[Caregiver]
    invites: Sequence[ActivationCode]


@dataclass(frozen=True)
class Enrolment:
    """A patient just enrolled and the one-time code their login is activated with."""

    patient: Patient
    activation_code: str
    activation_expires_at: dt.datetime


def enrol_patient(
    session: Session, *, actor: Actor, data: dict[str, Any], now: dt.datetime, code_days: int
) -> Enrolment:
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
    return Enrolment(patient, code, now + dt.timedelta(days=code_days))


MAX_OPEN_INVITES = 5


def _open_invites(patient_id: int, now: dt.datetime) -> Select[ActivationCode]:
    return select(ActivationCode).where(
        ActivationCode.patient_id == patient_id,
        ActivationCode.purpose == "caregiver",
        ActivationCode.used_at.is_(None),
        ActivationCode.cancelled_at.is_(None),
        ActivationCode.expires_at > now,
    )


def invite_caregiver(
    session: Session, *, actor: Actor, patient: Patient, now: dt.datetime, code_days: int
) -> IssuedCode:
    """A patient or their clinician invites a caregiver with a one-time code (at most
    `MAX_OPEN_INVITES` open at a time: cancel one to make another)."""
    # PostgreSQL: concurrent invites for one patient queue here, so the count below holds
    session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    open_now = session.scalar(
        select(func.count()).select_from(_open_invites(patient.id, now).subquery())
    )
    if (open_now or 0) >= MAX_OPEN_INVITES:
        raise Conflict(
            f"This patient already has {MAX_OPEN_INVITES} open invites. Cancel one first.",
            code="too_many_invites",
        )
    code = issue_code(
        session, patient=patient, purpose="caregiver", by=actor, now=now, days=code_days
    )
    session.commit()
    return IssuedCode(code, now + dt.timedelta(days=code_days))


@dataclass(frozen=True)
class Activation:
    """What `activate` answers: the same whether or not the email already had an account."""

    role: str
    email: str
    patient_id: int
    user: User | None  # the account made; None when the email was in use (nothing made)


def _pending_code(session: Session, code: str, now: dt.datetime) -> ActivationCode | None:
    return session.scalar(
        select(ActivationCode).where(
            ActivationCode.code_hash == hash_code(code),
            ActivationCode.used_at.is_(None),
            ActivationCode.cancelled_at.is_(None),
            ActivationCode.expires_at > now,
        )
    )


def _claim_code(session: Session, pending: ActivationCode, user_id: int, now: dt.datetime) -> bool:
    """Exactly one concurrent use can flip used_at."""
    claimed = session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == pending.id, ActivationCode.used_at.is_(None))
        .values(used_at=now, used_by_id=user_id)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _link_caregiver(session: Session, patient_id: int, user_id: int, now: dt.datetime) -> None:
    linked = session.scalar(
        select(CaregiverLink.id).where(
            CaregiverLink.patient_id == patient_id, CaregiverLink.caregiver_id == user_id
        )
    )
    if linked is None:
        session.add(CaregiverLink(patient_id=patient_id, caregiver_id=user_id, created_at=now))


INVALID_CODE = "This code is not valid or has expired. Ask for a new one."


def activate(
    session: Session,
    *,
    code: str,
    email: str,
    password: str,
    display_name: str,
    policy: PasswordPolicy,
    now: dt.datetime,
    language: str | None = None,
) -> Activation:
    """Turn a one-time code into a new login: the patient's own, or a caregiver linked to them.

    Never a way to learn about other accounts: an email that already has one gets the same
    answer, takes the same time (the password is hashed either way) and makes nothing; the code
    stays unused. Someone who already has an account signs in and accepts the invite there
    (`accept_invite`), so a password is only ever checked by sign-in and its throttle.
    The new login reads in `language` (the browser's) until they choose another.
    """
    email = normalise_email(email)
    password_hash = _check_password(policy, password, email)
    pending = _pending_code(session, code, now)
    if pending is None:
        raise Invalid({"code": [INVALID_CODE]})
    role = "patient" if pending.purpose == "enrolment" else "caregiver"
    answer = Activation(role, email, pending.patient_id, None)
    if pending.purpose == "enrolment":
        taken = session.scalar(select(User.id).where(User.patient_id == pending.patient_id))
        if taken is not None:
            raise Invalid({"code": [INVALID_CODE]})
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        session.rollback()
        return answer
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=role,
        password_hash=password_hash,
        patient_id=pending.patient_id if role == "patient" else None,
        created_at=now,
        language=language,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent sign-up took the email: the same answer
        session.rollback()
        return answer
    if not _claim_code(session, pending, user.id, now):
        session.rollback()
        raise Invalid({"code": [INVALID_CODE]})
    if role == "caregiver":
        _link_caregiver(session, pending.patient_id, user.id, now)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return answer
    return Activation(role, email, pending.patient_id, user)


def accept_invite(session: Session, *, user: User, code: str, now: dt.datetime) -> int:
    """A signed-in caregiver links one more patient with that patient's invite code; returns
    the patient's id."""
    if user.role != "caregiver":
        raise Forbidden("Only a caregiver's account can accept a caregiver invite.")
    pending = _pending_code(session, code, now)
    if pending is None or pending.purpose != "caregiver":
        raise Invalid({"code": [INVALID_CODE]})
    if not _claim_code(session, pending, user.id, now):
        session.rollback()
        raise Invalid({"code": [INVALID_CODE]})
    _link_caregiver(session, pending.patient_id, user.id, now)
    session.commit()
    return pending.patient_id


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_token: str | None,
    policy: PasswordPolicy,
    now: dt.datetime,
) -> None:
    """Change one's own password; every other signed-in browser is signed out."""
    if not passwords.verify(policy.hasher, user.password_hash, current_password):
        raise Invalid({"current_password": ["This is not your current password."]})
    user.password_hash = _check_password(policy, new_password, user.email)
    sessions.end_all(session, user.id, now, keep_token=keep_token)
    session.commit()


def _resettable_user(session: Session, patient: Patient, user_id: int) -> User:
    """The patient's own login or one of their caregivers: the logins their clinic may reset."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such login for this patient.")
    if user.role == "patient" and user.patient_id == patient.id:
        return user
    if user.role == "caregiver" and user.id in caregiver_ids(session, patient.id):
        return user
    raise NotFound("No such login for this patient.")


def issue_reset_code(
    session: Session,
    *,
    actor: Actor,
    patient: Patient,
    user_id: int,
    now: dt.datetime,
    hours: int,
) -> IssuedResetCode:
    """A clinician gives a patient (or their caregiver) a one-time code to set a new password,
    in person or by phone, since patients may have no email. An earlier unused code ends."""
    user = _resettable_user(session, patient, user_id)
    session.execute(
        update(ResetCode)
        .where(ResetCode.user_id == user.id, ResetCode.used_at.is_(None))
        .where(ResetCode.expires_at > now)
        .values(expires_at=now)
    )
    code = new_code()
    expires = now + dt.timedelta(hours=hours)
    session.add(
        ResetCode(
            code_hash=hash_code(code),
            user_id=user.id,
            created_by_id=actor.user_id,
            created_at=now,
            expires_at=expires,
        )
    )
    session.commit()
    return IssuedResetCode(code, expires, user)


def reset_password(
    session: Session,
    *,
    email: str,
    code: str,
    password: str,
    policy: PasswordPolicy,
    now: dt.datetime,
) -> User:
    """Set a new password with a clinic's reset code; every session of the login ends."""
    email = normalise_email(email)
    password_hash = _check_password(policy, password, email)
    invalid = Invalid({"code": [INVALID_CODE]})
    row = session.execute(
        select(ResetCode, User)
        .join(User, User.id == ResetCode.user_id)
        .where(
            ResetCode.code_hash == hash_code(code),
            ResetCode.used_at.is_(None),
            ResetCode.expires_at > now,
        )
    ).first()
    if row is None or row[1].email != email:
        raise invalid
    reset, user = row
    claimed = session.execute(
        update(ResetCode)
        .where(ResetCode.id == reset.id, ResetCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise invalid
    user.password_hash = password_hash
    sessions.end_all(session, user.id, now)
    session.commit()
    return user


def end_every_session(session: Session, *, user: User, now: dt.datetime) -> int:
    """Sign out everywhere: every browser of this user, this one included."""
    ended = sessions.end_all(session, user.id, now)
    session.commit()
    return ended


def caregiver_ids(session: Session, patient_id: int) -> set[int]:
    return set(
        session.scalars(
            select(CaregiverLink.caregiver_id).where(CaregiverLink.patient_id == patient_id)
        )
    )


def care_circle(session: Session, patient: Patient, now: dt.datetime) -> CareCircle:
    """The patient's own login, their caregivers (with since when) and their open invites."""
    people = session.execute(
        select(User, CaregiverLink.created_at)
        .join(CaregiverLink, CaregiverLink.caregiver_id == User.id)
        .where(CaregiverLink.patient_id == patient.id)
        .order_by(CaregiverLink.created_at, User.id)
    ).all()
    invites = session.scalars(_open_invites(patient.id, now).order_by(ActivationCode.id)).all()
    caregivers = [Caregiver(user, since) for user, since in people]
    return CareCircle(patient_login(session, patient), caregivers, invites)


def patient_login(session: Session, patient: Patient) -> User | None:
    """The patient's own login, once their enrolment code was used."""
    return session.scalar(select(User).where(User.patient_id == patient.id))


def remove_caregiver(session: Session, *, patient: Patient, caregiver_id: int) -> None:
    """The patient or their clinician ends a caregiver's access to this patient, at once, and
    the messages still queued for them about this patient."""
    link = session.scalar(
        select(CaregiverLink).where(
            CaregiverLink.patient_id == patient.id, CaregiverLink.caregiver_id == caregiver_id
        )
    )
    if link is None:
        raise NotFound("This person is not a caregiver of this patient.")
    session.delete(link)
    # what was queued for them about this patient is not theirs to receive any more
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient_user_id == caregiver_id,
            OutboxMessage.patient_id == patient.id,
            OutboxMessage.status == "pending",
        )
        .values(status="cancelled", last_error="caregiver removed")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def cancel_invite(session: Session, *, patient: Patient, invite_id: int, now: dt.datetime) -> None:
    """Withdraw an invite nobody has used yet: its code stops working."""
    cancelled = session.execute(
        update(ActivationCode)
        .where(
            ActivationCode.id == invite_id,
            ActivationCode.patient_id == patient.id,
            ActivationCode.purpose == "caregiver",
            ActivationCode.used_at.is_(None),
            ActivationCode.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )
    if cancelled.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound("No open invite with this id.")
    session.commit()


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    policy: PasswordPolicy,
    now: dt.datetime,
    language: str | None = None,
) -> User | None:
    """The user for these credentials, or None (the caller says nothing about which was wrong).
    Someone who never chose a language reads in `language` (the browser's) from now on."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        passwords.dummy_verify(policy.hasher)
        return None
    if not passwords.verify(policy.hasher, user.password_hash, password):
        return None
    if policy.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = policy.hasher.hash(password)
    user.last_sign_in_at = now
    if user.language is None:
        user.language = language
    session.commit()
    return user


def choose_language(
    session: Session, *, user: User, language: str, available: Sequence[str]
) -> None:
    """The language this person reads the apps and their notifications in, on every device:
    one of `available` (the languages content/ has)."""
    if language not in available:
        raise Invalid({"language": ["Choose one of: " + ", ".join(available) + "."]})
    user.language = language
    session.commit()


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    return patient
