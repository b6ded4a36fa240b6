"""Reminder settings and snoozing a dose."""

from __future__ import annotations

from marshmallow import fields, validate

from server.domain.dose_reminders import SNOOZE_MINUTES
from server.schemas.common import HHMM, In, Instant, Out


class SnoozeIn(In):
    minutes = fields.Integer(required=True, strict=True, validate=validate.OneOf(SNOOZE_MINUTES))


class SnoozeOut(Out):
    """A Dose row, snoozed."""

    dose_id = fields.Integer(attribute="id")
    snoozed_until = Instant()


class ReminderSettingsIn(In):
    quiet_start = fields.String(allow_none=True, validate=HHMM)
    quiet_end = fields.String(allow_none=True, validate=HHMM)
    check_in_time = fields.String(validate=HHMM)


class ReminderSettingsOut(Out):
    """A ReminderSettings row."""

    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    check_in_time = fields.String()
