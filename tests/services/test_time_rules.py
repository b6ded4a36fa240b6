"""The time-based red flags over every patient, as the dispatch cycle runs them."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from reminders.cycle import run_cycle
from server.extensions import db
from server.models import Escalation, PatientState, TreatmentInterruption
from server.services.time_rules import evaluate_all
from tests.support.clock import FakeClock
from tests.support.world import ApiClient, World, start_plan

ACTIVATED = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # the clock when World activates


def rules_at(app: Flask, now: dt.datetime, patient_id: int = 1) -> list[str]:
    evaluate_all(db.session, now, app.extensions["companion.content"])
    rows = db.session.query(Escalation.rule).filter(Escalation.patient_id == patient_id)
    return sorted(rule for (rule,) in rows.all())


@pytest.fixture
def world(world: World) -> World:
    """Alex with a recent blood count, so only the rule under test can fire."""
    from tests.support.world import add_anc

    assert (
        add_anc(world.clinician, world.patient_id, 2000, "2026-11-25T09:00:00+00:00").status_code
        == 201
    )
    return world


def test_no_bowel_movement_for_72_hours_escalates_once(world: World) -> None:
    # tracking starts when the patient activates; RULES.md 4 (72 h), 71:59 is not yet
    assert rules_at(world.app, ACTIVATED + dt.timedelta(hours=71, minutes=59)) == []
    assert rules_at(world.app, ACTIVATED + dt.timedelta(hours=72)) == ["no_bowel_movement_72h"]
    assert rules_at(world.app, ACTIVATED + dt.timedelta(hours=73)) == ["no_bowel_movement_72h"]
    escalation = (
        db.session.query(Escalation)
        .filter_by(rule="no_bowel_movement_72h", patient_id=world.patient_id)
        .one()
    )
    assert escalation.severity == "urgent" and len(escalation.evidence) == 1


def test_the_patient_is_prompted_at_48_hours_first(world: World) -> None:
    content = world.app.extensions["companion.content"]
    early = evaluate_all(db.session, ACTIVATED + dt.timedelta(hours=47, minutes=59), content)
    assert (world.patient_id, "bowel_check_48h") not in early.prompts
    later = evaluate_all(db.session, ACTIVATED + dt.timedelta(hours=48), content)
    assert (world.patient_id, "bowel_check_48h") in later.prompts
    assert db.session.query(Escalation).filter_by(patient_id=world.patient_id).count() == 0


def test_a_logged_bowel_movement_resets_the_clock(world: World, clock: FakeClock) -> None:
    clock.advance(hours=60)
    response = world.patient.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": clock.now.isoformat(), "bristol_type": 4},
    )
    assert response.status_code == 201
    assert rules_at(world.app, ACTIVATED + dt.timedelta(hours=100)) == []
    assert rules_at(world.app, ACTIVATED + dt.timedelta(hours=60 + 72)) == ["no_bowel_movement_72h"]


def test_missed_doses_over_48_hours_need_retitration(world: World, clock: FakeClock) -> None:
    start_plan(world, start="2026-11-25")
    doses = world.patient.get(f"/api/patients/{world.patient_id}/doses").get_json()["doses"]
    clock.set(dt.datetime(2026, 11, 25, 21, 5, tzinfo=dt.UTC))
    taken_at = dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.UTC)
    response = ApiClient(world.app, "alex@example.org").post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": doses[-1]["id"], "status": "taken", "at": taken_at.isoformat()},
    )
    assert response.status_code == 201
    # keep the bowel rule quiet: this test is about doses
    state = db.session.get(PatientState, world.patient_id)
    state.last_bowel_movement_at = taken_at + dt.timedelta(hours=47)
    db.session.commit()
    # RULES.md 1: more than 48 h since the last dose taken while doses were due
    assert "missed_doses_48h" not in rules_at(world.app, taken_at + dt.timedelta(hours=48))
    assert "missed_doses_48h" in rules_at(world.app, taken_at + dt.timedelta(hours=48, seconds=1))
    state = db.session.get(PatientState, world.patient_id)
    assert state.needs_retitration
    assert db.session.query(TreatmentInterruption).count() == 1
    clock.set(taken_at + dt.timedelta(hours=49))
    clinician = ApiClient(world.app, "dr.north@example.org")
    summary = clinician.get(f"/api/patients/{world.patient_id}").get_json()
    assert summary["status"]["treatment"] == "needs_retitration"


def test_an_overdue_blood_test_escalates(world: World, clock: FakeClock) -> None:
    state = db.session.get(PatientState, world.patient_id)
    assert state.next_blood_test_due == dt.date(2026, 12, 2)
    state.last_bowel_movement_at = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    db.session.commit()
    assert rules_at(world.app, dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)) == []
    assert rules_at(world.app, dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC)) == [
        "blood_test_overdue"
    ]


def test_the_same_cycle_twice_opens_once(world: World) -> None:
    content = world.app.extensions["companion.content"]
    at = ACTIVATED + dt.timedelta(days=4)
    first = run_cycle(db.session, at, content, "w1")
    second = run_cycle(db.session, at, content, "w2")
    # both patients' bowel rule, and Blake's baseline blood test (never done) are due
    assert first.counts["escalations_opened"] == 3
    assert second.counts["escalations_opened"] == 0
    assert db.session.query(Escalation).count() == 3
