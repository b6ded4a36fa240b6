"""The guidance content: every advice code has text, pages are well formed, API serves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import PROJECT_ROOT
from server.domain import ADVICE_CODES, SYMPTOM_CODES
from server.domain.red_flags import classify_symptoms
from server.domain.treatment import NO_DOSES, Cause, CourseState
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


def test_the_catalogue_classes_symptoms_as_the_domain_does(app) -> None:
    """What the patient app tells at once about a report made offline comes from here: every
    symptom the server offers with the flags the domain gives it alone, and the pairs that raise
    more (RULES.md 4; guideline L221, L232 bowel obstruction, L269 NMS), each naming an advice
    entry the catalogue has."""
    catalogue = app.test_client().get("/api/catalogue").get_json()
    by_code = {item["code"]: item for item in catalogue["symptoms"]}
    aliases = {code for code, label in CONTENT.symptoms.items() if label.get("alias_of")}
    assert set(by_code) == set(SYMPTOM_CODES) - aliases
    for code, item in by_code.items():
        alone = classify_symptoms([code], temperature_c=None, days_on_clozapine=None)
        assert item["flags"] == [
            {"rule": f.rule, "severity": f.severity, "advice": f.advice} for f in alone
        ], code
    assert by_code["diarrhoea_after_constipation"]["flags"] == [
        {
            "rule": "bowel_obstruction_signs",
            "severity": "emergency",
            "advice": "bowel_obstruction_signs",
        }
    ]
    assert by_code["flu_like"]["flags"][0]["advice"] == "sore_throat"
    assert by_code["constipation"]["flags"] == by_code["vomiting"]["flags"] == []
    pairs = {tuple(p["symptoms"]): p for p in catalogue["pairs"]}
    assert pairs[("constipation", "vomiting")]["severity"] == "emergency"
    assert pairs[("constipation", "vomiting")]["advice"] == "bowel_obstruction_signs"
    assert pairs[("fever", "muscle_stiffness")]["rule"] == "nms_signs"
    assert all(set(pair) <= set(by_code) for pair in pairs)
    advised = [f["advice"] for item in by_code.values() for f in item["flags"]]
    assert set(advised) | {p["advice"] for p in pairs.values()} <= set(catalogue["advice"])


def test_content_is_the_projects_own_folder() -> None:
    assert Path(CONTENT.directory).is_dir()


@pytest.mark.parametrize("state", sorted(NO_DOSES))
def test_every_state_that_withholds_doses_tells_patient_and_helper_what_to_do(state: str) -> None:
    """RULES.md 6: the Today screen says plainly what to do instead (CONTENT, not code)."""
    told = CONTENT.treatment_for(state, None)
    assert told is not None and all(told[key].strip() for key in ("title", "patient", "caregiver"))
    planned = CONTENT.treatment_for(state, "2026-12-03")
    assert planned is not None and "2026-12-03" in planned["patient"]


def test_a_start_called_off_below_the_baseline_says_so() -> None:
    """RULES.md 2 "or the plan cannot start": a patient who has not begun clozapine is not told
    to stop "keep taking" it; a planned restart still says its date; a cause's own table is
    a cause the course gives."""
    told = CONTENT.treatment_for(CourseState.INTERRUPTED, None, Cause.BASELINE_LOW)
    assert told is not None and told["title"] == "Do not start clozapine yet"
    assert "start" in told["patient"] and "keep taking" not in told["patient"]
    assert CONTENT.treatment_for(CourseState.INTERRUPTED, None, Cause.ANC_INTERRUPT) == (
        CONTENT.treatment_for(CourseState.INTERRUPTED, None)
    )
    planned = CONTENT.treatment_for(CourseState.INTERRUPTED, "2026-12-03", Cause.BASELINE_LOW)
    assert planned is not None and "2026-12-03" in planned["patient"]
    states = {s.value for s in CourseState} | {"restart"}
    assert set(CONTENT.treatment) - states <= {c.value for c in Cause}


def test_the_care_app_words_every_cause() -> None:
    """The care team reads why the course is in its state (pwa_static/care/js/treatment.js)."""
    import json

    words = json.loads((PROJECT_ROOT / "pwa_static/care/i18n/en.json").read_text("utf-8"))
    assert [c.value for c in Cause if f"course.cause.{c.value}" not in words] == []


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


def _sentences(text: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


def _patient_texts() -> list[tuple[str, str]]:
    texts = [(f"page {p.slug}", p.body) for p in CONTENT.pages.values()]
    for code, advice in CONTENT.advice.items():
        texts += [(f"advice {code}.{k}", advice[k]) for k in ("patient", "caregiver")]
    return texts


def test_chest_pain_never_reads_today() -> None:
    """Issue 14: chest pain is an emergency (RULES.md 4; guideline L309 "immediately"): no
    sentence about it, nor the lead-in of a list that names it, says "today"."""
    for where, text in _patient_texts():
        for sentence in _sentences(text):
            if "chest pain" in sentence.lower():
                assert "today" not in sentence.lower(), (where, sentence)
    for page in CONTENT.pages.values():
        lead = ""
        for block in blocks(page.body):
            if block["type"] == "ul":
                items = [" ".join(span["text"] for span in item) for item in block["items"]]
                if any("chest pain" in item.lower() for item in items):
                    assert "today" not in lead.lower(), (page.slug, lead)
            lead = " ".join(span["text"] for span in block.get("spans", []))


def test_missed_doses_are_more_than_48_hours() -> None:
    """RULES.md 1 and 6: a break is more than 48 h (guideline L78, L339 "> 2 days")."""
    for where, text in _patient_texts():
        assert "48 hours or more" not in text, where
    assert "more than 48 hours" in CONTENT.pages["missed-doses"].body


def test_the_pages_say_what_the_app_now_does() -> None:
    """Issue 14: the promises the pages make are kept (a temperature alone is a report, the
    team is alerted again, a low count makes fever an emergency, the diary reads obstruction,
    a copy is shown as yours)."""
    assert "temperature on its own" in CONTENT.pages["infection-and-fever"].body
    assert "alerted again" in CONTENT.pages["red-flags"].body
    assert "While your count is low" in CONTENT.pages["red-flags"].body
    assert "even if you did not tick" in CONTENT.pages["constipation"].body
    assert "added by you" in CONTENT.pages["blood-tests"].body
    fever_low = CONTENT.advice_for("neutropenic_fever")
    assert fever_low["call_now"] and "today" not in fever_low["patient"]


def test_every_supply_note_has_text() -> None:
    """services/medicines.py reads `refill` and `clozapine_blood_<BloodForSupply>`."""
    from server.domain.supply import BloodForSupply

    codes = {"refill", *(f"clozapine_blood_{b.value}" for b in BloodForSupply)}
    assert set(CONTENT.supply) == codes
    for code in codes:
        for key in ("title", "patient", "caregiver", "clinician"):
            assert CONTENT.supply[code][key].strip(), (code, key)


def test_advice_a_phone_can_show_offline_never_says_the_team_was_told() -> None:
    """Issue 16: advice for a rule a report on the phone raises is shown offline too, before
    anyone knows; the app itself says "told" only once the server has opened the escalation."""
    for code in ("chest_pain", "cardiac_symptoms", "fever", "sore_throat", "seizure"):
        advice = CONTENT.advice_for(code)
        assert "been told" not in advice["patient"] and "is told" not in advice["patient"], code
    page = CONTENT.pages["using-this-app"].body
    assert "Call my care team" in page and "Remind me later" in page
