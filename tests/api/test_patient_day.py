"""The patient's day (issue 16): the care team's number and hours, the tablet strengths a
patient has and each dose as tablets, which doses can be marked now, and a month at a glance."""

from __future__ import annotations

import datetime as dt

import pytest

from server.extensions import db
from server.models import Clinic, Patient
from tests.support.clock import FakeClock
from tests.support.world import World, start_plan, worker_makes_doses

SETTINGS = "/api/clinic/settings"


def summary(world: World, client=None) -> dict:
    response = (client or world.patient).get(f"/api/patients/{world.patient_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the care team's number and hours --------------------------------------------------------


def test_the_clinic_sets_its_number_and_hours_and_patients_see_them(world: World) -> None:
    assert summary(world)["care_team_contact"] == {"phone": None, "hours": None}
    body = {"patient_contact": {"phone": "+44 20 7946 0000", "hours": "Mon-Fri 9:00-17:00"}}
    answer = world.admin.put(SETTINGS, json=body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["patient_contact"] == body["patient_contact"]
    assert world.clinician.get(SETTINGS).get_json()["patient_contact"] == body["patient_contact"]
    for reader in (world.patient, world.caregiver, world.clinician):
        assert summary(world, reader)["care_team_contact"] == body["patient_contact"]
    # what is sent of it changes; the rest stays
    world.admin.put(SETTINGS, json={"patient_contact": {"hours": "Weekdays 8-6"}})
    assert summary(world)["care_team_contact"] == {
        "phone": "+44 20 7946 0000",
        "hours": "Weekdays 8-6",
    }
    # another clinic's patients do not see it
    other = world.other_patient.get(f"/api/patients/{world.other_patient_id}").get_json()
    assert other["care_team_contact"]["phone"] is None


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"phone": "call us"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+44 (20) 7946 0000 ext"}, "phone"),
        ({"phone": "1" * 41}, "phone"),
        ({"hours": ""}, "hours"),
        ({"hours": "x" * 121}, "hours"),
        ({"fax": "0123"}, "fax"),
    ],
)
def test_a_wrong_number_or_hours_is_refused_and_writes_nothing(
    world: World, contact: dict, field: str
) -> None:
    before = dict(db.session.get(Clinic, 1).settings or {})
    answer = world.admin.put(SETTINGS, json={"patient_contact": contact})
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert any(field in name for name in error["fields"]), error
    db.session.expire_all()
    assert dict(db.session.get(Clinic, 1).settings or {}) == before


def test_only_an_admin_sets_the_number(world: World) -> None:
    body = {"patient_contact": {"phone": "0123 456"}}
    assert world.clinician.put(SETTINGS, json=body).status_code == 403
    assert world.patient.put(SETTINGS, json=body).status_code == 403


# --- tablets ---------------------------------------------------------------------------------


def tablets(world: World, strengths: list, client=None):
    return (client or world.clinician).put(
        f"/api/patients/{world.patient_id}/tablets", json={"strengths_mg": strengths}
    )


def test_the_clinician_sets_the_tablets_and_each_dose_shows_them(
    world: World, clock: FakeClock
) -> None:
    start_plan(world, start="2026-11-25")  # day 1: 12.5 mg at 21:00
    answer = tablets(world, [100, 25, 25])
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"strengths_mg": [25.0, 100.0]}
    assert summary(world)["tablet_strengths_mg"] == [25.0, 100.0]
    dose = world.patient.get(f"/api/patients/{world.patient_id}/doses").get_json()["doses"][-1]
    assert dose["mg"] == 12.5
    assert dose["tablets"] == [{"strength_mg": 25.0, "whole": 0, "half": True}]
    # cleared: doses in mg only
    assert tablets(world, []).status_code == 200
    dose = world.patient.get(f"/api/patients/{world.patient_id}/doses").get_json()["doses"][-1]
    assert dose["tablets"] is None
    # later in the plan, every dose adds up from the tablets (62.5 mg: two and a half 25 mg)
    assert tablets(world, [25]).status_code == 200
    clock.set(dt.datetime(2026, 11, 28, 0, 5, tzinfo=dt.UTC))
    worker_makes_doses(clock.now, since=dt.datetime(2026, 11, 25, 0, 5, tzinfo=dt.UTC))
    seen = {}
    for date in ("2026-11-26", "2026-11-27", "2026-11-28"):
        day = world.caregiver.get(f"/api/patients/{world.patient_id}/doses?date={date}")
        for d in day.get_json()["doses"]:
            made = sum(t["strength_mg"] * (t["whole"] + 0.5 * t["half"]) for t in d["tablets"])
            assert made == d["mg"], d
            seen[d["mg"]] = d["tablets"]
    assert seen[62.5] == [{"strength_mg": 25.0, "whole": 2, "half": True}], seen


@pytest.mark.parametrize("strengths", [[30], [0], [-25], ["a"], [25] * 6, None])
def test_a_strength_clozapine_does_not_come_in_is_refused(world: World, strengths) -> None:
    assert tablets(world, [25]).status_code == 200
    answer = tablets(world, strengths)
    assert answer.status_code == 422, answer.get_json()
    assert all(f.startswith("strengths_mg") for f in answer.get_json()["error"]["fields"])
    db.session.expire_all()
    assert db.session.get(Patient, world.patient_id).tablet_strengths_mg == [25.0]


def test_only_the_care_team_sets_the_tablets(world: World) -> None:
    assert tablets(world, [25], world.patient).status_code == 403
    assert tablets(world, [25], world.caregiver).status_code == 403
    assert tablets(world, [25], world.other_clinician).status_code == 404


# --- which doses can be marked now -----------------------------------------------------------


def test_a_dose_is_offered_only_when_marking_it_would_be_accepted(
    world: World, clock: FakeClock
) -> None:
    start_plan(world, start="2026-11-25", target=300)
    clock.set(dt.datetime(2026, 11, 27, 0, 5, tzinfo=dt.UTC))
    worker_makes_doses(clock.now, since=dt.datetime(2026, 11, 25, 0, 5, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 11, 27, 7, 0, tzinfo=dt.UTC))
    path = f"/api/patients/{world.patient_id}/doses"
    doses = world.patient.get(path).get_json()["doses"]
    morning, evening = doses
    assert morning["local_time"] == "08:00" and evening["local_time"] == "21:00"
    assert morning["can_mark"] is True
    # 14 hours before the evening dose: the server would refuse it
    assert evening["can_mark"] is False
    assert evening["mark_from"] == "2026-11-27T09:00:00+00:00"
    refused = world.patient.post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": evening["id"], "status": "taken", "at": "2026-11-27T07:00:00+00:00"},
    )
    assert refused.status_code == 422
    # from 09:00 it is offered, and accepted
    clock.set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    evening = world.patient.get(path).get_json()["doses"][1]
    assert evening["can_mark"] is True
    accepted = world.patient.post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": evening["id"], "status": "taken", "at": "2026-11-27T09:00:00+00:00"},
    )
    assert accepted.status_code == 201
    assert world.patient.get(path).get_json()["doses"][1]["can_mark"] is False


# --- a month at a glance -------------------------------------------------------------------


def test_the_month_counts_doses_bowel_movements_and_symptoms_by_local_day(
    world: World, clock: FakeClock
) -> None:
    start_plan(world, start="2026-11-25")
    clock.set(dt.datetime(2026, 11, 27, 0, 5, tzinfo=dt.UTC))
    worker_makes_doses(clock.now, since=dt.datetime(2026, 11, 25, 0, 5, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC))
    base = f"/api/patients/{world.patient_id}"
    first = world.patient.get(f"{base}/doses?date=2026-11-26").get_json()["doses"][0]
    assert (
        world.patient.post(
            f"{base}/dose-events",
            json={"dose_id": first["id"], "status": "taken", "at": "2026-11-26T21:00:00+00:00"},
        ).status_code
        == 201
    )
    for at, kind in (("2026-11-26T10:00:00+00:00", 4), ("2026-11-26T23:30:00+00:00", 2)):
        body = {"occurred_at": at, "bristol_type": kind}
        assert world.caregiver.post(f"{base}/bowel-movements", json=body).status_code == 201
    symptom = {"occurred_at": "2026-11-27T08:00:00+00:00", "symptoms": ["sedation"]}
    assert world.patient.post(f"{base}/symptoms", json=symptom).status_code == 201
    month = world.patient.get(f"{base}/month").get_json()
    assert month["month"] == "2026-11" and month["next"] is None
    assert month["previous"] == "2026-10"
    days = {d["date"]: d for d in month["days"]}
    assert len(days) == 27  # up to today
    assert days["2026-11-26"]["doses"]["taken"] == 1
    assert days["2026-11-26"]["bowel_movements"] == 2
    assert days["2026-11-26"]["bristol_types"] == [4, 2]
    assert days["2026-11-27"]["symptoms"] == ["sedation"]
    assert days["2026-11-25"]["doses"]["missed"] == 1  # 21:00 on the first day, never marked
    earlier = world.caregiver.get(f"{base}/month?month=2026-10").get_json()
    assert earlier["next"] == "2026-11"
    assert all(d["bowel_movements"] == 0 for d in earlier["days"])


@pytest.mark.parametrize("month", ["2026-13", "26-11", "2026-1", "november"])
def test_a_wrong_month_is_refused(world: World, month: str) -> None:
    answer = world.patient.get(f"/api/patients/{world.patient_id}/month?month={month}")
    assert answer.status_code == 422
    assert "month" in answer.get_json()["error"]["fields"]
