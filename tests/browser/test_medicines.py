"""Other medicines and supply in both apps (issue 16, item 4), in headless Chromium: a nurse adds
a laxative with its times and stock from the patient page; the patient's Today shows it due
today, marks it taken, and the stock goes down; a clozapine dose skipped because "I have run out"
shows the patient what to do and puts a routine escalation in front of the care team. Every
screen touched passes axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import axe_violations, shot, sign_in
from tests.browser.live_server import LiveServer
from tests.browser.test_care_app import care_sign_in
from tests.browser.test_treatment_course import desk_a11y, phone_a11y

__all__ = ["desk_a11y", "phone_a11y"]  # CSP-bypassing contexts for axe, as fixtures

pytestmark = pytest.mark.browser


def check(page: Any, name: str, problems: dict[str, Any]) -> None:
    page.wait_for_timeout(200)
    shot(page, f"medicines-{name}")
    violations = axe_violations(page)
    if violations:
        problems[name] = violations


def test_the_nurse_adds_a_laxative_the_patient_takes_it_and_says_when_clozapine_ran_out(
    phone_a11y: Any, desk_a11y: Any, server: LiveServer
) -> None:
    person = server.enrol_patient("Morgan")
    # the patient's afternoon (live_server.afternoon_zone): two times still to come today
    local = dt.datetime.now(ZoneInfo(person.timezone))
    first, second = (local + dt.timedelta(minutes=m) for m in (60, 120))
    times = f"{first:%H:%M}, {second:%H:%M}"
    problems: dict[str, Any] = {}

    # --- the nurse: add a laxative with its times and stock ---------------------------------
    desk = desk_a11y.new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(desk)
    desk.goto(f"/care/#/patients/{person.patient_id}/medicines")
    part = desk.locator("#sec-medicines")
    part.get_by_role("heading", name="Other medicines and supply").wait_for()
    part.get_by_text("No medicines listed yet.").wait_for()
    # a mistake first: no times, refused on its own field
    part.get_by_label("Name", exact=True).fill("Senna")
    part.get_by_role("button", name="Add medicine").click()
    part.get_by_text("Give at least one time of day.").wait_for()
    part.get_by_label("Laxative", exact=True).check()
    part.get_by_label("Times of day", exact=True).fill(times)
    part.get_by_label("Dose in words (optional)").fill("2 tablets")
    part.get_by_label("Taken from the stock at each dose").fill("2")
    part.get_by_label("On hand now (optional)").fill("40")
    part.get_by_role("button", name="Add medicine").click()
    part = desk.locator("#sec-medicines")
    part.get_by_text("Senna added.").wait_for()
    item = part.locator("li.medicine").filter(has_text="Senna")
    item.get_by_text("40 left.", exact=False).wait_for()
    assert f"At {first:%H:%M}, {second:%H:%M}: 2 tablets." in item.inner_text()
    assert "Runs out on" in item.inner_text()
    check(desk, "care-patient", problems)

    # --- the patient: Today shows it, Taken counts it off the stock -------------------------
    page = phone_a11y.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, person)
    section = page.locator("section.other-medicines")
    section.get_by_role("heading", name="Other medicines today").wait_for()
    rows = section.locator("li.medicine-dose")
    assert rows.count() == 2
    assert "Senna" in rows.first.inner_text() and "2 tablets" in rows.first.inner_text()
    assert rows.first.get_by_text(f"{first:%H:%M}").is_visible()
    check(page, "patient-today", problems)
    rows.first.get_by_role("button", name="Taken", exact=True).click()
    rows.first.get_by_text("Taken at").wait_for()
    listed = server.clinician.call("GET", f"/api/patients/{person.patient_id}/medicines")
    assert listed["items"][0]["stock"] == 38
    assert [d["status"] for d in listed["items"][0]["today"]] == ["taken", "pending"]
    page.reload()
    section = page.locator("section.other-medicines")
    section.get_by_text("Senna: about 38 left. Got more?").wait_for()

    # --- the patient lists one of their own ----------------------------------------------
    section.get_by_role("link", name="Add or change my other medicines").click()
    page.get_by_role("heading", name="My other medicines", level=1).wait_for()
    form = page.locator("form").filter(has=page.get_by_role("heading", name="Add a medicine"))
    form.get_by_label("Another medicine").check()
    form.get_by_label("Name", exact=True).fill("Vitamin D")
    form.get_by_label("When do you take it?").fill(f"{second:%H:%M}")
    form.get_by_label("How many do you have now? (you can leave this empty)").fill("30")
    form.get_by_role("button", name="Add this medicine").click()
    page.get_by_role("heading", name="Vitamin D", level=2).wait_for()
    check(page, "patient-medicines-page", problems)
    page.get_by_role("link", name="Back to Today").click()
    page.locator("section.other-medicines li.medicine-dose").nth(2).wait_for()
    assert page.locator("section.other-medicines li.medicine-dose").count() == 3

    # --- "I have run out" of clozapine: what to do, and the care team is told ---------------
    dose = page.locator("li.dose").filter(has=page.get_by_role("button", name="Skip", exact=True))
    dose.first.get_by_role("button", name="Skip", exact=True).click()
    page.get_by_label("I have run out").check()
    page.get_by_role("button", name="Skip this dose").click()
    advice = page.locator(".ran-out")
    advice.get_by_role("heading", name="Run out of clozapine").wait_for()
    assert advice.get_by_text("Your care team has been told.").is_visible()
    assert "call your pharmacy or your care team" in advice.inner_text()
    check(page, "patient-ran-out", problems)

    desk.goto("/care/#/escalations")
    heading = desk.get_by_role(
        "heading", name=f"Run out of clozapine \u2013 {person.display_name}", exact=True
    )
    heading.wait_for()
    card = desk.locator("li.escalation").filter(has=heading)
    assert "routine" in card.inner_text().lower()
    check(desk, "care-escalations", problems)
    assert errors == []
    assert problems == {}
