"""A patient whose phone speaks Spanish gets the app in Spanish; anyone can choose a language
in Settings (issue 19). The words come from the catalogues and the content/ translations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PHONE, shot, sign_in
from tests.browser.live_server import LiveServer, Person

pytestmark = pytest.mark.browser


@pytest.fixture
def spanish_phone(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, **{**PHONE, "locale": "es-ES"})
    context.set_default_timeout(15000)
    yield context
    context.close()


def test_a_spanish_phone_gets_the_app_in_spanish(spanish_phone: Any, patient: Person) -> None:
    page = spanish_phone.new_page()
    page.goto("/")
    page.get_by_role("heading", name="Iniciar sesión").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_label("Correo electrónico", exact=True).fill(patient.email)
    page.get_by_label("Contraseña", exact=True).fill(patient.password)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.get_by_role("heading", name="Dosis de hoy").wait_for()
    assert page.get_by_role("button", name="Registrar una deposición").is_visible()
    shot(page, "es-01-today")

    page.goto("/#/symptom")
    page.get_by_label("Fiebre", exact=True).wait_for()  # the catalogue, in Spanish
    page.goto("/#/guidance/pregnancy")
    page.get_by_role("heading", name="Embarazo", exact=True).wait_for()
    page.get_by_text("Esta traducción todavía no la ha revisado").wait_for()
    assert page.get_by_text("Revisado por profesionales").count() == 0
    shot(page, "es-02-pregnancy")


def test_a_language_chosen_in_settings(phone: Any, patient: Person) -> None:
    page = phone.new_page()
    sign_in(page, patient)
    page.goto("/#/settings")
    page.get_by_role("combobox", name="Language of the app").select_option("es")
    page.get_by_role("heading", name="Ajustes").wait_for()
    page.goto("/#/guidance/blood-tests")
    page.get_by_role("heading", name="Análisis de sangre y otros controles").wait_for()
    page.goto("/#/today")
    page.get_by_role("heading", name="Dosis de hoy").wait_for()


def test_a_page_load_answers_in_the_language_the_app_chose(
    phone: Any, patient: Person, server: LiveServer
) -> None:
    """An English phone whose person chose Spanish: the page's first answers (the advice of an
    open red flag) come in Spanish, and Today is left to the app, which draws it in Spanish."""
    own = server.new_api()
    own.sign_in(patient.email, patient.password)
    own.call(
        "POST",
        f"/api/patients/{patient.patient_id}/symptoms",
        json={"occurred_at": "2026-01-01T09:00:00Z", "symptoms": ["chest_pain"]},
    )
    page = phone.new_page()
    sign_in(page, patient)
    page.goto("/#/settings")
    page.get_by_role("combobox", name="Language of the app").select_option("es")
    page.get_by_role("heading", name="Ajustes").wait_for()
    page.goto("/#/today")
    page.reload()
    boot = page.locator("#boot")
    page.get_by_text("Dolor en el pecho").first.wait_for()
    assert boot.count() == 0
    assert page.get_by_text("Chest pain").count() == 0
