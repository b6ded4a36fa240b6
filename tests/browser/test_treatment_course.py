"""The treatment course in both apps (RULES.md 6, issue 13): a patient whose doses are withheld
sees what to do instead and no "Taken" button (also offline, and a caregiver in the caregiver's
words); the nurse sees the paused course first in the patient list, re-titrates from the care-team
app, and the patient's Today then offers the new 12.5 mg dose; a clinician holds, resumes, tapers
and stops treatment, with the "restart not advised" marker after a stop for myocarditis. Every
screen touched passes axe-core."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import live_server
from tests.browser.conftest import (
    PHONE,
    axe_violations,
    doses_once_sent,
    shot,
    sign_in,
    wait_for_service_worker,
)
from tests.browser.live_server import LiveServer, Person
from tests.browser.test_care_app import DESKTOP, care_sign_in

pytestmark = pytest.mark.browser

PAUSED = ("Interrupted (blood count)", "Needs re-titration", "Held")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """A server of this module's own: a dispatch cycle run 49 h ahead (`companion tick --at`)
    moves every patient on the server on, so no other test's patients may share it."""
    instance = Path(tempfile.mkdtemp(prefix="companion-course-"))
    running = live_server.start(instance)
    try:
        yield running
    finally:
        live_server.stop(running.process)
        shutil.rmtree(instance, ignore_errors=True)


@pytest.fixture
def phone_a11y(browser: Any, server: LiveServer) -> Iterator[Any]:
    # axe is injected as a script, which the app's CSP would (rightly) refuse
    context = browser.new_context(base_url=server.url, bypass_csp=True, **PHONE)
    context.set_default_timeout(15000)
    yield context
    context.close()


@pytest.fixture
def desk_a11y(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, bypass_csp=True, **DESKTOP)
    context.set_default_timeout(15000)
    yield context
    context.close()


def check(page: Any, name: str, problems: dict[str, Any]) -> None:
    page.wait_for_timeout(200)
    shot(page, f"course-{name}")
    violations = axe_violations(page)
    if violations:
        problems[name] = violations


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def miss_doses_for_over_48_hours(server: LiveServer, person: Person) -> dict[str, Any]:
    """One dispatch cycle 49 h after the patient's first dose was due, none taken: the missed-
    dose rule (RULES.md 1, 6) pauses the course for re-titration. Returns the summary."""
    base = f"/api/patients/{person.patient_id}"
    doses = server.clinician.call("GET", f"{base}/doses")["doses"]
    first = min(_instant(d["scheduled_at"]) for d in doses if d["mg"] > 0)
    server.tick(first + dt.timedelta(hours=49))
    summary = server.clinician.call("GET", base)
    assert summary["status"]["treatment"] == "needs_retitration", summary["status"]
    assert summary["status"]["doses_withheld"] is True
    return summary


def open_patient(page: Any, person: Person) -> None:
    page.goto(f"/care/#/patients/{person.patient_id}")
    page.get_by_role("heading", name=person.display_name, level=1).wait_for()
    page.get_by_role("heading", name="Treatment", exact=True).wait_for()


def course_panel(page: Any) -> Any:
    return page.locator("#sec-treatment .course-panel")


def test_a_patient_who_needs_retitration_is_told_what_to_do_and_the_nurse_restarts_from_12_5_mg(
    browser: Any, phone_a11y: Any, desk_a11y: Any, server: LiveServer
) -> None:
    person = server.enrol_patient("Riley")
    carer = server.add_caregiver(person)
    summary = miss_doses_for_over_48_hours(server, person)
    # enrolled after that cycle, an active course with an emergency (red, and first by name):
    # the emergency comes first (issue 16), then the paused course
    other = server.enrol_patient("Aaron")
    api = server.new_api()
    api.sign_in(other.email, other.password)
    api.call(
        "POST",
        f"/api/patients/{other.patient_id}/symptoms",
        json={"occurred_at": dt.datetime.now(dt.UTC).isoformat(), "symptoms": ["chest_pain"]},
    )
    advice = summary["treatment_advice"]
    assert advice and advice["patient"] and advice["caregiver"] != advice["patient"]
    problems: dict[str, Any] = {}

    # --- the patient: what to do first, no dose to take ---------------------------------------
    page = phone_a11y.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, person)
    card = page.locator("section.treatment-card")
    card.get_by_role("heading", name=advice["title"]).wait_for()
    assert card.get_by_text(advice["patient"], exact=True).is_visible()
    # the card comes before everything else on Today
    first = page.locator("main section").first
    assert first.get_attribute("class") == "card stack treatment-card"
    assert page.get_by_role("button", name="Taken", exact=True).count() == 0
    assert page.get_by_role("button", name="I took it", exact=True).count() == 0
    assert page.get_by_role("button", name="Skip", exact=True).count() == 0
    rows = page.locator("li.dose")
    assert rows.count() >= 1
    for n in range(rows.count()):
        assert "Do not take" in rows.nth(n).inner_text()
        assert " mg" not in rows.nth(n).inner_text()
    check(page, "patient-needs-retitration", problems)

    # the same from the phone's copy, without a connection
    wait_for_service_worker(page)
    phone_a11y.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Today's doses").wait_for()
    page.locator("section.treatment-card").get_by_role("heading", name=advice["title"]).wait_for()
    assert page.get_by_text("You are offline").count() >= 1
    assert page.get_by_role("button", name="Taken", exact=True).count() == 0
    shot(page, "course-patient-offline")
    phone_a11y.set_offline(False)

    # --- the caregiver: the caregiver's words -----------------------------------------------------
    helper = browser.new_context(base_url=server.url, bypass_csp=True, **PHONE)
    helper.set_default_timeout(15000)
    try:
        carer_page = helper.new_page()
        sign_in(carer_page, carer)
        carer_page.get_by_role("heading", name="Today: Riley").wait_for()
        carer_card = carer_page.locator("section.treatment-card")
        carer_card.get_by_text(advice["caregiver"], exact=True).wait_for()
        assert advice["patient"] not in carer_card.inner_text()
        assert carer_page.get_by_role("button", name="Taken", exact=True).count() == 0
        check(carer_page, "caregiver-needs-retitration", problems)
    finally:
        helper.close()

    # --- the nurse: paused courses first, then a re-titration -----------------------------------
    desk = desk_a11y.new_page()
    desk.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(desk)
    desk.goto("/care/#/patients")
    desk.get_by_role("heading", name="Patients", exact=True).wait_for()
    desk.get_by_role("link", name="Riley", exact=True).wait_for()
    # issue 16: who needs a person first, an open emergency before a paused course; then
    # every paused course before the rest
    names = desk.locator("table.patients tbody th[scope=row]").all_inner_texts()
    assert names.index("Aaron") < names.index("Riley"), names
    cells = desk.locator("table.patients tbody tr .course-cell").all_inner_texts()
    paused = [any(word in cell for word in PAUSED) for cell in cells[names.index("Aaron") + 1 :]]
    assert paused == sorted(paused, reverse=True), cells
    row = desk.locator("table.patients tbody tr").filter(
        has=desk.get_by_role("link", name="Riley", exact=True)
    )
    assert "Needs re-titration" in row.inner_text()
    assert "Why: no dose taken for more than 48 hours." in row.inner_text()
    assert "Since " in row.inner_text()
    assert "Act now" in row.inner_text()
    check(desk, "care-patient-list", problems)

    desk.get_by_role("link", name="Riley", exact=True).click()
    desk.get_by_role("heading", name="Treatment", exact=True).wait_for()
    panel = course_panel(desk)
    assert "Needs re-titration" in panel.inner_text()
    assert "no dose taken for more than 48 hours" in panel.inner_text()
    assert "Doses are withheld" in panel.inner_text()
    section = desk.locator("#sec-treatment")
    assert section.get_by_role("button", name="Hold treatment").count() == 0
    assert section.get_by_role("button", name="Resume treatment").count() == 1
    # the server's default for a paused course, in a nurse's words
    restart = desk.get_by_label("Restart after a break (from 12.5 mg)")
    assert restart.is_checked()
    timeline = desk.locator("#sec-timeline")
    assert "Needs re-titration: no dose taken for more than 48 hours" in timeline.inner_text()
    check(desk, "care-patient-needs-retitration", problems)
    section.get_by_role("button", name="Resume treatment").click()
    section.get_by_role("heading", name="Resume treatment").wait_for()
    check(desk, "care-resume-form", problems)
    section.get_by_role("button", name="Cancel").click()

    desk.get_by_label("Target dose per day (mg)").fill("300")
    desk.get_by_role("button", name="Make the re-titration plan").click()
    desk.get_by_text("Saved as version 2.").wait_for()
    panel = course_panel(desk)
    assert "Going up to the full dose" in panel.inner_text()
    assert "restarted from 12.5 mg (re-titration plan)" in panel.inner_text()
    assert "Restart after a break (from 12.5 mg)" in desk.locator("#sec-plan .lead").inner_text()
    assert "restarted from 12.5 mg" in desk.locator("#sec-timeline").inner_text()
    check(desk, "care-patient-retitrated", problems)
    plan = server.clinician.call("GET", f"/api/patients/{person.patient_id}/dose-plan")
    assert plan["kind"] == "retitration" and plan["version"] == 2
    assert plan["days"][0]["total_mg"] == 12.5

    # --- the patient's Today: the new 12.5 mg dose, to take --------------------------------------
    page.goto("/#/today")
    page.reload()
    page.get_by_role("heading", name="Today's doses").wait_for()
    taken = page.get_by_role("button", name="Taken", exact=True)
    taken.first.wait_for()
    assert page.locator("section.treatment-card").count() == 0
    dose = page.locator("li.dose").filter(has=taken.first)
    assert "12.5 mg" in dose.inner_text()
    shot(page, "course-patient-after-retitration")
    taken.first.click()
    page.get_by_text("Taken at ").first.wait_for()
    doses = doses_once_sent(server, page, person.patient_id)
    assert [(d["mg"], d["status"]) for d in doses if d["status"] == "taken"] == [(12.5, "taken")]
    assert not errors, errors
    assert not problems, json.dumps(problems, indent=2)


def test_a_clinician_holds_resumes_tapers_and_stops_treatment(
    phone_a11y: Any, desk_a11y: Any, server: LiveServer
) -> None:
    person = server.enrol_patient("Kim")
    problems: dict[str, Any] = {}
    errors: list[str] = []
    desk = desk_a11y.new_page()
    desk.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(desk)
    open_patient(desk, person)
    section = desk.locator("#sec-treatment")
    assert "Going up to the full dose" in course_panel(desk).inner_text()
    # an active course changes its dose by default; "Start clozapine" is not offered (the
    # kinds come from the patient's status: plan_kinds)
    assert desk.get_by_label("Change the dose", exact=True).is_checked()
    assert desk.get_by_label("Start clozapine", exact=True).count() == 0
    assert desk.get_by_label("Taper to stop", exact=True).count() == 1
    check(desk, "care-plan-kinds", problems)

    # hold: a reason is needed
    section.get_by_role("button", name="Hold treatment").click()
    section.get_by_role("button", name="Hold treatment").click()  # the form's own button
    section.get_by_text("Please choose a reason.").wait_for()
    check(desk, "care-hold-form-error", problems)
    section.get_by_label("Illness or infection").check()
    section.get_by_label("Details").fill("Pneumonia, in hospital")
    section.get_by_role("button", name="Hold treatment").click()
    desk.get_by_text("Treatment held. Now: Held.").wait_for()
    assert "Held" in course_panel(desk).inner_text()
    timeline = desk.locator("#sec-timeline").inner_text()
    assert "Held by Dr Browser: Illness or infection: Pneumonia, in hospital." in timeline

    page = phone_a11y.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, person)
    held = server.clinician.call("GET", f"/api/patients/{person.patient_id}")["treatment_advice"]
    page.locator("section.treatment-card").get_by_role("heading", name=held["title"]).wait_for()
    assert page.get_by_role("button", name="Taken", exact=True).count() == 0
    check(page, "patient-held", problems)

    # resume (no dose was ever taken, so no warning about a gap)
    section.get_by_role("button", name="Resume treatment").click()
    section.get_by_label("The reason for the hold has passed").check()
    section.get_by_role("button", name="Resume treatment").click()
    desk.get_by_text("Treatment resumed.").wait_for()
    assert "Going up to the full dose" in course_panel(desk).inner_text()
    page.reload()
    page.get_by_role("button", name="Taken", exact=True).first.wait_for()
    assert page.locator("section.treatment-card").count() == 0

    # a taper: 7 to 14 days, refused on its field outside them
    desk.get_by_label("Taper to stop", exact=True).check()
    days = desk.get_by_label("Days to taper over")
    days.fill("20")
    desk.get_by_role("button", name="Make the taper plan").click()
    desk.locator("#sec-plan .field-error:not([hidden])").first.wait_for()
    assert days.get_attribute("aria-invalid") == "true"
    days.fill("10")
    desk.get_by_role("button", name="Make the taper plan").click()
    desk.get_by_text("Saved as version 2.").wait_for()
    assert "Tapering to stop" in course_panel(desk).inner_text()
    assert "treatment then stops" in desk.locator("#sec-plan .lead").inner_text()
    check(desk, "care-tapering", problems)

    # stop for myocarditis: restarting is not advised, pre-selected, and marked on the plan
    section.get_by_role("button", name="Stop treatment").click()
    section.get_by_label("Myocarditis (heart inflammation)").check()
    assert section.get_by_label("Not advised", exact=True).is_checked()
    check(desk, "care-stop-form", problems)
    section.get_by_role("button", name="Stop treatment").click()
    desk.get_by_text("Treatment stopped. Now: Stopped.").wait_for()
    assert "Stopped" in course_panel(desk).inner_text()
    for where in ("#sec-treatment", "#sec-plan"):
        marker = desk.locator(f"{where} .rechallenge-marker")
        assert "Restarting clozapine is not advised." in marker.inner_text()
    assert desk.get_by_label("Start clozapine", exact=True).is_checked()  # a restart after a stop
    assert "Restart not advised." in desk.locator("#sec-timeline").inner_text()
    check(desk, "care-stopped", problems)

    status = server.clinician.call("GET", f"/api/patients/{person.patient_id}")["status"]
    assert status["treatment"] == "stopped" and status["rechallenge"] == "not_advised"
    events = server.clinician.call("GET", f"/api/patients/{person.patient_id}/treatment-events")
    acts = [e["action"] for e in events["items"] if e["action"]]
    assert acts == ["stop", "resume", "hold"]
    desk.goto("/care/#/patients")
    row = desk.locator("table.patients tbody tr").filter(
        has=desk.get_by_role("link", name="Kim", exact=True)
    )
    assert "Restart not advised" in row.inner_text()
    assert not errors, errors
    assert not problems, json.dumps(problems, indent=2)


def test_a_dose_marked_offline_after_the_team_paused_clozapine_is_refused_not_lost(
    phone_a11y: Any, server: LiveServer
) -> None:
    """A "Taken" tapped on the phone while offline after a clinician held treatment (the phone
    could not know), sent once online: the server answers 409 dose_withheld, which is a refusal
    to tell the person about (not "already recorded", which a 409 for a dose used to mean), and
    Today then says what to do."""
    person = server.enrol_patient("Sasha")
    page = phone_a11y.new_page()
    sign_in(page, person)
    wait_for_service_worker(page)
    phone_a11y.set_offline(True)
    server.clinician.call(
        "POST",
        f"/api/patients/{person.patient_id}/treatment-events",
        json={"action": "hold", "reason": "Chest infection"},
        expect=201,
    )
    page.get_by_role("button", name="Taken", exact=True).first.click()
    page.get_by_text("Not sent yet.").first.wait_for()
    phone_a11y.set_offline(False)
    held = server.clinician.call("GET", f"/api/patients/{person.patient_id}")["treatment_advice"]
    page.locator("section.treatment-card").get_by_role("heading", name=held["title"]).wait_for()
    page.get_by_role("heading", name="Could not be saved").wait_for()
    assert "The care team has paused clozapine" in page.locator("section.waiting").inner_text()
    assert page.get_by_role("button", name="Taken", exact=True).count() == 0
    shot(page, "course-offline-dose-refused")
    doses = server.clinician.call("GET", f"/api/patients/{person.patient_id}/doses")["doses"]
    assert [d for d in doses if d["status"] == "taken"] == []


def test_a_dose_marked_offline_after_the_team_changed_the_plan_is_told_not_taken_as_recorded(
    phone_a11y: Any, server: LiveServer
) -> None:
    """A "Taken" tapped offline after a clinician set a new plan that replaced the dose (the
    phone could not know), sent once online: the server answers 409 dose_replaced. The phone
    used to read any other 409 on a dose as "already recorded" and drop the entry, saying
    nothing; now the patient is told, plainly, on Today and on the status line, that the team
    changed this dose and to check today's doses, and Today shows the new plan's dose."""
    person = server.enrol_patient("Noor")
    page = phone_a11y.new_page()
    sign_in(page, person)
    wait_for_service_worker(page)
    today = server.clinician.call("GET", f"/api/patients/{person.patient_id}/doses")["date"]
    phone_a11y.set_offline(True)
    changed = server.clinician.call(
        "PUT",
        f"/api/patients/{person.patient_id}/dose-plan",
        # Noor has not begun clozapine: the new plan is a start, 25 mg at most today (RULES.md 1)
        json={"start_date": today, "times": ["09:00", "22:00"], "target_mg_per_day": 25},
    )
    assert changed["version"] == 2, changed
    page.wait_for_timeout(1100)  # the tap comes later than the plan, on any clock resolution
    page.get_by_role("button", name="Taken", exact=True).first.click()
    page.get_by_text("Not sent yet.").first.wait_for()
    phone_a11y.set_offline(False)
    page.get_by_role("heading", name="Could not be saved").wait_for()
    waiting = page.locator("section.waiting").inner_text()
    assert "Your care team changed this dose" in waiting, waiting
    assert "Check today's doses" in waiting, waiting
    assert "could not be saved" in page.locator("#status").inner_text()
    assert page.get_by_text("Already recorded as taken.").count() == 0
    # Today drawn again: the new plan's dose, at its own time, to take
    page.locator("li.dose").filter(has_text="22:00").get_by_role(
        "button", name="Taken", exact=True
    ).wait_for()
    shot(page, "course-offline-dose-replaced")
    doses = server.clinician.call("GET", f"/api/patients/{person.patient_id}/doses")["doses"]
    assert [d for d in doses if d["status"] == "taken"] == []


def test_a_dose_taken_offline_before_the_team_held_clozapine_is_recorded_not_lost(
    phone_a11y: Any, server: LiveServer
) -> None:
    """A "Taken" tapped offline before a clinician held treatment, sent after the hold: the dose
    was taken while the course ran, so it is recorded with the time of the tap (not refused), it
    is the last dose taken, and Today shows the hold and nothing "Could not be saved"."""
    person = server.enrol_patient("Robin")
    page = phone_a11y.new_page()
    sign_in(page, person)
    wait_for_service_worker(page)
    phone_a11y.set_offline(True)
    tapped = dt.datetime.now(dt.UTC)
    page.get_by_role("button", name="Taken", exact=True).first.click()
    page.get_by_text("Not sent yet.").first.wait_for()
    page.wait_for_timeout(1100)  # the hold comes later than the tap, on any clock resolution
    server.clinician.call(
        "POST",
        f"/api/patients/{person.patient_id}/treatment-events",
        json={"action": "hold", "reason": "Chest infection"},
        expect=201,
    )
    phone_a11y.set_offline(False)
    doses = doses_once_sent(server, page, person.patient_id)
    taken = [d for d in doses if d["status"] == "taken"]
    assert len(taken) == 1, doses
    summary = server.clinician.call("GET", f"/api/patients/{person.patient_id}")
    assert summary["status"]["treatment"] == "held"
    last = _instant(summary["status"]["last_dose_taken_at"])
    assert tapped - dt.timedelta(seconds=1) <= last <= tapped + dt.timedelta(seconds=5)
    assert page.get_by_role("heading", name="Could not be saved").count() == 0
    # Today drawn again (the app learns of the hold when it next asks: a reload here) says
    # what to do instead, and keeps the dose as taken
    page.reload()
    held = summary["treatment_advice"]
    page.locator("section.treatment-card").get_by_role("heading", name=held["title"]).wait_for()
    assert page.locator('li.dose[data-status="taken"]').count() == 1
    assert page.get_by_role("heading", name="Could not be saved").count() == 0
    shot(page, "course-offline-dose-taken-before-hold")
