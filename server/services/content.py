"""Patient- and clinician-facing text from content/: guidance pages, advice, labels."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

BOLD = re.compile(r"\*\*(.+?)\*\*")
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

    @property
    def slug(self) -> str:
        return str(self.meta["slug"])

    def listing(self) -> dict[str, Any]:
        keys = ("slug", "title", "summary", "topic", "audience", "reviewed")
        return {key: self.meta.get(key) for key in keys}

    def full(self) -> dict[str, Any]:
        return {
            **self.listing(),
            "sources": list(self.meta.get("sources", [])),
            "related": list(self.meta.get("related", [])),
            "blocks": blocks(self.body),
        }


class Content:
    """Loaded once per process from a directory; files are small."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _toml(self, name: str) -> dict[str, Any]:
        return tomllib.loads((self.directory / name).read_text(encoding="utf-8"))

    @cached_property
    def pages(self) -> dict[str, Page]:
        found: dict[str, Page] = {}
        for path in sorted((self.directory / "guidance").glob("*.md")):
            text = path.read_text(encoding="utf-8")
            _, front, body = text.split("+++", 2)
            meta = tomllib.loads(front)
            found[meta["slug"]] = Page(meta, body)
        return found

    @cached_property
    def advice(self) -> dict[str, dict[str, Any]]:
        return dict(self._toml("advice.toml")["advice"])

    @cached_property
    def symptoms(self) -> dict[str, dict[str, Any]]:
        return dict(self._toml("symptoms.toml")["symptoms"])

    @cached_property
    def bristol(self) -> dict[str, dict[str, Any]]:
        return dict(self._toml("bristol.toml")["bristol"])

    @cached_property
    def supply(self) -> dict[str, dict[str, Any]]:
        return dict(self._toml("supply.toml")["supply"])

    @cached_property
    def treatment(self) -> dict[str, dict[str, Any]]:
        return dict(self._toml("treatment.toml")["treatment"])

    def treatment_for(self, state: str, restart_on: str | None) -> dict[str, str] | None:
        """What a patient and their helper are told while the course withholds doses (a test
        checks every such state has it); a planned restart says its date."""
        entry = self.treatment.get("restart" if restart_on else state)
        if entry is None:
            return None
        return {key: str(entry[key]).replace("{date}", restart_on or "") for key in TREATMENT_KEYS}

    def advice_for(self, code: str) -> dict[str, Any]:
        """The advice for a rule or prompt code (a test checks every code has it)."""
        return self.advice[code]
