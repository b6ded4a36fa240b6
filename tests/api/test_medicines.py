"""Other medicines and supply through the API (issue 16, item 4): who lists them, what a bad
request gets (and that it writes nothing), doses marked and counted off the stock, and "I have
run out" of clozapine telling the care team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from server.extensions import db
from server.models import Escalation, Medicine, MedicineEvent
from tests.support.clock import FakeClock
from tests.support.world import ApiClient, World, start_plan, worker_makes_doses

LAXATIVE = {
    "kind": "laxative",
    "name": "Senna",
    "times": ["22:00", "08:00"],
    "dose_text": "2 tablets",
    "units_per_dose": 2,
    "stock": 20,
}


def path(world: World, tail: str = "medicines") -> str:
    return f"/api/patients/{world.patient_id}/{tail}"


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_care_team_lists_a_laxative_with_its_times_and_stock(world: World) -> None:
    made = world.clinician.post(path(world), json=LAXATIVE)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["times"] == ["08:00", "22:00"] and body["stock"] == 20
    # now 12:00 UTC on 25 Nov (London): 22:00 today, then 2 a day; 20 tablets are 10 doses
    assert body["runs_out_on"] == "2026-11-30"
    assert body["refill_due"] is True  # within a week already
    assert body["supply_note"]["code"] == "refill"
    other = world.patient.post(
        path(world), json={"kind": "other", "name": "Vitamin D", "times": ["09:00"]}
    )
    assert other.status_code == 201
    assert other.get_json()["runs_out_on"] is None  # no stock given: no forecast
    listing = world.caregiver.get(path(world)).get_json()
    assert [m["name"] for m in listing["items"]] == ["Senna", "Vitamin D"]  # laxatives first
    # today's doses from the moment it was listed (12:00): the 22:00 one
    [tonight] = listing["items"][0]["today"]
    assert (tonight["local_time"], tonight["status"]) == ("22:00", "pending")
    assert listing["items"][0]["supply_note"]["text"].startswith("This medicine will run out")


def test_who_may_list_and_mark(world: World) -> None:
    assert world.admin.post(path(world), json=LAXATIVE).status_code == 403
    assert world.other_clinician.post(path(world), json=LAXATIVE).status_code == 404
    assert world.anonymous.get(path(world)).status_code == 401
    made = world.caregiver.post(path(world), json=LAXATIVE)
    assert made.status_code == 201
    event = {
        "medicine_id": made.get_json()["id"],
        "scheduled_at": "2026-11-25T08:00:00+00:00",
        "status": "taken",
        "at": "2026-11-25T08:05:00+00:00",
    }
    assert world.clinician.post(path(world, "medicine-events"), json=event).status_code == 403
    assert count(MedicineEvent) == 0


def test_bad_requests_are_refused_and_write_nothing(world: World) -> None:
    bad = [
        ({**LAXATIVE, "times": []}, 422, "times"),
        ({**LAXATIVE, "times": ["08:00", "08:00"]}, 422, "times"),
        ({**LAXATIVE, "times": ["8am"]}, 422, "times[0]"),
        ({k: v for k, v in LAXATIVE.items() if k != "times"}, 422, "times"),
        ({**LAXATIVE, "stock": -1}, 422, "stock"),
        ({**LAXATIVE, "kind": "vitamin"}, 422, "kind"),
        ({**LAXATIVE, "strength_mg": 25}, 422, "strength_mg"),
        ({"kind": "clozapine", "name": "Clozapine", "times": ["08:00"]}, 422, "times"),
        ({"kind": "clozapine", "name": "Clozapine", "stock": 50}, 422, "strength_mg"),
        ({"kind": "clozapine", "name": "Clozapine", "stock": 50, "strength_mg": 30}, 422, None),
        ({**LAXATIVE, "colour": "red"}, 422, "colour"),
        ({**LAXATIVE, "name": "   "}, 422, "name"),
    ]
    for body, status, field in bad:
        answer = world.clinician.post(path(world), json=body)
        assert answer.status_code == status, (body, answer.get_json())
        error = answer.get_json()["error"]
        assert error["code"] and error["message"]
        if field:
            assert field in error["fields"], (body, error)
    assert count(Medicine) == 0


def test_one_clozapine_stock_per_patient(world: World) -> None:
    clozapine = {"kind": "clozapine", "name": "Clozapine", "strength_mg": 25, "stock": 60}
    assert world.clinician.post(path(world), json=clozapine).status_code == 201
    again = world.patient.post(path(world), json=clozapine)
    assert again.status_code == 409
    assert count(Medicine) == 1


def test_a_dose_taken_comes_off_the_stock_once(world: World, clock: FakeClock) -> None:
    made = world.clinician.post(path(world), json=LAXATIVE).get_json()
    event = {
        "medicine_id": made["id"],
        "scheduled_at": "2026-11-25T22:00:00+00:00",
        "status": "taken",
        "at": "2026-11-25T11:55:00+00:00",
    }
    key = {"Idempotency-Key": "senna-1"}
    first = world.patient.post(path(world, "medicine-events"), json=event, headers=key)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["stock"] == 18
    replay = world.patient.post(path(world, "medicine-events"), json=event, headers=key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    twice = world.patient.post(path(world, "medicine-events"), json=event)
    assert twice.status_code == 409
    # taken early: the forecast leaves the dose out (18 tablets, 9 doses from tomorrow 08:00)
    listing = world.patient.get(path(world)).get_json()["items"][0]
    assert listing["stock"] == 18 and listing["runs_out_on"] == "2026-11-30"
    assert listing["today"][0]["status"] == "taken"
    # tomorrow morning's dose marked 11 hours early, tonight: off the stock once, not twice
    clock.set(dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC))
    early_evening = {
        **event,
        "scheduled_at": "2026-11-26T08:00:00+00:00",
        "at": "2026-11-25T21:00:00+00:00",
    }
    answer = world.patient.post(path(world, "medicine-events"), json=early_evening)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["stock"] == 16
    # a count of 2 now covers tomorrow evening's dose (the morning's is marked): out on the 27th
    recount = world.patient.request(
        "PATCH", f"{path(world)}/{made['id']}", json={"stock": 2}
    ).get_json()
    assert recount["runs_out_on"] == "2026-11-27"
    clock.set(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
    # a time the medicine has no dose at, and a time too far from the dose
    wrong = {**event, "scheduled_at": "2026-11-25T21:00:00+00:00"}
    assert world.patient.post(path(world, "medicine-events"), json=wrong).status_code == 422
    early = {**event, "scheduled_at": "2026-11-27T08:00:00+00:00"}
    answer = world.patient.post(path(world, "medicine-events"), json=early)
    assert answer.status_code == 422 and "at" in answer.get_json()["error"]["fields"]
    assert count(MedicineEvent) == 2


def test_a_new_count_and_stopping(world: World, clock: FakeClock) -> None:
    made = world.clinician.post(path(world), json=LAXATIVE).get_json()
    medicine = f"{path(world)}/{made['id']}"
    recount = world.patient.request("PATCH", medicine, json={"stock": 60})
    assert recount.status_code == 200, recount.get_json()
    assert recount.get_json()["runs_out_on"] == "2026-12-10"  # 4 a day: 15 days
    assert recount.get_json()["refill_due"] is False
    times = world.clinician.request("PATCH", medicine, json={"times": ["08:00"]})
    assert times.get_json()["runs_out_on"] == "2026-12-26"  # 2 a day from tomorrow: 30 days
    assert world.clinician.request("PATCH", medicine, json={"kind": "other"}).status_code == 422
    stop = world.clinician.request("PATCH", medicine, json={"stopped": True})
    assert stop.status_code == 200
    assert world.patient.get(path(world)).get_json()["items"] == []
    assert world.clinician.request("PATCH", medicine, json={"stock": 5}).status_code == 404


def _first_dose(world: World) -> dict[str, Any]:
    doses = world.patient.get(path(world, "doses") + "?date=2026-11-26").get_json()["doses"]
    return doses[0]


def test_clozapine_doses_taken_count_down_its_stock(world: World, clock: FakeClock) -> None:
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    worker_makes_doses(dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC))
    made = world.clinician.post(
        path(world), json={"kind": "clozapine", "name": "Clozapine", "strength_mg": 25, "stock": 30}
    )
    assert made.status_code == 201
    before = made.get_json()["runs_out_on"]
    assert before is not None
    dose = _first_dose(world)
    clock.set(dt.datetime.fromisoformat(dose["scheduled_at"]) + dt.timedelta(minutes=5))
    taken = world.patient.post(
        path(world, "dose-events"),
        json={"dose_id": dose["id"], "status": "taken", "at": clock.now.isoformat()},
    )
    assert taken.status_code == 201
    [clozapine] = world.patient.get(path(world)).get_json()["items"]
    assert clozapine["stock"] == 30 - dose["mg"] / 25
    assert clozapine["runs_out_on"] == before  # taken as planned: the same day
    assert clozapine["today"] == []  # its doses are the plan's, shown with the doses


def test_i_have_run_out_opens_one_routine_escalation(world: World, clock: FakeClock) -> None:
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    worker_makes_doses(dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC))
    doses = world.patient.get(path(world, "doses") + "?date=2026-11-26").get_json()["doses"]
    clock.set(dt.datetime(2026, 11, 26, 22, 0, tzinfo=dt.UTC))
    unwell = world.patient.post(
        path(world, "dose-events"),
        json={
            "dose_id": doses[0]["id"],
            "status": "skipped",
            "at": clock.now.isoformat(),
            "reason_code": "unwell",
        },
    )
    assert unwell.status_code == 201
    assert count(Escalation) == 0
    bad = world.patient.post(
        path(world, "dose-events"),
        json={
            "dose_id": doses[-1]["id"],
            "status": "skipped",
            "at": clock.now.isoformat(),
            "reason_code": "lost",
        },
    )
    assert bad.status_code == 422 and count(Escalation) == 0
    tomorrow = world.patient.get(path(world, "doses") + "?date=2026-11-27").get_json()["doses"]
    assert len(tomorrow) == 2
    clock.set(dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC))
    for dose in tomorrow:
        ran_out = world.caregiver.post(
            path(world, "dose-events"),
            json={
                "dose_id": dose["id"],
                "status": "skipped",
                "at": clock.now.isoformat(),
                "reason": "I have run out",
                "reason_code": "ran_out",
            },
        )
        assert ran_out.status_code == 201, ran_out.get_json()
        assert ran_out.get_json()["reason_code"] == "ran_out"
    nurse = ApiClient(world.app, "dr.north@example.org")  # a day later: a new sign-in
    listed = nurse.get("/api/escalations?status=open").get_json()["escalations"]
    [escalation] = [e for e in listed if e["patient_id"] == world.patient_id]
    assert (escalation["rule"], escalation["severity"]) == ("out_of_clozapine", "routine")
    assert escalation["summary"] == "Run out of clozapine: reported by the caregiver"
    assert len(escalation["evidence"]) == 2  # the second report adds to the open one


def test_the_openapi_describes_medicines(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert "/api/patients/{patient_id}/medicines" in spec["paths"]
    assert "/api/patients/{patient_id}/medicine-events" in spec["paths"]
    assert "patch" in spec["paths"]["/api/patients/{patient_id}/medicines/{medicine_id}"]


def test_medicines_are_in_the_account_zip_and_go_with_the_account(world: World) -> None:
    import io
    import json
    import zipfile

    made = world.patient.post(path(world), json=LAXATIVE).get_json()
    marked = world.patient.post(
        path(world, "medicine-events"),
        json={
            "medicine_id": made["id"],
            "scheduled_at": "2026-11-25T22:00:00+00:00",
            "status": "taken",
            "at": "2026-11-25T12:00:00+00:00",
        },
    )
    assert marked.status_code == 201
    archive = zipfile.ZipFile(io.BytesIO(world.patient.get(path(world, "export.zip")).get_data()))
    assert [m["name"] for m in json.loads(archive.read("medicines.json"))] == ["Senna"]
    assert len(json.loads(archive.read("medicine_events.json"))) == 1
    assert world.patient.post(path(world, "deletion-request"), json={}).status_code == 202
    assert world.admin.delete(f"/api/patients/{world.patient_id}").status_code == 200
    assert count(Medicine) == 0 and count(MedicineEvent) == 0
