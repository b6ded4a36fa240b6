"""Every screen passes an axe-core scan (WCAG 2.0, 2.1 and 2.2, levels A and AA) and still fits a
phone's width at 200% zoom; a screenshot of each is saved."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import PHONE, axe_violations, shot, sign_in
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser


def fits_at_200_percent(page: Any) -> bool:
    """At 200% zoom a 360 px wide phone shows 180 CSS px: nothing may scroll sideways."""
    size = page.viewport_size
    page.set_viewport_size({"width": 180, "height": 370})
    try:
        page.wait_for_timeout(150)
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))
    finally:
        page.set_viewport_size(size)


def check(page: Any, name: str, problems: dict[str, Any]) -> None:
    page.wait_for_timeout(200)
    shot(page, f"a11y-{name}")
    violations = axe_violations(page)
    if violations:
        problems[name] = violations
    if not fits_at_200_percent(page):
        problems[f"{name} (200% zoom)"] = "scrolls sideways at 180 CSS px"


def open_screen(page: Any, route: str, heading: str) -> None:
    page.goto(f"/#/{route}")
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()


@pytest.fixture
def a11y_phone(browser: Any, server: LiveServer) -> Any:
    # axe is injected as a script, which the app's CSP would (rightly) refuse
    context = browser.new_context(base_url=server.url, bypass_csp=True, **PHONE)
    context.set_default_timeout(15000)
    yield context
    context.close()


def _seed_history(server: LiveServer, person: Person) -> None:
    api = server.new_api()
    api.sign_in(person.email, person.password)
    now = dt.datetime.now(dt.UTC)
    base = f"/api/patients/{person.patient_id}"
    for hours, temperature in ((30, 37.2), (6, 38.4)):
        api.call(
            "POST",
            f"{base}/symptoms",
            json={
                "occurred_at": (now - dt.timedelta(hours=hours)).isoformat(),
                "symptoms": ["fever"] if temperature >= 38 else ["sedation"],
                "temperature_c": temperature,
            },
        )
    for hours, kind in ((50, 3), (26, 4), (2, 1)):
        api.call(
            "POST",
            f"{base}/bowel-movements",
            json={
                "occurred_at": (now - dt.timedelta(hours=hours)).isoformat(),
                "bristol_type": kind,
            },
        )


def test_every_screen_passes_axe(a11y_phone: Any, server: LiveServer, patient: Person) -> None:
    _seed_history(server, patient)
    this_month = dt.datetime.now(ZoneInfo(patient.timezone)).strftime("%B %Y")
    problems: dict[str, Any] = {}
    page = a11y_phone.new_page()

    page.goto("/static/offline.html")
    check(page, "offline-page", problems)

    open_screen(page, "signin", "Sign in")
    check(page, "sign-in", problems)
    page.get_by_label("Email", exact=True).fill(patient.email)
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".error-box").wait_for()
    check(page, "sign-in-error", problems)
    open_screen(page, "activate", "Make your account")
    check(page, "activate", problems)

    sign_in(page, patient)
    page.get_by_role("heading", name="Needs your attention").wait_for()
    check(page, "today", problems)
    page.locator(".flag-list summary").first.click()
    check(page, "today-warning-open", problems)
    page.get_by_role("button", name="Skip").first.click()
    check(page, "today-skip-reason", problems)

    steps: list[tuple[str, str, str, Callable[[], None] | None]] = [
        ("bowel", "bowel", "Log bowel movement", None),
        (
            "bowel-earlier",
            "bowel",
            "Log bowel movement",
            lambda: page.get_by_label("Earlier").check(),
        ),
        (
            "bowel-saved",
            "bowel",
            "Log bowel movement",
            lambda: (
                page.get_by_label("Type 5", exact=True).check(),
                page.get_by_role("button", name="Save").click(),
                page.get_by_role("heading", name="Saved", exact=True).wait_for(),
            ),
        ),
        ("symptom", "symptom", "Report a symptom", None),
        (
            "symptom-emergency",
            "symptom",
            "Report a symptom",
            lambda: page.get_by_label("Chest pain", exact=True).check(),
        ),
        (
            "symptom-advice",
            "symptom",
            "Report a symptom",
            lambda: (
                page.get_by_label("Sore throat", exact=True).check(),
                page.get_by_role("button", name="Send").click(),
                page.get_by_role("heading", name="What to do now").wait_for(),
            ),
        ),
        ("history", "history", "History", None),
        ("history-month", "history/month", f"Month: {this_month}", None),
        ("history-doses", "history/doses", "Doses", None),
        ("history-bowel", "history/bowel", "Bowel movements", None),
        ("history-symptoms", "history/symptoms", "Symptoms", None),
        ("history-blood", "history/blood", "Blood results", None),
        ("guidance", "guidance", "Guidance", None),
        ("guidance-pregnancy", "guidance/pregnancy", "Pregnancy", None),
        ("guidance-breastfeeding", "guidance/breastfeeding", "Breastfeeding", None),
        ("settings", "settings", "Settings", None),
        (
            "settings-largest-text",
            "settings",
            "Settings",
            lambda: page.get_by_label("Largest").check(),
        ),
        ("today-largest-text", "today", "Today", None),
    ]
    for name, route, heading, action in steps:
        open_screen(page, route, heading)
        if action:
            action()
        check(page, name, problems)

    assert not problems, json.dumps(problems, indent=2)


def test_caregiver_switches_between_patients(a11y_phone: Any, server: LiveServer) -> None:
    first = server.enrol_patient("Robin")
    second = server.enrol_patient("Jo")
    carer = server.add_caregiver(first)
    server.add_caregiver(second, email=carer.email)
    problems: dict[str, Any] = {}
    page = a11y_phone.new_page()
    sign_in(page, carer)
    switch = page.get_by_label("Whose care")
    assert switch.is_visible()
    names = {page.get_by_role("heading", level=1).inner_text()}
    check(page, "caregiver-today", problems)
    options = switch.locator("option")
    other = [options.nth(i).get_attribute("value") for i in range(options.count())]
    switch.select_option(other[-1] if other[0] == switch.input_value() else other[0])
    page.get_by_role("heading", name="Today's doses").wait_for()
    page.wait_for_timeout(300)
    names.add(page.get_by_role("heading", level=1).inner_text())
    assert names == {"Today: Robin", "Today: Jo"}
    check(page, "caregiver-switched", problems)
    # a caregiver's notification names the patient: /#today?patient=<id> opens their Today
    for person in (first, second):
        page.goto(f"/#today?patient={person.patient_id}")
        page.get_by_role("heading", name=f"Today: {person.display_name}").wait_for()
        assert page.evaluate("location.hash") == "#/today"
    assert not problems, json.dumps(problems, indent=2)
