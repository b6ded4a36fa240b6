"""When a scheduled dose counts as missed, and which plan day a date is (product rules)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from server.domain.dosetimes import FUTURE_SKEW, as_utc

# A dose not marked by 6 hours after its time is shown as missed (product choice: with doses
# 8-13 hours apart this is before the next one; RULES.md 1 leaves the window to us). It can
# still be recorded as taken later, up to TAKE_LATE_LIMIT.
MISSED_AFTER: Final = timedelta(hours=6)
TAKE_EARLY_LIMIT: Final = timedelta(hours=12)
TAKE_LATE_LIMIT: Final = timedelta(hours=36)


def dose_status(stored_status: str, scheduled_at: datetime, now: datetime) -> str:
    """pending, taken or skipped as recorded; a pending dose past its window is missed."""
    if stored_status == "pending" and as_utc(now) >= as_utc(scheduled_at) + MISSED_AFTER:
        return "missed"
    return stored_status


def marking_window(scheduled_at: datetime) -> tuple[datetime, datetime]:
    """From when until when a dose can be marked taken or skipped (`event_time_problem`'s
    limits), so that an app offers the buttons only when the answer will be yes."""
    scheduled = as_utc(scheduled_at)
    return scheduled - TAKE_EARLY_LIMIT, scheduled + TAKE_LATE_LIMIT


def can_mark(status: str, scheduled_at: datetime, now: datetime, *, withheld: bool) -> bool:
    """Whether marking this dose taken or skipped now would be accepted: a dose not yet
    recorded (pending or missed), not withheld by the course, inside its marking window."""
    if withheld or status not in ("pending", "missed"):
        return False
    opens, closes = marking_window(scheduled_at)
    return opens <= as_utc(now) <= closes


def was_taken_before_pause(scheduled_at: datetime, at: datetime, paused_at: datetime) -> bool:
    """Whether a dose the course withheld may still be recorded taken at `at`: it was taken
    before the course was paused (`paused_at`: a hold, a clinic count, missed doses; or the
    stop, for a dose the stop cancelled) and within its own marking window. RULES.md 6 "A
    withheld dose is never offered as 'Taken'" and CONTRACT.md "Treatment course (v2)"
    (marking one taken answers 409 `dose_withheld`) are about the doses of a paused course; a
    dose swallowed while the course was still running, and logged later (an offline phone
    sends what it saved with the time it was made), is a dose taken, and the break began
    after it. At or after the pause: refused."""
    when = as_utc(at)
    opens, closes = marking_window(scheduled_at)
    return when < as_utc(paused_at) and opens <= when <= closes


def plan_day(plan_start: date, on: date) -> int:
    """Plan day number (1 = the plan's start date)."""
    return (on - plan_start).days + 1


def event_time_problem(scheduled_at: datetime, at: datetime, now: datetime) -> str | None:
    """Why a dose cannot have been taken or skipped at `at` (None when it is plausible)."""
    scheduled, when = as_utc(scheduled_at), as_utc(at)
    if when > as_utc(now) + FUTURE_SKEW:
        return "This time is in the future."
    if when < scheduled - TAKE_EARLY_LIMIT:
        return "This is more than 12 hours before the dose was due."
    if when > scheduled + TAKE_LATE_LIMIT:
        return "This is more than 36 hours after the dose was due."
    return None
