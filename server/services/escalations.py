"""Escalations: a red flag for the care team, one unresolved per patient and rule."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain import RedFlag, severity_rank
from server.models import Escalation, EscalationEvent, Patient
from server.policy import Actor
from server.services import alerts
from server.services.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class WaitingEscalation:
    """An escalation nobody has acknowledged yet, with its patient's name and its title."""

    id: int
    patient_id: int
    patient_name: str
    rule: str
    title: str
    severity: str
    opened_at: dt.datetime


@dataclass(frozen=True)
class Pulse:
    """What an open care-team page polls: a version of the clinic's unresolved escalations,
    whether it moved since the page's, how many wait for an acknowledgement, and which."""

    version: str
    changed: bool
    unresolved: int
    waiting: dict[str, int]
    new: list[WaitingEscalation]


@dataclass(frozen=True)
class TeamEscalation:
    """An escalation as the care team reads it: the row, its patient's name, the rule's title
    and advice, and who acknowledged and resolved it."""

    escalation: Escalation
    patient_name: str | None
    title: str
    clinician_advice: str | None
    acknowledged_by: str | None
    resolved_by: str | None


def _active(session: Session, patient_id: int, rule: str) -> Escalation | None:
    query = select(Escalation).where(
        Escalation.patient_id == patient_id,
        Escalation.rule == rule,
        Escalation.resolved_at.is_(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def raise_flag(
    session: Session,
    *,
    patient: Patient,
    rule: str,
    severity: str,
    summary: str,
    evidence: dict[str, Any],
    now: dt.datetime,
    advice: str | None = None,
) -> tuple[Escalation, bool]:
    """Open an escalation, or add this evidence to the unresolved one for the same rule.

    Returns the escalation and whether it is new or rose in severity (worth notifying).
    A new emergency report on an escalation that is acknowledged but not resolved alerts the
    care team again, once per report (RULES.md 7 "Repeat emergencies").
    advice: the advice code when it is not the rule's own (a rule read with another signal,
    RULES.md 7); kept with the evidence so the apps show the right words (advice_code).
    Runs inside the caller's transaction (the caller commits).
    """
    entry = {"at": now.isoformat(), **evidence, "severity": severity, "advice": advice or rule}
    existing = _active(session, patient.id, rule)
    if existing is None:
        created = Escalation(
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            rule=rule,
            severity=severity,
            status="open",
            summary=summary[:300],
            evidence=[entry],
            opened_at=now,
            notify_level=0,
        )
        try:
            with session.begin_nested():
                session.add(created)
                session.flush()
        except IntegrityError:  # opened a moment ago by a concurrent request: add to it
            existing = _active(session, patient.id, rule)
            if existing is None:
                raise
        else:
            session.add(
                EscalationEvent(escalation_id=created.id, at=now, kind="opened", detail=entry)
            )
            alerts.enqueue(session, created, "opened", now)
            return created, True
    rose = severity_rank(severity) > severity_rank(existing.severity)
    existing.evidence = [*existing.evidence, entry][-50:]
    if rose:
        existing.severity = severity
        existing.summary = summary[:300]
        existing.notify_level = 0
        existing.last_notified_at = None
    realert = not rose and is_repeat_emergency(existing, severity)
    kind = "escalated" if rose else "updated" if realert else "added"
    session.add(EscalationEvent(escalation_id=existing.id, at=now, kind=kind, detail=entry))
    if rose:
        alerts.enqueue(session, existing, "escalated", now)
    elif realert:
        alerts.enqueue(session, existing, f"updated-{_evidence_key(evidence, now)}", now)
    return existing, rose


def raise_reported_flag(
    session: Session,
    flag: RedFlag,
    title: str,
    *,
    patient: Patient,
    reporter: Actor,
    evidence: dict[str, Any],
    now: dt.datetime,
) -> tuple[Escalation, bool]:
    """A red flag from what the patient's side logged (a symptom, a dose skipped for want of
    stock): `raise_flag` with the care team's `title` and who reported it."""
    return raise_flag(
        session,
        patient=patient,
        rule=flag.rule,
        severity=flag.severity,
        summary=f"{title}: reported by the {reporter.role}",
        evidence={**evidence, "reported_by": reporter.role},
        now=now,
        advice=flag.advice,
    )


def is_repeat_emergency(escalation: Escalation, severity: str) -> bool:
    """Whether new evidence alerts the team again: an emergency report on an escalation
    someone acknowledged but nobody resolved (RULES.md 7; an open one is on its ladder)."""
    return escalation.status == "acknowledged" and severity == "emergency"


def _evidence_key(evidence: dict[str, Any], now: dt.datetime) -> str:
    """The report behind a piece of evidence (deduplicates the alert per report)."""
    for field in ("symptom_report_id", "lab_result_id"):
        if evidence.get(field) is not None:
            return f"{evidence.get('kind', 'report')}:{evidence[field]}"
    return f"at:{now.isoformat()}"


def advice_code(escalation: Escalation) -> str:
    """The advice to show for an escalation: that of its latest evidence at its current
    severity (fever while the count is low has advice of its own), else the rule's."""
    for entry in reversed(escalation.evidence or []):
        if entry.get("advice") and entry.get("severity") == escalation.severity:
            return str(entry["advice"])
    return escalation.rule


def visible(
    session: Session,
    actor: Actor,
    *,
    status: str | None,
    patient_id: int | None,
    limit: int = 500,
    resolved_since: dt.datetime | None = None,
) -> Sequence[Escalation]:
    """The actor's clinic's escalations, most severe and oldest first; with `resolved_since`,
    those resolved since then, the latest resolution first (what the last shift did)."""
    query = select(Escalation).where(Escalation.clinic_id == (actor.clinic_id or -1))
    if resolved_since is not None:
        query = query.where(Escalation.resolved_at >= resolved_since)
        if patient_id is not None:
            query = query.where(Escalation.patient_id == patient_id)
        return session.scalars(query.order_by(Escalation.resolved_at.desc()).limit(limit)).all()
    if status == "unresolved":
        query = query.where(Escalation.resolved_at.is_(None))
    elif status is not None:
        query = query.where(Escalation.status == status)
    if patient_id is not None:
        query = query.where(Escalation.patient_id == patient_id)
    rows = session.scalars(query.order_by(Escalation.opened_at).limit(limit)).all()
    return sorted(rows, key=lambda e: (-severity_rank(e.severity), e.opened_at))


def pulse(session: Session, actor: Actor, since: str | None, content: Any) -> Pulse:
    """What the open care-team pages poll every few seconds: the clinic's unresolved
    escalations in one small indexed query (no evidence, no advice), and a `version` that
    changes whenever one opens, gets new evidence, is acknowledged or is resolved (`since`: the
    version the page has). `content`: the rules' titles."""
    latest = (
        select(func.max(EscalationEvent.id))
        .where(EscalationEvent.escalation_id == Escalation.id)
        .correlate(Escalation)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Escalation.id,
            Escalation.patient_id,
            Patient.display_name,
            Escalation.rule,
            Escalation.severity,
            Escalation.status,
            Escalation.opened_at,
            latest,
        )
        .join(Patient, Patient.id == Escalation.patient_id)
        .where(Escalation.clinic_id == (actor.clinic_id or -1), Escalation.resolved_at.is_(None))
        .order_by(Escalation.id)
    ).all()
    waiting = {"emergency": 0, "urgent": 0, "routine": 0}
    new: list[WaitingEscalation] = []
    for row in rows:
        if row.status == "open":
            waiting[row.severity] = waiting.get(row.severity, 0) + 1
            new.append(
                WaitingEscalation(
                    id=row.id,
                    patient_id=row.patient_id,
                    patient_name=row.display_name,
                    rule=row.rule,
                    title=(content.advice.get(row.rule) or {}).get("title", row.rule),
                    severity=row.severity,
                    opened_at=row.opened_at,
                )
            )
    marks = ",".join(f"{row.id}:{row.status[0]}{row.severity[0]}{row[7] or 0}" for row in rows)
    new.sort(key=lambda e: (-severity_rank(e.severity), e.opened_at))
    version = hashlib.sha1(marks.encode(), usedforsecurity=False).hexdigest()[:16]
    return Pulse(version, since != version, len(rows), waiting, new)


def open_for_patient(session: Session, patient_id: int) -> Sequence[Escalation]:
    rows = session.scalars(
        select(Escalation).where(
            Escalation.patient_id == patient_id, Escalation.resolved_at.is_(None)
        )
    ).all()
    return sorted(rows, key=lambda e: (-severity_rank(e.severity), e.opened_at))


def get_for_clinic(session: Session, actor: Actor, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.clinic_id != actor.clinic_id:
        raise NotFound("No such escalation.")
    return escalation


def acknowledge(session: Session, actor: Actor, escalation_id: int, now: dt.datetime) -> Escalation:
    """A clinician takes it on: the re-notification ladder stops."""
    escalation = get_for_clinic(session, actor, escalation_id)
    if escalation.status == "resolved":
        raise Conflict("This escalation is already resolved.")
    if escalation.status == "open":
        escalation.status = "acknowledged"
        escalation.acknowledged_at = now
        escalation.acknowledged_by_id = actor.user_id
        session.add(
            EscalationEvent(
                escalation_id=escalation.id, at=now, kind="acknowledged", actor_id=actor.user_id
            )
        )
        alerts.enqueue(session, escalation, "acknowledged", now)
    session.commit()
    return escalation


def resolve(
    session: Session, actor: Actor, escalation_id: int, note: str, now: dt.datetime
) -> Escalation:
    """Close it with a note of what was done."""
    if not note.strip():
        raise Invalid({"note": ["Say briefly how this was resolved."]})
    escalation = get_for_clinic(session, actor, escalation_id)
    if escalation.status == "resolved":
        raise Conflict("This escalation is already resolved.")
    _close(session, escalation, actor.user_id, note.strip(), now)
    session.commit()
    return escalation


def resolved_by_treatment(
    session: Session, patient_id: int, rule: str, actor_id: int | None, note: str, now: dt.datetime
) -> Escalation | None:
    """The clinician's act on the treatment course answers an open escalation (a re-titration
    plan or a resume answers "missed doses over 48 h"): it is resolved with what they did, in
    the caller's transaction, so the patient no longer reads "do not restart" beside the
    dose they are now to take."""
    escalation = _active(session, patient_id, rule)
    if escalation is not None:
        _close(session, escalation, actor_id, note, now)
    return escalation


def _close(
    session: Session, escalation: Escalation, actor_id: int | None, note: str, now: dt.datetime
) -> None:
    if escalation.acknowledged_at is None:
        escalation.acknowledged_at = now
        escalation.acknowledged_by_id = actor_id
    escalation.status = "resolved"
    escalation.resolved_at = now
    escalation.resolved_by_id = actor_id
    escalation.resolution_note = note
    session.add(
        EscalationEvent(
            escalation_id=escalation.id,
            at=now,
            kind="resolved",
            actor_id=actor_id,
            detail={"note": note},
        )
    )
    alerts.enqueue(session, escalation, "resolved", now)


def for_care_team(
    session: Session, rows: Sequence[Escalation], content: Any
) -> list[TeamEscalation]:
    """Escalations with the patient's name, the rule's title and who acted, for the care team."""
    from server.models import User

    patient_ids = {e.patient_id for e in rows}
    user_ids = {u for e in rows for u in (e.acknowledged_by_id, e.resolved_by_id) if u}
    names = dict(
        session.execute(
            select(Patient.id, Patient.display_name).where(Patient.id.in_(patient_ids))
        ).all()
    )
    people = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    )
    result = []
    for escalation in rows:
        advice = content.advice.get(advice_code(escalation)) or content.advice.get(
            escalation.rule, {}
        )
        result.append(
            TeamEscalation(
                escalation=escalation,
                patient_name=names.get(escalation.patient_id),
                title=advice.get("title", escalation.rule),
                clinician_advice=advice.get("clinician"),
                acknowledged_by=people.get(escalation.acknowledged_by_id or 0),
                resolved_by=people.get(escalation.resolved_by_id or 0),
            )
        )
    return result
