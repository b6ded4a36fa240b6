"""The doses of a day, dose events, idempotency, and dose times across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.extensions import db
from server.models import DoseEvent
from tests.support.clock import FakeClock
from tests.support.world import (
    ApiClient,
    World,
    activate,
    add_anc,
    enrol_patient,
    worker_makes_doses,
)


def today_doses(client: ApiClient, patient_id: int, date: str | None = None) -> list[dict]:
    path = f"/api/patients/{patient_id}/doses" + (f"?date={date}" if date else "")
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["doses"]


@pytest.fixture
def on_plan(world: World) -> World:
    from tests.support.world import start_plan

    # target 300 mg: by day 14 (Dec 8) both slots are in use
    start_plan(world, start="2026-11-25")
    return world


def test_the_days_doses_follow_the_plan_in_the_patients_zone(
    on_plan: World, clock: FakeClock
) -> None:
    # the worker makes each day's doses a day ahead; reading makes none
    assert today_doses(on_plan.patient, on_plan.patient_id, "2026-12-10") == []
    clock.set(dt.datetime(2026, 12, 9, 0, 5, tzinfo=dt.UTC))
    worker_makes_doses(clock.now)
    doses = today_doses(on_plan.patient, on_plan.patient_id, "2026-12-10")
    assert [d["local_time"] for d in doses] == ["08:00", "21:00"]
    # London is on GMT in December: 08:00 local is 08:00Z
    assert doses[0]["scheduled_at"] == "2026-12-10T08:00:00+00:00"
    assert all(d["status"] == "pending" for d in doses)
    assert sum(d["mg"] for d in doses) > 12.5


def test_taken_is_recorded_once_and_the_same_key_replays(on_plan: World, clock: FakeClock) -> None:
    dose = today_doses(on_plan.patient, on_plan.patient_id)[-1]  # 21:00 today, 12.5 mg
    clock.set(dt.datetime(2026, 11, 25, 21, 10, tzinfo=dt.UTC))
    path = f"/api/patients/{on_plan.patient_id}/dose-events"
    body = {"dose_id": dose["id"], "status": "taken", "at": "2026-11-25T21:05:00+00:00"}
    first = on_plan.patient.post(path, json=body, headers={"Idempotency-Key": "phone-1"})
    again = on_plan.patient.post(path, json=body, headers={"Idempotency-Key": "phone-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db.session.query(DoseEvent).count() == 1
    assert today_doses(on_plan.patient, on_plan.patient_id)[-1]["status"] == "taken"
    # a second tap (from the caregiver's phone) is a conflict, not a second event
    other = on_plan.caregiver.post(path, json=body, headers={"Idempotency-Key": "phone-2"})
    assert other.status_code == 409
    assert db.session.query(DoseEvent).count() == 1


def test_a_reused_key_with_another_body_is_a_conflict(on_plan: World, clock: FakeClock) -> None:
    dose = today_doses(on_plan.patient, on_plan.patient_id)[-1]
    clock.set(dt.datetime(2026, 11, 25, 21, 10, tzinfo=dt.UTC))
    path = f"/api/patients/{on_plan.patient_id}/dose-events"
    body = {"dose_id": dose["id"], "status": "taken", "at": "2026-11-25T21:05:00+00:00"}
    assert (
        on_plan.patient.post(path, json=body, headers={"Idempotency-Key": "k"}).status_code == 201
    )
    body["at"] = "2026-11-25T21:06:00+00:00"
    assert (
        on_plan.patient.post(path, json=body, headers={"Idempotency-Key": "k"}).status_code == 409
    )


def test_a_pending_dose_becomes_missed_six_hours_after_its_time(
    on_plan: World, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 11, 26, 2, 59, tzinfo=dt.UTC))
    assert today_doses(on_plan.patient, on_plan.patient_id, "2026-11-25")[-1]["status"] == "pending"
    clock.set(dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC))
    assert today_doses(on_plan.patient, on_plan.patient_id, "2026-11-25")[-1]["status"] == "missed"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"at": "2026-11-25T23:00:00+00:00"}, 422, "at"),  # in the future
        ({"at": "2026-11-25T21:05:00"}, 422, "at"),  # no offset
        ({"status": "lost"}, 422, "status"),
        ({"dose_id": "x"}, 422, "dose_id"),
        ({"dose_id": 999999}, 404, "dose_id"),
        ({"extra": True}, 422, "extra"),
    ],
)
def test_bad_dose_events_are_refused_and_write_nothing(
    on_plan: World, clock: FakeClock, change: dict, status: int, field: str
) -> None:
    dose = today_doses(on_plan.patient, on_plan.patient_id)[-1]
    clock.set(dt.datetime(2026, 11, 25, 21, 10, tzinfo=dt.UTC))
    body = {"dose_id": dose["id"], "status": "taken", "at": "2026-11-25T21:05:00+00:00", **change}
    response = on_plan.patient.post(f"/api/patients/{on_plan.patient_id}/dose-events", json=body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(DoseEvent).count() == 0


def test_someone_elses_dose_is_not_found(on_plan: World, clock: FakeClock) -> None:
    dose = today_doses(on_plan.patient, on_plan.patient_id)[-1]
    body = {"dose_id": dose["id"], "status": "taken", "at": "2026-11-25T11:00:00+00:00"}
    response = on_plan.other_patient.post(
        f"/api/patients/{on_plan.other_patient_id}/dose-events", json=body
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("zone", "day", "time", "expected_utc"),
    [
        # spring forward: 02:30 does not exist; it moves forward by the gap (03:30 EDT)
        ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30:00+00:00"),
        # fall back: 01:30 happens twice; the first (EDT) is used
        ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00+00:00"),
        ("Europe/London", "2026-03-29", "01:30", "2026-03-29T01:30:00+00:00"),
        ("Europe/London", "2026-10-25", "01:30", "2026-10-25T00:30:00+00:00"),
        # an ordinary day either side keeps the wall-clock time
        ("America/New_York", "2026-03-09", "02:30", "2026-03-09T06:30:00+00:00"),
        ("Europe/London", "2026-10-26", "01:30", "2026-10-26T01:30:00+00:00"),
    ],
)
def test_dose_times_on_dst_days(
    world: World, clock: FakeClock, zone: str, day: str, time: str, expected_utc: str
) -> None:
    start = dt.date.fromisoformat(day) - dt.timedelta(days=1)
    # noon of the day before, in the patient's zone: the plan makes today's and tomorrow's doses
    clock.set(dt.datetime.combine(start, dt.time(12, 0), ZoneInfo(zone)).astimezone(dt.UTC))
    clinician = ApiClient(world.app, "dr.north@example.org")
    created = enrol_patient(clinician, "Dee", timezone=zone, start=start)
    assert (
        activate(world.app, created["activation_code"], f"dee-{day}@example.org").status_code == 201
    )
    patient_id = created["id"]
    assert add_anc(clinician, patient_id, 2000, clock.now.isoformat()).status_code == 201
    plan = clinician.put(
        f"/api/patients/{patient_id}/dose-plan",
        json={
            "start_date": start.isoformat(),
            "times": [time],
            "steps": [{"day": 1, "doses_mg": [12.5]}, {"day": 2, "doses_mg": [25]}],
        },
    )
    assert plan.status_code == 200, plan.get_json()
    doses = today_doses(clinician, patient_id, day)
    assert [d["scheduled_at"] for d in doses] == [expected_utc]


def test_the_summary_counts_doses_taken_in_the_last_7_days(
    on_plan: World, clock: FakeClock
) -> None:
    dose = today_doses(on_plan.patient, on_plan.patient_id)[-1]
    clock.set(dt.datetime(2026, 11, 25, 21, 10, tzinfo=dt.UTC))
    on_plan.patient.post(
        f"/api/patients/{on_plan.patient_id}/dose-events",
        json={"dose_id": dose["id"], "status": "taken", "at": "2026-11-25T21:05:00+00:00"},
    )
    summary = on_plan.patient.get(f"/api/patients/{on_plan.patient_id}").get_json()
    assert summary["status"]["adherence_7d"] == {"taken": 1, "due": 1}


@pytest.mark.parametrize("date", ["2026-11-01", "2026-11-24", "2099-01-01", "9999-12-31"])
def test_a_date_outside_the_plan_answers_no_doses_and_writes_nothing(
    on_plan: World, date: str
) -> None:
    """Issue 17, finding 3: reading a day's doses made them (one was stored for 9999-12-31)."""
    from server.models import Dose, PatientState

    before = db.session.query(Dose).count()
    state = db.session.get(PatientState, on_plan.patient_id)
    watched = (state.doses_made_until, state.doses_make_at) if state is not None else None
    for reader in (on_plan.patient, on_plan.caregiver, on_plan.clinician):
        assert today_doses(reader, on_plan.patient_id, date) == []
    db.session.expire_all()
    assert db.session.query(Dose).count() == before
    assert (
        db.session.query(Dose).filter(Dose.local_date == dt.date.fromisoformat(date)).count() == 0
    )
    state = db.session.get(PatientState, on_plan.patient_id)
    assert ((state.doses_made_until, state.doses_make_at) if state is not None else None) == watched


def test_reading_a_day_writes_nothing_but_its_audit_event(on_plan: World) -> None:
    """GET .../doses reads only: no row is made or changed (the worker makes doses, not the
    read), and its one commit is the request's audit event, in its own transaction."""
    import re

    from sqlalchemy import event

    writes: list[str] = []
    commits: list[int] = []
    write = re.compile(r"\b(INSERT INTO|DELETE FROM|UPDATE \S+ SET)\b", re.IGNORECASE)

    def statement(conn: object, cursor: object, sql: str, *args: object) -> None:
        if write.search(sql):
            writes.append(sql)

    def commit(conn: object) -> None:
        commits.append(len(writes))

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        doses = today_doses(on_plan.patient, on_plan.patient_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    assert doses
    assert [w for w in writes if "audit_event" not in w] == []
    assert len(writes) == 1 and commits == [1]
