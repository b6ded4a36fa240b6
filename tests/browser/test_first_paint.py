"""The first screen of a signed-in visit: the page itself carries Today, drawn by the server as
the app draws it, and the session and Today's first answers (server/web.py), so Today paints
with the page and the app starts without asking /api/me and the Today answers; none of it is
kept by any cache, and the answers are used for the first screen only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, doses_once_sent, wait_for_service_worker
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser

BOOT = re.compile(r'<script type="application/json" id="boot">(.*?)</script>', re.S)


def _boot(html: str) -> dict[str, Any] | None:
    found = BOOT.findall(html)
    assert len(found) <= 1
    return json.loads(found[0]) if found else None


def test_a_signed_in_page_carries_the_answers_the_api_gives(
    server: LiveServer, patient: Person
) -> None:
    api = server.new_api()
    signed_in = api.sign_in(patient.email, patient.password)
    page = api.raw("GET", "/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    # health data and the CSRF token: no cache keeps it, and no compression (BREACH)
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in page.headers
    assert "ETag" not in page.headers
    boot = _boot(page.text)
    assert boot is not None
    assert boot["me"] == api.call("GET", "/api/me")
    assert boot["me"]["csrf_token"] == signed_in["csrf_token"]
    pid = patient.patient_id
    assert boot["answers"] == {
        f"/api/patients/{pid}": api.call("GET", f"/api/patients/{pid}"),
        f"/api/patients/{pid}/doses": api.call("GET", f"/api/patients/{pid}/doses"),
    }
    # Today is drawn in, its buttons disabled until the app has started
    assert '<h2 id="doses-title" tabindex="-1">Today&#39;s doses</h2>' in page.text
    assert '<h2 id="blood-title">Next blood test</h2>' in page.text
    assert re.search(r'class="button primary big" [^>]*disabled>Taken</button>', page.text)
    assert "Loading…" not in page.text
    # the reads are on the patient's audit trail like the API's own
    trail = server.clinician.call("GET", f"/api/patients/{pid}/audit")["items"]
    from_page = {(e["action"], e["actor_role"]) for e in trail if e["path"] == "/"}
    assert from_page == {("patient.read", "patient"), ("doses.read", "patient")}

    # signed out: the plain shell, compressed, with nothing of anyone's
    plain = requests.get(server.url + "/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert _boot(plain.text) is None
    assert plain.headers.get("Content-Encoding") == "gzip"
    assert plain.headers["Cache-Control"] == "no-cache"


def test_the_care_team_gets_the_session_but_no_patient(server: LiveServer) -> None:
    boot = _boot(server.clinician.raw("GET", "/").text)
    assert boot is not None
    assert boot["me"]["user"]["role"] == "clinician"
    assert boot["answers"] == {}


def test_a_caregiver_of_one_gets_that_persons_today(server: LiveServer, patient: Person) -> None:
    carer = server.add_caregiver(patient)
    api = server.new_api()
    api.sign_in(carer.email, carer.password)
    page = api.raw("GET", "/").text
    boot = _boot(page)
    assert boot is not None
    assert set(boot["answers"]) == {
        f"/api/patients/{patient.patient_id}",
        f"/api/patients/{patient.patient_id}/doses",
    }
    assert f'<h1 tabindex="-1">Today: {patient.display_name}</h1>' in page


def test_no_value_can_end_the_data_block(server: LiveServer) -> None:
    name = "</script><script>alert(1)</script> & <!-- Bo"
    patient = server.enrol_patient(name)
    api = server.new_api()
    api.sign_in(patient.email, patient.password)
    html = api.raw("GET", "/").text
    assert "alert(1)" not in html.split('id="boot">', 1)[0]
    block = BOOT.findall(html)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    boot = _boot(html)
    assert boot is not None
    assert boot["answers"][f"/api/patients/{patient.patient_id}"]["display_name"] == name


def test_today_paints_from_the_page_without_asking_the_api_first(
    browser: Any, server: LiveServer, patient: Person
) -> None:
    context = browser.new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(15000)
    try:
        context.request.post(
            "/api/session", data={"email": patient.email, "password": patient.password}
        )
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url.replace(server.url, "")))
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto("/")
        page.get_by_role("heading", name="Today's doses").wait_for()
        page.get_by_text("Next blood test").wait_for()
        expect(page.get_by_role("button", name="Log bowel movement")).to_be_enabled()
        page.wait_for_load_state("networkidle")
        pid = patient.patient_id
        first = {"/api/me", f"/api/patients/{pid}", f"/api/patients/{pid}/doses"}
        assert first.isdisjoint(asked), asked
        assert page.locator("#boot").count() == 0  # read once, then gone from the page
        assert errors == []  # a JSON data block breaks no Content-Security-Policy

        # a write works with the CSRF token that came with the page
        taken = page.get_by_role("button", name="Taken", exact=True)
        count = taken.count()
        assert count >= 1
        taken.first.click()
        page.get_by_text(re.compile(r"^Taken at ")).wait_for()
        doses = doses_once_sent(server, page, pid)
        assert [d["status"] for d in doses].count("taken") == 1

        # the page's answers are for the first screen only: coming back to Today asks again
        asked.clear()
        page.goto("/#/history")
        page.get_by_role("heading", name="History", exact=True).wait_for()
        with page.expect_response(lambda r: r.url.endswith(f"/api/patients/{pid}/doses")):
            page.goto("/#/today")
        page.get_by_role("heading", name="Today's doses").wait_for()
        assert page.get_by_role("button", name="Taken", exact=True).count() == count - 1

        # the service worker, installed while signed in, keeps a shell with nobody's data
        wait_for_service_worker(page)
        page.reload()
        page.get_by_role("heading", name="Today's doses").wait_for()
        cached = page.evaluate(
            "async () => { const names = await caches.keys();"
            " const cache = await caches.open(names[0]);"
            " return (await cache.match('/')).text(); }"
        )
        assert 'id="boot"' not in cached
        assert "Today's doses" not in cached and patient.display_name not in cached
    finally:
        context.close()


def _main_text(browser: Any, server: LiveServer, person: Person, locale: str, js: bool) -> str:
    context = browser.new_context(
        base_url=server.url, **{**PHONE, "locale": locale}, java_script_enabled=js
    )
    context.set_default_timeout(15000)
    try:
        context.request.post(
            "/api/session", data={"email": person.email, "password": person.password}
        )
        page = context.new_page()
        page.goto("/")
        page.get_by_role("heading", name="Today's doses").wait_for()
        if js:
            expect(page.get_by_role("button", name="Log bowel movement")).to_be_enabled()
        else:  # drawn by the server, nothing run
            expect(page.get_by_role("button", name="Log bowel movement")).to_be_disabled()
        return str(page.locator("main").inner_text())
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en-GB", "en-US"])
def test_the_server_draws_today_as_the_app_does(
    browser: Any, server: LiveServer, shared_patient: Person, locale: str
) -> None:
    """Word for word, dates in the phone's own format: the app's drawing then replaces the
    server's without a visible change (and without a later, larger contentful paint)."""
    drawn = _main_text(browser, server, shared_patient, locale, js=False)
    assert "Next blood test" in drawn and "Taken" in drawn
    assert drawn == _main_text(browser, server, shared_patient, locale, js=True)
