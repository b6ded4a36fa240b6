"""Reading the guidance library and the catalogue of labels."""

from __future__ import annotations

from typing import Any

from server.domain import classify_symptoms
from server.services.content import Content
from server.services.errors import NotFound


def page(content: Content, slug: str) -> dict[str, Any]:
    found = content.pages.get(slug)
    if found is None:
        raise NotFound("No such guidance page.")
    return found.full()


def catalogue(content: Content) -> dict[str, Any]:
    """Labels for the apps, and for each symptom what reporting it alone raises (the domain's
    own classification): whether it is a red flag, how severe, and which advice entry says
    what to do. The patient app keeps it, so that a report made offline is classed as the
    server would class it alone (combinations are only known when the report reaches it)."""
    symptoms = []
    for code, label in content.symptoms.items():
        if label.get("alias_of"):
            continue  # accepted from older apps, not offered twice
        flags = classify_symptoms([code], temperature_c=None, days_on_clozapine=None)
        symptoms.append(
            {
                "code": code,
                "label": label["label"],
                "hint": label.get("hint", ""),
                "red_flag": bool(flags),
                "severity": flags[0].severity if flags else None,
                "advice": flags[0].advice if flags else None,
            }
        )
    bristol = [
        {"type": int(number), **entry}
        for number, entry in sorted(content.bristol.items(), key=lambda item: int(item[0]))
    ]
    advice = {
        code: {key: entry.get(key) for key in ("title", "patient", "caregiver", "call_now")}
        for code, entry in content.advice.items()
    }
    return {"symptoms": symptoms, "bristol": bristol, "advice": advice}
