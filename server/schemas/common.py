"""What the schema modules share: the In/Out bases, bounded instants and dates, validators
and the collection query."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("Not an IANA time zone name (for example Europe/London).")


def validate_email(value: str) -> None:
    if not EMAIL.match(value.strip()):
        raise ValidationError("Not a valid email address.")


class In(Schema):
    """Requests: unknown fields are refused (marshmallow's default, kept explicit)."""

    class Meta:
        unknown = "raise"


class Out(Schema):
    pass


# the largest id a row can have (a 64-bit column): a larger one is no row, and no database
# can even compare it
MAX_ROW_ID = 2**63 - 1


EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)


class BoundedInstant(fields.AwareDateTime):
    """An instant between 1900 and 2999: year 1 with an offset east of UTC, or 9999 west of
    it, is no instant Python can hold in UTC, and no entry of this app is that far away."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = instant.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("Use a time between the years 1900 and 2999.") from exc
        if not EARLIEST <= in_utc < LATEST:
            raise ValidationError("Use a time between the years 1900 and 2999.")
        return instant


class BoundedDate(fields.Date):
    """A calendar date between 1900 and 2999 (a range of days can be counted from it)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= day < LATEST.date():
            raise ValidationError("Use a date between the years 1900 and 2999.")
        return day


def Instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 timestamp that must carry an offset."""
    return BoundedInstant(format="iso", **kwargs)


HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use 24-hour HH:MM, e.g. 08:00.")


class CollectionQuery(In):
    since = Instant(metadata={"description": "Only entries recorded at or after this instant."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
