"""A clinic's settings: monitoring profile, escalation windows, on-call, webhook and email."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.domain import available_profiles
from server.models import Clinic, User
from server.notify.destinations import Destinations, Refused
from server.policy import CARE_TEAM, Actor
from server.services.alerts import settings_of
from server.services.errors import Invalid, NotFound


def patient_contact(clinic: Clinic) -> dict[str, str | None]:
    """How patients and caregivers reach the care team (a "Call my care team" button): the
    clinic's phone number and, in its own words, when it answers."""
    saved = (clinic.settings or {}).get("patient_contact") or {}
    return {"phone": saved.get("phone"), "hours": saved.get("hours")}


def view(clinic: Clinic) -> dict[str, Any]:
    settings = settings_of(clinic)
    return {
        "name": clinic.name,
        "monitoring_profile": clinic.monitoring_profile,
        "available_profiles": list(available_profiles()),
        **{k: v for k, v in settings.items() if k != "webhook_secret"},
        "webhook_secret_set": bool(settings.get("webhook_secret")),
        "patient_contact": patient_contact(clinic),
    }


def current(session: Session, actor: Actor) -> Clinic:
    clinic = session.get(Clinic, actor.clinic_id or -1)
    if clinic is None:
        raise NotFound("No clinic.")
    return clinic


def update(
    session: Session, actor: Actor, data: dict[str, Any], destinations: Destinations
) -> Clinic:
    """Change what was sent; the rest stays. The webhook must be an https URL on a public
    address (an internal receiver only when the server allows it: destinations.py)."""
    clinic = current(session, actor)
    if data.get("webhook_url"):
        try:
            destinations.check_webhook_url(data["webhook_url"])
        except Refused as exc:
            raise Invalid({"webhook_url": [f"Not allowed: {exc}."]}) from exc
    if "monitoring_profile" in data:
        if data["monitoring_profile"] not in available_profiles():
            raise Invalid(
                {"monitoring_profile": [f"Use one of {', '.join(available_profiles())}."]}
            )
        clinic.monitoring_profile = data["monitoring_profile"]
    on_call_user = (data.get("on_call") or {}).get("user_id")
    if on_call_user is not None:
        member = session.get(User, on_call_user)
        if member is None or member.clinic_id != clinic.id or member.role not in CARE_TEAM:
            raise Invalid({"on_call.user_id": ["Choose a clinician or admin of this clinic."]})
    saved = dict(clinic.settings or {})
    for key in (
        "escalation_windows_minutes",
        "on_call",
        "webhook_url",
        "webhook_secret",
        "email_recipients",
        "caregiver_rules",
        "timezone",
    ):
        if key in data:
            saved[key] = data[key]
    if "patient_contact" in data:  # what was sent of it changes; the rest stays
        saved["patient_contact"] = {**patient_contact(clinic), **data["patient_contact"]}
    clinic.settings = saved
    session.commit()
    return clinic
