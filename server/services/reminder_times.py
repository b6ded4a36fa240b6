"""When the next blood-test reminder and daily check-in fall, and quiet hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from server.domain import dose_instants, local_date
from server.domain.red_flags import MYOCARDITIS_WATCH_DAYS
from server.models import ReminderSettings

BLOOD_REMINDER_TIME = dt.time(9, 0)


def _local(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    return dose_instants(day, [at.strftime("%H:%M")], zone)[0]


def after_quiet_hours(
    when: dt.datetime, zone: str, settings: ReminderSettings | None
) -> dt.datetime:
    """Move a check-in or nudge out of the patient's quiet hours (dose reminders never are)."""
    if settings is None or not settings.quiet_start or not settings.quiet_end:
        return when
    local = when.astimezone(ZoneInfo(zone))
    start = dt.time.fromisoformat(settings.quiet_start)
    end = dt.time.fromisoformat(settings.quiet_end)
    now_t = local.time()
    inside = (start <= now_t < end) if start < end else (now_t >= start or now_t < end)
    if not inside:
        return when
    day = local.date() if now_t < end else local.date() + dt.timedelta(days=1)
    return _local(day, end, zone)


def next_blood_reminder(due: dt.date | None, zone: str, now: dt.datetime) -> dt.datetime | None:
    """The next blood-test reminder: 09:00 the day before the due date, then on the day."""
    if due is None:
        return None
    for day in (due - dt.timedelta(days=1), due):
        moment = _local(day, BLOOD_REMINDER_TIME, zone)
        if moment > now:
            return moment
    return None


def next_check_in(
    watch_from: dt.date | None, zone: str, settings: ReminderSettings | None, now: dt.datetime
) -> dt.datetime | None:
    """The next daily check-in in days 1-28 of the myocarditis watch counted from `watch_from`
    (RULES.md 3; RULES.md 6: the watch starts again with a re-titration), at the patient's
    check-in time, outside quiet hours."""
    if watch_from is None:
        return None
    at = dt.time.fromisoformat(settings.check_in_time if settings else "18:00")
    today = local_date(now, zone)
    for day in (today, today + dt.timedelta(days=1)):
        day_number = (day - watch_from).days + 1
        if not 1 <= day_number <= MYOCARDITIS_WATCH_DAYS:
            continue
        moment = after_quiet_hours(_local(day, at, zone), zone, settings)
        if moment > now:
            return moment
    return None
