"""Who hears a prompt meant for the person logging: the patient's own login, or, for a
patient without one, the linked caregivers who log for them (RULES.md 7 "Tracking ... Prompts
go to whoever logs")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import CaregiverLink, User


def who_logs_for(session: Session, patient_id: int) -> list[int]:
    """User ids to prompt for one patient: their own login, else their linked caregivers."""
    own = session.scalar(select(User.id).where(User.patient_id == patient_id).limit(1))
    if own is not None:
        return [own]
    return sorted(
        session.scalars(
            select(CaregiverLink.caregiver_id).where(CaregiverLink.patient_id == patient_id)
        )
    )
