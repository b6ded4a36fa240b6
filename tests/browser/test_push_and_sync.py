"""The service worker's push and Background Sync handlers, driven through Chromium's DevTools
protocol (a real push service is not reachable from a test), and the reminder settings' states."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from tests.browser.conftest import PHONE, shot, sign_in, wait_for_service_worker
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => a.action),
    data: n.data }));
}"""


def registration_id(context: Any, page: Any) -> tuple[Any, str]:
    cdp = context.new_cdp_session(page)
    found: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not [r for r in found if not r["isDeleted"]] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    live = [r for r in found if not r["isDeleted"]]
    assert live, "no service worker registration"
    return cdp, live[0]["registrationId"]


def test_push_always_shows_a_notification(
    browser: Any, server: LiveServer, shared_patient: Person
) -> None:
    patient = shared_patient
    context = browser.new_context(base_url=server.url, **PHONE)
    context.grant_permissions(["notifications"])
    try:
        page = context.new_page()
        sign_in(page, patient)
        wait_for_service_worker(page)
        cdp, registration = registration_id(context, page)
        dose = {
            "title": "Time for your evening dose",
            "body": "Tap to open the app.",
            "url": "/#/today",
            "tag": "dose-1",
            "kind": "dose",
            "dose_id": 1,
            "patient_id": patient.patient_id,
            "actions": ["taken", "snooze"],
        }
        for data in (json.dumps(dose), "not json at all", ""):
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": server.url, "registrationId": registration, "data": data},
            )
        page.wait_for_timeout(1500)
        shown = page.evaluate(NOTIFICATIONS)
        assert len(shown) == 3, shown
        by_tag = {n["tag"]: n for n in shown}
        assert by_tag["dose-1"]["actions"] == ["taken", "snooze"]
        assert by_tag["dose-1"]["data"]["dose_id"] == 1
        plain = [n for n in shown if n["tag"] == ""]
        assert {n["title"] for n in plain} == {"Clozapine companion"}
        assert {n["body"] for n in plain} == {"not json at all", "Open the app to see what is due."}
    finally:
        context.close()


def test_background_sync_sends_the_outbox(
    browser: Any, server: LiveServer, patient: Person
) -> None:
    context = browser.new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        sign_in(page, patient)
        wait_for_service_worker(page)
        context.set_offline(True)
        page.get_by_role("button", name="Log bowel movement").click()
        page.get_by_label("Type 3", exact=True).check()
        page.get_by_label("Anything else?").fill("sent by background sync")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("heading", name="Saved on this phone, not sent yet").wait_for()
        made = dt.datetime.now(dt.UTC)
        page.close()  # the app is closed: only the service worker can send it

        quiet = context.new_page()  # a page that runs none of the app's code
        quiet.goto("/static/offline.html")
        context.set_offline(False)
        cdp, registration = registration_id(context, quiet)
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": server.url,
                "registrationId": registration,
                "tag": "companion-outbox",
                "lastChance": False,
            },
        )
        path = f"/api/patients/{patient.patient_id}/bowel-movements"
        deadline = time.monotonic() + 20
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            items = server.clinician.call("GET", path)["items"]
            found = [i for i in items if i.get("notes") == "sent by background sync"]
            time.sleep(0.3)
        assert len(found) == 1
        occurred = dt.datetime.fromisoformat(found[0]["occurred_at"])
        assert occurred <= made
    finally:
        context.close()


def test_reminder_settings_explain_every_state(phone: Any, shared_patient: Person) -> None:
    patient = shared_patient
    page = phone.new_page()
    sign_in(page, patient)
    for route in ("today", "bowel", "symptom", "history", "guidance", "settings"):
        page.goto(f"/#/{route}")
        page.wait_for_timeout(200)
    # nothing asked for permission on its own
    assert page.evaluate("Notification.permission") == "default"
    page.get_by_text("Reminders are off.").wait_for()
    page.get_by_role("button", name="Turn on reminders").click()
    # headless Chromium refuses notifications: the denied state and the way back are explained
    page.get_by_text("Notifications are blocked for this app.").wait_for()
    assert page.get_by_role("button", name="Check again").is_visible()
    shot(page, "31-settings-reminders-denied")
