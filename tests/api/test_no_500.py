"""Bad input never reaches a 500: every route, every role that may call it, odd bodies."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.world import World

BODIES = [None, {}, [], "text", 12, {"unexpected": True}, {"occurred_at": "yesterday"}]
QUERIES = [
    "",
    "?date=not-a-date",
    "?since=2026-13-45",
    "?limit=-1",
    "?status=maybe",
    "?from=x&to=y",
]


def api_routes(world: World, methods: set[str]) -> Iterator[tuple[str, str]]:
    """(method, path) of every API route with these methods, on the world's patient."""
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:patient_id>", str(world.patient_id))
        path = re.sub(r"<kind>", "doses", path)
        path = re.sub(r"<[^>]+>", "1", path)
        for method in sorted((rule.methods or set()) & methods):
            yield method, path


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_no_route_answers_500_to_odd_bodies(world: World, body) -> None:
    checked = 0
    for method, path in api_routes(world, WRITES):
        for client in (world.patient, world.clinician, world.admin):
            response = client.request(method, path, json=body)
            assert response.status_code < 500, (method, path, body, response.get_json())
            checked += 1
    assert checked > 30


@pytest.mark.parametrize("query", QUERIES)
def test_no_route_answers_500_to_odd_queries(world: World, query: str) -> None:
    for rule in world.app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:patient_id>", str(world.patient_id))
        path = re.sub(r"<[^>]+>", "1", path) + query
        for client in (world.patient, world.clinician):
            response = client.get(path)
            assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])
def test_an_id_too_large_for_a_row_is_404_not_500(world: World, number: str) -> None:
    """Every path with an id, the id past PostgreSQL's integer (SQLite's int64 too): an unknown
    path (404; 405 where werkzeug matches another method's rule first), never the database's
    overflow as a 500."""
    checked = 0
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:[^>]+>", number, rule.rule)
        path = re.sub(r"<[^>]+>", "1", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = world.clinician.request(method, path, json={})
            assert response.status_code in (404, 405), (method, path, response.get_json())
            assert response.get_json()["error"]["code"] in ("not_found", "method_not_allowed")
            checked += 1
    assert checked > 20


BIG = "9" * 5000
ODD_BODIES = {
    "nul in text": '{"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4, '
    '"notes": "a\\u0000b", "email": "a\\u0000@example.org", "code": "AB\\u0000CD-EFGH"}',
    "lone surrogate": '{"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4, '
    '"notes": "\\ud800", "display_name": "\\udfff", "password": "\\ud800\\ud800x"}',
    "5,000 digits": '{"bristol_type": ' + BIG + ', "dose_id": ' + BIG + ', "user_id": ' + BIG + "}",
    "id past 2^63": '{"dose_id": 9223372036854775808, "user_id": 9223372036854775808}',
    "deep arrays": "[" * 5000 + "]" * 5000,
    "deep objects": '{"a": ' * 3000 + "1" + "}" * 3000,
    "NaN": '{"value": NaN, "temperature_c": Infinity}',
    "1e999": '{"value": 1e999, "temperature_c": -1e999}',
}


@pytest.mark.parametrize("name", list(ODD_BODIES))
def test_odd_json_answers_4xx_in_the_error_shape_on_every_route(world: World, name: str) -> None:
    """NUL bytes, lone surrogates, 5,000-digit numbers, ids past 2^63 and deep nesting: every
    write route, for every role, answers 4xx with the contract's error shape (or, when it reads
    no body, does what it does without one)."""
    raw = ODD_BODIES[name]
    checked = 0
    for method, path in api_routes(world, WRITES):
        for client in (world.anonymous, world.patient, world.caregiver, world.clinician):
            response = client.request(method, path, data=raw, content_type="application/json")
            # a route that reads no body (sign out, say) may succeed
            assert response.status_code < 500, (method, path, response.get_json())
            if response.status_code >= 400:
                assert set(response.get_json()["error"]) <= {"code", "message", "fields"}
                checked += 1
    assert checked > 100


def test_text_the_database_cannot_store_is_named_by_field(world: World) -> None:
    for raw in ('"a\\u0000b"', '"\\ud800"'):
        response = world.patient.request(
            "POST",
            f"/api/patients/{world.patient_id}/bowel-movements",
            data='{"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4, "notes": '
            + raw
            + "}",
            content_type="application/json",
        )
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"]) == ["notes"]


ODD_QUERIES = [
    "?date=0001-01-01",
    "?date=9999-12-31",
    "?since=0001-01-01T00:00:00%2B14:00",
    "?since=9999-12-31T23:59:59-14:00",
    "?from=0001-01-01&to=9999-12-31",
    "?from=9999-12-31",
    "?to=0001-01-01",
    "?patient_id=9223372036854775808",
    "?patient_id=" + BIG,
    "?before_id=9223372036854775808",
    "?limit=" + BIG,
    "?status=%00",
    "?date=2026-11-25%00",
    "?since=%ED%A0%80",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_and_far_dates_in_reports_answer_4xx_or_2xx(world: World, query: str) -> None:
    for _, path in api_routes(world, {"GET"}):
        for client in (world.patient, world.clinician):
            response = client.get(path + query)
            assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])
            if response.status_code >= 400:
                assert set(response.get_json()["error"]) <= {"code", "message", "fields"}
