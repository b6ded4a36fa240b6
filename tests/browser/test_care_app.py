"""The care-team app at /care/ in headless Chromium (desktop, 1280x800): a clinician signs in,
sees the escalation raised by a patient's fever report under "Open escalations", acknowledges
and resolves it; every care screen passes an axe-core scan (WCAG 2.x A and AA); the banner says
when the scheduler has stopped; and the clinic settings are changed by an administrator and
only read by a clinician."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, axe_violations, shot
from tests.browser.live_server import (
    BIN,
    CLINICIAN_EMAIL,
    PASSWORD,
    ROOT,
    Api,
    LiveServer,
    Person,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, **DESKTOP)
    context.set_default_timeout(15000)
    yield context
    context.close()


def care_sign_in(page: Any, email: str = CLINICIAN_EMAIL) -> None:
    page.goto("/care/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Open escalations", exact=True).wait_for()


def report_fever(server: LiveServer, person: Person) -> list[int]:
    api = server.new_api()
    api.sign_in(person.email, person.password)
    answer = api.call(
        "POST",
        f"/api/patients/{person.patient_id}/symptoms",
        json={
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "symptoms": ["fever"],
            "temperature_c": 38.6,
        },
    )
    return list(answer["escalation_ids"])


def escalation_card(page: Any, person: Person, rule: str = "Fever") -> Any:
    heading = page.get_by_role("heading", name=f"{rule} \u2013 {person.display_name}", exact=True)
    return page.locator("li.escalation").filter(has=heading)


def test_clinician_acknowledges_and_resolves_a_fever(
    desk: Any, server: LiveServer, patient: Person
) -> None:
    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page)
    ids = report_fever(server, patient)
    assert len(ids) == 1

    card = escalation_card(page, patient)
    for _ in range(20):  # the list refreshes every 30 s; the Refresh button asks at once
        if card.count():
            break
        page.get_by_role("button", name="Refresh", exact=True).click()
        page.wait_for_timeout(500)
    card.wait_for()
    assert "Fever" in card.inner_text()
    shot(page, "care-escalations")

    card.get_by_role("button", name="Acknowledge", exact=True).click()
    card.get_by_role("button", name="Acknowledge", exact=True).wait_for(state="detached")
    assert card.locator(".esc-status").inner_text().startswith("Acknowledged by Dr Browser")
    assert server.clinician.call("GET", "/api/escalations?status=acknowledged")["escalations"]

    card.get_by_role("button", name="Resolve", exact=True).click()
    note = card.get_by_label("What was done (note)")
    note.fill("Phoned the patient; ANC taken today, normal.")
    shot(page, "care-resolve-form")
    card.get_by_role("button", name="Resolve with this note", exact=True).click()
    card.wait_for(state="detached")

    page.reload()
    page.get_by_role("heading", name="Open escalations", exact=True).wait_for()
    page.wait_for_timeout(300)
    assert escalation_card(page, patient).count() == 0
    resolved = server.clinician.call("GET", f"/api/escalations?patient_id={patient.patient_id}")
    mine = [e for e in resolved["escalations"] if e["id"] == ids[0]]
    assert mine and mine[0]["status"] == "resolved"
    assert mine[0]["resolution_note"] == "Phoned the patient; ANC taken today, normal."
    assert not errors, errors


def check(page: Any, name: str, problems: dict[str, Any]) -> None:
    page.wait_for_timeout(250)
    shot(page, f"care-{name}")
    violations = axe_violations(page, tags=None)  # every rule, best practices too (issue 16)
    if violations:
        problems[name] = violations


def _seed(server: LiveServer, person: Person) -> None:
    api = server.new_api()
    api.sign_in(person.email, person.password)
    now = dt.datetime.now(dt.UTC)
    base = f"/api/patients/{person.patient_id}"
    for hours, kind in ((80, 4), (50, 2), (26, 5), (3, 1)):
        api.call(
            "POST",
            f"{base}/bowel-movements",
            json={
                "occurred_at": (now - dt.timedelta(hours=hours)).isoformat(),
                "bristol_type": kind,
            },
        )
    for days, value in ((9, 2600), (5, 1700), (1, 1300)):
        server.clinician.lab_result(person.patient_id, value, now - dt.timedelta(days=days))
    api.call(
        "POST",
        f"{base}/symptoms",
        json={"occurred_at": now.isoformat(), "symptoms": ["chest_pain"]},
    )


def test_care_screens_pass_axe(a11y_desk: Any, server: LiveServer, patient: Person) -> None:
    _seed(server, patient)
    problems: dict[str, Any] = {}
    page = a11y_desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/care/")
    page.get_by_role("heading", name="Sign in to the care-team app").wait_for()
    check(page, "sign-in", problems)
    page.get_by_label("Email", exact=True).fill(CLINICIAN_EMAIL)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator(".error-box").first.wait_for()
    check(page, "sign-in-error", problems)

    care_sign_in(page)
    chest_pain = escalation_card(page, patient, "Chest pain")
    chest_pain.wait_for()
    check(page, "open-escalations", problems)
    chest_pain.get_by_role("button", name="Resolve", exact=True).click()
    check(page, "resolve-open", problems)

    page.goto("/care/#/patients")
    page.get_by_role("heading", name="Patients", exact=True).wait_for()
    page.get_by_role("link", name=patient.display_name, exact=True).wait_for()
    # the server's status: adherence over 7 days and push reachability (no subscription here),
    # push in a column of its own (it does not make a patient amber)
    row = page.locator("table.patients tbody tr").filter(
        has=page.get_by_role("link", name=patient.display_name, exact=True)
    )
    assert row.locator("td").last.inner_text().strip() == "Off"
    assert "Check soon" in row.inner_text() or "Act now" in row.inner_text()
    check(page, "patients", problems)

    page.get_by_role("link", name=patient.display_name, exact=True).click()
    page.get_by_role("heading", name=patient.display_name, level=1).wait_for()
    page.get_by_role("heading", name="ANC over time").wait_for()
    page.locator("details.audit-details summary").click()  # collapsed until asked for
    page.locator("table.audit tbody tr").first.wait_for()
    check(page, "patient", problems)

    # a blood result, banded at once (at or above the baseline: whether or not today's first
    # dose has come due, the re-titration below may start on it, RULES.md 2)
    page.get_by_label("ANC value").fill("1.6")
    page.get_by_label("Unit").select_option("10^9/L")
    page.get_by_role("button", name="Save result").click()
    page.get_by_text("Saved. Band: Normal.").wait_for()

    # a titration proposal (a restart from 12.5 mg), then a refused edit shown next to its day
    page.get_by_label("Restart after a break (from 12.5 mg)").check()
    page.get_by_label("Target dose per day (mg)").fill("350")
    page.get_by_role("button", name="Make the re-titration plan").click()
    page.get_by_text("Saved as version").wait_for()
    page.get_by_label("Day 2, 21:00 dose in mg").fill("900")
    page.get_by_role("button", name="Save plan").click()
    refusal = page.locator(".plan-table .field-error:not([hidden])")
    refusal.first.wait_for()
    assert "900" in refusal.first.inner_text()
    assert page.get_by_label("Day 2, 21:00 dose in mg").get_attribute("aria-invalid") == "true"

    page.get_by_role("button", name="Make a caregiver invite code").click()
    page.get_by_text("Invite code:").wait_for()
    check(page, "patient-edited", problems)

    page.goto("/care/#/enrol")
    page.get_by_role("heading", name="Enrol a patient", level=1).wait_for()
    check(page, "enrol", problems)
    page.get_by_label("Name the patient wants to be called").fill("Morgan")
    page.get_by_role("button", name="Enrol", exact=True).click()
    page.get_by_role("heading", name="Morgan is enrolled.").wait_for()
    assert page.locator(".code").inner_text().strip()
    check(page, "enrolled", problems)

    assert not problems, json.dumps(problems, indent=2)
    assert not errors, errors


def test_signed_out_clinician_signs_in_again_and_keeps_the_entry(
    desk: Any, server: LiveServer, patient: Person
) -> None:
    page = desk.new_page()
    care_sign_in(page)
    page.goto(f"/care/#/patients/{patient.patient_id}")
    page.get_by_role("heading", name="Enter a blood result").wait_for()
    page.get_by_label("ANC value").fill("2100")
    desk.clear_cookies()  # the server-side session is gone, as after 30 idle minutes
    page.get_by_role("button", name="Save result").click()
    dialog = page.get_by_role("dialog", name="Please sign in again")
    dialog.wait_for()
    assert page.get_by_label("ANC value").input_value() == "2100"
    dialog.get_by_label("Password", exact=True).fill(PASSWORD)
    if not dialog.get_by_label("Email", exact=True).input_value():
        dialog.get_by_label("Email", exact=True).fill(CLINICIAN_EMAIL)
    shot(page, "care-signed-out")
    dialog.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Saved. Band: Normal.").wait_for()
    assert dialog.count() == 0


# --- the scheduler banner ----------------------------------------------------------------------

BANNER_TEXT = (
    "Reminders and alerts are not being sent: the scheduler has not run for over 3 minutes."
    " Tell your administrator."
)


def fake_health(page: Any, scheduler: str) -> None:
    """/healthz answers as if the scheduler were `scheduler` (the real worker says "ok")."""
    body = json.dumps({"status": "ok", "checks": {"database": "ok", "scheduler": scheduler}})
    page.route(
        "**/healthz",
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )


def test_banner_says_when_the_scheduler_is_not_running(desk: Any, server: LiveServer) -> None:
    page = desk.new_page()
    fake_health(page, "unhealthy")
    care_sign_in(page)
    banner = page.get_by_role("alert").filter(has_text="Reminders and alerts are not being sent")
    banner.wait_for()
    assert banner.inner_text().strip() == BANNER_TEXT
    # at the top of the app: before the header and the main content
    assert page.evaluate(
        "() => { const b = document.getElementById('scheduler-banner');"
        " return !!(b.compareDocumentPosition(document.querySelector('main'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING); }"
    )
    shot(page, "care-scheduler-banner")

    # "never" (no cycle since the instance started) says the same; "ok" takes it away
    page.unroute("**/healthz")
    fake_health(page, "ok")
    page.reload()
    page.get_by_role("heading", name="Open escalations", exact=True).wait_for()
    page.wait_for_timeout(500)
    assert page.locator("#scheduler-banner").inner_text().strip() == ""
    page.unroute("**/healthz")
    fake_health(page, "never")
    page.reload()
    banner.wait_for()
    assert BANNER_TEXT in banner.inner_text()


# --- clinic settings ------------------------------------------------------------------------------


def care_member(
    server: LiveServer, role: str, email: str, name: str, clinic: str = "Browser test clinic"
) -> Person:
    """A member of the live server clinician's clinic (or of `clinic`), made with the CLI the
    way live_server.start() makes the clinician (same instance, same environment)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(
        COMPANION_INSTANCE_PATH=str(server.instance),
        COMPANION_PUSH_ALLOW_HTTP="1",
        COMPANION_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    result = subprocess.run(
        [
            str(Path(BIN) / "companion"),
            *["create-user", "--role", role, "--email", email, "--name", name],
            *["--clinic", clinic, "--password-stdin"],
        ],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Person(email, PASSWORD, 0, name, "Europe/London")


@pytest.fixture(scope="session")
def admin(server: LiveServer) -> Person:
    """An administrator of the live server clinician's clinic."""
    return care_member(server, "admin", f"admin-{os.getpid()}@browser.test", "Ada Admin")


def admin_api(server: LiveServer, admin: Person) -> Api:
    api = server.new_api()
    api.sign_in(admin.email, admin.password)
    return api


def open_settings(page: Any) -> None:
    page.get_by_role("navigation", name="Care team").get_by_role(
        "link", name="Clinic settings", exact=True
    ).click()
    page.get_by_role("heading", name="Clinic settings", level=1).wait_for()


def test_admin_changes_the_urgent_window(desk: Any, server: LiveServer, admin: Person) -> None:
    before = server.clinician.call("GET", "/api/clinic/settings")
    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page, admin.email)
    open_settings(page)
    urgent = page.get_by_label("Urgent: send again after (minutes)")
    assert urgent.input_value() == str(before["escalation_windows_minutes"]["urgent"])

    # the server refuses 0 minutes: the error is next to the field, which is marked invalid
    urgent.fill("0")
    page.get_by_role("button", name="Save settings").click()
    error_id = None
    for described in (urgent.get_attribute("aria-describedby") or "").split():
        if page.locator(f"#{described}.field-error").count():
            error_id = described
    assert error_id, "the field has no error line"
    page.locator(f"#{error_id}:not([hidden])").wait_for()
    assert "greater than or equal to 1" in page.locator(f"#{error_id}").inner_text()
    assert urgent.get_attribute("aria-invalid") == "true"
    assert "correct the fields" in page.locator(".settings-form .error-box").first.inner_text()

    urgent.fill("20")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert urgent.get_attribute("aria-invalid") is None

    after = server.clinician.call("GET", "/api/clinic/settings")
    assert after["escalation_windows_minutes"]["urgent"] == 20
    # the rest is kept as it was
    assert (
        after["escalation_windows_minutes"]["emergency"]
        == before["escalation_windows_minutes"]["emergency"]
    )
    assert after["caregiver_rules"] == before["caregiver_rules"]
    assert after["monitoring_profile"] == before["monitoring_profile"]

    page.reload()
    page.get_by_role("heading", name="Clinic settings", level=1).wait_for()
    assert page.get_by_label("Urgent: send again after (minutes)").input_value() == "20"
    assert not errors, errors
    admin_api(server, admin).call(
        "PUT", "/api/clinic/settings", json={"escalation_windows_minutes": {"urgent": 30}}
    )


def test_clinician_sees_the_settings_read_only(desk: Any, server: LiveServer) -> None:
    settings = server.clinician.call("GET", "/api/clinic/settings")
    page = desk.new_page()
    care_sign_in(page)
    open_settings(page)
    page.get_by_text("Only an administrator can change the settings below").wait_for()
    main = page.locator("main")
    assert main.get_by_role("button", name="Save settings").count() == 0
    # a clinician changes only who is told (and this computer's sound), their own password and
    # their language (this app has English only; it is kept on the server, for their pushes)
    own_account = main.locator("[aria-labelledby=account-title]").locator("input")
    assert own_account.count() == 2  # the current and the new password
    language = main.get_by_label("Language of this app and your notifications")
    language.locator("option").first.wait_for(state="attached")
    assert language.input_value() == "en"
    language.select_option("en")
    page.get_by_text("Saved. Your notifications use this language.").wait_for()
    assert server.clinician.call("GET", "/api/me")["user"]["language"] == "en"
    fields = main.locator("input, select, textarea")
    names = [fields.nth(i).get_attribute("name") for i in range(fields.count())]
    assert len(names) == 5 + 3
    assert {name for name in names if name} >= {"alert_sound", "on_call_name", "on_call_email",
                                                "on_call_phone", "email_recipients"}  # fmt: skip
    urgent = settings["escalation_windows_minutes"]["urgent"]
    term = main.locator("dt", has_text="Urgent: send again after (minutes)")
    assert term.locator("xpath=following-sibling::dd[1]").inner_text() == f"{urgent} minutes"
    assert "Browser test clinic" in main.inner_text()
    # and the server agrees: a clinician cannot change them
    refused = server.clinician.raw(
        "PUT", "/api/clinic/settings", json={"escalation_windows_minutes": {"urgent": 5}}
    )
    assert refused.status_code == 403


def test_clinic_settings_pass_axe(a11y_desk: Any, server: LiveServer, admin: Person) -> None:
    problems: dict[str, Any] = {}
    page = a11y_desk.new_page()
    fake_health(page, "unhealthy")  # the banner is scanned too
    care_sign_in(page, admin.email)
    open_settings(page)
    page.get_by_role("alert").filter(has_text="Reminders and alerts").wait_for()
    page.get_by_label("Urgent: send again after (minutes)").wait_for()
    check(page, "settings", problems)  # care-settings.png

    page.get_by_label("On-call email").fill("not an address")
    page.get_by_label("Email recipients").fill("ward@clinic.test\nnobody")
    page.get_by_role("button", name="Save settings").click()
    page.locator(".field-error:not([hidden])").first.wait_for()
    check(page, "settings-errors", problems)

    clinician = a11y_desk.new_page()
    clinician.context.clear_cookies()
    care_sign_in(clinician)
    open_settings(clinician)
    check(clinician, "settings-read-only", problems)
    assert not problems, json.dumps(problems, indent=2)


def test_every_care_string_is_in_the_catalogue() -> None:
    care = ROOT / "pwa_static" / "care"
    strings = json.loads((care / "i18n" / "en.json").read_text(encoding="utf-8"))
    missing = []
    for source in sorted((care / "js").glob("*.js")):
        text = source.read_text(encoding="utf-8")
        if re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text):
            missing.append(f"{source.name}: builds HTML from a string")
        missing += [
            f"{source.name}: {key}"
            for key in re.findall(r"\bt\('([\w.-]+)'", text)
            if key not in strings
        ]
        missing += [
            f"{source.name}: {key}.{form}"
            for key in re.findall(r"\btn\('([\w.-]+)'", text)
            for form in ("one", "other")
            if f"{key}.{form}" not in strings
        ]
    html = (care / "index.html").read_text(encoding="utf-8")
    missing += [k for k in re.findall(r'data-i18n="([\w.-]+)"', html) if k not in strings]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style", html)
    assert missing == []


def test_the_care_team_has_a_name_for_every_symptom_the_server_accepts() -> None:
    """The care app names symptoms in its own (clinical) words; one it had no word for was shown
    as its bare code (mouth sores, pregnancy and seven more were). A code accepted from older
    apps as another's alias (dizziness_on_standing) reads well enough as its code."""
    from server.domain import SYMPTOM_CODES
    from server.services.content import Content

    aliases = {
        code for code, label in Content(ROOT / "content").symptoms.items() if "alias_of" in label
    }
    strings = json.loads((ROOT / "pwa_static" / "care" / "i18n" / "en.json").read_text())
    assert sorted(c for c in SYMPTOM_CODES - aliases if f"symptom.{c}" not in strings) == []


def test_a_care_team_member_changes_their_password(desk: Any, server: LiveServer) -> None:
    member = care_member(server, "clinician", f"nurse-{os.getpid()}@browser.test", "Nia Nurse")
    new_password = "a longer password for the ward 7"
    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page, member.email)
    open_settings(page)
    change = page.get_by_role("button", name="Change password", exact=True)

    # a wrong current password: said in the error box, the button usable again, nothing changed
    page.get_by_label("Current password", exact=True).fill("not my password at all")
    page.get_by_label("New password", exact=True).fill(new_password)
    change.click()
    page.locator(".error-box:not([hidden])").wait_for()
    assert change.is_enabled()
    assert (
        server.new_api()
        .raw("POST", "/api/session", json={"email": member.email, "password": PASSWORD})
        .ok
    )

    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    change.click()
    page.get_by_text("Your password is changed.").wait_for()
    assert page.locator(".error-box:not([hidden])").count() == 0
    assert page.get_by_label("Current password", exact=True).input_value() == ""
    signed_in = server.new_api().raw(
        "POST", "/api/session", json={"email": member.email, "password": new_password}
    )
    assert signed_in.status_code == 200
    old = server.new_api().raw(
        "POST", "/api/session", json={"email": member.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    assert not errors, errors


# --- the ANC chart's lines are the patient's own bands (RULES.md 2) -------------------------


def add_counts(api: Api, patient_id: int, values: tuple[float, ...]) -> None:
    now = dt.datetime.now(dt.UTC)
    for days, value in enumerate(reversed(values), start=1):
        api.lab_result(patient_id, value, now - dt.timedelta(days=days))


def chart_lines(page: Any, patient_id: int, name: str) -> dict[str, Any]:
    page.goto(f"/care/#/patients/{patient_id}")
    page.get_by_role("heading", name=name, level=1, exact=True).wait_for()
    chart = page.locator("#sec-anc svg.care-chart")
    chart.wait_for()
    lines = chart.locator("line.threshold")
    return {
        "at": [lines.nth(i).get_attribute("data-cells-per-ul") for i in range(lines.count())],
        "lights": [lines.nth(i).get_attribute("data-light") for i in range(lines.count())],
        "labels": chart.locator("text.threshold-label").all_text_contents(),
        "summary": chart.get_attribute("aria-label"),
        "legend": page.locator("#sec-anc p.hint").inner_text(),
    }


def test_the_anc_chart_draws_the_clinics_profile(
    desk: Any, browser: Any, server: LiveServer
) -> None:
    """A nurse of a UK traffic-light clinic sees the UK lines (neutrophils 2.0 and 1.5 x10^9/L,
    amber and red below), not the guideline's 1500/1000/500; the guideline clinic's patients
    keep theirs, a BEN patient's lines are the BEN table's (RULES.md 2)."""
    tag = os.getpid()
    uk_admin = care_member(
        server, "admin", f"uk-admin-{tag}@browser.test", "Una Admin", "UK clinic"
    )
    nurse = care_member(
        server, "clinician", f"uk-nurse-{tag}@browser.test", "Nia Nurse", "UK clinic"
    )
    admin_api(server, uk_admin).call(
        "PUT", "/api/clinic/settings", json={"monitoring_profile": "uk-smpc"}
    )
    uk_api = server.new_api()
    uk_api.sign_in(nurse.email, nurse.password)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    enrolment = {"timezone": "Europe/London", "clozapine_start_date": today}
    uk_patient = uk_api.call("POST", "/api/patients", json={"display_name": "Ula", **enrolment})
    add_counts(uk_api, uk_patient["id"], (2600, 1800, 1300))
    ben_patient = server.clinician.call(
        "POST",
        "/api/patients",
        json={"display_name": "Bea", "benign_ethnic_neutropenia": True, **enrolment},
    )["id"]
    add_counts(server.clinician, ben_patient, (1600, 1200, 700))
    general = server.enrol_patient(dose_plan=False, activate=False)
    add_counts(server.clinician, general.patient_id, (2600, 1700, 1300))

    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page, nurse.email)
    uk = chart_lines(page, uk_patient["id"], "Ula")
    shot(page, "care-anc-chart-uk")
    assert uk["at"] == ["2000", "1500"] and uk["lights"] == ["green", "amber"]
    assert uk["labels"] == ["2000", "1500"]
    assert "lines at 2000, 1500:" in uk["summary"]
    assert (
        uk["legend"]
        == "Dashed lines: 2000 (below it: Amber), 1500 (below it: Red). Values in cells/µL."
    )
    # the results are named by their lights too, not the band table's words
    bands = page.locator("#sec-anc table tbody span.band").all_text_contents()
    assert sorted(bands) == ["Amber", "Green", "Red"], bands

    # the guideline clinic's nurse, in a browser of their own
    other_desk = browser.new_context(base_url=server.url, **DESKTOP)
    page = other_desk.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    care_sign_in(page)
    guideline = chart_lines(page, general.patient_id, general.display_name)
    assert guideline["at"] == ["1500", "1000", "500"] and guideline["lights"] == [None] * 3
    assert guideline["labels"] == ["1500", "1000", "500"]
    assert guideline["legend"] == (
        "Dashed lines: 1500 (below it: Mild), 1000 (below it: Moderate), "
        "500 (below it: Severe). Values in cells/µL."
    )
    assert "Mild" in page.locator("#sec-anc table tbody span.band").all_text_contents()
    ben = chart_lines(page, ben_patient, "Bea")
    assert ben["at"] == ["1000", "500"] and ben["labels"] == ["1000", "500"]
    assert "lines at 1000, 500:" in ben["summary"]
    other_desk.close()
    assert not errors, errors
