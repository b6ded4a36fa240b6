"""Authorization: every route has an explicit decision for every role, and the decisions hold.

The route list comes from the app itself, so a new route without a rule fails here.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from server import policy
from server.policy import Actor, Decision, PatientRef
from tests.support.world import World

ROLES = ["anonymous", "patient", "caregiver", "clinician", "admin"]
OWN = PatientRef(1, clinic_id=10)
FOREIGN = PatientRef(2, clinic_id=20)


def actor_for(role: str) -> Actor | None:
    if role == "anonymous":
        return None
    return Actor(
        user_id=99,
        role=role,
        clinic_id=10 if role in ("clinician", "admin") else None,
        patient_id=1 if role == "patient" else None,
        caregiver_of=frozenset({1}) if role == "caregiver" else frozenset(),
    )


def routes(app: Flask):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, app.view_functions[rule.endpoint]


def test_every_route_declares_its_access_rule(app: Flask) -> None:
    missing = [
        f"{method} {rule.rule}"
        for rule, method, view in routes(app)
        if not isinstance(getattr(view, "__access__", None), policy.Access)
    ]
    assert missing == []


def test_every_route_has_an_explicit_decision_for_every_role(app: Flask) -> None:
    table = {}
    for rule, method, view in routes(app):
        access = view.__access__
        for role in ROLES:
            for target in (OWN, FOREIGN, None):
                decision = policy.decide(access, actor_for(role), target)
                assert isinstance(decision, Decision)
                table[(method, rule.rule, role, target)] = decision
    # patient-scoped routes never reveal a foreign patient, whatever the role
    for (method, path, role, target), decision in table.items():
        if "<int:patient_id>" in path and target == FOREIGN and role != "anonymous":
            assert decision is Decision.NOT_FOUND, (method, path, role)
        if "<int:patient_id>" in path and role == "anonymous":
            assert decision is Decision.UNAUTHENTICATED, (method, path)


def test_a_route_without_a_rule_is_refused(app: Flask) -> None:
    app.add_url_rule("/api/forgotten", "forgotten", lambda: {"leak": True})
    response = app.test_client().get("/api/forgotten")
    assert response.status_code == 404
    assert "leak" not in response.get_data(as_text=True)


def _concrete(path: str, patient_id: int) -> str:
    path = path.replace("<int:patient_id>", str(patient_id))
    return re.sub(r"<[^>]+>", "1", path)


def test_foreign_patients_answer_404_on_every_patient_route(world: World) -> None:
    """A user reaching for another clinic's patient learns nothing, on every route and method."""
    checked = 0
    for rule, method, _view in routes(world.app):
        if "<int:patient_id>" not in rule.rule:
            continue
        path = _concrete(rule.rule, world.other_patient_id)
        for client in (world.patient, world.caregiver, world.clinician, world.admin):
            response = client.request(method, path, json={})
            assert response.status_code == 404, (method, path, client.user["role"])
            assert response.get_json()["error"]["code"] == "not_found"
            checked += 1
    assert checked >= 4


def test_a_patient_that_does_not_exist_answers_404_and_keeps_the_user_signed_in(
    world: World,
) -> None:
    """A path naming no patient at all is not found, like a foreign one; the session that
    asked is still good (the next request on its own patient is served)."""
    missing = world.other_patient_id + 1000
    for client, own in ((world.clinician, world.patient_id), (world.patient, world.patient_id)):
        for method in ("GET", "POST"):
            response = client.request(method, f"/api/patients/{missing}/bowel-movements", json={})
            assert response.status_code == 404, (method, client.user["role"])
            assert response.get_json()["error"]["code"] == "not_found"
        assert client.get(f"/api/patients/{own}/bowel-movements").status_code == 200


def test_anonymous_callers_get_401_on_every_non_public_route(world: World) -> None:
    for rule, method, view in routes(world.app):
        if view.__access__.scope == "public":
            continue
        response = world.anonymous.request(method, _concrete(rule.rule, world.patient_id), json={})
        assert response.status_code == 401, (method, rule.rule)
        assert response.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("who", "expected"),
    [("patient", 1), ("caregiver", 1), ("clinician", 1), ("admin", 1), ("other_clinician", 1)],
)
def test_patient_lists_hold_only_what_each_role_may_see(
    world: World, who: str, expected: int
) -> None:
    client = getattr(world, who)
    items = client.get("/api/patients").get_json()["items"]
    assert len(items) == expected
    mine = {world.patient_id}
    if who == "other_clinician":
        assert {p["id"] for p in items} == {world.other_patient_id}
    else:
        assert {p["id"] for p in items} == mine


def test_roles_that_see_a_patient_but_may_not_act_get_403(world: World) -> None:
    # the caregiver sees Alex but may not read the audit trail
    response = world.caregiver.get(f"/api/patients/{world.patient_id}/audit")
    assert response.status_code == 403
    response = world.patient.post(
        "/api/patients",
        json={
            "display_name": "X",
            "timezone": "Europe/London",
            "clozapine_start_date": "2026-11-01",
        },
    )
    assert response.status_code == 403
