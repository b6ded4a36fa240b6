"""Issue 14 in real Chromium: a temperature alone, typed in the patient app with nothing ticked,
reaches the care team as `fever`; a wrong temperature does not hold back chest pain and is
explained in plain words; the care team's patient page shows troponin, CRP and levels with
their limits, and a patient's copy marked as theirs with its discrepancy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import shot, sign_in
from tests.browser.live_server import CLINICIAN_EMAIL, PASSWORD, LiveServer, Person

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    context.set_default_timeout(15000)
    yield context
    context.close()


def care_sign_in(page: Any) -> None:
    page.goto("/care/")
    page.get_by_label("Email", exact=True).fill(CLINICIAN_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Open escalations", exact=True).wait_for()


def test_a_temperature_alone_from_the_patient_app_reaches_the_care_team_as_fever(
    phone: Any, desk: Any, patient: Person, server: LiveServer
) -> None:
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, patient)
    page.get_by_role("button", name="Report a symptom").click()
    page.get_by_role("heading", name="Report a symptom").wait_for()
    # nothing ticked: only the temperature
    page.get_by_label(re.compile("^Temperature")).fill("38.6")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="What to do now").wait_for()
    assert "Fever" in page.locator(".flag").first.inner_text()
    assert page.get_by_text("Your care team has been told.").is_visible()
    shot(page, "14-temperature-alone")
    [report] = server.clinician.call("GET", f"/api/patients/{patient.patient_id}/symptoms")["items"]
    assert (report["symptoms"], report["temperature_c"]) == ([], 38.6)

    care = desk.new_page()
    care_sign_in(care)
    heading = care.get_by_role("heading", name=f"Fever \u2013 {patient.display_name}", exact=True)
    card = care.locator("li.escalation").filter(has=heading)
    for _ in range(20):  # the list refreshes every 30 s; the Refresh button asks at once
        if card.count():
            break
        care.get_by_role("button", name="Refresh", exact=True).click()
        care.wait_for_timeout(500)
    card.wait_for()
    shot(care, "14-care-fever")
    listed = server.clinician.call("GET", f"/api/escalations?patient_id={patient.patient_id}")
    assert [e["rule"] for e in listed["escalations"]] == ["fever"]
    assert not errors, errors


def test_a_wrong_temperature_does_not_hold_back_chest_pain(
    phone: Any, patient: Person, server: LiveServer
) -> None:
    page = phone.new_page()
    sign_in(page, patient)
    page.get_by_role("button", name="Report a symptom").click()
    page.get_by_label("Chest pain", exact=True).check()
    page.get_by_label(re.compile("^Temperature")).fill("101.3")  # in °F by mistake
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="What to do now").wait_for()
    note = page.get_by_text(re.compile("^Your temperature was not sent."))
    assert "°C" in note.inner_text() and "Everything you ticked was sent." in note.inner_text()
    assert "Length must be" not in page.content()
    shot(page, "14-wrong-temperature")
    [report] = server.clinician.call("GET", f"/api/patients/{patient.patient_id}/symptoms")["items"]
    assert (report["symptoms"], report["temperature_c"]) == (["chest_pain"], None)


def test_the_care_team_sees_markers_with_their_limits_and_copies_marked(
    desk: Any, phone: Any, patient: Person, server: LiveServer
) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    server.clinician.lab_result(patient.patient_id, 12, at, test="crp", unit="mg/L")
    server.clinician.lab_result(patient.patient_id, 300, at, test="trough_level", unit="ng/mL")
    # the patient adds a copy of the morning's count, mistyped tenfold
    api = server.new_api()
    api.sign_in(patient.email, patient.password)
    api.lab_result(patient.patient_id, 42, at, unit="10^9/L")

    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page)
    page.goto(f"/care/#/patients/{patient.patient_id}")
    page.get_by_role("heading", name="Heart tests, levels and liver tests").wait_for()
    markers = page.locator("#sec-markers table")
    markers.wait_for()
    assert "Below target (under 350 ng/mL)" in markers.inner_text()
    # a troponin entered in the form, read against the laboratory's limit
    page.get_by_label("Test", exact=True).select_option("troponin")
    page.get_by_label("Troponin value").fill("84")
    page.get_by_label("Upper limit of normal (from the laboratory)").fill("14")
    page.get_by_role("button", name="Save result").click()
    page.get_by_text(re.compile(r"Saved\. Reading: Above 2\u00d7 the upper limit")).wait_for()
    page.get_by_text("An escalation is open: Heart blood test raised (troponin or CRP).").wait_for()
    markers.get_by_text("14 ng/L").wait_for()
    anc = page.locator("#sec-anc table")
    assert "A copy from the patient (does not count)" in anc.inner_text()
    assert "Differs from the clinic's 4.2" in anc.inner_text()
    shot(page, "14-care-markers")
    assert not errors, errors
