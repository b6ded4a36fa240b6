"""The re-notification ladder: when an escalation nobody acknowledged is sent again, and to whom.

Product rules, not clinical ones: RULES.md 4 gives each red flag its severity and says the team
is told, not how often; these are the defaults each clinic may change (Clinic settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

# minutes an unacknowledged escalation waits before it is sent again; None: the next working
# morning (a routine flag does not wake anyone)
DEFAULT_WINDOWS_MINUTES: Final[Mapping[str, int | None]] = {
    "emergency": 5,
    "urgent": 30,
    "routine": None,
}
WORKING_DAY_START: Final = time(9, 0)
# the first re-notification goes to the care team again, the second and later to the on-call
# contact
ON_CALL_FROM_LEVEL: Final = 2


def is_for_on_call(level: int) -> bool:
    """Whether a notice at this rung of the ladder goes to the on-call contact."""
    return level >= ON_CALL_FROM_LEVEL


def next_working_morning(after: datetime, zone: str) -> datetime:
    """The start of the next working day (Monday to Friday) after `after`, in `zone`, as UTC."""
    local = after.astimezone(ZoneInfo(zone))
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, WORKING_DAY_START, ZoneInfo(zone)).astimezone(UTC)


def next_notice_at(
    last_notified_at: datetime | None,
    severity: str,
    windows_minutes: Mapping[str, int | None],
    zone: str,
) -> datetime | None:
    """When an unacknowledged escalation is sent again: its severity's window after the last
    notice, or the next working morning for a severity without one."""
    if last_notified_at is None:
        return None
    minutes = windows_minutes.get(severity)
    if minutes is None:
        return next_working_morning(last_notified_at, zone)
    return last_notified_at + timedelta(minutes=int(minutes))
