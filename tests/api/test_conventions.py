"""The API's conventions: the error shape, bad input, body size, headers, OpenAPI, health."""

from __future__ import annotations

import pytest
from flask import Flask
from marshmallow import ValidationError

from server import policy
from server.api.access import access
from server.models import Patient
from server.schemas.common import In, Instant
from tests.support.clock import FakeClock
from tests.support.world import World

GOOD = {
    "display_name": "Robin",
    "timezone": "America/New_York",
    "clozapine_start_date": "2026-11-01",
}


def patient_count(app: Flask) -> int:
    from server.extensions import db

    return db.session.query(Patient).count()


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_malformed_json_is_400_and_writes_nothing(world: World) -> None:
    before = patient_count(world.app)
    response = world.clinician.post(
        "/api/patients", data='{"display_name": ', content_type="application/json"
    )
    assert_error_shape(response, 400, "bad_request")
    assert patient_count(world.app) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": 42}, "display_name"),  # wrong type
        ({"display_name": ""}, "display_name"),  # out of range
        ({"timezone": "Mars/Olympus"}, "timezone"),  # not an IANA name
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"clozapine_start_date": "2026-13-01"}, "clozapine_start_date"),
        ({"clozapine_start_date": "1900-01-01"}, "clozapine_start_date"),
        ({"benign_ethnic_neutropenia": "perhaps"}, "benign_ethnic_neutropenia"),
        ({"surprise": 1}, "surprise"),  # unknown field
    ],
)
def test_bad_values_are_422_naming_the_field_and_write_nothing(
    world: World, change: dict, field: str
) -> None:
    before = patient_count(world.app)
    error = assert_error_shape(
        world.clinician.post("/api/patients", json={**GOOD, **change}), 422, "validation_failed"
    )
    assert field in error["fields"]
    assert patient_count(world.app) == before


def test_missing_fields_are_named(world: World) -> None:
    error = assert_error_shape(world.clinician.post("/api/patients", json={}), 422)
    assert set(error["fields"]) == {"display_name", "timezone", "clozapine_start_date"}


def test_timestamps_without_an_offset_are_refused() -> None:
    class Stamp(In):
        at = Instant(required=True)

    assert Stamp().load({"at": "2026-11-25T10:00:00+01:00"})["at"].utcoffset() is not None
    assert Stamp().load({"at": "2026-11-25T10:00:00Z"})["at"].utcoffset().total_seconds() == 0
    with pytest.raises(ValidationError) as info:
        Stamp().load({"at": "2026-11-25T10:00:00"})
    assert "at" in info.value.messages


def test_bodies_over_1_mib_are_413(world: World) -> None:
    big = {"display_name": "x" * (1024 * 1024 + 10)}
    response = world.clinician.post("/api/patients", json=big)
    assert_error_shape(response, 413, "payload_too_large")


def test_unknown_paths_and_methods_use_the_error_shape(world: World) -> None:
    assert_error_shape(world.clinician.get("/api/nothing-here"), 404, "not_found")
    assert_error_shape(world.clinician.put("/api/me", json={}), 405, "method_not_allowed")


def test_unexpected_errors_are_500_without_exception_text(app: Flask) -> None:
    @access(policy.public("test.explode"))
    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/explode", "explode", explode)
    response = app.test_client().get("/api/explode")
    error = assert_error_shape(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in error["message"]


def test_security_headers_on_pages_and_api(world: World) -> None:
    for path in ("/healthz", "/api/me", "/api/openapi.json"):
        headers = world.patient.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    assert world.patient.get("/api/me").headers["Cache-Control"] == "no-store"


def test_openapi_describes_every_api_route(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        if rule.endpoint.startswith("api-docs."):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_health_reports_the_database_and_the_scheduler(app: Flask, clock: FakeClock) -> None:
    from reminders.cycle import run_cycle
    from server.extensions import db

    client = app.test_client()
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["checks"]["scheduler"] == "never"
    run_cycle(db.session, clock.now, app.extensions["companion.content"], "test-worker")
    assert client.get("/healthz").get_json()["checks"]["scheduler"] == "ok"
    clock.advance(minutes=3)
    assert client.get("/healthz").get_json()["checks"]["scheduler"] == "ok"
    clock.advance(seconds=1)
    assert client.get("/healthz").get_json()["checks"]["scheduler"] == "unhealthy"
