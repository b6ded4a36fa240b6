"""Reading the guidance library and the catalogue of labels."""

from __future__ import annotations

from typing import Any

from server.domain import RedFlag, classify_symptoms, raised_in_pairs
from server.domain.signals import reading_context
from server.services.content import Content
from server.services.errors import NotFound


def page(content: Content, slug: str) -> dict[str, Any]:
    found = content.pages.get(slug)
    if found is None:
        raise NotFound("No such guidance page.")
    return found.full()


def catalogue(content: Content) -> dict[str, Any]:
    """Labels for the apps, and how the domain reads a report (with unknown days on clozapine,
    the cautious reading): each symptom's flags alone (`red_flag` and `severity` the first's),
    the pairs of symptoms that raise more than their symptoms alone (no rule asks for more than
    two: domain `raised_in_pairs`), and the rules that read the clinic's band and the bowel
    diary too (`context`: domain `reading_context`). The patient app keeps it, so that a report
    made offline is read as the server would read it."""
    offered = {code: label for code, label in content.symptoms.items() if not label.get("alias_of")}
    symptoms = []
    for code, label in offered.items():  # an alias is accepted from older apps, not offered
        flags = classify_symptoms([code], temperature_c=None, days_on_clozapine=None)
        symptoms.append(
            {
                "code": code,
                "label": label["label"],
                "hint": label.get("hint", ""),
                "red_flag": bool(flags),
                "severity": flags[0].severity if flags else None,
                "flags": [_flag(f) for f in flags],
            }
        )
    pairs = [{"symptoms": list(pair), **_flag(f)} for pair, f in raised_in_pairs(offered)]
    bristol = [
        {"type": int(number), **entry}
        for number, entry in sorted(content.bristol.items(), key=lambda item: int(item[0]))
    ]
    advice = {
        code: {key: entry.get(key) for key in ("title", "patient", "caregiver", "call_now")}
        for code, entry in content.advice.items()
    }
    return {
        "symptoms": symptoms,
        "pairs": pairs,
        "context": reading_context(),
        "bristol": bristol,
        "advice": advice,
    }


def _flag(flag: RedFlag) -> dict[str, str]:
    return {"rule": flag.rule, "severity": flag.severity, "advice": flag.advice}
