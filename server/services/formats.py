"""Dates, times and numbers as the reader's language writes them, from CLDR (Babel).

Everything the server renders itself (the clinic summary PDF, the calendar feed, email) formats
through here, for a language tag of content/ (`en`, `es`, `pt-BR`, ...), optionally narrowed to
the reader's region (`en-GB` writes 25 Nov 2026, `en` Nov 25, 2026). No hand-made month or
weekday names: a new language needs no code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal, format_percent


@cache
def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(tag.split("-")[0])


def locale_tag(language: str, accepted: Iterable[str] = ()) -> str:
    """The tag to format for: the first of the reader's `accepted` tags (Accept-Language, in
    order) that is `language` with a region CLDR knows, else `language` itself."""
    for tag in accepted:
        if tag.split("-")[0].lower() != language.split("-")[0].lower() or "-" not in tag:
            continue
        try:
            Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
        return tag
    return language


@dataclass(frozen=True)
class Formats:
    """CLDR formats for one locale tag."""

    tag: str

    @property
    def locale(self) -> Locale:
        return _locale(self.tag)

    def date(self, day: dt.date) -> str:
        """A short date with the month in letters: 25 Nov 2026, 25 nov 2026, Nov 25, 2026."""
        return format_date(day, "medium", locale=self.locale)

    def long_date(self, day: dt.date) -> str:
        """The day with its weekday: Wednesday, 25 November 2026; miércoles, 25 de noviembre..."""
        return format_date(day, "full", locale=self.locale)

    def time(self, instant: dt.datetime, zone: str) -> str:
        """The wall-clock time of an instant in an IANA zone: 9:00 AM, 9:00."""
        return format_time(instant, "short", tzinfo=ZoneInfo(zone), locale=self.locale)

    def moment(self, instant: dt.datetime, zone: str) -> str:
        """An instant as a date and a time (no seconds) in an IANA zone, joined as the language
        joins them, then the zone's short name: 25 Nov 2026, 13:00 CET."""
        local = instant.astimezone(ZoneInfo(zone))
        joined = str(get_datetime_format("medium", locale=self.locale))
        when = joined.replace("{1}", self.date(local.date())).replace("{0}", self.time(local, zone))
        return f"{when} {local.tzname() or zone}"

    def number(self, value: float) -> str:
        """A number with the language's separators: 1,234.5 or 1234,5."""
        return format_decimal(value, locale=self.locale)

    def percent(self, fraction: float) -> str:
        """A share as a whole percentage: 93%, 93 %."""
        return format_percent(fraction, locale=self.locale)
