"""Telling people about escalations: the clinic's clinicians (push), the care-team webhook,
email, linked caregivers, and the re-notification ladder until someone acknowledges.

Every delivery is a row in the outbox, written in the same transaction as the escalation, so
nothing is sent inline and nothing is lost if a receiver is down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import escalation_ladder
from server.domain.escalation_ladder import DEFAULT_WINDOWS_MINUTES, is_for_on_call
from server.models import CaregiverLink, Clinic, Escalation, EscalationEvent, Patient, User
from server.services import outbox
from server.services.content import ENGLISH

# Symptom red flags a linked caregiver is told about by default (the clinic can change it).
DEFAULT_CAREGIVER_RULES = (
    "chest_pain",
    "cardiac_symptoms",
    "fever",
    "sore_throat",
    "bowel_obstruction_signs",
    "seizure",
    "nms_signs",
    "no_bowel_movement_72h",
    "missed_doses_48h",
    "anc_severe",
)


def settings_of(clinic: Clinic) -> dict[str, Any]:
    """The clinic's alert settings with the defaults filled in."""
    saved = clinic.settings or {}
    windows = {**DEFAULT_WINDOWS_MINUTES, **(saved.get("escalation_windows_minutes") or {})}
    return {
        "escalation_windows_minutes": windows,
        "on_call": saved.get("on_call") or {},
        "webhook_url": saved.get("webhook_url"),
        "webhook_secret": saved.get("webhook_secret"),
        "email_recipients": list(saved.get("email_recipients") or []),
        "caregiver_rules": list(saved.get("caregiver_rules") or DEFAULT_CAREGIVER_RULES),
        "timezone": saved.get("timezone") or "Europe/London",
    }


def public_view(escalation: Escalation) -> dict[str, Any]:
    """The escalation as the webhook carries it (the contract's fields)."""
    return {
        "id": escalation.id,
        "patient_id": escalation.patient_id,
        "rule": escalation.rule,
        "severity": escalation.severity,
        "status": escalation.status,
        "opened_at": escalation.opened_at.isoformat(),
        "summary": escalation.summary,
    }


def _care_team(session: Session, clinic_id: int) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(
                User.clinic_id == clinic_id, User.role.in_(["clinician", "admin"])
            )
        )
    )


def enqueue(session: Session, escalation: Escalation, event: str, now: dt.datetime) -> int:
    """Add the deliveries for one event: opened, escalated, renotify-N, updated-<report> (a
    new emergency report on an acknowledged escalation), acknowledged, resolved."""
    clinic = session.get(Clinic, escalation.clinic_id)
    settings = settings_of(clinic) if clinic else settings_of(Clinic(settings={}))
    updated = event.startswith("updated-")
    webhook_event = {
        "opened": "escalation.opened",
        "escalated": "escalation.opened",
        "acknowledged": "escalation.acknowledged",
        "resolved": "escalation.resolved",
    }.get(event, "escalation.updated" if updated else None)
    base = f"escalation:{escalation.id}:{event}"
    rows: list[dict[str, Any]] = []
    common = {"patient_id": escalation.patient_id, "escalation_id": escalation.id, "due_at": now}
    if webhook_event:
        rows.append(
            {
                **common,
                "dedupe_key": f"{base}:webhook",
                "kind": "escalation",
                "channel": "webhook",
                "payload": {"event": webhook_event, "escalation": public_view(escalation)},
            }
        )
    if event in ("acknowledged", "resolved"):
        return outbox.enqueue(session, rows, now)
    level = int(event.split("-")[1]) if event.startswith("renotify-") else 0
    to_on_call = is_for_on_call(level)
    # codes and values: what the care team's phones say is worded as it is sent
    # (services/messages.py)
    alert = {
        "code": f"escalation_{escalation.severity}",
        "summary": escalation.summary,
        "url": "/care/#/escalations",
    }
    if updated:
        alert = {**alert, "code": f"escalation_again_{escalation.severity}"}
    recipients = [] if to_on_call else _care_team(session, escalation.clinic_id)
    on_call_user = settings["on_call"].get("user_id")
    if to_on_call and on_call_user:
        recipients.append(int(on_call_user))
    for user_id in recipients:
        rows.append(
            {
                **common,
                "dedupe_key": f"{base}:push:{user_id}",
                "kind": "escalation",
                "recipient_user_id": user_id,
                "payload": alert,
            }
        )
    emails = list(settings["email_recipients"])
    if to_on_call and settings["on_call"].get("email"):
        emails = [settings["on_call"]["email"]]
    if emails:
        rows.append(
            {
                **common,
                "dedupe_key": f"{base}:email",
                "kind": "escalation",
                "channel": "email",
                # codes and values: the words and dates are made as it is sent
                # (services/messages.py)
                "payload": {
                    "to": emails,
                    "severity": escalation.severity,
                    "summary": escalation.summary,
                    "opened_at": escalation.opened_at.isoformat(),
                    "timezone": settings["timezone"],
                    "again": updated,
                    "language": ENGLISH,  # the care team reads English (README, Languages)
                },
            }
        )
    if event == "opened" and escalation.rule in settings["caregiver_rules"]:
        for (caregiver_id,) in session.execute(
            select(CaregiverLink.caregiver_id).where(
                CaregiverLink.patient_id == escalation.patient_id
            )
        ):
            rows.append(
                {
                    **common,
                    "dedupe_key": f"{base}:caregiver:{caregiver_id}",
                    "kind": "escalation",
                    "recipient_user_id": caregiver_id,
                    "payload": {
                        "code": "escalation_caregiver",
                        "url": f"/#today?patient={escalation.patient_id}",
                    },
                }
            )
    escalation.last_notified_at = now
    escalation.notify_level = level
    return outbox.enqueue(session, rows, now)


def next_notice_at(escalation: Escalation, settings: dict[str, Any]) -> dt.datetime | None:
    """When an unacknowledged escalation is sent again (and then to the on-call contact)."""
    return escalation_ladder.next_notice_at(
        escalation.last_notified_at,
        escalation.severity,
        settings["escalation_windows_minutes"],
        settings["timezone"],
    )


def renotify_due(
    session: Session, notified: Sequence[tuple[Escalation, Clinic]], now: dt.datetime
) -> int:
    """Climb the ladder for the open escalations `notified` (with their clinics: the cycle's
    renotify step finds them) that nobody acknowledged within their window."""
    climbed = 0
    for escalation, clinic in notified:
        due = next_notice_at(escalation, settings_of(clinic))
        if due is None or due > now:
            continue
        level = escalation.notify_level + 1
        enqueue(session, escalation, f"renotify-{level}", now)
        session.add(
            EscalationEvent(
                escalation_id=escalation.id,
                at=now,
                kind="renotified",
                detail={"level": level, "to": "on-call" if is_for_on_call(level) else "care team"},
            )
        )
        climbed += 1
    if climbed:  # otherwise the cycle's next commit ends this read
        session.commit()
    return climbed


def patient_name(session: Session, patient_id: int) -> str | None:
    patient = session.get(Patient, patient_id)
    return patient.display_name if patient else None
