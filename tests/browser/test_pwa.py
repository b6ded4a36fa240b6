"""Installability and the service worker: the manifest and its icons, the worker controlling the
page with a versioned shell cache and no API answers in any cache, the offline page, and the
size of the first load."""

from __future__ import annotations

import gzip
import json
import re
import struct
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.browser.conftest import PHONE, SCREENSHOTS, shot, sign_in, wait_for_service_worker
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser

SIGN_IN_UNCOMPRESSED = 128 * 1024
BUDGET = 100 * 1024


def png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert body[12:16] == b"IHDR"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def test_manifest_and_icons(server: LiveServer, phone: Any) -> None:
    response = requests.get(server.url + "/manifest.webmanifest", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/manifest+json")
    manifest = response.json()
    for key in (
        "id",
        "name",
        "short_name",
        "start_url",
        "scope",
        "theme_color",
        "background_color",
    ):
        assert manifest.get(key), key
    assert manifest["display"] == "standalone"
    assert urljoin(server.url + "/", manifest["start_url"]).startswith(server.url + "/")
    found: dict[str, set[str]] = {}
    for icon in manifest["icons"]:
        body = requests.get(urljoin(server.url, icon["src"]), timeout=10)
        assert body.status_code == 200, icon["src"]
        assert icon["type"] == "image/png"
        width, height = png_size(body.content)
        assert icon["sizes"] == f"{width}x{height}", icon
        found.setdefault(icon.get("purpose", "any"), set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= found["any"]
    assert "512x512" in found["maskable"]

    # the app names the manifest once its first screen is shown (app.js): a browser fetches it,
    # and its icon, as soon as the page names it
    page = requests.get(server.url + "/", timeout=10).text
    assert 'rel="manifest"' not in page
    app = phone.new_page()
    app.goto("/")
    named = app.locator('link[rel="manifest"]')
    named.wait_for(state="attached")
    assert named.get_attribute("href") == "/manifest.webmanifest"
    app.close()
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', page)
    assert touch
    icon = requests.get(urljoin(server.url, touch.group(1)), timeout=10)
    assert png_size(icon.content) == (180, 180)


def test_service_worker_controls_the_page_and_keeps_no_health_data(
    phone: Any, shared_patient: Person, server: LiveServer
) -> None:
    patient = shared_patient
    worker = requests.get(server.url + "/sw.js", timeout=10)
    assert worker.headers.get("Service-Worker-Allowed") == "/"
    page = phone.new_page()
    sign_in(page, patient)
    wait_for_service_worker(page)
    # visit the screens that read the API, so the worker has every chance to cache an answer
    for route, heading in (
        ("history/blood", "Blood results"),
        ("history/bowel", "Bowel movements"),
        ("guidance/pregnancy", "Pregnancy"),
        ("today", "Today"),
    ):
        page.goto(f"/#/{route}")
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    page.reload()
    page.get_by_role("heading", name="Today's doses").wait_for()
    info = page.evaluate(
        """async () => {
             const registration = await navigator.serviceWorker.getRegistration();
             const names = await caches.keys();
             const urls = [];
             for (const name of names) {
               for (const request of await (await caches.open(name)).keys()) {
                 const url = new URL(request.url);
                 urls.push(url.pathname + url.search);
               }
             }
             return { scope: registration.scope, script: registration.active.scriptURL,
                      controlled: navigator.serviceWorker.controller !== null, names, urls };
           }"""
    )
    assert info["controlled"]
    assert info["scope"] == server.url + "/"
    assert info["script"] == server.url + "/sw.js"
    assert len(info["names"]) == 1 and re.fullmatch(r"companion-shell-.+", info["names"][0])
    assert {"/", "/static/offline.html", "/static/js/app.js", "/static/css/app.css"} <= set(
        info["urls"]
    )
    # no answer of the API is kept but the public symptom catalogue (no person's data), for a
    # first start offline
    assert [url for url in info["urls"] if url.startswith("/api/")] == ["/api/catalogue?lang=en"]

    # without a connection: the app opens from the cache, other pages give the offline page
    phone.set_offline(True)
    try:
        page.goto("/elsewhere")
        page.get_by_role("heading", name="No connection").wait_for()
        shot(page, "30-offline-page")
        page.goto("/")
        page.get_by_role("heading", name="Today's doses").wait_for()
    finally:
        phone.set_offline(False)


def _first_load(context: Any, url: str, ready: str) -> dict[str, Any]:
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load")
    page.get_by_role("heading", name=ready).wait_for()
    page.wait_for_load_state("networkidle")
    rows = []
    for response in responses:
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request has no body
            body = b""
        headers = sum(len(h["name"]) + len(h["value"]) + 4 for h in response.headers_array())
        rows.append(
            {
                "url": response.url.replace(url.split("/#")[0].rstrip("/"), ""),
                "status": response.status,
                "body": len(body),
                "gzip_body": len(gzip.compress(body, 6)) if body else 0,
                "headers": headers,
            }
        )
    page.close()
    return {
        "requests": len(rows),
        "uncompressed": sum(r["body"] + r["headers"] for r in rows),
        "gzip_estimate": sum(min(r["body"], r["gzip_body"]) + r["headers"] for r in rows),
        "rows": rows,
    }


def test_first_load_is_under_100_kib(
    browser: Any, server: LiveServer, shared_patient: Person
) -> None:
    patient = shared_patient
    fresh = browser.new_context(base_url=server.url, **PHONE)
    try:
        signed_out = _first_load(fresh, server.url + "/", "Sign in")
    finally:
        fresh.close()
    fresh = browser.new_context(base_url=server.url, **PHONE)
    try:
        fresh.request.post(
            "/api/session", data={"email": patient.email, "password": patient.password}
        )
        today = _first_load(fresh, server.url + "/", "Today's doses")
    finally:
        fresh.close()
    report = {"sign_in_screen": signed_out, "today_screen": today}
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "first-load.json").write_text(json.dumps(report, indent=2))
    for name, load in report.items():
        print(
            f"first load, {name}: {load['requests']} requests, "
            f"{load['uncompressed'] / 1024:.1f} KiB uncompressed, "
            f"{load['gzip_estimate'] / 1024:.1f} KiB with gzip (estimated)"
        )
        assert load["gzip_estimate"] < BUDGET, load
    # before sign-in nothing but the shell loads. It held the budget even without compression
    # until the catalogue gained every word of issues 16 and 17 (29 KiB of 111 KiB), then the
    # push notifications' words (issue 19, 124 KiB), which only the service worker reads:
    # splitting the catalogue per screen would bring it back; until then growth is caught here
    assert signed_out["uncompressed"] < SIGN_IN_UNCOMPRESSED, signed_out
