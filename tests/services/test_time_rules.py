"""The time-based red flags over every patient, as the dispatch cycle runs them."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, and_, case, delete, or_, select

from reminders.cycle import run_cycle
from server.domain.red_flags import BOWEL_PROMPT_AFTER, WEEK
from server.domain.titration import RETITRATION_AFTER
from server.extensions import db
from server.models import Escalation, Patient, PatientState, TreatmentInterruption
from server.services.steps.time_rules import candidates_query, evaluate_all
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
    assert state.treatment_status == "needs_retitration"
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


# --- the indexed clocks select every patient the rules' own thresholds could select -------------

BASE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
# whole hours over 20 days: thresholds (48 h, 7 days) are met exactly often enough to matter
instants = st.one_of(
    st.none(), st.integers(min_value=0, max_value=20 * 24).map(lambda h: BASE + hours(h))
)


def hours(count: int) -> dt.timedelta:
    return dt.timedelta(hours=count)


def thresholds(now: dt.datetime) -> dict[str, ColumnElement[bool]]:
    """Each rule's threshold written out on the summary columns themselves (the query before the
    clocks were stored), with the domain's constants: RULES.md 4 (48 h prompt, then 72 h; line
    81), fewer than 3 movements in 7 days, doses missed over 48 h (RULES.md 1, line 21; only
    while doses are due)."""
    s = PatientState
    bowel_reference = case(
        (s.last_bowel_movement_at.is_(None), s.tracking_since), else_=s.last_bowel_movement_at
    )
    dose_reference = case(
        (
            or_(s.last_dose_taken_at.is_(None), s.last_dose_taken_at < s.doses_due_since),
            s.doses_due_since,
        ),
        else_=s.last_dose_taken_at,
    )
    week_ago = now - WEEK
    tracked = s.tracking_since.is_not(None)
    return {
        "bowel": and_(tracked, bowel_reference <= now - BOWEL_PROMPT_AFTER),
        "week": and_(
            tracked,
            s.tracking_since <= week_ago,
            or_(
                s.third_last_bowel_movement_at.is_(None),
                s.third_last_bowel_movement_at < week_ago,
            ),
        ),
        "dose": and_(
            tracked,
            s.doses_due_since.is_not(None),
            dose_reference <= now - RETITRATION_AFTER,
        ),
    }


def clocks(now: dt.datetime) -> dict[str, ColumnElement[bool]]:
    s = PatientState
    return {
        "bowel": s.bowel_clock_from <= now - BOWEL_PROMPT_AFTER,
        "week": s.week_clock_from <= now - WEEK,
        "dose": s.dose_clock_from <= now - RETITRATION_AFTER,
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    states=st.lists(
        st.tuples(
            instants,  # tracking_since
            instants,  # last bowel movement
            instants,  # third-last bowel movement
            instants,  # last dose taken
            instants,  # doses due since
            st.one_of(st.none(), st.integers(min_value=0, max_value=25)),  # blood test due (day)
        ),
        min_size=1,
        max_size=12,
    ),
    now_hours=st.lists(st.integers(min_value=0, max_value=28 * 24), min_size=1, max_size=4),
)
def test_the_stored_clocks_select_what_the_thresholds_select(
    world: World, states: list[tuple], now_hours: list[int]
) -> None:
    """The generated columns (kept by the database, however the summaries are written) select,
    rule by rule, the patients the thresholds select; the weekly one may take a patient on
    the very instant the week ends (the rules then decide), never later. And candidates_query
    is their union with the overdue blood test."""
    template = db.session.get(Patient, world.patient_id)
    assert template is not None
    db.session.execute(delete(PatientState))
    for tracking, last_bm, third_bm, last_dose, due_since, blood_day in states:
        patient = Patient(
            clinic_id=template.clinic_id,
            display_name="P",
            timezone="Europe/London",
            clozapine_start_date=BASE.date(),
            created_at=BASE,
        )
        db.session.add(patient)
        db.session.flush()
        db.session.add(
            PatientState(
                patient_id=patient.id,
                updated_at=BASE,
                tracking_since=tracking,
                last_bowel_movement_at=last_bm,
                third_last_bowel_movement_at=third_bm,
                last_dose_taken_at=last_dose,
                doses_due_since=due_since,
                next_blood_test_due=None
                if blood_day is None
                else BASE.date() + dt.timedelta(days=blood_day),
            )
        )
    db.session.flush()

    def ids(condition: ColumnElement[bool]) -> set[int]:
        return set(db.session.scalars(select(PatientState.patient_id).where(condition)))

    for offset in now_hours:
        now = BASE + hours(offset)
        exact, stored = thresholds(now), clocks(now)
        assert ids(stored["bowel"]) == ids(exact["bowel"]), now
        assert ids(stored["dose"]) == ids(exact["dose"]), now
        week = ids(stored["week"])
        assert ids(exact["week"]) <= week <= ids(thresholds(now + hours(1))["week"]), now
        blood = ids(PatientState.next_blood_test_due < (now + hours(14)).date())
        union = ids(stored["bowel"]) | week | ids(stored["dose"]) | blood
        assert {row.patient_id for row in db.session.execute(candidates_query(now))} == union
    db.session.rollback()
