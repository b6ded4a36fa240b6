"""The patient's day (issue 16): Today puts the next dose first, with its tablets, even at the
largest text with four warnings open (one line each, "Seen by your team" once acknowledged);
"Taken" is offered only when the server would accept it, on the server's first paint as in the
app; an offline emergency never says the team has been told; the status line never says
everything was sent when something was refused; "Call my care team" with the clinic's number;
a caregiver reads the patient's wording about the patient; the month view and in-app snooze;
dark mode passes axe."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from typing import Any

import pytest

from tests.browser.conftest import (
    PHONE,
    SCREENSHOTS,
    axe_violations,
    shot,
    sign_in,
    wait_for_service_worker,
)
from tests.browser.live_server import (
    PASSWORD,
    Api,
    LiveServer,
    Person,
    instance_environment,
    run_command,
)

pytestmark = pytest.mark.browser

CLINIC_PHONE = "+44 20 7946 0000"
CLINIC_HOURS = "Monday to Friday, 9am to 5pm"
TOLD = re.compile(r"(has|have) been told", re.IGNORECASE)
LARGEST = "localStorage.setItem('companion.settings', JSON.stringify({textSize: 'largest'}))"


ADMIN_EMAIL = f"admin-day-{os.getpid()}@browser.test"


@pytest.fixture(scope="module")
def clinic_admin(server: LiveServer) -> Api:
    """An administrator of the clinic (made with the CLI), who sets the care team's number."""
    email = ADMIN_EMAIL
    run_command(
        [
            *["create-user", "--role", "admin", "--email", email, "--name", "Day Admin"],
            *["--clinic", "Browser test clinic", "--password-stdin"],
        ],
        instance_environment(server.instance),
        stdin=PASSWORD + "\n",
    )
    api = server.new_api()
    api.sign_in(email, PASSWORD)
    api.call(
        "PUT",
        "/api/clinic/settings",
        json={"patient_contact": {"phone": CLINIC_PHONE, "hours": CLINIC_HOURS}},
    )
    return api


def set_tablets(server: LiveServer, person: Person, strengths: list[float]) -> None:
    """The tablet strengths the patient has, set by the clinician."""
    server.clinician.call(
        "PUT", f"/api/patients/{person.patient_id}/tablets", json={"strengths_mg": strengths}
    )


def signed_in(server: LiveServer, person: Person) -> Api:
    api = server.new_api()
    api.sign_in(person.email, person.password)
    return api


def report(api: Api, person: Person, *codes: str) -> dict[str, Any]:
    return api.call(  # type: ignore[no-any-return]
        "POST",
        f"/api/patients/{person.patient_id}/symptoms",
        json={"occurred_at": dt.datetime.now(dt.UTC).isoformat(), "symptoms": list(codes)},
    )


def test_today_puts_the_next_dose_first_at_the_largest_text_with_four_warnings(
    phone: Any, server: LiveServer, clinic_admin: Api
) -> None:
    person = server.enrol_patient("Sam")
    set_tablets(server, person, [25])
    api = signed_in(server, person)
    # four warnings: fever, a sore throat, chest pain and a racing heart
    for code in ("fever", "sore_throat", "chest_pain", "palpitations"):
        report(api, person, code)
    flags = api.call("GET", f"/api/patients/{person.patient_id}")["open_red_flags"]
    assert len(flags) == 4
    seen = next(f for f in flags if f["rule"] == "fever")
    server.clinician.call("POST", f"/api/escalations/{seen['id']}/acknowledge")

    phone.add_init_script(LARGEST)
    page = phone.new_page()
    sign_in(page, person)
    page.get_by_role("heading", name="Needs your attention").wait_for()
    assert page.evaluate("document.documentElement.classList.contains('text-largest')")
    summaries = page.locator(".flag-list summary")
    assert summaries.count() == 4
    texts = summaries.all_inner_texts()
    # one line each, with the date; "Seen by your team" only on the acknowledged one
    assert sum("Seen by your team" in text for text in texts) == 1
    assert all("since" in text for text in texts)
    assert "Seen by your team" in next(text for text in texts if "Fever" in text)
    # the next dose, its tablets and "Taken" are on the first screen
    page.screenshot(path=str(SCREENSHOTS / "day-01-first-screen.png"))
    taken = page.get_by_role("button", name="Taken", exact=True)
    box = taken.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["viewport"]["height"], box
    next_dose = page.locator(".dose.next")
    assert "Next" in next_dose.inner_text()
    assert next_dose.locator(".tablets").inner_text() == "Take half a 25 mg."
    assert next_dose.locator(".tablets-picture .pill-25.pill-half").count() == 1
    shot(page, "day-01-today-largest-four-warnings")
    # a warning opens to its advice, with both calls beside it further down
    page.locator(".flag-list summary", has_text="Chest pain").click()
    page.get_by_text("call your local emergency number now").first.wait_for()
    team = page.get_by_role("link", name="Call my care team")
    assert team.get_attribute("href") == "tel:+442079460000"
    assert page.get_by_role("link", name="Call 112").first.get_attribute("href") == "tel:112"
    assert page.get_by_text(f"Care team: {CLINIC_PHONE}").is_visible()
    assert page.get_by_text(f"Open: {CLINIC_HOURS}").is_visible()
    shot(page, "day-02-warning-open")


def test_taken_is_not_offered_when_the_server_would_refuse_it(
    phone: Any, server: LiveServer
) -> None:
    # about 08:00 where the patient lives: the 22:00 dose is more than 12 hours away (the server
    # refuses "taken" before 10:00)
    person = server.enrol_patient(
        hour=8, plan={"times": ["07:00", "22:00"], "steps": [{"day": 1, "doses_mg": [0, 12.5]}]}
    )
    set_tablets(server, person, [12.5, 25])
    api = signed_in(server, person)
    doses = api.call("GET", f"/api/patients/{person.patient_id}/doses")["doses"]
    assert [(d["local_time"], d["can_mark"]) for d in doses] == [("22:00", False)]
    now = dt.datetime.now(dt.UTC).isoformat()
    refused = api.raw(
        "POST",
        f"/api/patients/{person.patient_id}/dose-events",
        json={"dose_id": doses[0]["id"], "status": "taken", "at": now},
    )
    assert refused.status_code == 422  # what the app no longer offers

    # the app leaves it out
    page = phone.new_page()
    sign_in(page, person)
    dose = page.locator(".dose")
    dose.get_by_text("You can mark this dose from 10:00.").wait_for()
    assert dose.get_by_role("button").count() == 0
    assert dose.locator(".tablets").inner_text() == "Take one 12.5 mg."
    shot(page, "day-03-not-yet")


def test_a_due_dose_reminder_is_moved_from_the_app(
    browser: Any, server: LiveServer, patient: Person
) -> None:
    dose = signed_in(server, patient).call("GET", f"/api/patients/{patient.patient_id}/doses")
    due = dt.datetime.fromisoformat(dose["doses"][-1]["scheduled_at"])
    # the phone's clock five minutes after the dose time: its reminder has come
    context = browser.new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(15000)
    try:
        context.clock.install(time=due + dt.timedelta(minutes=5))
        page = context.new_page()
        sign_in(page, patient)
        row = page.locator(".dose.next")
        row.get_by_role("button", name="Remind me later").click()
        page.get_by_role("button", name="In 30 minutes").click()
        row.get_by_text(re.compile(r"We will remind you again at \d\d:\d\d\.")).wait_for()
        assert row.get_by_role("button", name="Taken", exact=True).is_visible()
        shot(page, "day-04-snoozed")
    finally:
        context.close()


def test_an_offline_emergency_never_says_the_team_has_been_told(
    phone: Any, server: LiveServer, clinic_admin: Api
) -> None:
    person = server.enrol_patient()
    page = phone.new_page()
    sign_in(page, person)
    wait_for_service_worker(page)
    phone.set_offline(True)
    page.get_by_role("button", name="Report a symptom").click()
    page.get_by_label("Chest pain", exact=True).check()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Saved on this phone, not sent yet").wait_for()
    page.get_by_text("your care team does not know yet").wait_for()
    main = page.locator("main").inner_text()
    assert not TOLD.search(main), main
    assert "If it is severe, call 112 now." in main
    assert page.get_by_role("link", name="Call my care team").get_attribute("href") == (
        "tel:+442079460000"
    )
    shot(page, "day-04-offline-chest-pain")

    phone.set_offline(False)
    deadline = time.monotonic() + 30
    api = signed_in(server, person)
    while time.monotonic() < deadline:
        flags = api.call("GET", f"/api/patients/{person.patient_id}")["open_red_flags"]
        if flags:
            break
        time.sleep(0.5)
    assert [f["rule"] for f in flags] == ["chest_pain"]
    # online, the app says it once the server has opened the escalation
    page.get_by_role("link", name="Back to today").first.click()
    page.get_by_role("button", name="Report a symptom").click()
    page.get_by_label("Chest pain", exact=True).check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your care team has been told.").wait_for()


def test_the_status_line_never_says_all_sent_when_something_was_refused(
    phone: Any, server: LiveServer
) -> None:
    person = server.enrol_patient()
    page = phone.new_page()
    sign_in(page, person)
    wait_for_service_worker(page)
    page.evaluate(
        "() => { window.statusTexts = []; new MutationObserver(() => window.statusTexts.push("
        "document.getElementById('status').textContent)).observe(document.getElementById("
        "'status'), {childList: true, characterData: true, subtree: true}); }"
    )
    phone.set_offline(True)
    # meanwhile the care team holds clozapine; the phone, offline, does not know: the dose
    # marked after the hold is refused when it arrives (one taken before it would be recorded)
    server.clinician.call(
        "POST",
        f"/api/patients/{person.patient_id}/treatment-events",
        json={"action": "hold", "reason": "Suspected infection, seen in clinic"},
    )
    page.get_by_role("button", name="Taken", exact=True).click()
    page.get_by_text("Saved on this phone, not sent yet").first.wait_for()
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#status", has_text="could not be saved").wait_for(timeout=30000)
    texts = page.evaluate("window.statusTexts")
    assert not any("Everything saved on this phone has been sent" in t for t in texts), texts
    shot(page, "day-05-refused-not-all-sent")


def test_a_caregiver_reads_about_the_patient(
    phone: Any, server: LiveServer, clinic_admin: Api
) -> None:
    person = server.enrol_patient("Robin")
    set_tablets(server, person, [25])
    carer = server.add_caregiver(person)
    page = phone.new_page()
    sign_in(page, carer)
    dose = page.locator(".dose.next")
    dose.get_by_text("Not marked yet. Has Robin taken it?").wait_for()
    assert dose.locator(".tablets").inner_text() == "Robin takes half a 25 mg."
    assert page.get_by_role("link", name="Call Robin's care team").is_visible()
    page.get_by_role("button", name="Skip").click()
    page.get_by_text("Why is Robin skipping this dose?").wait_for()
    page.goto("/#/symptom")
    page.get_by_text("Tick everything Robin has now.").wait_for()
    page.goto("/#/history")
    page.get_by_role("link", name=re.compile("Robin's month")).click()
    page.get_by_role("heading", name=re.compile(r"^Robin's month: ")).wait_for()


def test_the_month_view_and_dark_mode(browser: Any, server: LiveServer) -> None:
    person = server.enrol_patient()
    api = signed_in(server, person)
    now = dt.datetime.now(dt.UTC)
    for kind in (4, 2):
        api.call(
            "POST",
            f"/api/patients/{person.patient_id}/bowel-movements",
            json={"occurred_at": now.isoformat(), "bristol_type": kind},
        )
    report(api, person, "sedation")
    context = browser.new_context(
        base_url=server.url, bypass_csp=True, color_scheme="dark", **PHONE
    )
    context.set_default_timeout(15000)
    problems: dict[str, Any] = {}
    try:
        page = context.new_page()
        sign_in(page, person)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 21, 23)", background  # the dark palette
        for name, route in (("today", "today"), ("month", "history/month"), ("symptom", "symptom")):
            page.goto(f"/#/{route}")
            page.get_by_role("heading", level=1).first.wait_for()
            page.wait_for_timeout(300)
            shot(page, f"day-dark-{name}")
            violations = axe_violations(page)
            if violations:
                problems[name] = violations
        page.goto("/#/history/month")
        today = page.locator("table.month td:not(.empty):not(.later)").last
        assert re.search(r"\b2\b", today.locator(".day-bowel").inner_text())
        assert today.locator(".day-symptom").count() == 1
        day_text = page.locator(".rows > li").first.inner_text()
        assert "2 bowel movements" in day_text and "Symptoms: Very sleepy" in day_text
    finally:
        context.close()
    assert not problems, json.dumps(problems, indent=2)


def test_today_shows_the_tablets_and_the_phones_emergency_number(
    phone: Any, server: LiveServer, clinic_admin: Api
) -> None:
    """Drawn by the app from the answers in the page: the dose's tablets as a picture (a half
    drawn as half) and the emergency number set on this phone."""
    person = server.enrol_patient()
    set_tablets(server, person, [25, 50])
    page = phone.new_page()
    page.add_init_script(
        "localStorage.setItem('companion.settings', JSON.stringify({emergencyNumber: '999'}))"
    )
    sign_in(page, person)
    call = page.locator(".contact").get_by_role("link", name="Call 999")
    assert call.get_attribute("href") == "tel:999"
    assert call.get_attribute("class") == "button danger call"
    assert page.locator(".doses .tablets-picture .pill.pill-25.pill-half").count() >= 1


def test_the_care_team_sets_the_number_and_the_tablets_in_the_care_app(
    browser: Any, server: LiveServer, clinic_admin: Api
) -> None:
    from tests.browser.test_care_app import DESKTOP, care_sign_in

    person = server.enrol_patient("Kit")
    context = browser.new_context(base_url=server.url, bypass_csp=True, **DESKTOP)
    context.set_default_timeout(15000)
    problems: dict[str, Any] = {}
    try:
        page = context.new_page()
        care_sign_in(page, ADMIN_EMAIL)
        page.goto("/care/#/settings")
        phone_field = page.get_by_label("Care team phone number")
        phone_field.fill("call us")
        page.get_by_role("button", name="Save settings").click()
        page.locator('[aria-invalid="true"][name="patient_contact_phone"]').wait_for()
        phone_field.fill("+44 161 496 0000")
        page.get_by_label("When it is answered").fill("Every day, 8am to 8pm")
        page.get_by_role("button", name="Save settings").click()
        page.get_by_role("status").filter(has_text="Saved.").wait_for()
        violations = axe_violations(page)
        if violations:
            problems["settings"] = violations
        page.goto(f"/care/#/patients/{person.patient_id}")
        page.get_by_role("heading", name="Tablets").wait_for()
        page.get_by_label("25 mg", exact=True).check()
        page.get_by_label("100 mg", exact=True).check()
        page.get_by_role("button", name="Save tablets").click()
        page.get_by_text("Saved. The patient's doses now show as tablets.").wait_for()
        violations = axe_violations(page)
        if violations:
            problems["patient"] = violations
    finally:
        context.close()
    contact = signed_in(server, person).call("GET", f"/api/patients/{person.patient_id}")
    assert contact["care_team_contact"] == {
        "phone": "+44 161 496 0000",
        "hours": "Every day, 8am to 8pm",
    }
    assert contact["tablet_strengths_mg"] == [25.0, 100.0]
    clinic_admin.call(
        "PUT",
        "/api/clinic/settings",
        json={"patient_contact": {"phone": CLINIC_PHONE, "hours": CLINIC_HOURS}},
    )
    assert not problems, json.dumps(problems, indent=2)
