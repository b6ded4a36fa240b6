"""A patient whose phone speaks Spanish gets the app in Spanish; anyone can choose a language
in Settings (issue 19). The words come from the catalogues and the content/ translations."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import PHONE, doses_once_sent, shot, sign_in
from tests.browser.live_server import ROOT, LiveServer, Person
from tests.browser.test_care_triage import SUBSCRIBE_THROUGH_LOOPBACK
from tests.browser.test_push_and_sync import NOTIFICATIONS, registration_id
from tests.support.push_service import PushService

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


# --- a Spanish-speaking patient, end to end, pushes included --------------------------------

I18N = ROOT / "pwa_static" / "i18n"
ENGLISH = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
SPANISH = json.loads((I18N / "es.json").read_text(encoding="utf-8"))
# words that are English and never Spanish: one of them on screen is English left behind
ENGLISH_WORDS = """the and your you is of to for with this that are what when how today
    taken log take tap
    open please dose doses settings history help sign back next save saved report symptom fever
    bowel movement blood test pregnancy medicine remind reminders minutes hours more about read
    reviewed sources not yet it was has have will can an in on at by from or be check done sent
    who need needs call team care warning signs home page"""
ENGLISH_ONLY = frozenset(ENGLISH_WORDS.split())
# English sentences of the catalogue that Spanish says otherwise (a phrase left in English)
ENGLISH_PHRASES = sorted(
    {
        text
        for key, text in ENGLISH.items()
        if len(text) >= 12 and "{" not in text and SPANISH.get(key) != text
    }
)
TWO_DOSES = {"times": ["12:00", "21:00"], "steps": [{"day": 1, "doses_mg": [12.5, 12.5]}]}


def english_on_screen(page: Any, names: tuple[str, ...] = ()) -> list[str]:
    """Words and phrases of English on the screen, outside `names` (people, sources)."""
    text = page.evaluate("() => document.body.innerText")
    for name in names:
        text = text.replace(name, " ")
    left = [phrase for phrase in ENGLISH_PHRASES if phrase in text]
    left += sorted({w for w in re.findall(r"[A-Za-zÀ-ÿ']+", text) if w.lower() in ENGLISH_ONLY})
    return left


def local_instant(person: Person, clock: str) -> dt.datetime:
    """Today at `clock` in the person's zone."""
    zone = ZoneInfo(person.timezone)
    today = dt.datetime.now(zone).date()
    return dt.datetime.combine(today, dt.time.fromisoformat(clock), zone)


def test_a_spanish_patient_activates_logs_reads_and_gets_reminders_in_spanish(
    spanish_phone: Any, server: LiveServer
) -> None:
    """Issue 19, done when: activates, logs a dose, a bowel movement and a fever, reads the
    pregnancy page, and receives a dose reminder and a check-in push, all in Spanish. The worker
    encrypts each push for the loopback push service, which decrypts it with the subscription's
    private key; the decrypted message goes into the real service worker, offline, and the
    notification it shows is checked."""
    person = server.enrol_patient("Lucía Gómez", hour=10, plan=TWO_DOSES, activate=False)
    names = (person.display_name, person.email, "Lucía")
    spanish_phone.grant_permissions(["notifications"])
    page = spanish_phone.new_page()
    page.goto("/#/activate")
    page.get_by_role("heading", name="Crear su cuenta").wait_for()
    assert english_on_screen(page) == []
    page.get_by_label("Código", exact=True).fill(person.extra["activation_code"])
    page.get_by_label("Su nombre", exact=True).fill(person.display_name)
    page.get_by_label("Correo electrónico", exact=True).fill(person.email)
    page.get_by_label("Contraseña", exact=True).fill(person.password)
    page.get_by_role("button", name="Crear mi cuenta").click()
    page.get_by_role("heading", name="Dosis de hoy").wait_for()
    own = server.new_api()
    own.sign_in(person.email, person.password)
    assert own.call("GET", "/api/me")["user"]["language"] == "es"  # her browser's, kept
    assert english_on_screen(page, names) == [], "Today"

    # a dose
    doses = own.call("GET", f"/api/patients/{person.patient_id}/doses")["doses"]
    morning, evening = sorted(doses, key=lambda d: d["scheduled_at"])
    page.get_by_role("button", name="Tomada", exact=True).first.click()
    page.get_by_text(re.compile("^Tomada a las")).first.wait_for()
    assert [d["id"] for d in doses_once_sent(server, page, person.patient_id)
            if d["status"] == "taken"] == [morning["id"]]  # fmt: skip
    page.get_by_text("Todavía sin enviar", exact=True).wait_for(state="detached")
    assert english_on_screen(page, names) == [], "a dose taken"
    shot(page, "es-03-dose-taken")

    # a bowel movement
    page.get_by_role("button", name="Registrar una deposición").click()
    page.get_by_role("heading", name="Registrar una deposición").wait_for()
    assert english_on_screen(page, names) == [], "the bowel screen"
    page.get_by_label("Tipo 4", exact=True).check()
    page.get_by_role("button", name="Guardar").click()
    page.get_by_role("heading", name="Guardado", exact=True).wait_for()
    assert english_on_screen(page, names) == [], "a bowel movement saved"

    # a fever
    page.goto("/#/symptom")
    page.get_by_label("Fiebre", exact=True).wait_for()
    assert english_on_screen(page, names) == [], "the symptom screen"
    page.get_by_label("Fiebre", exact=True).check()
    page.get_by_label(re.compile("^Temperatura")).fill("38,5")
    page.get_by_role("button", name="Enviar").click()
    page.get_by_role("heading", name="Qué hacer ahora").wait_for()
    assert english_on_screen(page, names) == [], "the advice for a fever"
    shot(page, "es-04-fever-advice")

    # the pregnancy page (its sources are the names of documents; the US registry has its own)
    guide = server.new_api().call("GET", "/api/guidance/pregnancy")
    registry = "National Pregnancy Registry for Atypical Antipsychotics"
    page.goto("/#/guidance/pregnancy")
    page.get_by_role("heading", name="Embarazo", exact=True).wait_for()
    assert english_on_screen(page, (*names, registry, *guide["sources"])) == [], "pregnancy"

    with PushService() as push:
        phone = push.new_subscription("lucia-phone")
        page.evaluate(SUBSCRIBE_THROUGH_LOOPBACK, phone)
        page.goto("/#/settings")
        page.get_by_role("button", name="Activar los recordatorios").click()
        page.get_by_text("Los recordatorios están activados en este teléfono.").wait_for()
        assert english_on_screen(page, names) == [], "settings"
        # the worker's cycle at 21:01 her time: the 18:00 check-in and the 21:00 dose
        server.tick(local_instant(person, "21:01").astimezone(dt.UTC))
        wanted = {f"dose-{evening['id']}", f"check-in-{person.patient_id}"}
        deadline = time.monotonic() + 20
        got: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline and set(got) != wanted:
            got = {
                m.payload["tag"]: m.payload for m in push.received() if m.payload["tag"] in wanted
            }
            time.sleep(0.2)
        assert set(got) == wanted, [m.payload for m in push.received()]
    assert morning["id"] != evening["id"]
    reminder, check_in = got[f"dose-{evening['id']}"], got[f"check-in-{person.patient_id}"]
    assert (reminder["code"], reminder["lang"]) == ("dose", "es")
    assert (check_in["code"], check_in["lang"]) == ("check_in", "es")

    # the service worker keeps the Spanish words: the notifications are worded offline
    page.wait_for_function("async () => Boolean(await caches.match('/static/i18n/es.json'))")
    spanish_phone.set_offline(True)
    cdp, registration = registration_id(spanish_phone, page)
    words_only = {k: v for k, v in reminder.items() if k not in ("title", "body")}
    words_only["tag"] = "code-only"
    for payload in (reminder, check_in, words_only):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registration, "data": json.dumps(payload)},
        )
    page.wait_for_timeout(1500)
    shown = {n["tag"]: n for n in page.evaluate(NOTIFICATIONS)}
    spanish_phone.set_offline(False)
    for tag, code in (
        (reminder["tag"], "dose"),
        (check_in["tag"], "check_in"),
        ("code-only", "dose"),
    ):
        assert shown[tag]["title"] == SPANISH[f"push.{code}.title"], shown
        assert shown[tag]["body"] == SPANISH[f"push.{code}.body"], shown
        words = re.findall(r"[A-Za-zÀ-ÿ']+", shown[tag]["title"] + " " + shown[tag]["body"])
        assert not [w for w in words if w.lower() in ENGLISH_ONLY], shown[tag]
    assert shown[reminder["tag"]]["title"] == "Es la hora de su medicina"
    assert shown[check_in["tag"]]["title"] == "¿Cómo se encuentra hoy?"
