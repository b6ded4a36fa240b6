"""The treatment course end to end through the API and the worker's cycle: withheld doses,
plan kinds, a clinician's hold, resume and stop, breaks in hours (RULES.md 6; CONTRACT.md
"Treatment course (v2)"; guideline L74, L78, L104, L139-L149, L339)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from reminders.cycle import run_cycle
from server.extensions import db
from server.models import (
    AuditEvent,
    Dose,
    Escalation,
    OutboxMessage,
    Patient,
    PatientState,
    TreatmentEvent,
    TreatmentInterruption,
)
from tests.support.clock import FakeClock
from tests.support.world import (
    ApiClient,
    World,
    activate,
    add_anc,
    enrol_patient,
    start_plan,
    worker_makes_doses,
)

UTC = dt.UTC
TAKEN = dt.datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # day 1's only dose, 12.5 mg at bedtime


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def tick(app: Flask, when: dt.datetime) -> dict[str, int]:
    """One dispatch cycle without sending: time rules, doses made ahead, reminders queued."""
    return run_cycle(db.session, when, app.extensions["companion.content"], "w1").counts


def nurse(world: World) -> ApiClient:
    """The clinician, signed in now (care-team sessions end after 30 idle minutes)."""
    return ApiClient(world.app, "dr.north@example.org")


def summary(world: World, client: ApiClient | None = None) -> dict[str, Any]:
    response = (client or nurse(world)).get(f"/api/patients/{world.patient_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["status"]


def day(world: World, date: str, client: ApiClient | None = None) -> dict[str, Any]:
    response = (client or world.patient).get(f"/api/patients/{world.patient_id}/doses?date={date}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def mark(
    world: World, dose_id: int, status: str, when: dt.datetime, client: ApiClient | None = None
):
    return (client or world.patient).post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": dose_id, "status": status, "at": when.isoformat()},
    )


def act(world: World, body: dict[str, Any], client: ApiClient | None = None):
    return (client or nurse(world)).post(
        f"/api/patients/{world.patient_id}/treatment-events", json=body
    )


def plan(world: World, body: dict[str, Any]):
    return nurse(world).put(
        f"/api/patients/{world.patient_id}/dose-plan", json={"times": ["08:00", "21:00"], **body}
    )


@pytest.fixture
def taking(world: World, clock: FakeClock) -> World:
    """Alex on the standard plan from today (a baseline count in the morning), the first dose
    taken at 21:00; the diary kept so that only dose rules can fire."""
    start_plan(world, start="2026-11-25", baseline_at="2026-11-25T09:00:00+00:00")
    first = day(world, "2026-11-25")["doses"]
    assert [(d["local_time"], d["mg"]) for d in first] == [("21:00", 12.5)]
    clock.set(TAKEN + dt.timedelta(minutes=5))
    assert mark(world, first[0]["id"], "taken", TAKEN).status_code == 201
    state = db.session.get(PatientState, world.patient_id)
    state.last_bowel_movement_at = TAKEN + dt.timedelta(days=10)  # quiet bowel rules
    db.session.commit()
    return world


def missed(world: World, clock: FakeClock, hours: float = 48, minutes: float = 1) -> dt.datetime:
    """The cycle runs `hours` and `minutes` after the last dose taken, with nothing taken since."""
    when = TAKEN + dt.timedelta(hours=hours, minutes=minutes)
    clock.set(when)
    tick(world.app, when)
    return when


# --- missed doses over 48 h: needs_retitration, withheld doses (RULES.md 1, 6) ----------------


def test_a_dose_logged_after_the_cycle_read_its_candidates_keeps_the_course(
    taking: World, clock: FakeClock
) -> None:
    """The cycle reads the summaries it may act on, then pauses each course whose doses were
    missed for over 48 h; a dose logged in between (an offline phone sending late) is seen:
    the course is decided again on the summary row as locked, and not paused."""
    from server.models import Patient
    from server.services import course

    when = TAKEN + dt.timedelta(hours=48, minutes=1)
    clock.set(when)
    tick(taking.app, when - dt.timedelta(minutes=2))  # the day's doses made, nothing missed yet
    morning = day(taking, "2026-11-26")["doses"][0]
    assert mark(taking, morning["id"], "taken", at("2026-11-26T08:05:00+00:00")).status_code == 201
    patient = db.session.get(Patient, taking.patient_id)
    assert course.missed_doses(db.session, patient, when) is False  # as the cycle would call it
    db.session.commit()
    assert summary(taking)["treatment"] == "in_titration"


def test_47_59_is_not_a_break_and_48_01_withholds_every_dose(
    taking: World, clock: FakeClock
) -> None:
    missed(taking, clock, hours=47, minutes=59)
    assert summary(taking)["treatment"] == "in_titration"
    assert {d["status"] for d in day(taking, "2026-11-27")["doses"]} == {"missed", "pending"}

    when = missed(taking, clock, hours=48, minutes=1)
    status = summary(taking)
    assert status["treatment"] == "needs_retitration" and status["doses_withheld"] is True
    assert status["treatment_cause"] == "missed_doses_48h"
    assert at(status["treatment_since"]) == when
    today = day(taking, "2026-11-27")
    assert today["treatment"] == "needs_retitration" and today["doses_withheld"] is True
    # the morning dose was missed before; the evening one (still to come) is withheld
    assert [(d["local_time"], d["status"]) for d in today["doses"]] == [
        ("08:00", "missed"),
        ("21:00", "withheld"),
    ]
    assert all(d["status"] == "withheld" for d in day(taking, "2026-11-28")["doses"])
    # "a client that marks it gets a conflict": taken, skipped, late or not, patient or carer
    for dose in today["doses"]:
        for status_, who in (("taken", taking.patient), ("skipped", taking.caregiver)):
            refused = mark(taking, dose["id"], status_, when, who)
            assert refused.status_code == 409
            assert refused.get_json()["error"]["code"] == "dose_withheld"
    assert (
        db.session.scalar(select(func.count()).select_from(Dose).where(Dose.status == "taken")) == 1
    )
    escalation = db.session.scalars(
        select(Escalation).where(Escalation.rule == "missed_doses_48h")
    ).one()
    assert escalation.severity == "urgent"


def test_no_dose_reminder_is_queued_for_withheld_doses(taking: World, clock: FakeClock) -> None:
    missed(taking, clock)
    # the next two days' dose times pass with the worker running every 15 minutes
    moment = clock.now
    while moment < at("2026-11-29T23:00:00+00:00"):
        moment += dt.timedelta(minutes=15)
        tick(taking.app, moment)
    reminders = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "dose", OutboxMessage.due_at > clock.now)
    ).all()
    assert reminders == []


def test_a_second_gap_needs_retitration_again(taking: World, clock: FakeClock) -> None:
    missed(taking, clock)
    escalation = db.session.scalars(
        select(Escalation).where(Escalation.rule == "missed_doses_48h")
    ).one()
    ack = nurse(taking).post(f"/api/escalations/{escalation.id}/acknowledge")
    assert ack.status_code == 200
    # the next morning the nurse re-titrates from today; the default kind is a re-titration
    clock.set(at("2026-11-28T09:00:00+00:00"))
    answer = plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["kind"] == "retitration"
    assert summary(taking)["treatment"] == "in_titration"
    # the plan answers the escalation: the patient no longer reads "do not restart at your
    # usual dose" beside the new 12.5 mg dose
    db.session.expire_all()
    answered = db.session.get(Escalation, escalation.id)
    assert answered.status == "resolved" and "Re-titration plan" in answered.resolution_note
    flags = taking.patient.get(f"/api/patients/{taking.patient_id}").get_json()["open_red_flags"]
    assert "missed_doses_48h" not in {f["rule"] for f in flags}
    # day 1 of the re-titration: 12.5 mg at bedtime, due; the withheld doses still to come
    # are replaced, the morning's stays withheld for the record
    doses = day(taking, "2026-11-28")["doses"]
    assert [(d["local_time"], d["mg"], d["status"]) for d in doses] == [
        ("08:00", 25.0, "withheld"),
        ("21:00", 12.5, "pending"),
    ]
    taken = at("2026-11-28T21:02:00+00:00")
    clock.set(taken)
    assert mark(taking, doses[1]["id"], "taken", taken).status_code == 201
    # a second gap of more than 48 h, with the first escalation acknowledged, not resolved
    later = taken + dt.timedelta(hours=48, minutes=1)
    clock.set(later)
    tick(taking.app, later)
    status = summary(taking)
    assert status["treatment"] == "needs_retitration"
    assert at(status["treatment_since"]) == later
    again = db.session.scalars(
        select(Escalation).where(
            Escalation.rule == "missed_doses_48h", Escalation.resolved_at.is_(None)
        )
    ).one()
    assert again.id != escalation.id and again.status == "open"  # a new alert for the team
    causes = db.session.scalars(select(TreatmentEvent.cause).order_by(TreatmentEvent.id)).all()
    assert causes.count("missed_doses_48h") == 2


def test_a_retitration_plan_is_not_undone_by_the_week_old_last_dose(
    taking: World, clock: FakeClock
) -> None:
    """Defect: minutes after a re-titration plan's first dose was due (not yet marked), the
    cycle counted 48 h from the dose taken before the gap and put the course back in
    needs_retitration (doses withheld, "do not restart", the team alerted) whenever another
    time rule made the patient a candidate, here a quiet bowel diary. RULES.md 1 (line 21):
    48 h since the last dose taken *while doses were due*."""
    missed(taking, clock)
    clock.set(at("2026-11-28T09:00:00+00:00"))
    answer = plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300})
    assert answer.status_code == 200, answer.get_json()
    state = db.session.get(PatientState, taking.patient_id)
    state.last_bowel_movement_at = at("2026-11-25T00:00:00+00:00")  # candidate: bowel rule
    db.session.commit()
    first_dose = at("2026-11-28T21:00:00+00:00")
    for when in (first_dose + dt.timedelta(minutes=5), first_dose + dt.timedelta(hours=48)):
        clock.set(when)
        tick(taking.app, when)
        assert summary(taking)["treatment"] == "in_titration", when
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.rule == "missed_doses_48h", Escalation.resolved_at.is_(None))
        )
        == 0
    )
    # still nothing taken 48 h after the re-titration's first dose was due: needs it again
    later = first_dose + dt.timedelta(hours=48, minutes=1)
    clock.set(later)
    tick(taking.app, later)
    assert summary(taking)["treatment"] == "needs_retitration"


# --- a clinician's hold, resume and stop (CONTRACT.md treatment-events) -----------------------


def test_hold_and_resume_with_a_reason(taking: World, clock: FakeClock) -> None:
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    held = act(taking, {"action": "hold", "reason": "Chest infection: review tomorrow"})
    assert held.status_code == 201, held.get_json()
    body = held.get_json()
    assert (body["from_state"], body["to_state"], body["status"]["treatment"]) == (
        "in_titration",
        "held",
        "held",
    )
    assert {d["status"] for d in day(taking, "2026-11-26")["doses"]} == {"withheld"}
    # hold again: not from held
    again = act(taking, {"action": "hold", "reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
    clock.set(at("2026-11-26T20:00:00+00:00"))  # 23 h after the last dose
    resumed = act(taking, {"action": "resume", "reason": "Infection treated, counts fine"})
    assert resumed.status_code == 201 and resumed.get_json()["warning"] is None
    assert resumed.get_json()["status"]["treatment"] == "in_titration"
    doses = day(taking, "2026-11-26")["doses"]
    # the 08:00 stays withheld (it passed during the hold); 21:00 is due again
    assert [(d["local_time"], d["status"]) for d in doses] == [
        ("08:00", "withheld"),
        ("21:00", "pending"),
    ]
    history = nurse(taking).get(f"/api/patients/{taking.patient_id}/treatment-events")
    actions = [(e["action"], e["reason"]) for e in history.get_json()["items"]]
    assert actions[:2] == [
        ("resume", "Infection treated, counts fine"),
        ("hold", "Chest infection: review tomorrow"),
    ]
    audited = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.patient_id == taking.patient_id)
    ).all()
    assert "treatment.write" in audited


# --- a dose taken before the pause, logged after it (an offline phone) --------------------------
# RULES.md 6: "| `held` | a clinician holds treatment ... | doses withheld, no dose reminders |";
# "A withheld dose is never offered as "Taken"; a client that marks it gets a conflict";
# CONTRACT.md "Treatment course (v2)": marking a withheld dose `taken` answers 409
# `dose_withheld`. A dose swallowed before the hold is not a dose of the paused course: nothing a
# user entered is lost (server/domain/doses.py was_taken_before_pause).

HOLD = at("2026-11-26T10:00:00+00:00")


def hold_at_ten(world: World, clock: FakeClock) -> dict[str, Any]:
    """Day 2's doses made, the course held at 10:00; returns day 2's 08:00 dose (withheld)."""
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    clock.set(HOLD)
    assert act(world, {"action": "hold", "reason": "Chest infection"}).status_code == 201
    morning = day(world, "2026-11-26")["doses"][0]
    assert (morning["local_time"], morning["status"]) == ("08:00", "withheld")
    return morning


def taken_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Dose).where(Dose.status == "taken"))


def test_a_dose_taken_before_the_hold_and_logged_after_it_is_recorded(
    taking: World, clock: FakeClock
) -> None:
    morning = hold_at_ten(taking, clock)
    assert at(summary(taking)["last_dose_taken_at"]) == TAKEN
    clock.set(at("2026-11-26T10:30:00+00:00"))  # the phone comes back online
    early = at("2026-11-26T07:55:00+00:00")
    answer = mark(taking, morning["id"], "taken", early)
    assert answer.status_code == 201, answer.get_json()
    assert [(d["local_time"], d["status"]) for d in day(taking, "2026-11-26")["doses"]] == [
        ("08:00", "taken"),
        ("21:00", "withheld"),
    ]
    status = summary(taking)
    assert at(status["last_dose_taken_at"]) == early
    assert status["treatment"] == "held" and status["doses_withheld"] is True
    # the break begins at that dose, not at the evening before
    gap = db.session.scalars(select(TreatmentInterruption)).one()
    assert (gap.gap_from, gap.resumed_at) == (early, None)
    events = taking.patient.get(f"/api/patients/{taking.patient_id}/dose-events")
    newest = events.get_json()["items"][0]
    assert (newest["dose_id"], at(newest["at"])) == (morning["id"], early)


@pytest.mark.parametrize(
    ("taken_at", "paused_message"),
    [
        (HOLD, True),  # at the hold
        (HOLD + dt.timedelta(minutes=5), True),
        (at("2026-11-25T19:59:00+00:00"), False),  # before the hold, 12 h 01 before the dose
    ],
)
def test_a_dose_taken_at_or_after_the_hold_is_still_refused(
    taking: World, clock: FakeClock, taken_at: dt.datetime, paused_message: bool
) -> None:
    morning = hold_at_ten(taking, clock)
    clock.set(HOLD + dt.timedelta(minutes=30))
    refused = mark(taking, morning["id"], "taken", taken_at)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "dose_withheld"
    assert ("Treatment was paused at 2026-11-26 10:00 (Europe/London)" in error["message"]) is (
        paused_message
    )
    assert taken_count() == 1
    assert at(summary(taking)["last_dose_taken_at"]) == TAKEN
    gap = db.session.scalars(select(TreatmentInterruption)).one()
    assert gap.gap_from == TAKEN


def test_a_skip_of_a_withheld_dose_is_refused_even_before_the_hold(
    taking: World, clock: FakeClock
) -> None:
    morning = hold_at_ten(taking, clock)
    refused = mark(taking, morning["id"], "skipped", HOLD - dt.timedelta(hours=1))
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "dose_withheld"
    assert day(taking, "2026-11-26")["doses"][0]["status"] == "withheld"


def test_a_resume_the_same_day_keeps_the_dose_taken_before_the_hold_recordable(
    taking: World, clock: FakeClock
) -> None:
    """The 08:00 dose stays withheld after a resume at 14:00; logged at 16:00 as taken at 07:55,
    it is recorded, and the break (07:55 to the 21:00 dose) is 13 h, not a day."""
    morning = hold_at_ten(taking, clock)
    clock.set(at("2026-11-26T14:00:00+00:00"))
    assert act(taking, {"action": "resume", "reason": "Seen: fine"}).status_code == 201
    clock.set(at("2026-11-26T16:00:00+00:00"))
    assert mark(taking, morning["id"], "taken", HOLD + dt.timedelta(minutes=1)).status_code == 409
    early = at("2026-11-26T07:55:00+00:00")
    assert mark(taking, morning["id"], "taken", early).status_code == 201
    evening = day(taking, "2026-11-26")["doses"][1]
    clock.set(at("2026-11-26T21:05:00+00:00"))
    assert mark(taking, evening["id"], "taken", at("2026-11-26T21:00:00+00:00")).status_code == 201
    gap = db.session.scalars(select(TreatmentInterruption)).one()
    assert gap.resumed_at - gap.gap_from == dt.timedelta(hours=13, minutes=5)
    assert at(summary(taking)["last_dose_taken_at"]) == at("2026-11-26T21:00:00+00:00")


def test_doses_logged_late_after_missed_doses_paused_the_course(
    taking: World, clock: FakeClock
) -> None:
    """needs_retitration at 48 h 01 (21:01 on day 3): the 08:00 dose, missed (unmarked) before
    the pause, and the 21:00 one, withheld by it, were in fact taken, and are logged the next
    morning. Both are recorded; the course stays paused (the team decides) and the resume no
    longer warns of a gap over 48 h."""
    missed(taking, clock, hours=47, minutes=59)
    paused = missed(taking, clock, hours=48, minutes=1)
    morning, evening = day(taking, "2026-11-27")["doses"]
    assert (morning["status"], evening["status"]) == ("missed", "withheld")
    clock.set(at("2026-11-28T07:00:00+00:00"))
    assert mark(taking, morning["id"], "taken", paused).status_code == 409  # at the pause
    assert mark(taking, morning["id"], "taken", at("2026-11-27T08:05:00+00:00")).status_code == 201
    assert mark(taking, evening["id"], "taken", paused - dt.timedelta(seconds=1)).status_code == 201
    status = summary(taking)
    assert status["treatment"] == "needs_retitration"
    assert at(status["last_dose_taken_at"]) == paused - dt.timedelta(seconds=1)
    clock.set(at("2026-11-28T09:00:00+00:00"))
    resumed = act(taking, {"action": "resume", "reason": "Doses were taken after all"})
    assert resumed.status_code == 201 and resumed.get_json()["warning"] is None


def test_doses_made_while_held_keep_the_moment_of_the_hold(taking: World, clock: FakeClock) -> None:
    hold_at_ten(taking, clock)
    worker_makes_doses(at("2026-11-27T00:30:00+00:00"), since=clock.now)
    made = db.session.scalars(select(Dose).where(Dose.local_date == dt.date(2026, 11, 28))).all()
    assert made and {(d.status, d.status_at) for d in made} == {("withheld", HOLD)}


# --- a dose taken before a stop, logged after it ----------------------------------------------
# RULES.md 6: "| `stopped` | a clinician stops treatment ... | no doses ... |"; the stop cancels
# the doses still to come (services/course.py _pause). One swallowed before the stop is a dose
# taken, as before a hold (was_taken_before_pause, with the stop's moment); so is one a newer
# plan replaced, taken before that plan (the plan has its own dose then, listed beside it).

STOP = at("2026-11-26T10:00:00+00:00")


def stop_at_ten(world: World, clock: FakeClock) -> dict[str, Any]:
    """Day 2's doses made, the course stopped at 10:00; returns day 2's 08:00 dose (cancelled:
    no longer listed)."""
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    morning = day(world, "2026-11-26")["doses"][0]
    assert (morning["local_time"], morning["status"]) == ("08:00", "pending")
    clock.set(STOP)
    stopped = act(
        world, {"action": "stop", "reason": "Suspected myocarditis", "rechallenge": "advised"}
    )
    assert stopped.status_code == 201, stopped.get_json()
    assert day(world, "2026-11-26")["doses"] == []
    return morning


def test_a_dose_taken_before_the_stop_and_logged_after_it_is_recorded(
    taking: World, clock: FakeClock
) -> None:
    morning = stop_at_ten(taking, clock)
    clock.set(at("2026-11-26T10:30:00+00:00"))  # the phone comes back online
    early = at("2026-11-26T07:55:00+00:00")
    answer = mark(taking, morning["id"], "taken", early)
    assert answer.status_code == 201, answer.get_json()
    assert [(d["local_time"], d["status"]) for d in day(taking, "2026-11-26")["doses"]] == [
        ("08:00", "taken")
    ]
    status = summary(taking)
    assert at(status["last_dose_taken_at"]) == early
    assert status["treatment"] == "stopped"
    gap = db.session.scalars(select(TreatmentInterruption)).one()
    assert (gap.gap_from, gap.resumed_at) == (early, None)


@pytest.mark.parametrize(
    ("status", "when", "words"),
    [
        ("taken", STOP, "a dose taken after that cannot be recorded"),  # at the stop
        ("taken", STOP + dt.timedelta(minutes=5), "a dose taken after that cannot be recorded"),
        ("skipped", STOP - dt.timedelta(hours=1), "this dose is no longer due"),
    ],
)
def test_a_dose_taken_at_or_after_the_stop_is_refused_saying_so(
    taking: World, clock: FakeClock, status: str, when: dt.datetime, words: str
) -> None:
    morning = stop_at_ten(taking, clock)
    clock.set(STOP + dt.timedelta(minutes=30))
    refused = mark(taking, morning["id"], status, when)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "dose_withheld"
    assert error["message"].startswith(
        f"Treatment was stopped at 2026-11-26 10:00 (Europe/London): {words}."
    )
    assert "replaced" not in error["message"]
    assert taken_count() == 1
    assert db.session.get(Dose, morning["id"]).status == "cancelled"
    assert at(summary(taking)["last_dose_taken_at"]) == TAKEN


def replaced_at_ten(world: World, clock: FakeClock) -> dict[str, Any]:
    """A maintenance plan set at 10:00 replaces the 21:00 dose still to come (the 08:00 one,
    already due, stays: services/doses.py replace_from); returns the old 21:00 dose."""
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    evening = day(world, "2026-11-26")["doses"][1]
    assert evening["local_time"] == "21:00"
    clock.set(STOP)
    changed = plan(
        world, {"start_date": "2026-11-26", "kind": "maintenance", "target_mg_per_day": 50}
    )
    assert changed.status_code == 200, changed.get_json()
    assert db.session.get(Dose, evening["id"]).status == "cancelled"
    return evening


def test_a_dose_a_newer_plan_replaced_is_recorded_when_taken_before_it(
    taking: World, clock: FakeClock
) -> None:
    """The old 21:00 dose marked taken at 09:30, before the new plan and inside its window, was
    swallowed while the old plan was in force: it is recorded (it used to be refused as
    'replaced' and lost); the new plan's own 21:00 dose stays as it was."""
    evening = replaced_at_ten(taking, clock)
    new_evening = day(taking, "2026-11-26")["doses"][1]
    before = summary(taking)["treatment"]
    clock.set(STOP + dt.timedelta(minutes=30))
    early = at("2026-11-26T09:30:00+00:00")
    answer = mark(taking, evening["id"], "taken", early)
    assert answer.status_code == 201, answer.get_json()
    listed = [(d["id"], d["status"]) for d in day(taking, "2026-11-26")["doses"]]
    assert (evening["id"], "taken") in listed and (new_evening["id"], "pending") in listed
    status = summary(taking)
    assert at(status["last_dose_taken_at"]) == early
    assert status["treatment"] == before == "stable"


@pytest.mark.parametrize("taken_at", [STOP, STOP + dt.timedelta(minutes=5)])
def test_a_dose_a_newer_plan_replaced_is_refused_when_taken_after_it(
    taking: World, clock: FakeClock, taken_at: dt.datetime
) -> None:
    """At or after the plan: 409 `dose_replaced`, saying the care team changed it and to check
    today's doses (the phone tells the patient; it used to read a plain 409 as 'recorded')."""
    evening = replaced_at_ten(taking, clock)
    clock.set(STOP + dt.timedelta(minutes=30))
    refused = mark(taking, evening["id"], "taken", taken_at)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "dose_replaced"
    assert error["message"] == (
        "Your care team changed this dose at 2026-11-26 10:00 (Europe/London): a dose taken "
        "after that cannot be recorded as this one. Check today's doses."
    )
    assert taken_count() == 1
    assert at(summary(taking)["last_dose_taken_at"]) == TAKEN


def test_a_resume_after_more_than_48_hours_comes_with_a_warning(
    taking: World, clock: FakeClock
) -> None:
    clock.set(at("2026-11-26T07:00:00+00:00"))
    assert act(taking, {"action": "hold", "reason": "procedure"}).status_code == 201
    clock.set(TAKEN + dt.timedelta(hours=48, minutes=1))
    resumed = act(taking, {"action": "resume", "reason": "Doses were taken, not logged"})
    assert resumed.status_code == 201 and resumed.get_json()["warning"] == "gap_over_48h"


@pytest.mark.parametrize(("hours", "warned"), [(48, False), (48.01, True), (108, True)])
def test_a_resume_when_no_dose_was_ever_taken_counts_from_the_first_dose_due(
    world: World, clock: FakeClock, hours: float, warned: bool
) -> None:
    """RULES.md 1 "48 h since the last dose taken while doses were due" (guideline L78: after
    more than 2 days, re-initiate at 12.5 mg): a patient whose first doses came due and were
    never taken, held and resumed days later, was resumed at day 6 of the plan (137.5 mg)
    with no warning, because there was no last dose to count from; one who had taken the
    first dose got the warning. No dose taken: the gap counts from the first dose due."""
    start_plan(world, start="2026-11-25", baseline_at="2026-11-25T09:00:00+00:00")
    first_due = at("2026-11-25T21:00:00+00:00")
    clock.set(at("2026-11-26T12:00:00+00:00"))
    tick(world.app, clock.now)
    assert act(world, {"action": "hold", "reason": "Admitted for a procedure"}).status_code == 201
    clock.set(first_due + dt.timedelta(hours=hours))
    resumed = act(world, {"action": "resume", "reason": "Back home"})
    assert resumed.status_code == 201, resumed.get_json()
    assert resumed.get_json()["warning"] == ("gap_over_48h" if warned else None)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"action": "hold", "reason": "   "}, 422, "reason"),
        ({"action": "hold"}, 422, "reason"),
        ({"action": "pause", "reason": "x"}, 422, "action"),
        ({"action": "stop", "reason": "myocarditis"}, 422, "rechallenge"),
        ({"action": "hold", "reason": "x", "rechallenge": "advised"}, 422, "rechallenge"),
        ({"action": "resume", "reason": "x"}, 409, None),  # not paused
    ],
)
def test_bad_treatment_events_are_refused_and_write_nothing(
    taking: World, body: dict[str, Any], status: int, field: str | None
) -> None:
    before = summary(taking)
    refused = act(taking, body)
    assert refused.status_code == status, refused.get_json()
    if field:
        assert field in refused.get_json()["error"]["fields"]
    assert summary(taking) == before
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(TreatmentEvent)
            .where(TreatmentEvent.action.is_not(None))
        )
        == 0
    )


def test_only_the_patients_clinic_acts_on_the_course(taking: World) -> None:
    body = {"action": "hold", "reason": "x"}
    path = f"/api/patients/{taking.patient_id}/treatment-events"
    assert ApiClient(taking.app, "dr.south@example.org").post(path, json=body).status_code == 404
    assert taking.patient.post(path, json=body).status_code == 403
    assert taking.caregiver.post(path, json=body).status_code == 403
    assert ApiClient(taking.app, "admin.north@example.org").post(path, json=body).status_code == 403
    assert taking.patient.get(path).status_code == 403
    assert ApiClient(taking.app, "dr.south@example.org").get(path).status_code == 404
    assert summary(taking)["treatment"] == "in_titration"


def test_a_stop_ends_doses_tracking_and_flags(taking: World, clock: FakeClock) -> None:
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    stopped = act(
        taking,
        {"action": "stop", "reason": "Suspected myocarditis", "rechallenge": "not_advised"},
    )
    assert stopped.status_code == 201, stopped.get_json()
    status = stopped.get_json()["status"]
    assert status["treatment"] == "stopped" and status["rechallenge"] == "not_advised"
    assert day(taking, "2026-11-26")["doses"] == []  # "no doses"
    # days later: no missed-dose flag and no bowel flag (tracking ended)
    tick(taking.app, at("2026-12-01T12:00:00+00:00"))
    rules = db.session.scalars(
        select(Escalation.rule).where(Escalation.patient_id == taking.patient_id)
    ).all()
    assert rules == []  # nor an overdue blood test: a normal count needs no more after a stop
    assert summary(taking)["tracking_since"] is None
    # every later plan shows the marker; a restart must start low
    refused = plan(
        taking, {"start_date": "2026-12-01", "kind": "maintenance", "target_mg_per_day": 300}
    )
    assert refused.status_code == 422
    clock.set(at("2026-12-01T12:00:00+00:00"))
    add_anc(nurse(taking), taking.patient_id, 2100, "2026-12-01T09:00:00+00:00")
    restart = plan(
        taking, {"start_date": "2026-12-01", "kind": "initiation", "target_mg_per_day": 300}
    )
    assert restart.status_code == 200, restart.get_json()
    assert restart.get_json()["rechallenge"] == "not_advised"
    assert restart.get_json()["warnings"][0]["code"] == "rechallenge_not_advised"
    assert summary(taking)["treatment"] == "in_titration"


# --- a clinic count interrupts (RULES.md 6; guideline L139-L141) ------------------------------


def test_a_clinic_count_interrupts_and_a_recovered_count_lets_the_team_resume(
    taking: World, clock: FakeClock
) -> None:
    clock.set(at("2026-11-26T10:00:00+00:00"))
    worker_makes_doses(clock.now)
    # the patient's own copy decides nothing (RULES.md 7)
    assert (
        add_anc(taking.patient, taking.patient_id, 400, "2026-11-26T09:00:00+00:00").status_code
        == 201
    )
    assert summary(taking)["treatment"] == "in_titration"
    assert (
        add_anc(nurse(taking), taking.patient_id, 700, "2026-11-26T09:30:00+00:00").status_code
        == 201
    )
    status = summary(taking)
    assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "anc_interrupt")
    assert status["rechallenge"] is None
    assert all(d["status"] == "withheld" for d in day(taking, "2026-11-26")["doses"][1:])
    refused = act(taking, {"action": "resume", "reason": "feels well"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "anc_not_recovered"
    relapse = plan(
        taking, {"start_date": "2026-11-27", "kind": "retitration", "target_mg_per_day": 300}
    )
    assert relapse.status_code == 409 and relapse.get_json()["error"]["code"] == "anc_not_recovered"
    clock.set(at("2026-11-27T11:00:00+00:00"))
    add_anc(nurse(taking), taking.patient_id, 1600, "2026-11-27T09:00:00+00:00")
    assert summary(taking)["treatment"] == "interrupted"  # leaving is the clinician's act
    assert act(taking, {"action": "resume", "reason": "ANC 1600"}).status_code == 201
    assert summary(taking)["treatment"] == "in_titration"


def test_a_count_below_500_interrupts_with_rechallenge_not_advised(taking: World) -> None:
    assert (
        add_anc(nurse(taking), taking.patient_id, 400, "2026-11-25T21:03:00+00:00").status_code
        == 201
    )
    status = summary(taking)
    assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "anc_stop")
    assert (status["rechallenge"], status["rechallenge_cause"]) == ("not_advised", "anc_stop")
    shown = nurse(taking).get(f"/api/patients/{taking.patient_id}/dose-plan").get_json()
    assert shown["rechallenge"] == "not_advised"


def test_a_count_below_500_entered_after_a_newer_one_still_carries_the_marker(
    taking: World, clock: FakeClock
) -> None:
    """Defect: a count below 500 taken on clozapine but entered after a newer normal count (the
    laboratory's results arrived out of order) left no "rechallenge not advised" marker,
    although its anc_severe escalation opened. The newest count keeps the band and the state
    (RULES.md 7 "Whose result counts"); the marker follows any count below 500 (RULES.md 6
    "After ANC < 500 (UK red) ... a 'rechallenge not advised' marker")."""
    clock.set(at("2026-11-27T12:00:00+00:00"))
    assert (
        add_anc(nurse(taking), taking.patient_id, 2000, "2026-11-27T09:00:00+00:00").status_code
        == 201
    )
    assert (
        add_anc(nurse(taking), taking.patient_id, 400, "2026-11-26T09:00:00+00:00").status_code
        == 201
    )
    status = summary(taking)
    assert (status["anc_band"], status["treatment"]) == ("normal", "in_titration")
    assert (status["rechallenge"], status["rechallenge_cause"]) == ("not_advised", "anc_stop")
    shown = nurse(taking).get(f"/api/patients/{taking.patient_id}/dose-plan").get_json()
    assert shown["rechallenge"] == "not_advised"
    # the team is told the count is history: the newer one decides the band
    escalation = db.session.scalars(select(Escalation).where(Escalation.rule == "anc_severe")).one()
    assert escalation.summary.endswith("entered after a newer count, which is normal")


def test_a_baseline_below_500_entered_late_carries_no_marker(
    taking: World, clock: FakeClock
) -> None:
    """A count taken before the first dose was due is a baseline (it refuses a start, RULES.md
    2), not a count on clozapine: no marker, entered late or not."""
    clock.set(at("2026-11-27T12:00:00+00:00"))
    assert (
        add_anc(nurse(taking), taking.patient_id, 400, "2026-11-20T09:00:00+00:00").status_code
        == 201
    )
    assert summary(taking)["rechallenge"] is None


# --- plan kinds (RULES.md 6; CONTRACT.md defaults) --------------------------------------------


def test_an_established_patient_enters_on_a_maintenance_dose(world: World) -> None:
    answer = plan(
        world, {"start_date": "2026-11-25", "kind": "maintenance", "target_mg_per_day": 400}
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["kind"] == "maintenance" and body["days"][0]["total_mg"] == 400
    assert summary(world)["treatment"] == "stable"
    evening = day(world, "2026-11-25")["doses"]
    assert [(d["local_time"], d["mg"]) for d in evening] == [("21:00", 275.0)]
    big = plan(world, {"start_date": "2026-11-26", "steps": [{"day": 1, "doses_mg": [0, 500]}]})
    assert big.status_code == 200 and "single_dose_above_450" in {
        w["code"] for w in big.get_json()["warnings"]
    }


@pytest.mark.parametrize(
    ("steps", "warned"),
    [
        # day 3 of the course (27 Nov) is 62.5 mg; the plan starts on day 4
        ([(1, [50, 100])], {"steps[0].doses_mg"}),  # +87.5 mg in a day
        ([(1, [37.5, 75])], set()),  # +50 mg: the most in a day
        ([(1, [37.5, 75]), (4, [50, 125])], {"steps[1].doses_mg"}),  # course day 7: +62.5
        ([(1, [37.5, 75]), (12, [50, 125])], set()),  # course day 15: within 100 a week
    ],
)
def test_a_dose_change_in_the_first_two_weeks_warns_of_a_daily_rise_above_50_mg(
    taking: World, clock: FakeClock, steps: list[tuple[int, list[float]]], warned: set[str]
) -> None:
    """RULES.md 1 "Warnings (shown, not refused): a daily rise above 50 mg in the first two
    weeks" (guideline L55 "Increase by 25-50 mg/day"): a maintenance plan that changes the dose
    of a patient in days 1-14 of their course was held only to the later rule (100 mg a week),
    so a jump from 62.5 to 150 mg a day on day 4 came with no warning."""
    clock.set(at("2026-11-27T09:00:00+00:00"))
    answer = plan(
        taking,
        {
            "start_date": "2026-11-28",
            "steps": [{"day": d, "doses_mg": doses} for d, doses in steps],
        },
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["kind"] == "maintenance"
    rises = {w["field"] for w in answer.get_json()["warnings"] if w["code"].startswith("rise")}
    assert rises == warned
    assert {w["code"] for w in answer.get_json()["warnings"] if w["field"] in warned} <= {
        "rise_above_50_per_day"
    }


@pytest.mark.parametrize("enrolled_start", ["2026-11-25", "2026-11-27"])
def test_a_patient_new_to_clozapine_does_not_start_on_a_maintenance_dose(
    world: World, enrolled_start: str
) -> None:
    """RULES.md 6 "maintenance enters an established patient"; RULES.md 1 hard error "a first
    day above 25 mg" (guideline L52 "12.5 mg once or twice daily"); RULES.md 2 "Baseline
    before starting": a patient enrolled to start clozapine today or later, with no dose ever
    due, was given a maintenance plan of 400 mg from their first day (125 + 275 mg), no
    baseline asked. Such a plan is their start: its first day is held to 12.5-25 mg, and the
    baseline count decides it."""
    new = enrol_patient(nurse(world), "Nova", start=dt.date.fromisoformat(enrolled_start))
    path = f"/api/patients/{new['id']}/dose-plan"
    body = {"times": ["08:00", "21:00"], "start_date": enrolled_start, "kind": "maintenance"}
    refused = nurse(world).put(path, json={**body, "target_mg_per_day": 400})
    assert refused.status_code == 422, refused.get_json()
    assert "steps[0].doses_mg" in refused.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Dose)) == 0
    low = nurse(world).put(path, json={**body, "target_mg_per_day": 25})
    assert low.status_code == 422 and "baseline_anc" in low.get_json()["error"]["fields"]
    add_anc(nurse(world), new["id"], 2000, "2026-11-25T09:00:00+00:00")
    started = nurse(world).put(path, json={**body, "target_mg_per_day": 25})
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["days"][0]["total_mg"] == 25


def test_a_paused_course_takes_a_retitration_plan_only(taking: World, clock: FakeClock) -> None:
    missed(taking, clock)
    refused = plan(
        taking, {"start_date": "2026-11-28", "kind": "maintenance", "target_mg_per_day": 300}
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "retitration_needed"
    too_high = plan(
        taking, {"start_date": "2026-11-28", "steps": [{"day": 1, "doses_mg": [100, 200]}]}
    )
    assert too_high.status_code == 422  # a re-titration starts at 12.5-25 mg (guideline L78)
    assert db.session.scalar(select(func.count()).select_from(Dose).where(Dose.plan_id > 1)) == 0


def test_a_restart_tomorrow_keeps_today_withheld(taking: World, clock: FakeClock) -> None:
    missed(taking, clock)
    answer = plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300})
    assert answer.status_code == 200, answer.get_json()
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("needs_retitration", "2026-11-28")
    assert day(taking, "2026-11-27")["doses_withheld"] is True
    assert [
        (d["local_time"], d["mg"], d["status"]) for d in day(taking, "2026-11-28")["doses"]
    ] == [("21:00", 12.5, "pending")]
    clock.set(at("2026-11-28T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "in_titration"


def test_a_hold_once_a_planned_restart_has_begun_holds(taking: World, clock: FakeClock) -> None:
    """RULES.md 6: a clinician's hold withholds the doses, also of a course that restarted on
    a planned date (the restart is over once it has begun: it does not undo the hold)."""
    missed(taking, clock)
    assert plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300}).status_code == 200
    clock.set(at("2026-11-28T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "in_titration"
    held = act(taking, {"action": "hold", "reason": "Suspected myocarditis: troponin today"})
    assert held.status_code == 201, held.get_json()
    assert held.get_json()["status"]["treatment"] == "held"
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("held", None)
    assert day(taking, "2026-11-28")["doses_withheld"] is True
    assert {d["status"] for d in day(taking, "2026-11-28")["doses"]} == {"withheld"}
    clock.set(at("2026-11-30T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "held"
    assert day(taking, "2026-11-30")["doses_withheld"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"target_mg_per_day": 600},  # the proposal from a dose given by hand
        {"steps": [{"day": 1, "doses_mg": [25, 50]}, {"day": 8, "doses_mg": [0, 0]}]},  # 75
    ],
)
def test_a_taper_does_not_start_above_the_dose_in_force(
    taking: World, clock: FakeClock, body: dict[str, Any]
) -> None:
    """RULES.md 6 "taper steps down to zero" (guideline L74 "taper gradually"), RULES.md 1
    rises: a patient on day 2 of titration (62.5 mg planned for day 3) was given a "taper"
    from 600 mg that started at 562.5 mg the next day, with no error or warning; a taper's
    steps were only checked against each other. A taper whose first day is above the dose the
    plan in force gives that day rises, and is refused (taper_rises); nothing is written."""
    clock.set(at("2026-11-26T09:00:00+00:00"))
    refused = plan(taking, {"start_date": "2026-11-27", "kind": "taper", **body})
    assert refused.status_code == 422, refused.get_json()
    assert "steps[0].doses_mg" in refused.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(Dose).where(Dose.plan_id > 1)) == 0
    down = plan(taking, {"start_date": "2026-11-27", "kind": "taper", "taper_days": 7})
    assert down.status_code == 200, down.get_json()
    assert down.get_json()["days"][0]["total_mg"] == 62.5  # day 3's dose, as planned


def test_a_taper_ends_the_course_as_stopped_without_a_false_alarm(
    world: World, clock: FakeClock
) -> None:
    assert (
        plan(
            world, {"start_date": "2026-11-25", "kind": "maintenance", "target_mg_per_day": 300}
        ).status_code
        == 200
    )
    clock.set(at("2026-11-26T06:00:00+00:00"))
    taper = plan(world, {"start_date": "2026-11-26", "kind": "taper", "taper_days": 7})
    assert taper.status_code == 200, taper.get_json()
    days = taper.get_json()["days"]
    assert days[-1]["total_mg"] == 0 and days[-1]["date"] == "2026-12-03"
    assert summary(world)["treatment"] == "in_titration"
    # the patient takes every taper dose
    moment = at("2026-11-26T00:30:00+00:00")
    while moment < at("2026-12-05T00:00:00+00:00"):
        worker_makes_doses(moment)
        for dose in day(world, moment.date().isoformat())["doses"]:
            when = at(dose["scheduled_at"]) + dt.timedelta(minutes=2)
            clock.set(when)
            assert mark(world, dose["id"], "taken", when).status_code == 201
        moment += dt.timedelta(days=1)
    clock.set(at("2026-12-03T12:00:00+00:00"))
    assert summary(world)["treatment"] == "stopped"
    assert day(world, "2026-12-03")["doses"] == []
    # 48 h after the last taper dose: no missed-dose flag; the stop is recorded
    tick(world.app, at("2026-12-06T12:00:00+00:00"))
    rules = db.session.scalars(
        select(Escalation.rule).where(Escalation.patient_id == world.patient_id)
    ).all()
    assert "missed_doses_48h" not in rules
    state = db.session.get(PatientState, world.patient_id)
    assert state.treatment_status == "stopped" and state.treatment_cause == "taper_completed"
    assert state.treatment_since == at("2026-12-03T00:00:00+00:00")  # London, GMT
    assert summary(world)["treatment_since"] == "2026-12-03T00:00:00+00:00"


def test_a_completed_taper_leaves_no_blood_test_overdue(world: World, clock: FakeClock) -> None:
    """Defect: the ANC due date stored while the taper ran (2026-12-02) stayed after the taper
    ended the course as stopped, and the cycle raised blood_test_overdue (urgent) for a patient
    no longer on clozapine with a normal count, although the schedule asks nothing of them
    (RULES.md 6 "stopped": monitoring continues only where the profile asks; RULES.md 3)."""
    assert (
        add_anc(world.clinician, world.patient_id, 2000, "2026-11-25T09:00:00+00:00").status_code
        == 201
    )
    assert (
        plan(
            world, {"start_date": "2026-11-25", "kind": "maintenance", "target_mg_per_day": 300}
        ).status_code
        == 200
    )
    clock.set(at("2026-11-26T06:00:00+00:00"))
    assert (
        plan(world, {"start_date": "2026-11-26", "kind": "taper", "taper_days": 7}).status_code
        == 200
    )
    moment = at("2026-11-26T00:30:00+00:00")
    while moment < at("2026-12-03T00:00:00+00:00"):
        worker_makes_doses(moment)
        for dose in day(world, moment.date().isoformat())["doses"]:
            when = at(dose["scheduled_at"]) + dt.timedelta(minutes=2)
            clock.set(when)
            assert mark(world, dose["id"], "taken", when).status_code == 201
        moment += dt.timedelta(days=1)
    state = db.session.get(PatientState, world.patient_id)
    state.last_bowel_movement_at = at("2026-12-20T00:00:00+00:00")  # quiet bowel rules
    db.session.commit()
    for when in (at("2026-12-03T12:00:00+00:00"), at("2026-12-06T12:00:00+00:00")):
        clock.set(when)
        tick(world.app, when)
        assert summary(world)["treatment"] == "stopped"
        rules = db.session.scalars(
            select(Escalation.rule).where(Escalation.patient_id == world.patient_id)
        ).all()
        assert "blood_test_overdue" not in rules, when
    assert db.session.get(PatientState, world.patient_id).next_blood_test_due is None


# --- a plan change never loses the day's reminders (issue 17, finding 3) ---------------------


def test_a_plan_change_makes_todays_and_tomorrows_doses_at_once(
    taking: World, clock: FakeClock
) -> None:
    clock.set(at("2026-11-26T12:00:00+00:00"))
    tick(taking.app, clock.now)  # the worker has made today and tomorrow
    before = {d["local_time"] for d in day(taking, "2026-11-27")["doses"]}
    assert before == {"08:00", "21:00"}
    changed = plan(
        taking,
        {
            "start_date": "2026-11-26",
            "times": ["09:00", "22:00"],
            "kind": "maintenance",
            "target_mg_per_day": 50,
        },
    )
    assert changed.status_code == 200, changed.get_json()
    # the doses still to come are the new plan's; the morning's, already due, stays as it was
    doses = [(d["local_time"], d["mg"], d["status"]) for d in day(taking, "2026-11-26")["doses"]]
    assert doses == [("08:00", 12.5, "pending"), ("22:00", 37.5, "pending")]
    tomorrow = [(d["local_time"], d["mg"]) for d in day(taking, "2026-11-27")["doses"]]
    assert tomorrow == [("09:00", 12.5), ("22:00", 37.5)]
    # the new evening dose is reminded at 22:00; the replaced 21:00 is not
    tick(taking.app, at("2026-11-26T21:00:30+00:00"))
    tick(taking.app, at("2026-11-26T22:00:30+00:00"))
    due = set(
        db.session.execute(
            select(OutboxMessage.due_at, Dose.status)
            .join(Dose, Dose.id == OutboxMessage.dose_id)
            .where(OutboxMessage.kind == "dose", OutboxMessage.status == "pending")
        ).all()
    )
    # the old morning dose (already due, not marked) is still reminded; nothing of 21:00
    assert due == {
        (at("2026-11-26T08:00:00+00:00"), "pending"),
        (at("2026-11-26T09:00:00+00:00"), "pending"),  # its caregiver follow-up
        (at("2026-11-26T22:00:00+00:00"), "pending"),
    }


@pytest.mark.parametrize(
    ("first_day_mg", "accepted"),
    [([400, 450], False), ([0, 512.5], False), ([0, 500], True)],  # 1250, 912.5, 900 mg
)
def test_a_plan_from_today_keeps_the_day_within_900_mg_with_the_doses_already_taken(
    world: World, clock: FakeClock, first_day_mg: list[float], accepted: bool
) -> None:
    """RULES.md 1 "never above 900 mg/day" (a hard error; guideline L58): a plan set in the
    middle of its first day keeps the earlier plan's doses taken or due that day, so they
    count towards the day. An established patient on 400 + 450 mg took 400 mg at 08:00; a
    plan from that day with 400 mg at 12:00 and 450 mg at 21:00 asked them for 1250 mg.
    Now refused naming the start date (it can start tomorrow); 900 mg in all is allowed."""
    first = plan(
        world,
        {
            "start_date": "2026-11-25",
            "kind": "maintenance",
            "steps": [{"day": 1, "doses_mg": [400, 450]}],
        },
    )
    assert first.status_code == 200, first.get_json()
    clock.set(at("2026-11-26T08:05:00+00:00"))
    tick(world.app, clock.now)
    morning = day(world, "2026-11-26")["doses"][0]
    assert (morning["local_time"], morning["mg"]) == ("08:00", 400.0)
    assert mark(world, morning["id"], "taken", at("2026-11-26T08:00:00+00:00")).status_code == 201
    clock.set(at("2026-11-26T10:00:00+00:00"))
    steps = [{"day": 1, "doses_mg": first_day_mg}, {"day": 2, "doses_mg": [400, 450]}]
    body = {"times": ["12:00", "21:00"], "steps": steps}
    today = plan(world, {**body, "start_date": "2026-11-26"})
    doses = [(d["local_time"], d["mg"], d["status"]) for d in day(world, "2026-11-26")["doses"]]
    if accepted:
        assert today.status_code == 200, today.get_json()
        assert doses == [("08:00", 400.0, "taken"), ("21:00", 500.0, "pending")]
        return
    assert today.status_code == 422, today.get_json()
    assert "start_date" in today.get_json()["error"]["fields"]
    assert doses == [("08:00", 400.0, "taken"), ("21:00", 450.0, "pending")]  # nothing written
    tomorrow = plan(world, {**body, "start_date": "2026-11-27"})
    assert tomorrow.status_code == 200, tomorrow.get_json()


def test_reading_doses_writes_nothing(taking: World) -> None:
    count = db.session.scalar(select(func.count()).select_from(Dose))
    for date in ("2026-12-20", "9999-12-31", "2025-01-01"):
        assert day(taking, date)["doses"] == []
    assert db.session.scalar(select(func.count()).select_from(Dose)) == count


# --- tracking for every enrolled patient, whoever logs (RULES.md 7) --------------------------


def test_a_patient_whose_caregiver_logs_everything_is_tracked(
    world: World, clock: FakeClock
) -> None:
    team = nurse(world)
    created = enrol_patient(team, "Robin", start=dt.date(2026, 11, 25))
    pid = created["id"]
    invite = team.post(f"/api/patients/{pid}/caregiver-invites").get_json()["code"]
    assert activate(world.app, invite, "kim@example.org").status_code == 201
    kim = ApiClient(world.app, "kim@example.org")
    assert add_anc(team, pid, 2000, "2026-11-25T09:00:00+00:00").status_code == 201
    answer = team.put(
        f"/api/patients/{pid}/dose-plan",
        json={"start_date": "2026-11-25", "times": ["21:00"], "target_mg_per_day": 100},
    )
    assert answer.status_code == 200, answer.get_json()
    # the 21:00 dose is reminded to Kim, who logs for Robin
    tick(world.app, at("2026-11-25T21:00:30+00:00"))
    kim_id = kim.user["id"]
    reminded = db.session.scalars(
        select(OutboxMessage.recipient_user_id).where(
            OutboxMessage.kind == "dose", OutboxMessage.patient_id == pid
        )
    ).all()
    assert reminded == [kim_id]
    # nothing logged: the 48 h prompt goes to Kim, then the 72 h and missed-dose flags open
    tick(world.app, at("2026-11-27T12:30:00+00:00"))
    prompts = db.session.scalars(
        select(OutboxMessage.recipient_user_id).where(
            OutboxMessage.patient_id == pid,
            OutboxMessage.payload["prompt"].as_string() == "bowel_check_48h",
        )
    ).all()
    assert prompts == [kim_id]
    tick(world.app, at("2026-11-28T12:30:00+00:00"))
    rules = set(db.session.scalars(select(Escalation.rule).where(Escalation.patient_id == pid)))
    assert {"no_bowel_movement_72h", "missed_doses_48h"} <= rules


# --- breaks in hours change the blood-test schedule (RULES.md 6; guideline L104) -------------


def test_a_59_hour_break_brings_weekly_counts_back(world: World, clock: FakeClock) -> None:
    """Treated since March (the 2-weekly phase in November): a 59 h break that the app flagged
    is a break of more than 2 days, so the next count is due in 7 days, not 14."""
    team = nurse(world)
    created = enrol_patient(team, "Morgan", start=dt.date(2026, 3, 2))
    pid = created["id"]
    assert activate(world.app, created["activation_code"], "morgan@example.org").status_code == 201
    morgan = ApiClient(world.app, "morgan@example.org")
    assert add_anc(team, pid, 2100, "2026-11-25T09:00:00+00:00").status_code == 201
    first = team.put(
        f"/api/patients/{pid}/dose-plan",
        json={
            "start_date": "2026-11-25",
            "times": ["21:00"],
            "kind": "maintenance",
            "target_mg_per_day": 350,
        },
    )
    assert first.status_code == 200, first.get_json()
    evening = morgan.get(f"/api/patients/{pid}/doses").get_json()["doses"][0]
    clock.set(TAKEN + dt.timedelta(minutes=1))
    assert (
        morgan.post(
            f"/api/patients/{pid}/dose-events",
            json={"dose_id": evening["id"], "status": "taken", "at": TAKEN.isoformat()},
        ).status_code
        == 201
    )
    blood = morgan.get(f"/api/patients/{pid}").get_json()["next_blood_test"]
    assert blood["due_date"] == "2026-12-09"  # every 2 weeks from the count of Nov 25
    tick(world.app, TAKEN + dt.timedelta(hours=48, minutes=1))
    restart = at("2026-11-28T08:00:00+00:00")  # 59 h after the last dose
    clock.set(restart - dt.timedelta(hours=1))
    answer = nurse(world).put(
        f"/api/patients/{pid}/dose-plan",
        json={
            "start_date": "2026-11-28",
            "times": ["08:00"],
            "steps": [{"day": 1, "doses_mg": [12.5]}, {"day": 2, "doses_mg": [25]}],
        },
    )
    assert answer.status_code == 200, answer.get_json()
    dose = morgan.get(f"/api/patients/{pid}/doses").get_json()["doses"][0]
    clock.set(restart + dt.timedelta(minutes=5))
    assert (
        morgan.post(
            f"/api/patients/{pid}/dose-events",
            json={"dose_id": dose["id"], "status": "taken", "at": restart.isoformat()},
        ).status_code
        == 201
    )
    gap = db.session.scalars(
        select(TreatmentInterruption).where(TreatmentInterruption.patient_id == pid)
    ).one()
    assert (gap.resumed_at - gap.gap_from) == dt.timedelta(hours=59)
    blood = morgan.get(f"/api/patients/{pid}").get_json()["next_blood_test"]
    assert blood["due_date"] == "2026-12-02"  # weekly from the count of Nov 25


def test_a_retitration_starts_the_myocarditis_watch_again(world: World, clock: FakeClock) -> None:
    """RULES.md 6: "After re-titration the days 1-28 myocarditis watch and daily check-in start
    again" (Alex started on Nov 1: day 25 today; a re-titration from Dec 10 is day 1 again)."""
    assert (
        plan(
            world, {"start_date": "2026-11-25", "kind": "maintenance", "target_mg_per_day": 300}
        ).status_code
        == 200
    )
    clock.set(at("2026-12-10T06:00:00+00:00"))
    state = db.session.get(PatientState, world.patient_id)
    db.session.refresh(state)
    assert act(world, {"action": "hold", "reason": "unwell"}).status_code == 201
    add_anc(nurse(world), world.patient_id, 2000, "2026-12-10T05:00:00+00:00")
    assert plan(world, {"start_date": "2026-12-10", "target_mg_per_day": 300}).status_code == 200
    db.session.expire_all()
    state = db.session.get(PatientState, world.patient_id)
    assert state.course_started_on == dt.date(2026, 12, 10)
    assert state.next_check_in_at == at("2026-12-10T18:00:00+00:00")


def test_a_count_that_calls_off_a_planned_restart_withholds_its_doses(
    taking: World, clock: FakeClock
) -> None:
    """RULES.md 6: interrupted by a clinic count means doses withheld and no dose reminders;
    a re-titration planned for tomorrow, made pending already, is called off by a count in
    the interrupt band today (CONTRACT.md: withheld, never pending)."""
    missed(taking, clock)
    assert plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300}).status_code == 200
    assert {d["status"] for d in day(taking, "2026-11-28")["doses"]} == {"pending"}
    clock.set(at("2026-11-27T22:00:00+00:00"))
    counted = add_anc(nurse(taking), taking.patient_id, 700, "2026-11-27T21:30:00+00:00")
    assert counted.status_code == 201, counted.get_json()
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("interrupted", None)
    assert {d["status"] for d in day(taking, "2026-11-28")["doses"]} == {"withheld"}
    assert db.session.get(PatientState, taking.patient_id).doses_due_since is None
    moment = clock.now
    while moment < at("2026-11-29T00:00:00+00:00"):
        moment += dt.timedelta(minutes=15)
        tick(taking.app, moment)
    clock.set(moment)
    assert summary(taking)["treatment"] == "interrupted"
    reminders = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "dose", OutboxMessage.due_at > at("2026-11-28T00:00:00+00:00")
        )
    ).all()
    assert reminders == []


def test_a_count_before_a_planned_first_day_calls_the_start_off(
    world: World, clock: FakeClock
) -> None:
    """RULES.md 6: a clinic ANC in an interrupt band -> interrupted, doses withheld and not
    reminded; RULES.md 2: the plan cannot start below the baseline. A plan set yesterday for
    today is not started by a count in the moderate band that arrived in between."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    assert summary(world)["treatment"] == "not_started"
    counted = add_anc(nurse(world), world.patient_id, 700, "2026-11-25T11:30:00+00:00")
    assert counted.status_code == 201, counted.get_json()
    status = summary(world)
    assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "anc_interrupt")
    assert status["doses_withheld"] is True
    assert {d["status"] for d in day(world, "2026-11-26")["doses"]} == {"withheld"}
    moment = clock.now
    while moment < at("2026-11-27T00:00:00+00:00"):
        moment += dt.timedelta(minutes=15)
        tick(world.app, moment)
    clock.set(moment)
    assert summary(world)["treatment"] == "interrupted"
    assert day(world, "2026-11-26")["doses_withheld"] is True
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dose")).all() == []
    assert db.session.scalar(select(func.count()).select_from(TreatmentInterruption)) == 0
    # leaving is the clinician's act, once the count has recovered
    refused = act(world, {"action": "resume", "reason": "start as planned"})
    assert refused.get_json()["error"]["code"] == "anc_not_recovered"
    add_anc(nurse(world), world.patient_id, 1800, "2026-11-26T23:30:00+00:00")
    # the plan's first day has passed without a dose: a resume would start at day 2 (37.5 mg),
    # so the start is a re-titration plan from day 1 (RULES.md 6 "<= 25 mg on day 1")
    resumed = act(world, {"action": "resume", "reason": "ANC 1800"})
    assert resumed.get_json()["error"]["code"] == "retitration_needed"
    restart = plan(world, {"start_date": "2026-11-27", "target_mg_per_day": 300})
    assert restart.status_code == 200, restart.get_json()
    assert summary(world)["treatment"] == "in_titration"
    assert [(d["status"], d["mg"]) for d in day(world, "2026-11-27")["doses"]] == [
        ("pending", 12.5)
    ]


def test_a_count_before_a_planned_rechallenge_calls_it_off(taking: World, clock: FakeClock) -> None:
    """As above, for a restart planned after a stop (RULES.md 6: stopped --plan--> restart)."""
    clock.set(at("2026-11-26T10:00:00+00:00"))
    stopped = act(taking, {"action": "stop", "reason": "Patient choice", "rechallenge": "advised"})
    assert stopped.status_code == 201, stopped.get_json()
    restart = plan(taking, {"start_date": "2026-11-27", "target_mg_per_day": 300})
    assert restart.status_code == 200, restart.get_json()
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("stopped", "2026-11-27")
    assert {d["status"] for d in day(taking, "2026-11-27")["doses"]} == {"pending"}
    counted = add_anc(nurse(taking), taking.patient_id, 700, "2026-11-26T09:30:00+00:00")
    assert counted.status_code == 201, counted.get_json()
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("interrupted", None)
    assert {d["status"] for d in day(taking, "2026-11-27")["doses"]} == {"withheld"}
    clock.set(at("2026-11-27T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "interrupted"
    assert day(taking, "2026-11-27")["doses_withheld"] is True


def test_a_stop_is_no_way_round_a_count_that_has_not_recovered(taking: World) -> None:
    """RULES.md 6: leaving interrupted takes a recovered count (guideline L140); stopping the
    interrupted course and restarting it at once is the same restart, refused alike, and an
    established patient whose latest clinic count stops clozapine does not enter on a
    maintenance dose either (RULES.md 2 severe: stop)."""
    add_anc(nurse(taking), taking.patient_id, 400, "2026-11-25T21:03:00+00:00")
    assert summary(taking)["treatment"] == "interrupted"
    stopped = act(taking, {"action": "stop", "reason": "ANC 400", "rechallenge": "advised"})
    assert stopped.status_code == 201, stopped.get_json()
    restart = plan(
        taking, {"start_date": "2026-11-26", "kind": "retitration", "target_mg_per_day": 300}
    )
    assert restart.status_code == 409, restart.get_json()
    assert restart.get_json()["error"]["code"] == "anc_not_recovered"
    # an initiation is a new start: the baseline check refuses it, naming the count
    anew = plan(
        taking, {"start_date": "2026-11-26", "kind": "initiation", "target_mg_per_day": 300}
    )
    assert anew.status_code == 422 and "baseline_anc" in anew.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.max(Dose.plan_id))) == 1
    assert summary(taking)["treatment"] == "stopped"


def test_an_established_patient_whose_latest_count_stops_clozapine_does_not_enter(
    world: World,
) -> None:
    add_anc(nurse(world), world.patient_id, 800, "2026-11-25T09:00:00+00:00")
    entered = plan(
        world, {"start_date": "2026-11-25", "kind": "maintenance", "target_mg_per_day": 400}
    )
    assert entered.status_code == 409, entered.get_json()
    assert entered.get_json()["error"]["code"] == "anc_not_recovered"
    assert db.session.scalar(select(func.count()).select_from(Dose)) == 0
    assert summary(world)["treatment"] == "not_started"


def test_a_start_planned_for_tomorrow_can_be_held(world: World, clock: FakeClock) -> None:
    """RULES.md 6 `held`: a clinician holds treatment (here, a suspected myocarditis in the
    family history to look into): a first plan set for tomorrow could not be held or stopped,
    and would have begun."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    assert summary(world)["treatment_actions"] == ["hold"]
    held = act(world, {"action": "hold", "reason": "ECG to review first"})
    assert held.status_code == 201, held.get_json()
    assert held.get_json()["status"]["treatment"] == "held"
    assert {d["status"] for d in day(world, "2026-11-26")["doses"]} == {"withheld"}
    clock.set(at("2026-11-26T09:00:00+00:00"))
    tick(world.app, clock.now)
    assert summary(world)["treatment"] == "held"
    assert day(world, "2026-11-26")["doses_withheld"] is True
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dose")).all() == []


def test_a_hold_calls_off_a_planned_retitration(taking: World, clock: FakeClock) -> None:
    """A re-titration planned for tomorrow could be called off only by a stop (which ends the
    diary's tracking); a hold keeps the course paused, its restart called off."""
    missed(taking, clock)
    assert plan(taking, {"start_date": "2026-11-28", "target_mg_per_day": 300}).status_code == 200
    assert "hold" in summary(taking)["treatment_actions"]
    held = act(taking, {"action": "hold", "reason": "Fever: see the GP first"})
    assert held.status_code == 201, held.get_json()
    status = summary(taking)
    assert (status["treatment"], status["restart_on"]) == ("needs_retitration", None)
    assert {d["status"] for d in day(taking, "2026-11-28")["doses"]} == {"withheld"}
    clock.set(at("2026-11-28T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "needs_retitration"
    assert db.session.get(PatientState, taking.patient_id).tracking_since is not None


# --- the baseline before a start (RULES.md 2 line 45, RULES.md 7 line 134) -------------------


def _dose_reminders(since: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "dose", OutboxMessage.due_at > at(since)
            )
        ).all()
    )


def _ticks(world: World, clock: FakeClock, until: str, every: dt.timedelta) -> None:
    moment = clock.now
    while moment < at(until):
        moment += every
        tick(world.app, moment)
    clock.set(moment)


def test_a_count_below_the_baseline_calls_off_a_start_planned_for_next_week(
    world: World, clock: FakeClock
) -> None:
    """RULES.md 2: "Baseline before starting: >= 1500 ... or the plan cannot start". A plan set
    on a good baseline for next week is not started by a count of 1200 that arrived in
    between, though its band (mild) continues a course already taken: the start is called
    off (interrupted, baseline_low), the team is told with the count's escalation, the doses
    are withheld and not reminded, and the patient reads that the start is put off."""
    start_plan(world, start="2026-12-01", baseline_at="2026-11-25T09:00:00+00:00")
    assert summary(world)["treatment"] == "not_started"
    clock.set(at("2026-11-27T12:00:00+00:00"))
    counted = add_anc(nurse(world), world.patient_id, 1200, "2026-11-27T09:00:00+00:00")
    assert counted.status_code == 201, counted.get_json()
    assert counted.get_json()["interpretation"]["band"] == "mild"
    status = summary(world)
    assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "baseline_low")
    assert status["doses_withheld"] is True and status["restart_on"] is None
    told = nurse(world).get(f"/api/patients/{world.patient_id}").get_json()["treatment_advice"]
    assert told["title"] == "Do not start clozapine yet"
    flag = db.session.scalars(select(Escalation).where(Escalation.rule == "anc_mild")).one()
    assert flag.severity == "urgent" and "2026-12-01 is called off" in flag.summary
    event = db.session.scalars(select(TreatmentEvent).order_by(TreatmentEvent.id.desc())).first()
    assert event is not None
    assert (event.from_state, event.to_state, event.cause) == (
        "not_started",
        "interrupted",
        "baseline_low",
    )
    # the start day comes: its doses are withheld, none is reminded
    clock.set(at("2026-11-30T22:00:00+00:00"))
    tick(world.app, clock.now)
    _ticks(world, clock, "2026-12-02T00:00:00+00:00", dt.timedelta(minutes=30))
    assert summary(world)["treatment"] == "interrupted"
    start_day = day(world, "2026-12-01")
    assert start_day["doses"] and {d["status"] for d in start_day["doses"]} == {"withheld"}
    assert _dose_reminders("2026-11-25T00:00:00+00:00") == []
    # a count that is back above the baseline starts nothing by itself: the clinician does
    add_anc(nurse(world), world.patient_id, 1600, "2026-12-01T23:00:00+00:00")
    assert summary(world)["treatment"] == "interrupted"


def test_a_start_called_off_below_the_baseline_is_not_restarted_round_it(
    world: World, clock: FakeClock
) -> None:
    """Clozapine has not begun, so leaving the called-off start is a start too: a resume or a
    plan set again while the latest count is below the baseline is refused and writes
    nothing (a re-titration after doses were taken waits only for a recovered count); with a
    count at the baseline the plan is set again and begins."""
    start_plan(world, start="2026-11-27", baseline_at="2026-11-25T09:00:00+00:00")
    add_anc(nurse(world), world.patient_id, 1499, "2026-11-25T11:00:00+00:00")
    assert summary(world)["treatment_cause"] == "baseline_low"
    assert set(summary(world)["plan_kinds"]) == {"retitration"}
    refused = act(world, {"action": "resume", "reason": "start as planned"})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "baseline_anc_needed"
    again = plan(world, {"start_date": "2026-11-27", "target_mg_per_day": 300})
    assert again.status_code == 422 and "baseline_anc" in again.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(TreatmentEvent)) == 2
    assert summary(world)["treatment"] == "interrupted"
    add_anc(nurse(world), world.patient_id, 1500, "2026-11-25T11:30:00+00:00")
    again = plan(world, {"start_date": "2026-11-27", "target_mg_per_day": 300})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["kind"] == "retitration"
    clock.set(at("2026-11-27T09:00:00+00:00"))
    assert summary(world)["treatment"] == "in_titration"


@pytest.mark.parametrize(
    ("ben", "earlier", "count", "called_off"),
    [
        # RULES.md 2 line 45: >= 1500 general population
        (False, None, 1499, True),
        (False, None, 1500, False),
        # BEN >= 1000, two counts needed (the plan's 2000 and one more)
        (True, 1100, 999, True),
        (True, 1100, 1000, False),
    ],
)
def test_a_count_on_the_baseline_lets_the_start_go_ahead(
    world: World, clock: FakeClock, ben: bool, earlier: float | None, count: float, called_off: bool
) -> None:
    """The boundary through the API: a plan for tomorrow (its doses made already), then a
    clinic count today; at the baseline the start goes ahead and its doses are reminded."""
    patient = db.session.get(Patient, world.patient_id)
    assert patient is not None
    patient.benign_ethnic_neutropenia = ben  # set at enrolment (no path changes it)
    db.session.commit()
    if earlier is not None:
        add_anc(nurse(world), world.patient_id, earlier, "2026-11-24T09:00:00+00:00")
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    assert {d["status"] for d in day(world, "2026-11-26")["doses"]} == {"pending"}
    counted = add_anc(nurse(world), world.patient_id, count, "2026-11-25T11:00:00+00:00")
    assert counted.status_code == 201, counted.get_json()
    _ticks(world, clock, "2026-11-27T00:00:00+00:00", dt.timedelta(minutes=15))
    status = summary(world)
    if called_off:
        assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "baseline_low")
        assert {d["status"] for d in day(world, "2026-11-26")["doses"]} == {"withheld"}
        assert _dose_reminders("2026-11-25T00:00:00+00:00") == []
    else:
        assert status["treatment"] == "in_titration"
        assert {d["status"] for d in day(world, "2026-11-26")["doses"]} == {"pending"}
        assert _dose_reminders("2026-11-25T00:00:00+00:00") != []


def test_a_plan_refused_for_a_low_baseline_waits_for_the_clinician(world: World) -> None:
    """The other direction: a plan refused for a baseline of 1200 leaves nothing behind, and a
    good count later starts nothing by itself; the clinician sets the plan again."""
    add_anc(nurse(world), world.patient_id, 1200, "2026-11-25T09:00:00+00:00")
    refused = plan(world, {"start_date": "2026-11-26", "target_mg_per_day": 300})
    assert refused.status_code == 422 and "baseline_anc" in refused.get_json()["error"]["fields"]
    add_anc(nurse(world), world.patient_id, 1600, "2026-11-25T11:00:00+00:00")
    status = summary(world)
    assert (status["treatment"], status["treatment_cause"]) == ("not_started", "enrolled")
    assert db.session.scalar(select(func.count()).select_from(Dose)) == 0
    assert db.session.scalar(select(func.count()).select_from(TreatmentEvent)) == 0
    assert plan(world, {"start_date": "2026-11-26", "target_mg_per_day": 300}).status_code == 200


def test_a_restart_after_a_stop_reads_the_baseline_only_as_an_initiation(
    taking: World, clock: FakeClock
) -> None:
    """After clozapine was taken and stopped, an initiation is a new start that the baseline
    decides (when set, and so when a count comes before it); a re-titration (guideline L78:
    re-initiate at 12.5 mg) waits only for a count out of the interrupt and stop bands, so a
    mild count does not call it off."""
    clock.set(at("2026-11-26T10:00:00+00:00"))
    stopped = act(taking, {"action": "stop", "reason": "Patient choice", "rechallenge": "advised"})
    assert stopped.status_code == 201, stopped.get_json()
    anew = plan(
        taking, {"start_date": "2026-11-28", "kind": "initiation", "target_mg_per_day": 300}
    )
    assert anew.status_code == 200, anew.get_json()
    add_anc(nurse(taking), taking.patient_id, 1200, "2026-11-26T09:30:00+00:00")
    status = summary(taking)
    assert (status["treatment"], status["treatment_cause"]) == ("interrupted", "baseline_low")
    assert status["restart_on"] is None
    # a re-titration, set once the count is back
    add_anc(nurse(taking), taking.patient_id, 1600, "2026-11-26T09:40:00+00:00")
    again = plan(
        taking, {"start_date": "2026-11-28", "kind": "retitration", "target_mg_per_day": 300}
    )
    assert again.status_code == 200, again.get_json()
    assert summary(taking)["restart_on"] == "2026-11-28"
    add_anc(nurse(taking), taking.patient_id, 1200, "2026-11-26T09:50:00+00:00")
    assert summary(taking)["restart_on"] == "2026-11-28"
    clock.set(at("2026-11-28T09:00:00+00:00"))
    assert summary(taking)["treatment"] == "in_titration"


def test_a_start_held_past_its_first_days_is_not_resumed_at_a_later_days_dose(
    world: World, clock: FakeClock
) -> None:
    """RULES.md 1 "start 12.5 mg once or twice daily", 6 "initiation and retitration start at
    <= 25 mg on day 1" (guideline L52): a first plan held before its start and resumed five
    days later offered day 6's doses (37.5 and 100 mg) to a patient who had never taken
    clozapine. The resume is refused with what to do instead, and writes nothing; a
    re-titration plan from today starts at day 1."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    assert act(world, {"action": "hold", "reason": "ECG to review first"}).status_code == 201
    clock.set(at("2026-12-01T09:00:00+00:00"))
    tick(world.app, clock.now)
    events_before = db.session.scalar(select(func.count()).select_from(TreatmentEvent))
    resumed = act(world, {"action": "resume", "reason": "ECG is fine"})
    assert resumed.status_code == 409, resumed.get_json()
    error = resumed.get_json()["error"]
    assert error["code"] == "retitration_needed"
    assert "day 6" in error["message"] and "137.5 mg" in error["message"]
    assert db.session.scalar(select(func.count()).select_from(TreatmentEvent)) == events_before
    assert summary(world)["treatment"] == "held"
    assert {d["status"] for d in day(world, "2026-12-01")["doses"]} == {"withheld"}
    restart = plan(
        world, {"kind": "retitration", "start_date": "2026-12-01", "target_mg_per_day": 300}
    )
    assert restart.status_code == 200, restart.get_json()
    offered = [d["mg"] for d in day(world, "2026-12-01")["doses"] if d["status"] == "pending"]
    assert offered == [12.5]


def test_a_start_held_and_resumed_on_its_first_day_starts_at_day_1(
    world: World, clock: FakeClock
) -> None:
    """The other side of the boundary: resumed on the plan's first day, the start goes on at
    its first day's dose (12.5 mg; RULES.md 6)."""
    start_plan(world, start="2026-11-26", baseline_at="2026-11-25T09:00:00+00:00")
    assert act(world, {"action": "hold", "reason": "ECG to review first"}).status_code == 201
    clock.set(at("2026-11-26T07:00:00+00:00"))
    resumed = act(world, {"action": "resume", "reason": "ECG is fine"})
    assert resumed.status_code == 201, resumed.get_json()
    assert sum(d["mg"] for d in day(world, "2026-11-26")["doses"]) == 12.5


# --- a dose taken before a pause or stop, logged after a restart plan replaced it ----------------
# RULES.md 6: leaving `held` (or `stopped`) is a clinician's act, a re-titration (or initiation)
# plan; its doses replace the earlier plan's still to come (services/doses.py replace_from). A
# dose swallowed while the course was running, before the pause or stop (or the plan, with no
# pause before it), inside its window, is still a dose taken: nothing a patient entered is lost.
# It counts as the last dose taken (RULES.md 1, the 48 h clock) and changes nothing of the
# course. At or after that moment it is refused, 409 `dose_replaced`.

EARLY = at("2026-11-26T07:40:00+00:00")  # day 2's 08:00 dose, swallowed with the phone offline
PAUSE = at("2026-11-26T07:45:00+00:00")
RESTART = at("2026-11-26T07:50:00+00:00")


def restarted_before_eight(world: World, clock: FakeClock, action: str) -> dict[str, Any]:
    """Day 2's doses made at 07:00; the course held (or stopped) at 07:45 and a re-titration
    (or initiation) plan from today set at 07:50, which replaces the 08:00 dose still to come;
    returns that dose as it was listed."""
    clock.set(at("2026-11-26T07:00:00+00:00"))
    worker_makes_doses(clock.now)
    morning = day(world, "2026-11-26")["doses"][0]
    assert (morning["local_time"], morning["status"]) == ("08:00", "pending")
    clock.set(PAUSE)
    body = {"action": action, "reason": "Chest infection"}
    if action == "stop":
        body["rechallenge"] = "advised"
    assert act(world, body).status_code == 201
    clock.set(RESTART)
    kind = "retitration" if action == "hold" else "initiation"
    restarted = plan(
        world,
        {
            "start_date": "2026-11-26",
            "kind": kind,
            "titration": "standard",
            "target_mg_per_day": 300,
        },
    )
    assert restarted.status_code == 200, restarted.get_json()
    assert db.session.get(Dose, morning["id"]).status == "cancelled"
    return morning


@pytest.mark.parametrize("action", ["hold", "stop"])
def test_a_dose_taken_before_the_pause_is_recorded_after_a_restart_plan_replaced_it(
    taking: World, clock: FakeClock, action: str
) -> None:
    morning = restarted_before_eight(taking, clock, action)
    restarted = summary(taking)
    new_doses = [(d["id"], d["status"]) for d in day(taking, "2026-11-26")["doses"]]
    clock.set(at("2026-11-26T09:00:00+00:00"))  # the phone comes back online
    answer = mark(taking, morning["id"], "taken", EARLY)
    assert answer.status_code == 201, answer.get_json()
    listed = day(taking, "2026-11-26")["doses"]
    assert (listed[0]["id"], listed[0]["status"]) == (morning["id"], "taken")
    assert [(d["id"], d["status"]) for d in listed[1:]] == new_doses  # the new plan's, untouched
    status = summary(taking)
    assert at(status["last_dose_taken_at"]) == EARLY
    # the course is the clinician's: recording the dose changes nothing of it
    assert (status["treatment"], status["treatment_since"]) == (
        restarted["treatment"],
        restarted["treatment_since"],
    )
    state = db.session.get(PatientState, taking.patient_id)
    db.session.refresh(state)
    assert at(state.doses_due_since.isoformat()) > RESTART
    gap = db.session.scalars(select(TreatmentInterruption)).one()
    assert (gap.gap_from, gap.resumed_at) == (EARLY, None)
    assert taken_count() == 2


@pytest.mark.parametrize("action", ["hold", "stop"])
@pytest.mark.parametrize("taken_at", [PAUSE, PAUSE + dt.timedelta(minutes=2), RESTART])
def test_a_dose_taken_at_or_after_the_pause_stays_refused_after_a_restart_plan(
    taking: World, clock: FakeClock, action: str, taken_at: dt.datetime
) -> None:
    morning = restarted_before_eight(taking, clock, action)
    clock.set(at("2026-11-26T09:00:00+00:00"))
    refused = mark(taking, morning["id"], "taken", taken_at)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "dose_replaced"
    assert error["message"].startswith(
        "Your care team changed this dose at 2026-11-26 07:45 (Europe/London)"
    )
    assert "Check today's doses" in error["message"]
    assert taken_count() == 1
    assert db.session.get(Dose, morning["id"]).status == "cancelled"
    assert at(summary(taking)["last_dose_taken_at"]) == TAKEN


def test_a_first_start_on_a_maintenance_plan_held_past_its_first_days_is_not_resumed(
    world: World, clock: FakeClock
) -> None:
    """As above for a maintenance plan that is a new patient's start (its first day held to
    12.5-25 mg, then rising): resumed on its fourth day it would begin at 75 mg a day
    (RULES.md 1, 6; guideline L52)."""
    new = enrol_patient(nurse(world), "Nova", start=dt.date(2026, 11, 27))
    add_anc(nurse(world), new["id"], 2000, "2026-11-25T09:00:00+00:00")
    steps = [{"day": 1, "doses_mg": [12.5, 12.5]}, {"day": 3, "doses_mg": [25, 50]}]
    path = f"/api/patients/{new['id']}"
    body = {"times": ["08:00", "21:00"], "start_date": "2026-11-27", "kind": "maintenance"}
    started = nurse(world).put(f"{path}/dose-plan", json={**body, "steps": steps})
    assert started.status_code == 200, started.get_json()
    held = nurse(world).post(f"{path}/treatment-events", json={"action": "hold", "reason": "ECG"})
    assert held.status_code == 201, held.get_json()
    clock.set(at("2026-11-30T07:00:00+00:00"))
    resumed = nurse(world).post(
        f"{path}/treatment-events", json={"action": "resume", "reason": "ECG is fine"}
    )
    assert resumed.status_code == 409, resumed.get_json()
    assert resumed.get_json()["error"]["code"] == "retitration_needed"
    assert "75 mg" in resumed.get_json()["error"]["message"]
