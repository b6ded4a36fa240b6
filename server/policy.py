"""Who may do what: every route's access is decided here and nowhere else.

A route declares an `Access` (who it is for and what scope it touches); `decide()` answers for an
actor and, for patient-scoped routes, the patient concerned. Records a caller may not know exist
answer 404, never 403, so existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

ALL_ROLES = ("admin", "clinician", "patient", "caregiver")
CARE_TEAM = frozenset({"clinician", "admin"})
# the roles of a patient's own routes: who reads their records (each decided by `decide`), who
# logs their diaries and doses, and the patient with their care team (not a caregiver)
READERS = frozenset(ALL_ROLES)
LOGGERS = frozenset({"patient", "caregiver"})
PATIENT_AND_CARE_TEAM = CARE_TEAM | {"patient"}


class Decision(Enum):
    ALLOW = 200
    UNAUTHENTICATED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the policy sees them."""

    user_id: int
    role: str
    clinic_id: int | None = None
    patient_id: int | None = None
    caregiver_of: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PatientRef:
    id: int
    clinic_id: int


@dataclass(frozen=True)
class Access:
    """What a route needs. `scope` is public, signed_in, clinic or patient."""

    action: str
    scope: str
    roles: frozenset[str] = frozenset()
    # False for a file that is the same for everyone: the request never reads who asks
    # (no session, no database), so the app's code and styles cost the server next to nothing
    reads_who_asks: bool = True

    def allows_role(self, role: str) -> bool:
        return role in self.roles


def public(action: str) -> Access:
    return Access(action, "public")


def asset(action: str) -> Access:
    """A public file of the app (code, styles, words, icons): the same for everyone."""
    return Access(action, "public", reads_who_asks=False)


def signed_in(action: str, roles: Iterable[str] = ALL_ROLES) -> Access:
    return Access(action, "signed_in", frozenset(roles))


def clinic(action: str, roles: Iterable[str] = CARE_TEAM) -> Access:
    """A care-team route over the actor's own clinic (lists, escalations by id)."""
    return Access(action, "clinic", frozenset(roles))


def patient(action: str, roles: Iterable[str]) -> Access:
    """A route on one patient's records, named by the `patient_id` in its path."""
    return Access(action, "patient", frozenset(roles))


@dataclass(frozen=True)
class Reach:
    """The patients an actor may see: named ones (`patient_ids`), or every patient of one
    clinic (`clinic_id`; None: none). The one rule, asked of one patient (`admits`) or turned
    into a query by the list of patients (services/patients.py)."""

    patient_ids: frozenset[int] | None = None
    clinic_id: int | None = None

    def admits(self, target: PatientRef) -> bool:
        if self.patient_ids is not None:
            return target.id in self.patient_ids
        return self.clinic_id is not None and self.clinic_id == target.clinic_id


def reach_of(actor: Actor) -> Reach:
    """A patient reaches themself, a caregiver their linked patients, the care team their
    clinic."""
    if actor.role == "patient":
        own = frozenset() if actor.patient_id is None else frozenset({actor.patient_id})
        return Reach(patient_ids=own)
    if actor.role == "caregiver":
        return Reach(patient_ids=actor.caregiver_of)
    return Reach(clinic_id=actor.clinic_id)


def can_see_patient(actor: Actor, target: PatientRef) -> bool:
    return reach_of(actor).admits(target)


def decide(access: Access, actor: Actor | None, target: PatientRef | None = None) -> Decision:
    """The one decision every route asks for before it does anything."""
    if access.scope == "public":
        return Decision.ALLOW
    if actor is None:
        return Decision.UNAUTHENTICATED
    if access.scope == "patient":
        if target is None or not can_see_patient(actor, target):
            return Decision.NOT_FOUND
        return Decision.ALLOW if access.allows_role(actor.role) else Decision.FORBIDDEN
    if access.scope == "clinic" and target is not None and not can_see_patient(actor, target):
        return Decision.NOT_FOUND
    return Decision.ALLOW if access.allows_role(actor.role) else Decision.FORBIDDEN
