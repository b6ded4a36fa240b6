"""A dose-plan change never loses a reminder (issue 17, finding 3: after a plan change 0 of
60 patients got their reminder, since the new plan's doses for the days the worker had
already made were never created). 60 patients through the API, the real cycle, a real push
service on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask

from reminders.cycle import run_cycle
from server.api.push import vapid
from server.extensions import db
from server.models import Dose, PushSubscription, User
from server.notify.webpush import WebPushSender
from tests.conftest import START
from tests.support.clock import FakeClock
from tests.support.push_service import PushService
from tests.support.world import ApiClient, World, add_anc, enrol_patient

PATIENTS = 60


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.fixture
def push() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture
def sender(app: Flask) -> Iterator[WebPushSender]:
    with app.test_request_context():
        key = vapid()
    with WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=5) as s:
        yield s


def plan(times: list[str], start: str = "2026-11-25") -> dict:
    return {
        "start_date": start,
        "times": times,
        "titration": "standard",
        "target_mg_per_day": 300,
    }


def test_every_patient_gets_the_new_plans_reminder_after_a_plan_change(
    world: World, app: Flask, clock: FakeClock, push: PushService, sender: WebPushSender
) -> None:
    content = app.extensions["companion.content"]
    patients = []
    for n in range(PATIENTS):
        made = enrol_patient(world.clinician, f"P{n}", start=dt.date(2026, 11, 25))
        assert (
            add_anc(world.clinician, made["id"], 2000, "2026-11-25T09:00:00+00:00").status_code
            == 201
        )
        response = world.clinician.put(
            f"/api/patients/{made['id']}/dose-plan", json=plan(["21:00"])
        )
        assert response.status_code == 200, response.get_json()
        login = User(
            email=f"p{n}@example.org",
            display_name=f"P{n}",
            role="patient",
            patient_id=made["id"],
            password_hash="-",
            created_at=START,
        )
        db.session.add(login)
        db.session.flush()
        browser = push.new_subscription()
        db.session.add(
            PushSubscription(
                user_id=login.id,
                endpoint=browser["endpoint"],
                p256dh=browser["keys"]["p256dh"],
                auth=browser["keys"]["auth"],
                created_at=START,
            )
        )
        patients.append(made["id"])
    db.session.commit()
    # the worker has made the 26th's doses, and the 27th's (a day ahead, at London's midnight)
    run_cycle(db.session, at("2026-11-25T12:30:00Z"), content, "w1", sender)
    run_cycle(db.session, at("2026-11-26T00:01:00Z"), content, "w1", sender)
    for day in (dt.date(2026, 11, 26), dt.date(2026, 11, 27)):
        made = db.session.query(Dose).filter(Dose.local_date == day, Dose.local_time == "21:00")
        assert made.count() == PATIENTS
    push.clear()

    # the clinician moves every patient's dose to 20:00, from today
    clock.set(at("2026-11-26T09:00:00Z"))
    clinician = ApiClient(app, "dr.north@example.org")  # the next morning: a new sign-in
    for patient_id in patients:
        response = clinician.put(
            f"/api/patients/{patient_id}/dose-plan", json=plan(["20:00"], "2026-11-26")
        )
        assert response.status_code == 200, response.get_json()
    run_cycle(db.session, at("2026-11-26T20:00:30Z"), content, "w1", sender)
    run_cycle(db.session, at("2026-11-26T21:00:30Z"), content, "w1", sender)

    doses = [r for r in push.received() if r.payload["kind"] == "dose"]
    reminded = {r.payload["patient_id"] for r in doses}
    assert reminded == set(patients)
    dose_ids = {r.payload["dose_id"] for r in doses}
    times = {d.local_time for d in db.session.query(Dose).filter(Dose.id.in_(dose_ids))}
    assert times == {"20:00"}  # the new plan's, and none for the old 21:00
    assert len(doses) == PATIENTS  # once each
