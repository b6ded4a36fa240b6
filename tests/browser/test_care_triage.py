"""The care team's alerts and triage in headless Chromium (issue 16): a seizure reported by a
patient reaches an open /care/ page within 5 s (title badge, banner, focus left where the nurse
was typing); a clinician's push subscription receives it, encrypted, through the loopback push
service, and the service worker shows it; in a clinic of 40 the patient list puts the
severe-ANC patient and the two-emergency patient first, ten rows fit a laptop screen, green
exists, and the filters and the search work; resolution notes show on the escalations page and
in the patient's timeline; every care screen passes axe."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, axe_violations, shot
from tests.browser.live_server import (
    BIN,
    PASSWORD,
    ROOT,
    Api,
    LiveServer,
    Person,
    instance_environment,
)
from tests.browser.test_care_app import care_sign_in
from tests.support.push_service import PushService

pytestmark = pytest.mark.browser

BADGE = re.compile(r"^\((\d+)\) ")


def badge(page: Any) -> int:
    found = BADGE.match(page.title())
    return int(found.group(1)) if found else 0


def wait_for_first_pulse(page: Any) -> None:
    """The page has asked the server once: what is open now is known, and not "new"."""
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".some((e) => e.name.includes('/api/escalations/pulse'))"
    )
    page.wait_for_timeout(300)


def report(server: LiveServer, person: Person, symptoms: list[str]) -> dict[str, Any]:
    api = server.new_api()
    api.sign_in(person.email, person.password)
    return api.call(
        "POST",
        f"/api/patients/{person.patient_id}/symptoms",
        json={"occurred_at": dt.datetime.now(dt.UTC).isoformat(), "symptoms": symptoms},
    )


def test_a_seizure_reaches_an_open_care_page_within_5_seconds(
    a11y_desk: Any, server: LiveServer
) -> None:
    typing_about = server.enrol_patient("Quinn")
    reporter = server.enrol_patient("Rowan")
    page = a11y_desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page)
    # the nurse is typing a blood result on another patient's page
    page.goto(f"/care/#/patients/{typing_about.patient_id}")
    page.get_by_label("ANC value").fill("21")
    wait_for_first_pulse(page)
    before = badge(page)

    report(server, reporter, ["seizure"])
    reported = time.monotonic()
    page.wait_for_function(
        "(n) => { const m = /^\\((\\d+)\\) /.exec(document.title); return m && Number(m[1]) > n; }",
        arg=before,
        timeout=5000,
    )
    banner = page.locator("#alert-banner")
    banner.get_by_text("Rowan").wait_for(
        timeout=max(100, 5000 - 1000 * (time.monotonic() - reported))
    )
    arrived = time.monotonic() - reported
    assert arrived < 5, arrived
    assert badge(page) == before + 1
    assert page.title().endswith("\u2013 Clozapine companion \u2013 care team")
    assert "New emergency" in banner.inner_text()
    assert banner.get_attribute("role") == "alert"
    # polite: the focus and what was typed stay where they were
    assert page.evaluate("document.activeElement.getAttribute('name')") == "value"
    assert page.get_by_label("ANC value").input_value() == "21"
    shot(page, "care-live-banner")

    # the banner leads to the escalation, grouped under the patient
    banner.get_by_role("link", name="Open escalations").click()
    group = page.locator("li.patient-group").filter(
        has=page.get_by_role("heading", name="Rowan", exact=True, level=2)
    )
    group.get_by_role("heading", name="Seizure (fit) \u2013 Rowan", exact=True).wait_for()
    assert banner.inner_text().strip() == ""

    # acknowledging takes it off the badge
    group.get_by_role("button", name="Acknowledge", exact=True).click()
    page.wait_for_function(
        "(n) => { const m = /^\\((\\d+)\\) /.exec(document.title);"
        " return (m ? Number(m[1]) : 0) < n; }",
        arg=before + 1,
        timeout=10000,
    )
    assert not errors, errors


SUBSCRIBE_THROUGH_LOOPBACK = """(subscription) => {
  // Chromium reaches its real push service (FCM) over the internet, which a test cannot: the
  // browser's subscription is the loopback service's; everything after it is real
  const made = {
    endpoint: subscription.endpoint,
    options: { applicationServerKey: null },
    toJSON: () => subscription,
    unsubscribe: async () => { made.gone = true; return true; },
  };
  PushManager.prototype.subscribe = async function () { made.gone = false; return made; };
  PushManager.prototype.getSubscription = async function () {
    return made.gone === false ? made : null;
  };
}"""

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.getRegistration('/');
  return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body,
    url: n.data && n.data.url, sticky: n.requireInteraction }));
}"""


def test_a_clinicians_push_subscription_receives_the_emergency(
    browser: Any, server: LiveServer
) -> None:
    reporter = server.enrol_patient("Sasha")
    with PushService() as push:
        laptop = push.new_subscription("care-laptop")
        context = browser.new_context(base_url=server.url, **DESKTOP)
        context.set_default_timeout(15000)
        context.grant_permissions(["notifications"])
        try:
            page = context.new_page()
            care_sign_in(page)
            page.evaluate(SUBSCRIBE_THROUGH_LOOPBACK, laptop)
            page.goto("/care/#/settings")
            card = page.locator("section").filter(
                has=page.get_by_role("heading", name="Alerts on this computer")
            )
            card.get_by_text("Notifications are off for this browser.").wait_for()
            card.get_by_role("button", name="Turn on notifications").click()
            card.get_by_text("Notifications are on for this browser.").wait_for()
            shot(page, "care-alerts-on")

            report(server, reporter, ["seizure"])
            deadline = time.monotonic() + 20
            mine: list[Any] = []
            while time.monotonic() < deadline and not mine:
                mine = [
                    m
                    for m in push.received("escalation")
                    if m.subscription_id == "care-laptop" and "Seizure" in m.payload["title"]
                ]
                time.sleep(0.2)
            assert mine, [m.payload for m in push.received()]
            payload = mine[0].payload
            assert payload["title"].startswith("Emergency")
            assert payload["url"] == "/care/#/escalations"
            # lock-screen safe: no patient name, no drug name
            assert "Sasha" not in json.dumps(payload)
            assert "clozapine" not in json.dumps(payload).lower()

            # the shared service worker shows it (delivered as the push service would)
            cdp = context.new_cdp_session(page)
            found: list[dict] = []
            cdp.on(
                "ServiceWorker.workerRegistrationUpdated",
                lambda e: found.extend(e["registrations"]),
            )
            cdp.send("ServiceWorker.enable")
            deadline = time.monotonic() + 10
            while not [r for r in found if not r["isDeleted"]] and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            registration = next(r for r in found if not r["isDeleted"])["registrationId"]
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": server.url, "registrationId": registration, "data": json.dumps(payload)},
            )
            page.wait_for_timeout(1500)
            shown = page.evaluate(NOTIFICATIONS)
            assert {
                "title": payload["title"],
                "body": payload["body"],
                "url": "/care/#/escalations",
                "sticky": True,
            } in shown

            card.get_by_role("button", name="Turn off notifications").click()
            card.get_by_text("Notifications are off for this browser.").wait_for()
        finally:
            context.close()


# --- a clinic of 40 ----------------------------------------------------------------------------


def make_clinic(server: LiveServer, name: str) -> Api:
    """A clinician of a clinic of their own (made with the CLI, like the live server's)."""
    email = f"triage-{os.getpid()}-{int(time.time() * 1000)}@browser.test"
    result = subprocess.run(
        [str(BIN / "companion"), "create-user", "--role", "clinician", "--email", email,
         "--name", "Nurse Triage", "--clinic", name, "--password-stdin"],
        cwd=ROOT, env=instance_environment(server.instance), input=PASSWORD + "\n",
        text=True, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    api = server.new_api()
    api.sign_in(email, PASSWORD)
    api.email = email  # type: ignore[attr-defined]
    return api


def enrol(api: Api, name: str) -> int:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    created = api.call(
        "POST",
        "/api/patients",
        json={
            "display_name": name,
            "timezone": "Etc/GMT",
            "clozapine_start_date": today,
            "benign_ethnic_neutropenia": False,
        },
    )
    return int(created["id"])


def anc(api: Api, patient_id: int, value: int) -> None:
    api.lab_result(patient_id, value, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))


@pytest.fixture(scope="module")
def clinic_of_40(server: LiveServer) -> dict[str, Any]:
    nurse = make_clinic(server, f"Triage clinic {os.getpid()}")
    ids: dict[str, int] = {}
    # alphabetical order would put these 18 first: moderate counts (urgent) and mild (urgent)
    for n in range(8):
        ids[f"Abbott {n}"] = enrol(nurse, f"Abbott {n}")
        anc(nurse, ids[f"Abbott {n}"], 800)
    for n in range(10):
        ids[f"Bell {n}"] = enrol(nurse, f"Bell {n}")
        anc(nurse, ids[f"Bell {n}"], 1200)
    ids["Morgan Severe"] = enrol(nurse, "Morgan Severe")
    anc(nurse, ids["Morgan Severe"], 450)
    for n in range(20):
        ids[f"Park {n}"] = enrol(nurse, f"Park {n}")
        anc(nurse, ids[f"Park {n}"], 4000)
    # the one with two open emergencies, last in the alphabet, with a login of their own
    created = nurse.call(
        "POST",
        "/api/patients",
        json={
            "display_name": "Zed Two",
            "timezone": "Etc/GMT",
            "clozapine_start_date": dt.datetime.now(dt.UTC).date().isoformat(),
            "benign_ethnic_neutropenia": False,
        },
    )
    ids["Zed Two"] = created["id"]
    email = f"zed-{os.getpid()}@browser.test"
    server.new_api().call(
        "POST",
        "/api/activate",
        json={"code": created["activation_code"], "email": email, "password": PASSWORD,
              "display_name": "Zed"},
    )  # fmt: skip
    zed = Person(email, PASSWORD, created["id"], "Zed Two", "Etc/GMT")
    anc(nurse, zed.patient_id, 4100)
    report(server, zed, ["chest_pain"])
    report(server, zed, ["seizure"])
    assert len(ids) == 40
    return {"nurse": nurse, "ids": ids, "zed": zed}


def test_the_list_puts_who_needs_a_person_first(
    a11y_desk: Any, server: LiveServer, clinic_of_40: dict[str, Any]
) -> None:
    nurse = clinic_of_40["nurse"]
    page = a11y_desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page, nurse.email)
    page.goto("/care/#/patients")
    rows = page.locator("table.patients tbody tr")
    rows.nth(39).wait_for()
    assert rows.count() == 40
    names = [rows.nth(i).locator("th").inner_text() for i in range(40)]
    assert set(names[:2]) == {"Morgan Severe", "Zed Two"}, names[:5]
    # then the urgent ones (moderate and mild counts), then the rest
    assert set(names[2:20]) == {f"Abbott {n}" for n in range(8)} | {f"Bell {n}" for n in range(10)}
    assert page.get_by_text("Showing 40 of 40 patients.").is_visible()
    # green exists: no red flag, a normal count, no push subscription (a separate column)
    park = rows.filter(has=page.get_by_role("link", name="Park 3", exact=True))
    assert "On track" in park.inner_text()
    assert "Off" in park.locator("td").last.inner_text()
    shot(page, "care-patients-40")

    # ten rows fit a laptop screen (1280 x 800) under the title and the tools
    top = rows.nth(0).bounding_box()
    tenth = rows.nth(9).bounding_box()
    assert tenth["y"] + tenth["height"] - top["y"] <= 500, (top, tenth)
    assert tenth["y"] + tenth["height"] <= 800, tenth

    page.get_by_label("Act now", exact=True).check()
    page.get_by_text(re.compile(r"^Showing \d+ of 40 patients\.$")).wait_for()
    shown = [rows.nth(i).locator("th").inner_text() for i in range(rows.count())]
    assert "Morgan Severe" in shown and "Park 1" not in shown
    page.get_by_label("All", exact=True).check()
    page.get_by_label("Search by name").fill("zed")
    page.get_by_text("Showing 1 of 40 patients.").wait_for()
    assert rows.locator("th").inner_text() == "Zed Two"
    page.get_by_label("Search by name").fill("")
    page.get_by_label("Mine (I acknowledged)").check()
    page.get_by_text("Showing 0 of 40 patients.").wait_for()
    assert not errors, errors


def test_escalations_are_grouped_and_resolution_notes_stay_readable(
    a11y_desk: Any, server: LiveServer, clinic_of_40: dict[str, Any]
) -> None:
    nurse = clinic_of_40["nurse"]
    zed = clinic_of_40["ids"]["Zed Two"]
    page = a11y_desk.new_page()
    care_sign_in(page, nurse.email)
    group = page.locator("li.patient-group").filter(
        has=page.get_by_role("heading", name="Zed Two", exact=True, level=2)
    )
    group.wait_for()
    # the two emergencies of one patient sit together, in one group
    assert group.locator("li.escalation").count() >= 2
    assert page.locator("li.patient-group").first.get_attribute("data-patient-id") in {
        str(zed),
        str(clinic_of_40["ids"]["Morgan Severe"]),
    }
    card = group.locator("li.escalation").filter(
        has=page.get_by_role("heading", name="Chest pain \u2013 Zed Two", exact=True)
    )
    card.get_by_role("button", name="Resolve", exact=True).click()
    card.get_by_label("What was done (note)").fill("ECG and troponin normal; GP to review.")
    card.get_by_role("button", name="Resolve with this note", exact=True).click()
    card.wait_for(state="detached")
    resolved = page.locator("details.resolved-recently")
    resolved.locator("summary").click()
    resolved.get_by_text("ECG and troponin normal; GP to review.", exact=False).wait_for()
    assert "Resolved by Nurse Triage" in resolved.inner_text()
    shot(page, "care-resolved-notes")

    page.goto(f"/care/#/patients/{zed}")
    timeline = page.locator("#sec-timeline")
    timeline.get_by_text("ECG and troponin normal; GP to review.", exact=False).wait_for()
    # the audit trail is collapsed, and without the nurse's own page views until asked
    audit = page.locator("details.audit-details")
    assert audit.get_attribute("open") is None
    audit.locator("summary").click()
    page.locator("table.audit tbody tr").first.wait_for()
    page.wait_for_timeout(300)
    own_views = [
        text
        for text in page.locator("table.audit tbody tr").all_inner_texts()
        if "Clinician" in text and "GET " in text
    ]
    assert own_views == []
    page.get_by_label("Show", exact=True).select_option("all")
    page.locator("table.audit tbody tr", has_text="GET ").first.wait_for()


def test_every_care_screen_passes_axe(
    a11y_desk: Any, server: LiveServer, clinic_of_40: dict[str, Any]
) -> None:
    nurse = clinic_of_40["nurse"]
    morgan = clinic_of_40["ids"]["Morgan Severe"]
    problems: dict[str, Any] = {}
    page = a11y_desk.new_page()

    def check(name: str) -> None:
        page.wait_for_timeout(250)
        shot(page, f"care-a11y-{name}")
        found = axe_violations(page, tags=None)  # every rule, best practices too
        if found:
            problems[name] = found

    care_sign_in(page, nurse.email)
    page.locator("li.patient-group").first.wait_for()
    check("escalations")
    page.locator("details.resolved-recently summary").click()
    check("escalations-resolved-open")
    page.goto("/care/#/patients")
    page.locator("table.patients tbody tr").nth(39).wait_for()
    check("patients")
    page.get_by_label("Search by name").fill("nobody at all")
    page.get_by_text("Showing 0 of 40 patients.").wait_for()
    check("patients-no-match")
    page.goto(f"/care/#/patients/{morgan}")
    page.get_by_role("heading", name="ANC over time").wait_for()
    page.locator("details.audit-details summary").click()
    page.locator("table.audit tbody tr").first.wait_for()
    check("patient-audit-open")
    page.get_by_label("ANC value").fill("600")
    page.get_by_role("button", name="Save result").click()
    page.get_by_text("Saved. Band: Moderate.").wait_for()
    check("patient-lab-saved")
    page.goto("/care/#/settings")
    page.get_by_role("heading", name="Who is told").wait_for()
    page.get_by_text(re.compile("Notifications are")).wait_for()
    check("settings-clinician")
    page.get_by_label("Email recipients").fill("ward@clinic.test\nnot an address")
    page.get_by_role("button", name="Save who is told").click()
    page.locator(".field-error:not([hidden])").first.wait_for()
    check("settings-contacts-error")
    # the live banner, over the escalations page: a new emergency for Zed
    page.goto("/care/#/escalations")
    page.locator("li.patient-group").first.wait_for()
    wait_for_first_pulse(page)
    report(server, clinic_of_40["zed"], ["fever", "muscle_stiffness"])
    page.locator("#alert-banner").get_by_text("Zed Two").first.wait_for()
    check("live-banner")
    assert not problems, json.dumps(problems, indent=2)


def test_a_clinician_sets_who_is_told(a11y_desk: Any, server: LiveServer) -> None:
    nurse = make_clinic(server, f"Contacts clinic {os.getpid()}")
    page = a11y_desk.new_page()
    care_sign_in(page, nurse.email)  # type: ignore[attr-defined]
    page.goto("/care/#/settings")
    page.get_by_role("heading", name="Who is told").wait_for()
    page.get_by_label("On-call name").first.fill("Duty nurse")
    page.get_by_label("On-call phone").first.fill("+44 20 7946 0000")
    page.get_by_label("Email recipients").fill("ward7@clinic.test\nnot an address")
    page.get_by_role("button", name="Save who is told").click()
    error = page.locator(".field-error:not([hidden])").first
    error.wait_for()
    assert "Line 2 (not an address)" in error.inner_text()
    assert page.get_by_label("Email recipients").get_attribute("aria-invalid") == "true"
    assert nurse.call("GET", "/api/clinic/settings")["email_recipients"] == []
    page.get_by_label("Email recipients").fill("ward7@clinic.test")
    page.get_by_role("button", name="Save who is told").click()
    page.get_by_role("status").filter(
        has_text="Saved. From now on these people are told."
    ).wait_for()
    saved = nurse.call("GET", "/api/clinic/settings")
    assert saved["email_recipients"] == ["ward7@clinic.test"]
    assert saved["on_call"]["name"] == "Duty nurse"
    # the read-only list below says the same
    term = page.locator("dt", has_text="On-call name")
    assert term.locator("xpath=following-sibling::dd[1]").inner_text() == "Duty nurse"
