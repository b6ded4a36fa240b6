"""Clinic settings: an administrator changes them all; a clinician changes who is told."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, signed_in_actor
from server.api.common import blueprint
from server.extensions import db
from server.notify.destinations import Destinations
from server.schemas.clinic import AlertContactsIn, ClinicSettingsIn, ClinicSettingsOut
from server.services import clinic_settings

blp = blueprint("clinic", "Clinic settings")


@blp.route("/clinic/settings", methods=["GET"])
@access(policy.signed_in("clinic.settings.read", {"admin", "clinician"}))
@blp.response(200, ClinicSettingsOut)
def get_settings() -> ResponseReturnValue:
    """The monitoring profile, escalation windows, on-call contact, webhook and email."""
    return clinic_settings.view(clinic_settings.current(db.session, signed_in_actor()))


@blp.route("/clinic/settings", methods=["PUT"])
@access(policy.signed_in("clinic.settings.write", {"admin"}))
@blp.arguments(ClinicSettingsIn)
@blp.response(200, ClinicSettingsOut)
def put_settings(args: dict[str, Any]) -> ResponseReturnValue:
    """Change the clinic's settings (admins only); the webhook secret is never shown back."""
    destinations = Destinations.from_config(current_app.config)
    return clinic_settings.view(
        clinic_settings.update(db.session, signed_in_actor(), args, destinations)
    )


@blp.route("/clinic/alert-contacts", methods=["PUT"])
@access(policy.signed_in("clinic.alert_contacts.write", {"admin", "clinician"}))
@blp.arguments(AlertContactsIn)
@blp.response(200, ClinicSettingsOut)
def put_alert_contacts(args: dict[str, Any]) -> ResponseReturnValue:
    """Who is told about escalations: the email recipients and the on-call contact. The care
    team changes these (a shift changes hands); the rest of the settings stay the admin's."""
    destinations = Destinations.from_config(current_app.config)
    return clinic_settings.view(
        clinic_settings.update(db.session, signed_in_actor(), args, destinations)
    )
