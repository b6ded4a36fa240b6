"""Snoozing a dose reminder, and a patient's reminder settings."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import BASE, blueprint
from server.extensions import db
from server.schemas.reminders import ReminderSettingsIn, ReminderSettingsOut, SnoozeIn, SnoozeOut
from server.services import reminder_settings, reminders

blp = blueprint("reminders", "Reminders")


@blp.route(f"{BASE}/doses/<int:dose_id>/snooze", methods=["POST"])
@access(policy.patient("doses.snooze", policy.LOGGERS))
@blp.arguments(SnoozeIn)
@blp.response(200, SnoozeOut)
def snooze(args: dict[str, Any], patient_id: int, dose_id: int) -> ResponseReturnValue:
    """Remind again in 10, 30 or 60 minutes (from the app or the notification's button)."""
    dose = reminders.snooze(
        db.session,
        actor=signed_in_actor(),
        patient=current_patient(),
        dose_id=dose_id,
        minutes=args["minutes"],
        now=now(),
    )
    return dose


@blp.route(f"{BASE}/reminder-settings", methods=["GET"])
@access(policy.patient("reminder_settings.read", policy.READERS))
@blp.response(200, ReminderSettingsOut)
def get_settings(patient_id: int) -> ResponseReturnValue:
    """Quiet hours (check-ins and nudges wait; dose reminders and red flags never do)."""
    return reminder_settings.settings(db.session, current_patient())


@blp.route(f"{BASE}/reminder-settings", methods=["PUT"])
@access(policy.patient("reminder_settings.write", {"patient", "caregiver", "clinician"}))
@blp.arguments(ReminderSettingsIn)
@blp.response(200, ReminderSettingsOut)
def put_settings(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Set quiet hours and the time of the daily check-in."""
    return reminder_settings.update(db.session, current_patient(), args, now())
