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
