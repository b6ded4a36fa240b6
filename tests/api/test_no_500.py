"""Bad input never reaches a 500: every route, every role that may call it, odd bodies."""

from __future__ import annotations

import re

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


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_no_route_answers_500_to_odd_bodies(world: World, body) -> None:
    checked = 0
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:patient_id>", str(world.patient_id))
        path = re.sub(r"<[^>]+>", "1", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"}):
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
