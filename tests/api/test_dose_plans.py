"""Dose plans through the API: the standard plan, custom steps, refusals, versions."""

from __future__ import annotations

import datetime as dt

import pytest

from server.extensions import db
from server.models import Dose, DosePlan
from tests.support.clock import FakeClock
from tests.support.world import ApiClient, World, add_anc, enrol_patient, start_plan

TODAY = "2026-11-25"


def put_plan(world: World, body: dict, client=None):
    client = client or world.clinician
    return client.put(f"/api/patients/{world.patient_id}/dose-plan", json=body)


def custom(steps, times=("08:00", "21:00")) -> dict:
    return {"start_date": TODAY, "times": list(times), "steps": steps}


@pytest.fixture
def baseline(world: World) -> World:
    assert (
        add_anc(world.clinician, world.patient_id, 2000, "2026-11-24T09:00:00Z").status_code == 201
    )
    return world


def test_the_standard_plan_starts_low_and_puts_more_at_bedtime(baseline: World) -> None:
    response = put_plan(
        baseline,
        {
            "start_date": TODAY,
            "times": ["21:00", "08:00"],
            "titration": "standard",
            "target_mg_per_day": 300,
        },
    )
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["version"] == 1 and plan["times"] == ["08:00", "21:00"]
    first = plan["days"][0]
    assert first["date"] == TODAY and first["total_mg"] == 12.5
    assert plan["days"][-1]["total_mg"] == 300
    assert all(day["doses"][1]["mg"] >= day["doses"][0]["mg"] for day in plan["days"])
    assert all(day["total_mg"] <= 900 for day in plan["days"])


def test_a_plan_needs_a_baseline_anc_first(world: World) -> None:
    body = {
        "start_date": TODAY,
        "times": ["08:00", "21:00"],
        "titration": "standard",
        "target_mg_per_day": 300,
    }
    refused = put_plan(world, body)
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == ["baseline_anc"]
    # RULES.md 2: baseline >= 1500 in the general population; 1499 is not enough
    add_anc(world.clinician, world.patient_id, 1499, "2026-11-24T09:00:00Z")
    assert put_plan(world, body).status_code == 422
    add_anc(world.clinician, world.patient_id, 1500, "2026-11-24T10:00:00Z")
    assert put_plan(world, body).status_code == 200


def test_a_baseline_taken_this_evening_counts_for_a_plan_starting_today(
    world: World, clock: FakeClock
) -> None:
    """The start date is the patient's: 20:00 on the 25th in Pago Pago (UTC-11) is already the
    26th in UTC, and still counts for a plan starting on the 25th there."""
    patient = enrol_patient(world.clinician, "Sina", timezone="Pacific/Pago_Pago")
    clock.set(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC))  # 21:00 on the 25th there
    clinician = ApiClient(world.app, "dr.north@example.org")  # signed in again, later
    taken = add_anc(clinician, patient["id"], 2000, "2026-11-25T20:00:00-11:00")
    assert taken.status_code == 201, taken.get_json()
    body = {
        "start_date": TODAY,
        "times": ["08:00", "21:00"],
        "titration": "standard",
        "target_mg_per_day": 300,
    }
    response = clinician.put(f"/api/patients/{patient['id']}/dose-plan", json=body)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        # RULES.md 1: never above 900 mg/day (912.5 refused)
        (
            [{"day": 1, "doses_mg": [0, 12.5]}, {"day": 2, "doses_mg": [450, 462.5]}],
            "steps[1].doses_mg",
        ),
        # a first day above 25 mg
        ([{"day": 1, "doses_mg": [12.5, 25]}], "steps[0].doses_mg"),
        # doses that do not match the times
        ([{"day": 1, "doses_mg": [12.5]}], "steps[0].doses_mg"),
        # not a multiple of 12.5 mg
        ([{"day": 1, "doses_mg": [0, 10]}], "steps[0].doses_mg"),
    ],
)
def test_unsafe_plans_are_refused_naming_the_step_and_write_nothing(
    baseline: World, steps: list, field: str
) -> None:
    response = put_plan(baseline, custom(steps))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(DosePlan).count() == 0


def test_900_mg_is_allowed_and_a_fast_rise_is_a_warning_not_a_refusal(baseline: World) -> None:
    steps = [
        {"day": 1, "doses_mg": [0, 12.5]},
        {"day": 2, "doses_mg": [25, 50]},  # +62.5 mg in a day: above the 50 mg/day pace
        {"day": 60, "doses_mg": [450, 450]},
    ]
    response = put_plan(baseline, custom(steps))
    assert response.status_code == 200, response.get_json()
    warnings = response.get_json()["warnings"]
    assert any(w["field"] == "steps[1].doses_mg" for w in warnings)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_mg_per_day": 912.5}, "target_mg_per_day"),
        ({"times": ["8am"]}, "times"),
        ({"times": []}, "times"),
        ({"start_date": "2026-11-24"}, "start_date"),
        ({"titration": "fast"}, "titration"),
    ],
)
def test_bad_plan_requests_are_422(baseline: World, change: dict, field: str) -> None:
    body = {
        "start_date": TODAY,
        "times": ["08:00", "21:00"],
        "titration": "standard",
        "target_mg_per_day": 300,
        **change,
    }
    response = put_plan(baseline, body)
    assert response.status_code == 422
    assert any(name.startswith(field) for name in response.get_json()["error"]["fields"])


def test_only_the_clinician_sets_the_plan(baseline: World) -> None:
    body = {
        "start_date": TODAY,
        "times": ["08:00"],
        "titration": "standard",
        "target_mg_per_day": 300,
    }
    assert put_plan(baseline, body, baseline.patient).status_code == 403
    assert put_plan(baseline, body, baseline.caregiver).status_code == 403
    response = baseline.other_clinician.put(
        f"/api/patients/{baseline.patient_id}/dose-plan", json=body
    )
    assert response.status_code == 404


def test_a_new_plan_is_a_new_version_and_keeps_what_was_recorded(
    world: World, clock: FakeClock
) -> None:
    start_plan(world, start=TODAY)
    doses = world.patient.get(f"/api/patients/{world.patient_id}/doses").get_json()["doses"]
    evening = doses[-1]
    clock.set(clock.now.replace(hour=21, minute=5))
    taken = world.patient.post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": evening["id"], "status": "taken", "at": "2026-11-25T21:00:00Z"},
    )
    assert taken.status_code == 201
    clinician = ApiClient(world.app, "dr.north@example.org")  # hours later: a new sign-in
    second = clinician.put(
        f"/api/patients/{world.patient_id}/dose-plan",
        json={
            "start_date": "2026-11-26",
            "times": ["09:00", "22:00"],
            "titration": "standard",
            "target_mg_per_day": 400,
        },
    )
    assert second.status_code == 200 and second.get_json()["version"] == 2
    assert db.session.query(DosePlan).count() == 2
    kept = db.session.get(Dose, evening["id"])
    assert kept.status == "taken"
    tomorrow = world.patient.get(
        f"/api/patients/{world.patient_id}/doses?date=2026-11-26"
    ).get_json()["doses"]
    # the new plan's day 1: 12.5 mg at bedtime only (the morning slot is empty)
    assert [(d["local_time"], d["mg"]) for d in tomorrow] == [("22:00", 12.5)]
