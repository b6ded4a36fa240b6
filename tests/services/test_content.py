"""The guidance content: every advice code has text, pages are well formed, API serves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import PROJECT_ROOT
from server.domain import ADVICE_CODES, SYMPTOM_CODES
from server.domain.treatment import NO_DOSES
from server.services.content import Content, blocks

CONTENT = Content(PROJECT_ROOT / "content")
TOPICS = {p.meta["topic"] for p in CONTENT.pages.values()}


@pytest.mark.parametrize("code", sorted(ADVICE_CODES))
def test_every_advice_code_the_rules_return_has_text(code: str) -> None:
    advice = CONTENT.advice_for(code)
    for key in ("title", "patient", "caregiver", "clinician"):
        assert advice[key].strip(), (code, key)
    assert advice["guidance"] in CONTENT.pages


def test_every_page_cites_sources_and_a_review_date() -> None:
    for page in CONTENT.pages.values():
        assert page.meta["sources"], page.slug
        assert page.meta["reviewed"]
        assert page.meta["audience"] in ("patient", "clinician")
        for related in page.meta.get("related", []):
            assert related in CONTENT.pages
        assert blocks(page.body), page.slug


def test_every_topic_has_a_patient_and_a_clinician_page() -> None:
    for topic in TOPICS:
        audiences = {p.meta["audience"] for p in CONTENT.pages.values() if p.meta["topic"] == topic}
        assert audiences == {"patient", "clinician"}, topic
    assert {"pregnancy", "breastfeeding", "constipation", "red-flags"} <= TOPICS


def test_every_symptom_has_a_plain_label() -> None:
    assert set(CONTENT.symptoms) >= SYMPTOM_CODES
    assert CONTENT.symptoms["fever"]["label"] == "Fever"
    assert CONTENT.symptoms["sore_throat"]["label"] == "Sore throat"
    assert CONTENT.symptoms["chest_pain"]["label"] == "Chest pain"
    assert [CONTENT.bristol[str(n)]["label"] for n in range(1, 8)] == [
        f"Type {n}" for n in range(1, 8)
    ]


def test_markdown_subset_becomes_blocks() -> None:
    parsed = blocks("## Heading\n\nSome **bold** text\nwraps.\n\n- one\n- **two**\n")
    assert parsed[0] == {"type": "h2", "text": "Heading"}
    assert parsed[1]["spans"] == [
        {"text": "Some ", "bold": False},
        {"text": "bold", "bold": True},
        {"text": " text wraps.", "bold": False},
    ]
    assert parsed[2]["items"][1] == [{"text": "two", "bold": True}]


def test_the_api_serves_guidance_and_the_catalogue(app) -> None:
    client = app.test_client()
    patient_pages = client.get("/api/guidance?audience=patient").get_json()["items"]
    assert {"pregnancy", "breastfeeding"} <= {p["slug"] for p in patient_pages}
    assert all(p["audience"] == "patient" for p in patient_pages)
    page = client.get("/api/guidance/pregnancy").get_json()
    assert page["sources"] and page["blocks"]
    assert client.get("/api/guidance/nope").status_code == 404
    catalogue = client.get("/api/catalogue").get_json()
    fever = next(s for s in catalogue["symptoms"] if s["code"] == "fever")
    assert fever == {**fever, "label": "Fever", "red_flag": True, "severity": "urgent"}
    assert next(s for s in catalogue["symptoms"] if s["code"] == "sedation")["red_flag"] is False
    assert len(catalogue["bristol"]) == 7


def test_content_is_the_projects_own_folder() -> None:
    assert Path(CONTENT.directory).is_dir()


@pytest.mark.parametrize("state", sorted(NO_DOSES))
def test_every_state_that_withholds_doses_tells_patient_and_helper_what_to_do(state: str) -> None:
    """RULES.md 6: the Today screen says plainly what to do instead (CONTENT, not code)."""
    told = CONTENT.treatment_for(state, None)
    assert told is not None and all(told[key].strip() for key in ("title", "patient", "caregiver"))
    planned = CONTENT.treatment_for(state, "2026-12-03")
    assert planned is not None and "2026-12-03" in planned["patient"]


def test_a_paused_course_says_do_not_restart_at_the_usual_dose() -> None:
    """Issue 13: "do not restart at your usual dose"; "your team will contact you"."""
    assert (
        "do not restart at your usual dose"
        in CONTENT.treatment["needs_retitration"]["patient"].lower()
    )
    for state in ("interrupted", "held"):
        assert (
            "your team will contact you before your next dose"
            in CONTENT.treatment[state]["patient"]
        )
