"""CLDR formats (Babel) for the languages of content/ and any other: no table of month or
weekday names in the code, so a language added as files writes its own dates."""

from __future__ import annotations

import datetime as dt

import pytest

from server.services.formats import Formats, locale_tag

DAY = dt.date(2026, 12, 1)
INSTANT = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("tag", "date", "long_date", "moment"),
    [
        ("en", "Dec 1, 2026", "Tuesday, December 1, 2026", "Dec 1, 2026, 9:30 AM CET"),
        ("en-GB", "1 Dec 2026", "Tuesday, 1 December 2026", "1 Dec 2026, 09:30 CET"),
        ("es", "1 dic 2026", "martes, 1 de diciembre de 2026", "1 dic 2026, 9:30 CET"),
        ("fr", "1 déc. 2026", "mardi 1 décembre 2026", "1 déc. 2026, 09:30 CET"),
        ("pt-BR", "1 de dez. de 2026", "terça-feira, 1 de dezembro de 2026", None),
    ],
)
def test_dates_are_cldrs_for_the_language(
    tag: str, date: str, long_date: str, moment: str | None
) -> None:
    formats = Formats(tag)
    assert formats.date(DAY) == date
    assert formats.long_date(DAY) == long_date
    if moment is not None:
        written = formats.moment(INSTANT, "Europe/Madrid").replace("\u202f", " ")
        assert written.replace(" à ", ", ") == moment


def test_numbers_and_shares_use_the_languages_separators() -> None:
    assert Formats("en").number(1234.5) == "1,234.5"
    assert Formats("es").number(37.5) == "37,5"
    assert Formats("en").percent(0.5) == "50%"
    assert Formats("es").percent(0.5) == "50\u00a0%"


@pytest.mark.parametrize(
    ("language", "accepted", "expected"),
    [
        ("en", ["en-GB", "en"], "en-GB"),
        ("en", ["es-ES", "en"], "en"),  # the region of another language is not used
        ("es", ["es-MX", "es"], "es-MX"),
        ("es", [], "es"),
        ("en", ["*"], "en"),
        ("en", ["en-not-a-region"], "en"),
    ],
)
def test_the_readers_region_narrows_their_language(
    language: str, accepted: list[str], expected: str
) -> None:
    assert locale_tag(language, accepted) == expected


def test_an_unknown_region_falls_back_to_the_language() -> None:
    assert Formats("es-ZZZZ").date(DAY) == "1 dic 2026"
