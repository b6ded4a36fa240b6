"""The patient's main tasks, in a phone-sized Chromium against the real server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import PHONE, shot, sign_in
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser


def test_sign_in_shows_today(phone: Any, shared_patient: Person) -> None:
    patient = shared_patient
    page = phone.new_page()
    page.goto("/")
    page.get_by_role("heading", name="Sign in").wait_for()
    shot(page, "01-sign-in")
    sign_in(page, patient)
    assert page.get_by_role("heading", name="Today's doses").is_visible()
    assert page.get_by_role("button", name="Log bowel movement").is_visible()
    assert page.get_by_role("button", name="Report a symptom").is_visible()
    assert page.get_by_text("Next blood test").is_visible()
    assert page.get_by_text(re.compile(r"In \d+ days?\.|It is today|It is tomorrow")).is_visible()
    shot(page, "02-today")


def test_what_is_typed_while_the_next_screen_loads_is_kept(
    browser: Any, server: LiveServer
) -> None:
    """A tap on "I have a reset code" while the phone is slow: the email typed on the sign-in
    screen, still shown while the reset screen's code arrives, is in the reset form when it
    comes (it was drawn away, empty, before)."""
    context = browser.new_context(base_url=server.url, service_workers="block", **PHONE)
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        held: list[Any] = []
        # answered when the test says
        page.route("**/static/js/views/reset.js", lambda route: held.append(route))
        page.goto("/")
        page.get_by_role("heading", name="Sign in").wait_for()
        page.get_by_role("link", name="I have a reset code").click()
        while not held:
            page.wait_for_timeout(50)
        page.get_by_label("Email", exact=True).fill("someone@example.org")
        held[0].continue_()
        page.get_by_role("heading", name="Set a new password").wait_for()
        assert page.get_by_label("Email", exact=True).input_value() == "someone@example.org"
        assert page.get_by_label("Reset code").input_value() == ""
    finally:
        context.close()


def test_mark_a_dose_taken(phone: Any, patient: Person, server: LiveServer) -> None:
    page = phone.new_page()
    sign_in(page, patient)
    taken = page.get_by_role("button", name="Taken", exact=True)
    assert taken.count() >= 1
    dose_count = taken.count()
    taken.first.click()
    page.get_by_text(re.compile(r"^Taken at ")).wait_for()
    assert page.get_by_role("button", name="Taken", exact=True).count() == dose_count - 1
    shot(page, "03-dose-taken")
    doses = server.clinician.call("GET", f"/api/patients/{patient.patient_id}/doses")["doses"]
    assert [d["status"] for d in doses].count("taken") == 1


def test_log_a_bowel_movement(phone: Any, patient: Person, server: LiveServer) -> None:
    page = phone.new_page()
    sign_in(page, patient)
    page.get_by_role("button", name="Log bowel movement").click()
    page.get_by_role("heading", name="Log bowel movement").wait_for()
    for number in range(1, 8):
        assert page.get_by_label(f"Type {number}", exact=True).count() == 1
    shot(page, "04-bowel")
    page.get_by_label("Type 4", exact=True).check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Saved", exact=True).wait_for()
    shot(page, "05-bowel-saved")
    items = server.clinician.call("GET", f"/api/patients/{patient.patient_id}/bowel-movements")[
        "items"
    ]
    assert [item["bristol_type"] for item in items] == [4]


def test_report_a_fever_shows_the_advice_at_once(
    phone: Any, patient: Person, server: LiveServer
) -> None:
    page = phone.new_page()
    sign_in(page, patient)
    page.get_by_role("button", name="Report a symptom").click()
    page.get_by_role("heading", name="Report a symptom").wait_for()
    for label in ("Fever", "Sore throat", "Chest pain"):
        assert page.get_by_label(label, exact=True).count() == 1
    shot(page, "06-symptom")
    page.get_by_label("Fever", exact=True).check()
    page.get_by_label(re.compile("^Temperature")).fill("38.5")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="What to do now").wait_for()
    advice = page.locator(".flag").first
    assert "care team" in advice.inner_text()
    call = page.get_by_role("link", name="Call 112")
    assert call.count() >= 1
    assert call.first.get_attribute("href") == "tel:112"
    shot(page, "07-symptom-advice")
    items = server.clinician.call("GET", f"/api/patients/{patient.patient_id}/symptoms")["items"]
    assert len(items) == 1
    assert items[0]["temperature_c"] == 38.5
    # the open red flag is on Today, with its advice
    page.get_by_role("link", name="Back to today").first.click()
    page.get_by_role("heading", name="Needs your attention").wait_for()
    shot(page, "08-today-red-flag")


def test_emergency_number_is_a_setting(phone: Any, shared_patient: Person) -> None:
    patient = shared_patient
    page = phone.new_page()
    sign_in(page, patient)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Emergency phone number").fill("999")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved. The call buttons now call 999.").wait_for()
    page.goto("/#/symptom")
    page.get_by_label("Chest pain", exact=True).check()
    call = page.get_by_role("link", name="Call 999")
    assert call.is_visible()
    assert call.get_attribute("href") == "tel:999"


def test_caregiver_sees_the_patient(phone: Any, server: LiveServer) -> None:
    person = server.enrol_patient("Alex")
    carer = server.add_caregiver(person)
    page = phone.new_page()
    sign_in(page, carer)
    page.get_by_role("heading", name="Today: Alex").wait_for()
    shot(page, "09-caregiver-today")
