"""Who hears what is meant for a patient: their own login, their linked caregivers, and who
logs for them (the patient's own login, or, for a patient without one, the linked caregivers:
RULES.md 7 "Tracking ... Prompts go to whoever logs"). Read a batch of patients at a time."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import CaregiverLink, User
from server.services.sql import batches


def logins(session: Session, patient_ids: Iterable[int]) -> dict[int, int]:
    """patient id -> the patient's own user id (patients not yet activated have none)."""
    ids = sorted(set(patient_ids))
    found: dict[int, int] = {}
    for batch in batches(ids):
        rows = session.execute(select(User.patient_id, User.id).where(User.patient_id.in_(batch)))
        found.update({pid: uid for pid, uid in rows if pid is not None})
    return found


def caregivers(session: Session, patient_ids: Iterable[int]) -> dict[int, list[int]]:
    """patient id -> their linked caregivers' user ids."""
    ids = sorted(set(patient_ids))
    found: dict[int, list[int]] = {}
    for batch in batches(ids):
        for pid, uid in session.execute(
            select(CaregiverLink.patient_id, CaregiverLink.caregiver_id).where(
                CaregiverLink.patient_id.in_(batch)
            )
        ):
            found.setdefault(pid, []).append(uid)
    return found


def loggers(session: Session, patient_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """patient id -> who logs for them, each with the suffix of their message keys: the
    patient's own login (no suffix: the keys it always had), else their linked caregivers."""
    ids = sorted(set(patient_ids))
    own = logins(session, ids)
    carers = caregivers(session, [pid for pid in ids if pid not in own])
    found: dict[int, list[tuple[int, str]]] = {}
    for pid in ids:
        if pid in own:
            found[pid] = [(own[pid], "")]
        elif pid in carers:
            found[pid] = [(uid, f":caregiver-{uid}") for uid in sorted(carers[pid])]
    return found


def who_logs_for(session: Session, patient_id: int) -> list[int]:
    """User ids to prompt for one patient: their own login, else their linked caregivers."""
    return [user_id for user_id, _ in loggers(session, [patient_id]).get(patient_id, [])]
