"""Two changes of one patient's treatment course at once take turns (RULES.md 6): two
clinicians, or a clinician and the worker's cycle. The second waits until the first has
committed and then decides on its result, so neither writes over the other: a stop after a
hold is a stop of the held course, a count below 500 during a hold interrupts it with the
"rechallenge not advised" marker, and missed doses do not pause a course held a moment ago.

Each act runs in a thread of its own, with its own app context and database session. The
first is a hold that stops, once it has decided and is about to write the held course, until
the test lets it go; the second is started then. PostgreSQL: the second is seen waiting on the
first (`pg_blocking_pids`) because the hold read the patient's summary row with a row lock
(services/state.py `get_state(..., for_update=True)`); without that lock it reads the course
as it was, and one of the two writes over the other. SQLite: the second is seen queued behind
the first's write lock, taken at the first statement of the hold's work (server/db.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import Session

from reminders.cycle import run_cycle
from server.extensions import db
from server.models import Dose, Escalation, OutboxMessage, PatientState, TreatmentEvent
from tests.conftest import BACKENDS
from tests.support.clock import FakeClock
from tests.support.world import ApiClient, World, add_anc, care_team_user, start_plan

UTC = dt.UTC
TAKEN = dt.datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # day 1's only dose, taken at bedtime
# the moment both act: 48 h and a minute after the last dose, so the cycle's missed-dose rule
# holds for a course still in progress
BOTH_ACT = TAKEN + dt.timedelta(hours=48, minutes=1)
WAIT = 20.0  # seconds: at most, for what each step waits on


@pytest.fixture
def taking(world: World, clock: FakeClock) -> World:
    """Alex on the standard plan from 25 November, the first dose taken at 21:00; the diary
    kept so that only the dose rules can fire; a second clinician at Alex's clinic."""
    start_plan(world, start="2026-11-25", baseline_at="2026-11-25T09:00:00+00:00")
    clock.set(TAKEN + dt.timedelta(minutes=5))
    doses = world.patient.get(f"/api/patients/{world.patient_id}/doses?date=2026-11-25")
    first = doses.get_json()["doses"][0]
    marked = world.patient.post(
        f"/api/patients/{world.patient_id}/dose-events",
        json={"dose_id": first["id"], "status": "taken", "at": TAKEN.isoformat()},
    )
    assert marked.status_code == 201, marked.get_json()
    state = db.session.get(PatientState, world.patient_id)
    assert state is not None
    state.last_bowel_movement_at = TAKEN + dt.timedelta(days=10)  # quiet bowel rules
    care_team_user(world.app, "dr.west@example.org", "North clinic")
    db.session.commit()
    clock.set(BOTH_ACT)
    return world


class Hold(threading.Thread):
    """Dr North holds the course through the API, in a session of its own, and stops once
    the held course is decided and about to be written, until `go` is set."""

    def __init__(self, world: World) -> None:
        super().__init__(daemon=True)
        self.world = world
        self.client = ApiClient(world.app, "dr.north@example.org")
        self.deciding = threading.Event()
        self.go = threading.Event()
        self.backend_pid: int | None = None
        self.status: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.world.app.app_context():  # the request below uses this context's session
                session = db.session()
                event.listen(session, "before_flush", self._about_to_write)
                if db.engine.dialect.name == "postgresql":
                    self.backend_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
                response = self.client.post(
                    f"/api/patients/{self.world.patient_id}/treatment-events",
                    json={"action": "hold", "reason": "Procedure on Monday"},
                )
                self.status = response.status_code
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.deciding.set()

    def _about_to_write(self, session: Session, *args: Any) -> None:
        if self.go.is_set() or not any(isinstance(o, PatientState) for o in session.dirty):
            return
        self.deciding.set()
        assert self.go.wait(WAIT), "the test never let the hold go on"


class Second(threading.Thread):
    """The other act, in its own app context (and so its own session)."""

    def __init__(self, act: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.act = act
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.act()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.done.set()


def _waits_on(app: Flask, hold: Hold) -> Callable[[], bool]:
    """Whether some connection now waits for the hold's transaction (PostgreSQL: a backend
    it blocks; SQLite: a writer queued on the database's writers lock file, server/db.py)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        inode = os.stat(f"{path}-writers").st_ino
        waiter = re.compile(rf"->\s+FLOCK\s+\S+\s+\S+\s+\d+\s+[0-9a-f]+:[0-9a-f]+:{inode}\s")

        def queued() -> bool:
            with open("/proc/locks") as locks:
                return any(waiter.search(line) for line in locks)

        return queued
    engine = create_engine(url)

    def blocked() -> bool:
        with engine.connect() as connection:
            return bool(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND :pid = ANY(pg_blocking_pids(pid))"
                    ),
                    {"pid": hold.backend_pid},
                )
            )

    return blocked


@contextmanager
def hold_deciding(taking: World) -> Iterator[Hold]:
    """A hold, stopped after its decision and before its write."""
    hold = Hold(taking)
    db.session.commit()  # the test's own session holds nothing while the two act
    hold.start()
    assert hold.deciding.wait(WAIT)
    assert hold.error is None, hold.error
    try:
        yield hold
    finally:
        hold.go.set()
        hold.join(WAIT)


def _second_waits_for_the_hold(taking: World, hold: Hold, second: Second) -> None:
    """The second act, started while the hold has decided and not written: it waits for the
    hold's transaction (it does not finish first), and goes on once the hold commits."""
    waiting = _waits_on(taking.app, hold)
    second.start()
    deadline = time.monotonic() + WAIT
    while not waiting() and not second.done.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not second.done.is_set(), (
        "the second act finished while the hold had decided and not written: it read the "
        f"course the hold was changing ({second.error or second.result})"
    )
    assert waiting(), "the second act is neither done nor waiting for the hold"
    hold.go.set()
    hold.join(WAIT)
    assert not hold.is_alive() and hold.error is None, hold.error
    assert hold.status == 201
    assert second.done.wait(WAIT)
    assert second.error is None, second.error


def _in_own_context(app: Flask, act: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with app.app_context():
            return act()

    return run


def _course(world: World) -> tuple[str, str, str | None, str | None]:
    db.session.expire_all()
    state = db.session.get(PatientState, world.patient_id)
    assert state is not None
    return (
        state.treatment_status,
        state.treatment_cause,
        state.rechallenge,
        state.rechallenge_cause,
    )


def _events(world: World) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(TreatmentEvent)
        .where(TreatmentEvent.patient_id == world.patient_id, TreatmentEvent.at == BOTH_ACT)
        .order_by(TreatmentEvent.id)
    ).all()
    return [(row.from_state, row.to_state, row.cause) for row in rows]


def test_a_stop_during_a_hold_stops_the_held_course(taking: World) -> None:
    west = ApiClient(taking.app, "dr.west@example.org")
    stop = Second(
        lambda: (
            west.post(
                f"/api/patients/{taking.patient_id}/treatment-events",
                json={"action": "stop", "reason": "Myocarditis", "rechallenge": "not_advised"},
            ).status_code
        )
    )
    with hold_deciding(taking) as hold:
        _second_waits_for_the_hold(taking, hold, stop)
    assert stop.result == 201
    assert _course(taking) == ("stopped", "clinician_stop", "not_advised", "clinician_stop")
    assert _events(taking) == [
        ("in_titration", "held", "clinician_hold"),
        ("held", "stopped", "clinician_stop"),
    ]


def test_a_count_below_500_during_a_hold_interrupts_it_and_keeps_the_marker(
    taking: World,
) -> None:
    west = ApiClient(taking.app, "dr.west@example.org")
    count = Second(
        lambda: add_anc(west, taking.patient_id, 400, "2026-11-27T20:00:00+00:00").status_code
    )
    with hold_deciding(taking) as hold:
        _second_waits_for_the_hold(taking, hold, count)
    assert count.result == 201
    # the count is the stronger reason: the held course is interrupted by it (RULES.md 6)
    assert _course(taking) == ("interrupted", "anc_stop", "not_advised", "anc_stop")
    assert _events(taking) == [
        ("in_titration", "held", "clinician_hold"),
        ("held", "interrupted", "anc_stop"),
    ]


def test_the_cycle_does_not_pause_for_missed_doses_a_course_held_a_moment_ago(
    taking: World,
) -> None:
    content = taking.app.extensions["companion.content"]
    cycle = Second(
        _in_own_context(taking.app, lambda: run_cycle(db.session, BOTH_ACT, content, "w2").counts)
    )
    with hold_deciding(taking) as hold:
        _second_waits_for_the_hold(taking, hold, cycle)
    assert _course(taking) == ("held", "clinician_hold", None, None)
    assert _events(taking) == [("in_titration", "held", "clinician_hold")]
    rules = db.session.scalars(
        select(Escalation.rule).where(Escalation.patient_id == taking.patient_id)
    ).all()
    assert "missed_doses_48h" not in rules


def test_a_dose_marked_taken_during_a_hold_waits_for_it_and_is_refused(taking: World) -> None:
    """A "Taken" sent at the moment of the hold (a time not before it) waits for the hold and
    is refused as withheld (RULES.md 6; CONTRACT.md 409 `dose_withheld`). Before, the event
    read the course unlocked: it recorded the dose taken while the hold was being decided, and
    the two took their row locks in opposite orders (a deadlock on PostgreSQL)."""
    base = f"/api/patients/{taking.patient_id}"
    # the bedtime dose of 26 November, not taken (its window is open to 36 h after it)
    dose = taking.patient.get(f"{base}/doses?date=2026-11-26").get_json()["doses"][-1]
    marked = Second(
        lambda: taking.patient.post(
            f"{base}/dose-events",
            json={"dose_id": dose["id"], "status": "taken", "at": BOTH_ACT.isoformat()},
        )
    )
    with hold_deciding(taking) as hold:
        _second_waits_for_the_hold(taking, hold, marked)
    assert marked.result.status_code == 409, marked.result.get_json()
    assert marked.result.get_json()["error"]["code"] == "dose_withheld"
    after = taking.patient.get(f"{base}/doses?date=2026-11-26").get_json()["doses"]
    assert next(d for d in after if d["id"] == dose["id"])["status"] == "missed"  # not taken
    assert _course(taking)[0] == "held"


def test_doses_made_ahead_while_a_hold_commits_are_withheld(
    taking: World, clock: FakeClock
) -> None:
    """The cycle makes the next days' doses at the moment a hold commits: they are made
    withheld, never pending, so none is reminded, shown as due or accepted as Taken during the
    hold (RULES.md 6). Before, the make-ahead step read the course unlocked: it made the days
    pending from the course as it was before the hold, inserted them while the hold was being
    decided and committed them after the hold had withheld the doses it could see."""
    now = dt.datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # 27 Nov is due to be made; no 48 h yet
    clock.set(now)
    content = taking.app.extensions["companion.content"]
    cycle = Second(
        _in_own_context(taking.app, lambda: run_cycle(db.session, now, content, "w2").counts)
    )
    with hold_deciding(taking) as hold:
        _second_waits_for_the_hold(taking, hold, cycle)
    assert cycle.result["doses_made_for"] == 1
    assert _course(taking)[0] == "held"
    base = f"/api/patients/{taking.patient_id}"
    made = db.session.execute(
        select(Dose.id, Dose.local_date, Dose.status)
        .where(Dose.patient_id == taking.patient_id, Dose.local_date >= dt.date(2026, 11, 27))
        .order_by(Dose.scheduled_at)
    ).all()
    assert {day for _, day, _ in made} == {dt.date(2026, 11, 27), dt.date(2026, 11, 28)}
    # the day's dose times pass with the worker running every 15 minutes
    moment = now
    while moment < dt.datetime(2026, 11, 27, 23, 0, tzinfo=UTC):
        moment += dt.timedelta(minutes=15)
        run_cycle(db.session, moment, content, "w1")
    clock.set(dt.datetime(2026, 11, 27, 21, 5, tzinfo=UTC))
    day = taking.patient.get(f"{base}/doses?date=2026-11-27").get_json()
    bedtime = day["doses"][-1]
    marked = taking.patient.post(
        f"{base}/dose-events",
        json={"dose_id": bedtime["id"], "status": "taken", "at": clock.now.isoformat()},
    )
    reminded = db.session.scalars(
        select(OutboxMessage.dose_id).where(
            OutboxMessage.kind == "dose", OutboxMessage.dose_id.in_([id_ for id_, _, _ in made])
        )
    ).all()
    # all at once: what the patient would get of each
    assert {
        "made": {status for _, _, status in made},
        "listed": {(d["status"], d["can_mark"]) for d in day["doses"]},
        "reminded": reminded,
        "taken": marked.status_code,
    } == {
        "made": {"withheld"},
        "listed": {("withheld", False)},
        "reminded": [],
        "taken": 409,
    }


if "postgresql" in BACKENDS:  # the row lock is PostgreSQL's; SQLite renders none

    @contextmanager
    def row_locks() -> Iterator[list[Any]]:
        """The parameters of each statement that locks a summary row, while the block runs."""
        locked: list[Any] = []

        def watch(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            if "FOR NO KEY UPDATE" in statement:
                locked.append(parameters)

        event.listen(db.engine, "before_cursor_execute", watch)
        try:
            yield locked
        finally:
            event.remove(db.engine, "before_cursor_execute", watch)

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_the_cycle_locks_only_the_summaries_of_courses_it_changes(taking: World) -> None:
        """The cycle's hot path takes no row lock: the time rules' candidates (Blake, due a
        bowel prompt) are read as before. Only the courses it acts on are read locked: those
        whose next days of doses it makes (Alex's, once a day; one statement for the batch),
        and a course that missed doses over 48 h, to be paused."""
        content = taking.app.extensions["companion.content"]
        with row_locks() as locked:
            ahead = run_cycle(db.session, BOTH_ACT - dt.timedelta(minutes=3), content, "w1")
            assert ahead.counts["doses_made_for"] == 1
            assert len(locked) == 1 and taking.patient_id in dict(locked[0]).values()
            assert taking.other_patient_id not in dict(locked[0]).values()
            locked.clear()
            quiet = run_cycle(db.session, BOTH_ACT - dt.timedelta(minutes=2), content, "w1")
            assert quiet.counts["time_rule_candidates"] >= 1 and quiet.counts["doses_made_for"] == 0
            assert locked == []
            run_cycle(db.session, BOTH_ACT, content, "w1")
        assert len(locked) == 1 and taking.patient_id in dict(locked[0]).values()
        assert _course(taking)[0] == "needs_retitration"

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_reading_the_course_takes_no_lock(taking: World) -> None:
        """What the apps read of the course (the summary, the day's doses, the plan, the
        blood tests, the course's history) locks nothing."""
        nurse = ApiClient(taking.app, "dr.north@example.org")
        base = f"/api/patients/{taking.patient_id}"
        with row_locks() as locked:
            for client, path in (
                (nurse, base),
                (nurse, "/api/patients"),
                (taking.patient, f"{base}/doses?date=2026-11-27"),
                (nurse, f"{base}/dose-plan"),
                (taking.patient, f"{base}/blood-tests"),
                (nurse, f"{base}/treatment-events"),
            ):
                response = client.get(path)
                assert response.status_code == 200, (path, response.get_json())
        assert locked == []
