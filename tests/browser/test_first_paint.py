"""The first screen of a signed-in visit: the page carries the session and Today's first answers
(server/web.py) and names Today's code in its Link header, so the app (js/views/today.js, the
only drawing of Today) draws it as soon as its code is in, without asking /api/me or the Today
answers first; none of it is kept by any cache, and the answers are used for the first screen
only."""

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

MEDICINES = "/static/js/views/medicines.js"
BOOT = re.compile(r'<script type="application/json" id="boot">(.*?)</script>', re.S)
# the page's last Largest Contentful Paint candidate: when, and whether it is in Today
LARGEST_PAINT = """
new PerformanceObserver((list) => {
  const entry = list.getEntries().at(-1);
  window.largestPaintEntry = entry;
}).observe({ type: 'largest-contentful-paint', buffered: true });
Object.defineProperty(window, 'largestPaint', { get() {
  const entry = window.largestPaintEntry;
  if (!entry) return null;
  const inToday = Boolean(entry.element && entry.element.closest('.today'));
  return { time: entry.startTime, inToday };
} });
"""


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
    paths = [f"/api/patients/{pid}", f"/api/patients/{pid}/doses", f"/api/patients/{pid}/medicines"]
    assert boot["answers"] == {path: api.call("GET", path) for path in paths}
    # no drawing of Today in the page: the app draws it (one renderer, js/views/today.js)
    outside = BOOT.sub("", page.text)
    assert "Loading…" in outside
    for words in ("Today&#39;s doses", "Today's doses", "Next blood test", ">Taken<"):
        assert words not in outside
    # and Today's code comes with it, after the stylesheet: the modules today.js imports, and
    # what they import
    head = page.text.split("</head>", 1)[0]
    preloaded = re.findall(r'<link rel="modulepreload" href="([\w/.-]+)">', head)
    assert "/static/js/views/today.js" in preloaded and "/static/js/parts.js" in preloaded
    assert head.index('rel="stylesheet"') < head.index('href="/static/js/views/today.js"')
    # the reads are on the patient's audit trail like the API's own
    trail = server.clinician.call("GET", f"/api/patients/{pid}/audit")["items"]
    from_page = {(e["action"], e["actor_role"]) for e in trail if e["path"] == "/"}
    assert from_page == {
        ("patient.read", "patient"),
        ("doses.read", "patient"),
        ("medicines.read", "patient"),
    }

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
        f"/api/patients/{patient.patient_id}/medicines",
    }


def test_a_page_in_another_language_brings_its_words(server: LiveServer, patient: Person) -> None:
    """The app asks for English in any case (index.html preloads it); the person's chosen
    language comes with the page too, so Today in Spanish waits for no further round trip."""
    api = server.new_api()
    api.sign_in(patient.email, patient.password)
    spanish = api.raw("GET", "/", cookies={"companion_lang": "es"}).text
    words = '<link rel="preload" href="/static/i18n/es.json" as="fetch" crossorigin="anonymous">'
    assert words in spanish
    english = api.raw("GET", "/", cookies={"companion_lang": "en"}).text
    assert "/static/i18n/es.json" not in english


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
        page.add_init_script(LARGEST_PAINT)
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url.replace(server.url, "")))
        scripts: list[str] = []
        page.on(
            "request",
            lambda r: (
                scripts.append(r.url.replace(server.url, ""))
                if r.resource_type == "script"
                else None
            ),
        )
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        response = page.goto("/")
        assert response is not None
        page.get_by_role("heading", name="Today's doses").wait_for()
        page.get_by_text("Next blood test").wait_for()
        expect(page.get_by_role("button", name="Log bowel movement")).to_be_enabled()
        page.wait_for_load_state("networkidle")
        pid = patient.patient_id
        first = {
            "/api/me",
            f"/api/patients/{pid}",
            f"/api/patients/{pid}/doses",
            f"/api/patients/{pid}/medicines",
        }
        assert first.isdisjoint(asked), asked
        assert page.locator("#boot").count() == 0  # read once, then gone from the page
        assert errors == []  # a JSON data block breaks no Content-Security-Policy
        # Today's largest element is the app's drawing, made from the page's answers (none of
        # Today's reads went to the API above)
        largest = page.evaluate("window.largestPaint")
        assert largest is not None and largest["inToday"], largest
        # every module Today ran was asked for by the page itself, none found only when the
        # module importing it had arrived (a request made while Today is drawn delays its paint),
        # and the names of the languages came in the page
        with_page = set(re.findall(r'(?:href|src)="(/static/js/[\w/.-]+)"', response.text()))
        assert set(scripts) - with_page == {MEDICINES}, scripts
        # what Today does not need is asked for once it is on the display: the medicines part's
        # code, the list of patients, the manifest
        later = page.evaluate(
            "(names) => performance.getEntriesByType('resource')"
            ".filter((e) => names.includes(new URL(e.name).pathname))"
            ".map((e) => [new URL(e.name).pathname, e.startTime])",
            [MEDICINES, "/api/patients"],
        )
        assert {name for name, _ in later} == {MEDICINES, "/api/patients"}, later
        assert all(start >= largest["time"] for _, start in later), (later, largest)
        assert page.locator('link[rel="manifest"]').count() == 1
        assert 'rel="manifest"' not in response.text()
        assert "/static/i18n/languages.json" not in asked
        assert "languages.json" not in response.text().split("</head>", 1)[0]
        scripts.clear()

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
        assert "/static/js/views/history.js" in scripts  # another screen's code: asked for then
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
