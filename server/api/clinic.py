"""Clinic settings (admin only)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_actor
from server.api.common import blueprint
from server.extensions import db
from server.notify.destinations import Destinations
from server.schemas import ClinicSettingsIn, ClinicSettingsOut
from server.services import clinic_settings

blp = blueprint("clinic", "Clinic settings")


@blp.route("/clinic/settings", methods=["GET"])
@access(policy.signed_in("clinic.settings.read", {"admin", "clinician"}))
@blp.response(200, ClinicSettingsOut)
def get_settings() -> ResponseReturnValue:
    """The monitoring profile, escalation windows, on-call contact, webhook and email."""
    actor = current_actor()
    assert actor is not None
    return clinic_settings.view(clinic_settings.current(db.session, actor))


@blp.route("/clinic/settings", methods=["PUT"])
@access(policy.signed_in("clinic.settings.write", {"admin"}))
@blp.arguments(ClinicSettingsIn)
@blp.response(200, ClinicSettingsOut)
def put_settings(args: dict[str, Any]) -> ResponseReturnValue:
    """Change the clinic's settings (admins only); the webhook secret is never shown back."""
    actor = current_actor()
    assert actor is not None
    destinations = Destinations.from_config(current_app.config)
    return clinic_settings.view(clinic_settings.update(db.session, actor, args, destinations))
