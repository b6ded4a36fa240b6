"""Exports: the clinic summary PDF, FHIR, CSV, the account zip, deletion, the calendar feed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
from pypdf import PdfReader

from server.extensions import db
from server.models import AuditEvent, BowelMovement, Escalation, LabResult, Patient, User
from server.models_exports import CalendarFeed
from server.services.content import Content
from tests.support.clock import FakeClock
from tests.support.world import (
    ApiClient,
    World,
    add_anc,
    enrol_patient,
    start_plan,
    worker_makes_doses,
)

CONTENT = Content(Path(__file__).resolve().parents[2] / "content")
SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def _doses(client: ApiClient, patient_id: int, date: str) -> list[dict]:
    response = client.get(f"/api/patients/{patient_id}/doses?date={date}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["doses"]


@pytest.fixture
def filled(world: World, clock: FakeClock) -> World:
    """A patient with a plan, a taken and a skipped dose, diaries, a low ANC and red flags."""
    pid = world.patient_id
    now = clock.now
    clock.set(dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC))  # a plan starts today or later
    start_plan(world, start="2026-11-20")
    clock.set(now)
    worker_makes_doses(now, since=dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC))
    base = f"/api/patients/{pid}"
    first = _doses(world.patient, pid, "2026-11-24")[0]
    second = _doses(world.patient, pid, "2026-11-25")[0]
    for dose, status in ((first, "taken"), (second, "skipped")):
        at = dt.datetime.fromisoformat(dose["scheduled_at"]) + dt.timedelta(minutes=5)
        body = {"dose_id": dose["id"], "status": status, "at": at.isoformat()}
        response = world.patient.post(f"{base}/dose-events", json=body)
        assert response.status_code == 201, response.get_json()
    bm = world.patient.post(
        f"{base}/bowel-movements",
        json={
            "occurred_at": "2026-11-24T07:30:00+00:00",
            "bristol_type": 2,
            "notes": '=HYPERLINK("http://evil.example","x"), "quoted"',
        },
    )
    assert bm.status_code == 201, bm.get_json()
    symptoms = world.patient.post(
        f"{base}/symptoms",
        json={
            "occurred_at": "2026-11-25T10:00:00+00:00",
            "symptoms": ["fever"],
            "temperature_c": 38.6,
            "notes": "+1 feeling hot",
        },
    )
    assert symptoms.status_code == 201, symptoms.get_json()
    weight = world.patient.post(
        f"{base}/weights", json={"measured_at": "2026-11-25T08:00:00+00:00", "kg": 81.5}
    )
    assert weight.status_code == 201, weight.get_json()
    low = add_anc(world.clinician, pid, 1200, "2026-11-25T09:00:00+00:00")
    assert low.status_code == 201, low.get_json()
    fever = db.session.query(Escalation).filter_by(patient_id=pid, rule="fever").one()
    ack = world.clinician.post(f"/api/escalations/{fever.id}/acknowledge")
    assert ack.status_code == 200, ack.get_json()
    done = world.clinician.post(
        f"/api/escalations/{fever.id}/resolve", json={"note": "Seen in clinic, FBC normal"}
    )
    assert done.status_code == 200, done.get_json()
    return world


# --- FHIR ---------------------------------------------------------------------------------------


def test_fhir_bundle_validates_and_carries_the_codes(filled: World) -> None:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    response = filled.clinician.get(f"/api/patients/{filled.patient_id}/fhir")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = json.loads(response.get_data())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    assert by_type["Patient"][0]["name"][0]["text"] == "Alex"
    request = by_type["MedicationRequest"][0]
    assert len(request["dosageInstruction"]) > 3  # one per titration step
    assert [d["sequence"] for d in request["dosageInstruction"]][:2] == [1, 2]
    statuses = sorted(a["status"] for a in by_type["MedicationAdministration"])
    assert statuses == ["completed", "not-done"]

    def observations(system: str, code: str) -> list[dict]:
        return [
            o
            for o in by_type["Observation"]
            if any(c["system"] == system and c["code"] == code for c in o["code"]["coding"])
        ]

    anc = observations("http://loinc.org", "751-8")
    values = sorted(o["valueQuantity"]["value"] for o in anc)
    assert values == [1.2, 2.0]
    assert all(o["valueQuantity"]["code"] == "10*9/L" for o in anc)
    flags = {o["valueQuantity"]["value"]: o["interpretation"][0]["coding"][0]["code"] for o in anc}
    assert flags == {1.2: "L", 2.0: "N"}
    assert observations("http://snomed.info/sct", "443172007")[0]["valueInteger"] == 2
    temperature = observations("http://loinc.org", "8310-5")[0]["valueQuantity"]
    assert (temperature["value"], temperature["code"]) == (38.6, "Cel")
    assert observations("http://loinc.org", "29463-7")[0]["valueQuantity"]["value"] == 81.5
    tasks = {t["code"]["text"]: t["status"] for t in by_type["Task"]}
    assert tasks == {"fever": "completed", "anc_mild": "requested"}
    assert [f["code"]["text"].split(":")[0] for f in by_type["Flag"]] == ["anc_mild"]


def test_fhir_wbc_observation(world: World) -> None:
    from fhir.resources.R4B.observation import Observation

    response = world.clinician.post(
        f"/api/patients/{world.patient_id}/lab-results",
        json={
            "test": "anc",
            "value": 1.8,
            "unit": "10^9/L",
            "wbc": 4.2,
            "collected_at": "2026-11-25T09:00:00+00:00",
        },
    )
    assert response.status_code == 201, response.get_json()
    bundle = json.loads(world.patient.get(f"/api/patients/{world.patient_id}/fhir").get_data())
    wbc = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "6690-2"
    ]
    assert len(wbc) == 1
    Observation.model_validate(wbc[0])
    assert wbc[0]["valueQuantity"]["value"] == 4.2


# --- CSV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("bowel-movements", "id,occurred_at,bristol_type,notes,recorded_at"),
        ("symptoms", "id,occurred_at,symptoms,temperature_c,red_flags,notes,recorded_at"),
        ("doses", "id,local_date,local_time,scheduled_at,mg,status,status_at"),
        ("lab-results", "id,collected_at,test,value,unit,wbc_10e9_l,band,source"),
        ("weights", "id,measured_at,kg,recorded_at"),
    ],
)
def test_csv_exports_have_a_header_and_rows(filled: World, kind: str, header: str) -> None:
    response = filled.caregiver.get(f"/api/patients/{filled.patient_id}/exports/{kind}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert ",".join(rows[0]) == header
    assert len(rows) >= 2


def test_csv_cells_cannot_run_as_formulas(filled: World) -> None:
    base = f"/api/patients/{filled.patient_id}/exports"
    rows = list(csv.DictReader(io.StringIO(filled.patient.get(f"{base}/bowel-movements.csv").text)))
    assert rows[0]["notes"] == '\'=HYPERLINK("http://evil.example","x"), "quoted"'
    symptoms = list(csv.DictReader(io.StringIO(filled.patient.get(f"{base}/symptoms.csv").text)))
    assert symptoms[0]["notes"] == "'+1 feeling hot"
    assert symptoms[0]["temperature_c"] == "38.6"


def test_unknown_csv_kind_is_404(filled: World) -> None:
    response = filled.patient.get(f"/api/patients/{filled.patient_id}/exports/passwords.csv")
    assert response.status_code == 404


# --- PDF ----------------------------------------------------------------------------------------


def test_report_pdf_has_one_or_two_pages_and_the_patient(filled: World) -> None:
    response = filled.clinician.get(
        f"/api/patients/{filled.patient_id}/report.pdf?from=2026-09-01&to=2026-11-25"
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    body = response.get_data()
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    assert 1 <= len(reader.pages) <= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Alex", "Adherence per week", "ANC results", "Bowel movements", "Fever"):
        assert expected in text
    assert "Seen in clinic, FBC normal" in text


def _pdf_text(response) -> str:
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_report_defaults_to_the_last_90_days(filled: World) -> None:
    """Dates are CLDR's for the reader: English alone is written month first (as the browser's
    Intl writes it), British English day first."""
    path = f"/api/patients/{filled.patient_id}/report.pdf"
    assert "Aug 28, 2026 to Nov 25, 2026" in _pdf_text(filled.patient.get(path))
    british = filled.patient.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "28 Aug 2026 to 25 Nov 2026" in _pdf_text(british)


def test_report_in_spanish_for_a_spanish_reader(filled: World) -> None:
    """The patient's copy of the summary in their language: headings, labels, words for the
    codes and CLDR dates and numbers; what the care team wrote stays as written."""
    path = f"/api/patients/{filled.patient_id}/report.pdf?from=2026-09-01&to=2026-11-25"
    response = filled.patient.get(path, headers=SPANISH)
    assert response.headers["Content-Language"] == "es"
    text = _pdf_text(response)
    for expected in (
        "Resumen clínico de la clozapina",
        "Paciente: Alex",
        "Periodo del 1 sept 2026 al 25 nov 2026",
        "Plan actual y dosis",
        "Dosis tomadas cada semana",
        "Resultados de neutrófilos",
        "Deposiciones cada semana",
        "Señales de alarma y cómo se cerraron",
        "Fiebre",  # the red flag's name, from the Spanish advice
        "resuelta el 25 nov 2026: Seen in clinic, FBC normal",
        "Próximos análisis y controles",
        "leve",  # the ANC band
        "1200",
        "página 1",
    ):
        assert expected in text, expected
    for english in ("Adherence", "Bowel movements", "Red flags", "Upcoming tests", " page "):
        assert english not in text, english
    # a download from a link is a page load: the language the app chose (its cookie)
    filled.patient.client.set_cookie("companion_lang", "es")
    linked = filled.patient.get(path, headers={"Accept-Language": "en-GB,en"})
    assert "Resumen clínico de la clozapina" in _pdf_text(linked)
    filled.patient.client.delete_cookie("companion_lang")
    # the same document in English is unchanged by the translation
    english = _pdf_text(filled.patient.get(path))
    assert "Adherence per week" in english and "Clozapine clinic summary" in english
    assert "Sep 1, 2026 to Nov 25, 2026" in english and "mild" in english


def test_the_report_draws_the_bands_the_patient_is_read_with(world: World) -> None:
    """The chart's dashed lines and the heading's bands are the clinic's profile (and BEN's
    table), not the guideline's 1500/1000/500 whatever the profile (RULES.md 2)."""
    at = "2026-11-25T09:00:00+00:00"
    assert add_anc(world.clinician, world.patient_id, 2600, at).status_code == 201
    path = f"/api/patients/{world.patient_id}/report.pdf"
    text = _pdf_text(world.clinician.get(path))
    assert "bands: normal >= 1,500, mild >= 1,000, moderate >= 500, severe < 500)" in text
    assert "1,500 normal\n1,000 mild\n500 moderate\n" in text
    spanish = _pdf_text(world.clinician.get(path, headers=SPANISH))
    assert (
        "grupos: normal 1.500 o más, leve 1.000 o más, moderado 500 o más, grave menos" in spanish
    )
    ben = enrol_patient(world.clinician, "Robin", ben=True)["id"]
    assert add_anc(world.clinician, ben, 2600, at).status_code == 201
    text = _pdf_text(world.clinician.get(f"/api/patients/{ben}/report.pdf"))
    assert "bands: normal >= 1,000, mild >= 500, severe < 500)" in text
    assert "1,000 normal\n500 mild\n" in text
    settings = world.admin.put("/api/clinic/settings", json={"monitoring_profile": "uk-smpc"})
    assert settings.status_code == 200, settings.get_json()
    text = _pdf_text(world.clinician.get(path))
    assert "bands: normal >= 2,000, mild >= 1,500, severe < 1,500)" in text
    assert "2,000 normal\n1,500 mild\n" in text
    assert "1,000" not in text and "500 moderate" not in text


def test_report_without_compression_shows_the_name_in_the_bytes(filled: World) -> None:
    from server.services.exports import report

    patient = db.session.get(Patient, filled.patient_id)
    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    body = report.build_report(
        db.session,
        patient,
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 25),
        now,
        content=CONTENT,
        compress=False,
    )
    assert b"Alex" in body
    assert 1 <= len(re.findall(rb"/Type /Page\b", body)) <= 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-11-20&to=2026-11-01", "to"),
        ("from=2024-01-01&to=2026-11-01", "to"),
        ("from=2026-13-01", "from"),
        ("from=2027-01-01", "from"),
    ],
)
def test_bad_report_ranges_are_422_naming_the_field(world: World, query: str, field: str) -> None:
    response = world.clinician.get(f"/api/patients/{world.patient_id}/report.pdf?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


# --- calendar -----------------------------------------------------------------------------------


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".ics")


def test_calendar_feed_is_valid_ics_with_a_timezone_and_no_values(filled: World) -> None:
    response = filled.patient.post(f"/api/patients/{filled.patient_id}/calendar-feed")
    assert response.status_code == 201, response.get_json()
    url = response.get_json()["url"]
    assert "/api/calendar/" in url
    token = _token(url)
    stored = db.session.query(CalendarFeed).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    feed = filled.anonymous.get(f"/api/calendar/{token}.ics")
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(feed.get_data())
    zones = [c for c in calendar.walk("VTIMEZONE")]
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]
    events = list(calendar.walk("VEVENT"))
    assert events and all(str(e["SUMMARY"]) == "Blood test" for e in events)
    text = feed.get_data(as_text=True)
    for secret in ("Alex", "1200.0", "Clozapine", "clozapine", "ANC", "mild"):
        assert secret not in text


def test_booked_appointments_appear_in_the_feed_at_their_local_time(
    filled: World, clock: FakeClock
) -> None:
    path = f"/api/patients/{filled.patient_id}/appointments"
    booked = filled.clinician.post(
        path, json={"starts_at": "2027-01-12T10:30:00+00:00", "kind": "review", "place": "Room 4"}
    )
    assert booked.status_code == 201, booked.get_json()
    assert (
        filled.patient.post(path, json={"starts_at": "2027-01-12T10:30:00+00:00"}).status_code
        == 403
    )
    past = filled.clinician.post(path, json={"starts_at": "2020-01-12T10:30:00+00:00"})
    assert past.status_code == 422 and "starts_at" in past.get_json()["error"]["fields"]
    listed = filled.patient.get(path).get_json()["items"]
    assert [a["title"] for a in listed] == ["Review with your team"]
    token = _token(
        filled.patient.post(f"/api/patients/{filled.patient_id}/calendar-feed").get_json()["url"]
    )
    calendar = icalendar.Calendar.from_ical(
        filled.anonymous.get(f"/api/calendar/{token}.ics").get_data()
    )
    [event] = [e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == "Review with your team"]
    start = event["DTSTART"].dt
    assert start.tzinfo is not None and str(event["DTSTART"].params["TZID"]) == "Europe/London"
    assert start.astimezone(dt.UTC).isoformat() == "2027-01-12T10:30:00+00:00"
    assert str(event["LOCATION"]) == "Room 4"
    appointment_id = booked.get_json()["id"]
    assert filled.clinician.delete(f"{path}/{appointment_id}").status_code == 204
    assert filled.patient.get(path).get_json()["items"] == []


def test_a_new_feed_revokes_the_old_and_delete_revokes(filled: World) -> None:
    path = f"/api/patients/{filled.patient_id}/calendar-feed"
    old = _token(filled.patient.post(path).get_json()["url"])
    new = _token(filled.clinician.post(path).get_json()["url"])
    assert filled.anonymous.get(f"/api/calendar/{old}.ics").status_code == 404
    assert filled.anonymous.get(f"/api/calendar/{new}.ics").status_code == 200
    assert filled.patient.delete(path).status_code == 204
    assert filled.anonymous.get(f"/api/calendar/{new}.ics").status_code == 404
    assert filled.anonymous.get("/api/calendar/not-a-token.ics").status_code == 404


def test_caregivers_may_not_make_feeds(filled: World) -> None:
    response = filled.caregiver.post(f"/api/patients/{filled.patient_id}/calendar-feed")
    assert response.status_code == 403


# --- account zip and deletion -------------------------------------------------------------------


def test_account_zip_holds_a_json_file_per_table_with_the_audit_trail(filled: World) -> None:
    response = filled.patient.get(f"/api/patients/{filled.patient_id}/export.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = set(archive.namelist())
    for name in (
        "patient.json",
        "dose_plans.json",
        "doses.json",
        "bowel_movements.json",
        "symptom_reports.json",
        "lab_results.json",
        "weights.json",
        "escalations.json",
        "escalation_events.json",
        "audit_events.json",
    ):
        assert name in names
    assert json.loads(archive.read("patient.json"))["display_name"] == "Alex"
    assert len(json.loads(archive.read("bowel_movements.json"))) == 1
    assert json.loads(archive.read("audit_events.json"))
    assert filled.caregiver.get(f"/api/patients/{filled.patient_id}/export.zip").status_code == 403


def test_deletion_removes_diaries_anonymises_and_keeps_the_audit_trail(filled: World) -> None:
    pid = filled.patient_id
    # the admin may not delete before the patient asks
    assert filled.admin.delete(f"/api/patients/{pid}").status_code == 409
    asked = filled.patient.post(f"/api/patients/{pid}/deletion-request", json={"reason": "done"})
    assert asked.status_code == 202, asked.get_json()
    assert filled.clinician.delete(f"/api/patients/{pid}").status_code == 403
    audit_before = db.session.query(AuditEvent).filter_by(patient_id=pid).count()
    response = filled.admin.delete(f"/api/patients/{pid}")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["completed_at"]
    db.session.expire_all()
    assert db.session.query(BowelMovement).filter_by(patient_id=pid).count() == 0
    assert db.session.get(Patient, pid).display_name == f"Deleted patient {pid}"
    login = db.session.query(User).filter_by(patient_id=pid).one()
    assert "alex" not in login.email
    # the audit trail stays, and grows with the deletion itself
    assert db.session.query(AuditEvent).filter_by(patient_id=pid).count() > audit_before
    assert db.session.query(LabResult).filter_by(patient_id=pid, source="clinic").count() == 2
    # the old session is over and the password no longer signs in
    assert filled.patient.get(f"/api/patients/{pid}").status_code == 401
    signin = filled.anonymous.post(
        "/api/session", json={"email": "alex@example.org", "password": "x" * 12}
    )
    assert signin.status_code == 401


def test_only_the_patient_asks_for_deletion(filled: World) -> None:
    for client in (filled.caregiver, filled.clinician):
        response = client.post(f"/api/patients/{filled.patient_id}/deletion-request", json={})
        assert response.status_code == 403


# --- foreign ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", "/report.pdf"),
        ("GET", "/fhir"),
        ("GET", "/exports/doses.csv"),
        ("GET", "/export.zip"),
        ("POST", "/deletion-request"),
        ("POST", "/calendar-feed"),
        ("DELETE", "/calendar-feed"),
        ("DELETE", ""),
    ],
)
def test_foreign_patients_are_404(world: World, method: str, suffix: str) -> None:
    path = f"/api/patients/{world.other_patient_id}{suffix}"
    for client in (world.patient, world.caregiver, world.clinician, world.admin):
        response = client.request(method, path, json={})
        assert response.status_code == 404, (client.user["role"], method, path)


def test_the_calendar_feed_speaks_the_language_it_was_made_in(filled: World) -> None:
    """The feed's URL carries the language of the person who made it (a calendar app asks in
    its own languages, or none): summaries and descriptions in Spanish, dates written by CLDR;
    the same feed made in English is unchanged."""
    booked = filled.clinician.post(
        f"/api/patients/{filled.patient_id}/appointments",
        json={"starts_at": "2027-01-12T10:30:00+00:00", "kind": "review", "place": "Room 4"},
    )
    assert booked.status_code == 201, booked.get_json()
    listed = filled.patient.get(f"/api/patients/{filled.patient_id}/appointments", headers=SPANISH)
    assert [a["title"] for a in listed.get_json()["items"]] == ["Revisión con su equipo médico"]
    path = f"/api/patients/{filled.patient_id}/calendar-feed"
    url = filled.patient.post(path, headers=SPANISH).get_json()["url"]
    assert urlsplit(url).query == "lang=es"
    feed = filled.anonymous.get(f"{urlsplit(url).path}?lang=es")
    assert feed.status_code == 200 and feed.headers["Content-Language"] == "es"
    calendar = icalendar.Calendar.from_ical(feed.get_data())
    assert str(calendar["X-WR-CALNAME"]) == "Análisis de sangre"
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    review = events.pop("Revisión con su equipo médico")
    assert str(review["DESCRIPTION"]) == (
        "Revisión con su equipo médico: martes, 12 de enero de 2027 a las 10:30."
    )
    assert events and set(events) == {"Análisis de sangre"}
    by_day = {
        e["DTSTART"].dt: str(e["DESCRIPTION"])
        for e in calendar.walk("VEVENT")
        if str(e["SUMMARY"]) == "Análisis de sangre"
    }
    assert by_day[dt.date(2026, 11, 26)] == (
        "Tiene un análisis de sangre el jueves, 26 de noviembre de 2026. Sirve para que su "
        "medicamento sea seguro. Abra la aplicación para ver los detalles."
    )
    text = feed.get_data().decode().replace("\r\n ", "")  # unfolded
    for english in ("Blood test", "Review with your team", "Your", " at "):
        assert english not in text, english
    for secret in ("Alex", "1200.0", "ANC", "leve", "clozapina"):
        assert secret not in text, secret

    # a feed made by an English reader: English words, English (CLDR) dates
    url = filled.patient.post(path, headers={"Accept-Language": "en"}).get_json()["url"]
    english = icalendar.Calendar.from_ical(filled.anonymous.get(url).get_data())
    titles = sorted({str(e["SUMMARY"]) for e in english.walk("VEVENT")})
    assert titles == ["Blood test", "Review with your team"]
    review = next(e for e in english.walk("VEVENT") if str(e["SUMMARY"]) != "Blood test")
    assert str(review["DESCRIPTION"]) == (
        "Review with your team: Tuesday, January 12, 2027 at 10:30\u202fAM."
    )
    # the language is the URL's, not the calendar app's
    again = filled.anonymous.get(urlsplit(url).path + "?lang=en", headers=SPANISH)
    assert "Blood test" in again.get_data(as_text=True)
    # a language the product does not have: the calendar app's; its own parameters ignored
    other = filled.anonymous.get(urlsplit(url).path + "?lang=xx&refresh=1", headers=SPANISH)
    assert other.status_code == 200 and other.headers["Content-Language"] == "es"
