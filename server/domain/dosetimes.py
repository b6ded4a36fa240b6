"""Wall-clock dose times and instants across time zones (STYLE.md "Time").

Patients' dose times are wall-clock "HH:MM" strings in their IANA zone; reminders need UTC
instants. zoneinfo does the work; the DST choices are documented on dose_instants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A logged time may be this far ahead of the server's clock (a phone's clock runs a little
# fast) before it counts as in the future.
FUTURE_SKEW: Final = timedelta(minutes=5)
_HHMM_RE: Final = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
# Files in the tz database that are not zones a person lives in.
_NOT_ZONES: Final = frozenset({"localtime", "posixrules", "Factory", "leapseconds", "tzdata.zi"})


def parse_hhmm(value: str) -> time:
    """Parse a 24-hour "HH:MM" wall-clock time ("08:00", "21:30"); ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"time must be a string 'HH:MM', not {type(value).__name__}")
    match = _HHMM_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"time must be 'HH:MM' (00:00-23:59), not {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def sorted_times(times: Iterable[str], most: int, what: str, repeated: str) -> tuple[str, ...]:
    """Check 1 to `most` "HH:MM" times of day, none given twice, and return them sorted.

    ValueError otherwise: for a string instead of a list, a time not "HH:MM", a count out of
    range ("between 1 and `most` `what` are needed") or a time given twice (`repeated`)."""
    if isinstance(times, str):
        raise ValueError("times must be a list of 'HH:MM' strings")
    values = list(times)
    if not 1 <= len(values) <= most:
        raise ValueError(f"between 1 and {most} {what} are needed")
    for value in values:
        parse_hhmm(value)
    if len(set(values)) != len(values):
        raise ValueError(repeated)
    return tuple(sorted(values))


def is_valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone zoneinfo can load ("Europe/London")."""
    if not isinstance(name, str) or not name or name in _NOT_ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone(tz_name: str) -> ZoneInfo:
    if not is_valid_timezone(tz_name):
        raise ValueError(f"unknown time zone: {tz_name!r}")
    return ZoneInfo(tz_name)


def as_utc(instant: datetime) -> datetime:
    """The instant as an aware UTC datetime; a naive datetime is taken to be UTC already.

    Naive values are accepted because SQLite hands back naive datetimes for instants the
    application stored in UTC (STYLE.md: store instants in UTC).
    """
    if instant.tzinfo is None or instant.tzinfo.utcoffset(instant) is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def dose_instants(local_date: date, times: Sequence[str], tz_name: str) -> list[datetime]:
    """UTC instants of each wall-clock time on `local_date` in zone `tz_name`, in input order.

    DST: a time that does not exist (spring forward) moves forward by the gap (02:30 on
    2026-03-08 in New York is 03:30 EDT); a time that occurs twice (fall back) is the first
    occurrence. Both follow from PEP 495 fold=0, which applies the offset in force before the
    transition.
    """
    zone = _zone(tz_name)
    instants: list[datetime] = []
    for value in times:
        wall = datetime.combine(local_date, parse_hhmm(value)).replace(tzinfo=zone, fold=0)
        instants.append(wall.astimezone(UTC))
    return instants


def local_date(instant: datetime, tz_name: str) -> date:
    """The patient's calendar date at `instant` in zone `tz_name` (naive instants are UTC)."""
    return as_utc(instant).astimezone(_zone(tz_name)).date()
