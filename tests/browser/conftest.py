"""Browser tests: Debian's Chromium, driven by Playwright, against the real server started the
way `make run` starts it (see live_server.py). Phone-sized viewport; screenshots of each screen
go to test-artifacts/screenshots/."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import live_server
from tests.browser.live_server import ROOT, LiveServer, Person

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Debian's Chromium the browser tests cannot run: fail at once with the fix
    (`make test` installs it through `make browser-deps`), never skip silently."""
    if CHROMIUM.exists() or not any("browser" in item.keywords for item in items):
        return
    raise pytest.UsageError(
        "no /usr/bin/chromium: run `make browser-deps` (apt-get install chromium)"
    )


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    instance = Path(tempfile.mkdtemp(prefix="companion-browser-"))
    running = live_server.start(instance)
    try:
        yield running
    finally:
        live_server.stop(running.process)
        shutil.rmtree(instance, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser: Any, server: LiveServer) -> Iterator[Any]:
    """A fresh phone: its own storage, service workers and caches."""
    context = browser.new_context(base_url=server.url, **PHONE)
    context.set_default_timeout(15000)
    yield context
    context.close()


DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}


@pytest.fixture
def a11y_desk(browser: Any, server: LiveServer) -> Iterator[Any]:
    """A laptop (1280 x 800) for the care-team app; axe is injected as a script, which the
    app's CSP would (rightly) refuse."""
    context = browser.new_context(base_url=server.url, bypass_csp=True, **DESKTOP)
    context.set_default_timeout(15000)
    yield context
    context.close()


@pytest.fixture
def patient(server: LiveServer) -> Person:
    return server.enrol_patient()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def shared_patient(server: LiveServer) -> Person:
    """For tests that only read, or that find their own entries by a note."""
    return server.enrol_patient("Sam")


def sign_in(page: Any, person: Person) -> None:
    """Sign in through the form. Sign-in is rate limited per address and every test comes from
    127.0.0.1, so "too many tries" is waited out."""
    page.goto("/")
    for _ in range(12):
        page.get_by_label("Email", exact=True).fill(person.email)
        page.get_by_label("Password", exact=True).fill(person.password)
        page.get_by_role("button", name="Sign in").click()
        done = page.get_by_role("heading", name="Today's doses").or_(page.locator(".error-box"))
        done.first.wait_for()
        if page.get_by_role("heading", name="Today's doses").count():
            return
        if "Too many" not in page.locator(".error-box").inner_text():
            raise AssertionError(page.locator(".error-box").inner_text())
        page.wait_for_timeout(10000)
    raise AssertionError("still rate limited after two minutes")


def wait_for_service_worker(page: Any) -> None:
    """The service worker is active and controls this page (the shell is cached)."""
    page.wait_for_function(
        "async () => { await navigator.serviceWorker.ready;"
        " return navigator.serviceWorker.controller !== null; }",
        timeout=20000,
    )


def doses_once_sent(server: Any, page: Any, patient_id: int) -> list[dict[str, Any]]:
    """The patient's doses as the server has them once a dose marked taken has arrived.
    "Taken at" shows as soon as the phone has it; the server has it once the outbox sent it."""
    doses: list[dict[str, Any]] = []
    for _ in range(50):
        doses = server.clinician.call("GET", f"/api/patients/{patient_id}/doses")["doses"]
        if any(d["status"] == "taken" for d in doses):
            break
        page.wait_for_timeout(200)
    return doses


# WCAG 2.0 to 2.2, levels A and AA: every axe scan of both apps uses these
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page: Any, tags: list[str] | None = AXE_TAGS) -> list[dict[str, Any]]:
    """axe-core's violations on the page, injected from tests/browser/node_modules; with
    `tags=None`, every rule axe has (its best practices too, as a default axe run reports)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser-deps` (npm ci --prefix tests/browser)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => (await axe.run(document, tags ? {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']} : {resultTypes: ['violations']})).violations",
        tags,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in result
    ]
