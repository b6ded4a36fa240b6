"""Patient- and clinician-facing text from content/: guidance pages, advice, labels.

English lives at the top of content/; a language is a folder `content/<tag>/` mirroring it
(content/README.md, "Adding a language"). `Content.in_language(tag)` reads that folder over
English, key by key: whatever a translation lacks is read in English. Text the product stores
(an escalation's summary, which the care team reads) is always made from `Content.english`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

BOLD = re.compile(r"\*\*(.+?)\*\*")
ENGLISH = "en"
# a BCP 47 tag as content/ folders use it: es, pt-BR, zh-Hant, es-419
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|\d{3}))?")
TREATMENT_KEYS = ("title", "patient", "caregiver")


def spans(text: str) -> list[dict[str, Any]]:
    """Inline text as spans, **bold** marked, for apps that build DOM with textContent."""
    parts: list[dict[str, Any]] = []
    position = 0
    for match in BOLD.finditer(text):
        if match.start() > position:
            parts.append({"text": text[position : match.start()], "bold": False})
        parts.append({"text": match.group(1), "bold": True})
        position = match.end()
    if position < len(text):
        parts.append({"text": text[position:], "bold": False})
    return parts


def blocks(body: str) -> list[dict[str, Any]]:
    """The small Markdown subset of content/ (## headings, paragraphs, - lists) as blocks."""
    result: list[dict[str, Any]] = []
    for chunk in re.split(r"\n\s*\n", body.strip()):
        lines = [line.rstrip() for line in chunk.strip().splitlines()]
        if not lines:
            continue
        if len(lines) == 1 and lines[0].startswith("## "):
            result.append({"type": "h2", "text": lines[0][3:].strip()})
        elif all(line.startswith("- ") for line in lines):
            result.append({"type": "ul", "items": [spans(line[2:].strip()) for line in lines]})
        else:
            heading = lines[0].startswith("## ")
            if heading:
                result.append({"type": "h2", "text": lines[0][3:].strip()})
                lines = lines[1:]
            result.append({"type": "p", "spans": spans(" ".join(lines))})
    return result


@dataclass(frozen=True)
class Page:
    meta: dict[str, Any]
    body: str
    language: str = ENGLISH

    @property
    def slug(self) -> str:
        return str(self.meta["slug"])

    @property
    def awaiting_review(self) -> bool:
        """A translation awaits review by a clinician fluent in its language until its front
        matter names the reviewer and the date (English pages are reviewed by definition)."""
        if self.language == ENGLISH:
            return False
        return not (self.meta.get("reviewer") and self.meta.get("reviewed"))

    def listing(self) -> dict[str, Any]:
        keys = ("slug", "title", "summary", "topic", "audience")
        return {
            **{key: self.meta.get(key) for key in keys},
            "reviewed": None if self.awaiting_review else self.meta.get("reviewed"),
            "language": self.language,
            "awaiting_review": self.awaiting_review,
        }

    def full(self) -> dict[str, Any]:
        return {
            **self.listing(),
            "sources": list(self.meta.get("sources", [])),
            "related": list(self.meta.get("related", [])),
            "blocks": blocks(self.body),
        }


def _read_pages(folder: Path, language: str) -> dict[str, Page]:
    found: dict[str, Page] = {}
    for path in sorted((folder / "guidance").glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("+++", 2)
        meta = tomllib.loads(front)
        found[meta["slug"]] = Page(meta, body, language)
    return found


def project_content() -> Content:
    """The project's own content/ folder (the app reads the one its CONTENT_DIR names)."""
    return Content(Path(__file__).resolve().parents[2] / "content")


def fill(text: str, **values: object) -> str:
    """A catalogue entry with its `{name}` placeholders filled (a name not given is left as it
    is): every word the server writes from a catalogue is filled here."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


class Content:
    """Loaded once per process from a directory; files are small. English unless made by
    `in_language`, which reads a translation over English."""

    def __init__(
        self, directory: str | Path, language: str = ENGLISH, *, english: Content | None = None
    ) -> None:
        self.directory = Path(directory)
        self.language = language
        self._english = english
        self._languages: dict[str, Content] = {}

    @property
    def english(self) -> Content:
        return self._english or self

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """English, then every folder of content/ named by a language tag."""
        found = sorted(
            path.name
            for path in self.english.directory.iterdir()
            if path.is_dir() and LANGUAGE_TAG.fullmatch(path.name) and path.name != ENGLISH
        )
        return (ENGLISH, *found)

    def in_language(self, tag: str) -> Content:
        """This text in `tag` (one of `languages`), English where the translation is silent."""
        english = self.english
        if tag == ENGLISH:
            return english
        if tag not in english.languages:
            raise ValueError(f"no content in {tag!r}")
        if tag not in english._languages:
            english._languages[tag] = Content(english.directory, tag, english=english)
        return english._languages[tag]

    def _table(self, name: str) -> dict[str, dict[str, Any]]:
        """The table `name` of content/<name>.toml, a translation's words over English's."""
        file = f"{name}.toml"
        english = tomllib.loads((self.english.directory / file).read_text(encoding="utf-8"))
        entries = {key: dict(value) for key, value in english[name].items()}
        if self.language != ENGLISH:
            path = self.directory / self.language / file
            if path.is_file():
                translated = tomllib.loads(path.read_text(encoding="utf-8")).get(name, {})
                for key, values in translated.items():
                    if key in entries:  # a translation adds words, never codes
                        entries[key].update(values)
        return entries

    @cached_property
    def pages(self) -> dict[str, Page]:
        english = _read_pages(self.directory, ENGLISH)
        if self.language == ENGLISH:
            return english
        found = dict(english)
        for slug, page in _read_pages(self.directory / self.language, self.language).items():
            if slug in found:  # sources and related are the English page's
                meta = {
                    **page.meta,
                    "sources": found[slug].meta.get("sources", []),
                    "related": found[slug].meta.get("related", []),
                }
                found[slug] = Page(meta, page.body, self.language)
        return found

    @cached_property
    def advice(self) -> dict[str, dict[str, Any]]:
        return self._table("advice")

    @cached_property
    def symptoms(self) -> dict[str, dict[str, Any]]:
        return self._table("symptoms")

    @cached_property
    def bristol(self) -> dict[str, dict[str, Any]]:
        return self._table("bristol")

    @cached_property
    def supply(self) -> dict[str, dict[str, Any]]:
        return self._table("supply")

    @cached_property
    def treatment(self) -> dict[str, dict[str, Any]]:
        return self._table("treatment")

    @cached_property
    def documents(self) -> dict[str, dict[str, Any]]:
        """The words of what the server draws itself (calendar, appointment titles, the
        clinic summary PDF, email), one table per output; every language has every key."""
        return self._table("documents")

    def words(self, output: str) -> dict[str, str]:
        """One output's words from `documents` (a test checks each language has them all)."""
        return {key: str(text) for key, text in self.documents[output].items()}

    def treatment_for(
        self, state: str, restart_on: str | None, cause: str | None = None
    ) -> dict[str, str] | None:
        """What a patient and their helper are told while the course withholds doses (a test
        checks every such state has it); a planned restart says its date; a cause with words
        of its own (a start called off below the baseline) is told instead of its state's."""
        key = "restart" if restart_on else cause if cause in self.treatment else state
        entry = self.treatment.get(key)
        if entry is None:
            return None
        return {key: fill(str(entry[key]), date=restart_on or "") for key in TREATMENT_KEYS}

    def advice_for(self, code: str) -> dict[str, Any]:
        """The advice for a rule or prompt code (a test checks every code has it)."""
        return self.advice[code]
