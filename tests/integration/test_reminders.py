"""Reminders end to end: materialised, claimed, encrypted, pushed to a real push service on
loopback, verified and decrypted there. Once, on time, every time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from reminders.cycle import run_cycle
from reminders.delivery import REMINDERS, Delivery
from reminders.dispatch import channels_of
from server.api.push import vapid
from server.extensions import db
from server.models import Dose, OutboxMessage, PushSubscription, User
from server.notify.webpush import WebPushSender
from server.services import outbox
from tests.conftest import BACKENDS, START
from tests.support.clock import FakeClock
from tests.support.push_service import PushService
from tests.support.world import (
    ApiClient,
    World,
    activate,
    add_anc,
    enrol_patient,
    give_browser,
    start_plan,
)

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def push() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture
def sender(app: Flask) -> Iterator[WebPushSender]:
    with app.test_request_context():
        key = vapid()
    with WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=2) as s:
        yield s


def subscribe(client: ApiClient, push: PushService) -> dict:
    browser = push.new_subscription()
    assert client.post("/api/push/subscriptions", json=browser).status_code == 201
    return browser


def tick(app: Flask, sender: WebPushSender, when: dt.datetime, worker: str = "w1") -> dict:
    report = run_cycle(db.session, when, app.extensions["companion.content"], worker, sender)
    return report.counts


@pytest.fixture
def evening(world: World, push: PushService, sender: WebPushSender) -> World:
    """Alex (Europe/London) on a standard plan from today: day 1 is 12.5 mg at 21:00. What
    else was due before (the 18:00 check-in) is sent first, so the tests see only doses."""
    start_plan(world, start="2026-11-25")
    world.patient_browser = subscribe(world.patient, push)  # type: ignore[attr-defined]
    world.caregiver_browser = subscribe(world.caregiver, push)  # type: ignore[attr-defined]
    tick(world.app, sender, at("2026-11-25T20:30:00+00:00"))
    assert dose_pushes(push) == []
    push.clear()
    return world


def dose_pushes(push: PushService, browser: dict | None = None) -> list:
    found = [r for r in push.received() if r.payload["kind"] == "dose"]
    if browser is not None:
        sub_id = browser["endpoint"].rsplit("/", 1)[1]
        found = [r for r in found if r.subscription_id == sub_id]
    return found


def test_a_dose_reminder_arrives_once_encrypted_and_lock_screen_safe(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    tick(evening.app, sender, at("2026-11-25T20:59:00+00:00"))
    assert dose_pushes(push) == []
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    [message] = dose_pushes(push)
    assert message.payload["title"] == "Time for your medicine"
    assert "clozapine" not in str(message.payload).lower() and "mg" not in message.payload["body"]
    assert {a["action"] for a in message.payload["actions"]} == {"taken", "snooze"}
    assert message.payload["dose_id"] > 0 and message.payload["patient_id"] == evening.patient_id
    assert int(message.headers["TTL"]) > 0 and message.headers["Urgency"] == "high"
    # the same minute again, and a second worker: nothing more
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"), "w2")
    tick(evening.app, sender, at("2026-11-25T21:00:30+00:00"))
    assert len(dose_pushes(push)) == 1


def test_nagging_repeats_every_15_minutes_then_the_caregiver_is_told(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    for minute in ("21:00", "21:15", "21:30", "21:45", "21:50", "22:00", "22:15"):
        tick(evening.app, sender, at(f"2026-11-25T{minute}:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 4  # at the time, then 3 nags
    to_caregiver = dose_pushes(push, evening.caregiver_browser)
    assert len(to_caregiver) == 1
    assert to_caregiver[0].payload["title"].startswith("Alex")


def test_each_nag_and_the_caregivers_hour_come_on_their_minute_not_before(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    """The boundaries of the dose window the cycle asks for: a nag 15 minutes after the dose
    (not at 14), the caregivers' follow-up an hour after it (not at 59 minutes)."""
    expected = [
        ("21:00", 1, 0),
        ("21:14", 1, 0),
        ("21:15", 2, 0),
        ("21:29", 2, 0),
        ("21:30", 3, 0),
        ("21:45", 4, 0),
        ("21:59", 4, 0),
        ("22:00", 4, 1),
        ("22:15", 4, 1),  # three nags, then no more
    ]
    for minute, to_patient, to_caregiver in expected:
        tick(evening.app, sender, at(f"2026-11-25T{minute}:00+00:00"))
        assert len(dose_pushes(push, evening.patient_browser)) == to_patient, minute
        assert len(dose_pushes(push, evening.caregiver_browser)) == to_caregiver, minute


def test_nagging_stops_when_the_dose_is_marked_taken(
    evening: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    dose_id = dose_pushes(push)[0].payload["dose_id"]
    clock.set(at("2026-11-25T21:20:00+00:00"))
    taken = ApiClient(evening.app, "alex@example.org").post(
        f"/api/patients/{evening.patient_id}/dose-events",
        json={"dose_id": dose_id, "status": "taken", "at": "2026-11-25T21:18:00+00:00"},
    )
    assert taken.status_code == 201
    for minute in ("21:15", "21:30", "21:45", "22:00", "22:30"):
        tick(evening.app, sender, at(f"2026-11-25T{minute}:00+00:00"))
    # once marked, no nag goes out (the 21:15 one included), nor the caregiver's follow-up
    assert len(dose_pushes(push, evening.patient_browser)) == 1
    assert dose_pushes(push, evening.caregiver_browser) == []


def test_snooze_holds_the_nags_and_reminds_once_when_it_ends(
    evening: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    dose_id = dose_pushes(push)[0].payload["dose_id"]
    clock.set(at("2026-11-25T21:05:00+00:00"))
    alex = ApiClient(evening.app, "alex@example.org")
    path = f"/api/patients/{evening.patient_id}/doses/{dose_id}/snooze"
    assert alex.post(path, json={"minutes": 45}).status_code == 422
    assert alex.post(path, json={"minutes": 30}).status_code == 200
    for minute in ("21:15", "21:30", "21:34"):
        tick(evening.app, sender, at(f"2026-11-25T{minute}:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 1
    tick(evening.app, sender, at("2026-11-25T21:35:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 2


def test_a_reminder_whose_moment_passed_while_no_worker_ran(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    # the worker comes back at 23:00: the dose reminder is still useful (within 6 h), sent
    # late; the nags are past their use and recorded as skipped, not dropped
    tick(evening.app, sender, at("2026-11-25T23:00:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 1
    rows = {
        m.dedupe_key.rsplit(":", 1)[-1]: m
        for m in db.session.query(OutboxMessage)
        .filter(OutboxMessage.dedupe_key.like("dose:%"))
        .all()
    }
    assert rows["0"].status == "sent" and rows["0"].late
    assert {rows[n].status for n in ("1", "2", "3")} == {"skipped"}


def test_a_reminder_past_its_window_is_recorded_as_skipped(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    tick(evening.app, sender, at("2026-11-26T03:30:00+00:00"))  # 6 h 30 after the dose
    assert dose_pushes(push, evening.patient_browser) == []
    first = db.session.query(OutboxMessage).filter(OutboxMessage.dedupe_key.like("dose:%:0")).one()
    assert first.status == "skipped" and first.last_error


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed_and_the_user_marked_unreachable(
    evening: World, push: PushService, sender: WebPushSender, status: int
) -> None:
    push.respond_with(evening.patient_browser["endpoint"], status)
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    owner = db.session.query(User).filter_by(email="alex@example.org").one()
    assert db.session.query(PushSubscription).filter_by(user_id=owner.id).count() == 0
    assert owner.push_unreachable_since is not None


def test_429_waits_for_retry_after_then_delivers_once(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    push.respond_with(evening.patient_browser["endpoint"], 429, {"Retry-After": "120"}, times=1)
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    assert dose_pushes(push) == []
    tick(evening.app, sender, at("2026-11-25T21:01:59+00:00"))
    assert dose_pushes(push) == []
    tick(evening.app, sender, at("2026-11-25T21:02:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 1


def test_server_errors_are_retried_with_backoff(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    push.respond_with(evening.patient_browser["endpoint"], 503, times=2)
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))  # attempt 1: 503, wait 30 s
    tick(evening.app, sender, at("2026-11-25T21:00:20+00:00"))  # not yet
    assert push.attempts(evening.patient_browser["endpoint"]) == 1
    tick(evening.app, sender, at("2026-11-25T21:00:31+00:00"))  # attempt 2: 503, wait 60 s
    tick(evening.app, sender, at("2026-11-25T21:01:32+00:00"))  # attempt 3: delivered
    assert len(dose_pushes(push, evening.patient_browser)) == 1


def test_a_batch_abandoned_mid_send_is_delivered_after_the_lease_once(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    from server.services.steps.dose_reminders import enqueue_dose_reminders

    now = at("2026-11-25T21:00:00+00:00")
    enqueue_dose_reminders(db.session, now)

    class WorkerDied(Exception):
        pass

    def die(_messages):
        raise WorkerDied

    def send(worker: str, when: dt.datetime, **hooks: Any) -> None:
        Delivery(db.session, channels_of(sender), worker, REMINDERS, when, **hooks).run()

    with pytest.raises(WorkerDied):
        send("dead-worker", now, after_claim=die)
    db.session.rollback()
    send("w2", now + dt.timedelta(seconds=30))
    assert dose_pushes(push) == []  # still claimed by the dead worker
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    send("w2", later)
    send("w3", later + outbox.LEASE * 2)
    assert len(dose_pushes(push)) == 1


def test_three_ticks_at_once_deliver_each_reminder_once(
    world: World, push: PushService, app: Flask
) -> None:
    # six patients, each with a dose at 21:00 (activation is rate-limited per address)
    clinician = world.clinician
    for n in range(6):
        created = enrol_patient(clinician, f"P{n}", start=dt.date(2026, 11, 25))
        assert activate(app, created["activation_code"], f"p{n}@example.org").status_code == 201
        add_anc(clinician, created["id"], 2000, "2026-11-25T09:00:00+00:00")
        response = clinician.put(
            f"/api/patients/{created['id']}/dose-plan",
            json={
                "start_date": "2026-11-25",
                "times": ["21:00"],
                "titration": "standard",
                "target_mg_per_day": 300,
            },
        )
        assert response.status_code == 200
        subscribe(ApiClient(app, f"p{n}@example.org"), push)
    db.session.commit()
    now = at("2026-11-25T21:00:00+00:00")
    errors: list[Exception] = []
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        with app.app_context():
            with app.test_request_context():
                key = vapid()
            own = WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=5)
            try:
                barrier.wait()
                run_cycle(db.session, now, app.extensions["companion.content"], name, own)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                own.close()
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    received = dose_pushes(push)
    assert len(received) == 6
    assert len({r.payload["dose_id"] for r in received}) == 6


@pytest.mark.parametrize(
    ("zone", "day", "time", "due_utc"),
    [
        ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30:00+00:00"),
        ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00+00:00"),
        ("Europe/London", "2026-03-29", "08:00", "2026-03-29T07:00:00+00:00"),
        ("Europe/London", "2026-10-25", "08:00", "2026-10-25T08:00:00+00:00"),
    ],
)
def test_reminders_on_dst_days_arrive_at_the_wall_clock_time(
    world: World,
    push: PushService,
    sender: WebPushSender,
    clock: FakeClock,
    zone: str,
    day: str,
    time: str,
    due_utc: str,
) -> None:
    start = dt.date.fromisoformat(day) - dt.timedelta(days=1)
    clock.set(dt.datetime.combine(start, dt.time(0, 0), UTC) - dt.timedelta(hours=12))
    clinician = ApiClient(world.app, "dr.north@example.org")
    created = enrol_patient(clinician, "Dee", timezone=zone, start=start)
    assert activate(world.app, created["activation_code"], "dee@example.org").status_code == 201
    add_anc(clinician, created["id"], 2000, clock.now.isoformat())
    plan = clinician.put(
        f"/api/patients/{created['id']}/dose-plan",
        json={
            "start_date": start.isoformat(),
            "times": [time],
            "steps": [{"day": 1, "doses_mg": [12.5]}, {"day": 2, "doses_mg": [25]}],
        },
    )
    assert plan.status_code == 200
    browser = subscribe(ApiClient(world.app, "dee@example.org"), push)
    due = at(due_utc)
    tick(world.app, sender, due - dt.timedelta(days=1, hours=1))  # makes the doses ahead
    tick(world.app, sender, due - dt.timedelta(minutes=1))
    before = [r.payload["dose_id"] for r in dose_pushes(push, browser)]
    tick(world.app, sender, due)
    after = [r.payload["dose_id"] for r in dose_pushes(push, browser)]
    assert len(after) == len(before) + 1
    assert after[-1] not in before  # the DST day's own dose, not an earlier one


def test_blood_test_reminders_the_day_before_and_on_the_day(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    # the baseline ANC of 25 Nov makes the next one due on 2 Dec (weekly)
    for moment in (
        "2026-12-01T08:59:00",
        "2026-12-01T09:00:00",
        "2026-12-01T12:00:00",
        "2026-12-02T09:00:00",
        "2026-12-02T10:00:00",
    ):
        tick(evening.app, sender, at(moment + "+00:00"))
    blood = [r for r in push.received() if r.payload["kind"] == "blood_test"]
    to_patient = [r for r in blood if r.subscription_id in evening.patient_browser["endpoint"]]
    assert [r.payload["title"] for r in to_patient] == ["Blood test tomorrow", "Blood test today"]
    assert len(blood) == 4  # the caregiver is reminded too


def test_quiet_hours_hold_check_ins_but_never_dose_reminders(
    world: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    start_plan(world, start="2026-11-25", times=("21:00",))
    browser = subscribe(world.patient, push)
    response = world.patient.put(
        f"/api/patients/{world.patient_id}/reminder-settings",
        json={"quiet_start": "17:00", "quiet_end": "23:30", "check_in_time": "18:00"},
    )
    assert response.status_code == 200, response.get_json()
    assert (
        world.patient.put(
            f"/api/patients/{world.patient_id}/reminder-settings",
            json={"quiet_start": "17:00", "quiet_end": None},
        ).status_code
        == 422
    )
    for moment in ("2026-11-25T18:00:00", "2026-11-25T21:00:00", "2026-11-25T23:29:00"):
        tick(world.app, sender, at(moment + "+00:00"))
    kinds = [r.payload["kind"] for r in push.received() if r.subscription_id in browser["endpoint"]]
    assert kinds == ["dose"]
    tick(world.app, sender, at("2026-11-25T23:30:00+00:00"))
    kinds = [r.payload["kind"] for r in push.received() if r.subscription_id in browser["endpoint"]]
    assert kinds == ["dose", "check_in"]


def test_no_database_transaction_is_held_while_sending(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    """The sends wait on the network: nothing may be locked then (SQLite's write lock above
    all), and no claimed row may be reloaded from the database afterwards."""
    import reminders.delivery as delivery

    seen: list[bool] = []
    original = delivery.Delivery._collect  # where the worker waits for its sends

    def watched(self, timeout):
        seen.append(db.session().in_transaction())
        return original(self, timeout)

    delivery.Delivery._collect = watched  # type: ignore[method-assign]
    try:
        tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    finally:
        delivery.Delivery._collect = original  # type: ignore[method-assign]
    assert seen and not any(seen)
    assert len(dose_pushes(push)) == 1


def test_first_cycles_of_several_workers_share_one_cursor(world: World, app: Flask) -> None:
    from server.models import DispatchCursor
    from server.services.steps.dose_reminders import enqueue_dose_reminders

    db.session.commit()
    now = at("2026-11-25T21:00:00+00:00")
    errors: list[Exception] = []
    barrier = threading.Barrier(3)

    def first_cycle() -> None:
        with app.app_context():
            try:
                barrier.wait()
                enqueue_dose_reminders(db.session, now)
                db.session.commit()  # with nothing due, the cycle's later commit records it
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=first_cycle) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert db.session.query(DispatchCursor).count() == 1


def test_enqueue_counts_only_the_messages_that_are_new(evening: World) -> None:
    now = at("2026-11-25T21:00:00+00:00")

    def row(key: str) -> dict:
        return {"dedupe_key": key, "kind": "check_in", "due_at": now, "payload": {"n": key}}

    assert outbox.enqueue(db.session, [row("count:a"), row("count:b")], now) == 2
    assert outbox.enqueue(db.session, [row("count:a"), row("count:c"), row("count:b")], now) == 1
    db.session.commit()
    stored = db.session.query(OutboxMessage).filter(OutboxMessage.dedupe_key.like("count:%"))
    assert sorted((m.dedupe_key, m.payload["n"]) for m in stored) == [
        ("count:a", "count:a"),
        ("count:b", "count:b"),
        ("count:c", "count:c"),
    ]


def test_a_cycle_with_nothing_due_asks_once_and_commits_once(
    evening: World, push: PushService, sender: WebPushSender
) -> None:
    """Most minutes nothing is due: the cycle asks every step's query at once, moves the cursor
    and beats the heartbeat in one commit (issue 4: an idle cycle under 5 ms); what comes due
    in the minutes it skipped is still found."""
    from sqlalchemy import event, text

    from server.models import DispatchCursor

    # recent blood counts: else a blood test is overdue, a red flag looked at each minute
    for clinician, patient_id in (
        (evening.clinician, evening.patient_id),
        (evening.other_clinician, evening.other_patient_id),
    ):
        response = add_anc(clinician, patient_id, 2000, "2026-11-25T09:00:00+00:00")
        assert response.status_code == 201
    # and the red flags raised before that (overdue blood tests) acknowledged: an open one is
    # looked at each minute, for the ladder
    for clinician in (evening.clinician, evening.other_clinician):
        for escalation in clinician.get("/api/escalations?status=open").get_json()["escalations"]:
            answer = clinician.post(f"/api/escalations/{escalation['id']}/acknowledge", json={})
            assert answer.status_code == 200
    tick(evening.app, sender, at("2026-11-25T20:39:00+00:00"))  # whatever that made is sent
    push.clear()
    statements: list[str] = []
    texts: list[str] = []
    commits: list[int] = []

    def on_statement(conn, cursor, statement, *args) -> None:
        if not statement.upper().startswith(("BEGIN", "COMMIT")):
            statements.append(statement.split(None, 1)[0].upper())
            texts.append(statement)

    def on_commit(conn) -> None:
        commits.append(1)

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        counts = tick(evening.app, sender, at("2026-11-25T20:40:00+00:00"))
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    assert counts["queued"] == 0 and counts["time_rule_candidates"] == 0
    # the question (with the cursor), the cursor moved on, the heartbeat (on PostgreSQL those
    # two in one statement)
    if db.engine.dialect.name == "postgresql":
        assert statements == ["SELECT", "WITH"], statements
        assert "UPDATE dispatch_cursor" in texts[1], texts[1]
        # committed without waiting for the disk, and only that statement
        assert "set_config" in texts[1], texts[1]
        assert db.session.scalar(text("SHOW synchronous_commit")) == "on"
    else:
        assert statements == ["SELECT", "UPDATE", "UPDATE"], statements
    assert len(commits) == 1
    db.session.expire_all()
    cursor = db.session.get(DispatchCursor, "doses")
    assert cursor is not None and cursor.at == at("2026-11-25T20:40:00+00:00")
    assert push.received() == []

    tick(evening.app, sender, at("2026-11-25T21:01:00+00:00"))
    assert len(dose_pushes(push, evening.patient_browser)) == 1  # type: ignore[attr-defined]


if "postgresql" in BACKENDS:  # a PostgreSQL setting: the test exists where PostgreSQL runs

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_the_worker_plans_each_statement_for_its_own_values(app: Flask) -> None:
        """A generic plan for "due before $1" is a scan: the worker's connections ask for plans
        made for the values at hand (the idle cycle went from 3.7 to 13.6 ms without it); the
        web's keep PostgreSQL's default (planning each of theirs cost the POST 15%)."""
        from sqlalchemy import text

        from server.db import plan_for_values

        assert db.session.scalar(text("SHOW plan_cache_mode")) == "auto"
        db.session.remove()
        plan_for_values(db.engine)
        assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"


def _many_patients(world: World, now: dt.datetime, count: int, **state: Any) -> range:
    """`count` more patients of the world's clinic, with these summary values, inserted in
    bulk; and SQLite's limit on a statement's parameters lowered to 1,100 (from 32,766), so
    that a statement with an IN list of more than 1,000 ids fails."""
    import sqlite3

    from sqlalchemy import insert

    from server.models import Patient, PatientState

    clinic_id = db.session.get(Patient, world.patient_id).clinic_id  # type: ignore[union-attr]
    ids = range(1000, 1000 + count)
    db.session.execute(
        insert(Patient),
        [
            {
                "id": pid,
                "clinic_id": clinic_id,
                "display_name": f"P{pid}",
                "timezone": "Europe/London",
                "clozapine_start_date": dt.date(2026, 11, 20),
                "created_at": now,
            }
            for pid in ids
        ],
    )
    db.session.execute(
        insert(PatientState),
        # tracked from enrolment, as every enrolled patient is (RULES.md 7)
        [{"patient_id": pid, "updated_at": now, "tracking_since": now, **state} for pid in ids],
    )
    if db.engine.dialect.name == "sqlite":
        raw = db.session.connection().connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1100)
    return ids


def test_many_check_ins_due_at_once_are_read_in_bounded_batches(world: World) -> None:
    """1,200 patients' check-ins due in the same minute (after a worker was down, or a clinic's
    many new starters): every one is handled, and no statement carries more than 1,000 ids."""
    from sqlalchemy import func, select

    from server.models import PatientState
    from server.services.steps.calendar_reminders import enqueue_calendar_reminders

    now = at("2026-11-25T18:00:00+00:00")
    ids = _many_patients(world, now, 1200, next_check_in_at=now)
    enqueue_calendar_reminders(db.session, now)
    db.session.expire_all()
    moved = db.session.scalars(
        select(PatientState.next_check_in_at).where(PatientState.patient_id.in_(ids[:900]))
    ).all()
    assert len(moved) == 900 and all(m == at("2026-11-26T18:00:00+00:00") for m in moved)
    left = db.session.scalar(select(func.count()).where(PatientState.next_check_in_at <= now))
    assert left == 0


def test_many_diary_prompts_at_once_are_read_in_bounded_batches(world: World) -> None:
    """1,200 patients' "no bowel movement for 48 hours" prompts in one cycle (a worker back
    after a day down): each is queued once, for the patient's own login, and no statement
    carries more than 1,000 ids."""
    from sqlalchemy import insert, select

    from server.services.steps.prompts import enqueue_prompts

    now = at("2026-11-25T12:00:00+00:00")
    ids = _many_patients(world, now, 1200)
    db.session.execute(
        insert(User),
        [
            {
                "email": f"p{pid}@example.org",
                "display_name": f"P{pid}",
                "role": "patient",
                "password_hash": "-",
                "patient_id": pid,
                "created_at": now,
            }
            for pid in ids
        ],
    )
    queued = enqueue_prompts(db.session, [(pid, "bowel_check_48h") for pid in ids], now)
    assert queued == 1200
    keys = set(
        db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "check_in"))
    )
    assert keys == {f"prompt:{pid}:bowel_check_48h:2026-11-25" for pid in ids}


# --- the treatment course withholds doses (RULES.md 6; CONTRACT.md "Treatment course (v2)") --


def test_a_reminder_queued_before_the_course_was_held_is_not_sent(
    evening: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    """The 21:00 reminder is in the outbox (the worker queued it, not yet sent) when the
    clinician holds treatment at 21:00:30: it never reaches the phone, nor do the nags or the
    caregiver's follow-up."""
    run_cycle(
        db.session,
        at("2026-11-25T21:00:00+00:00"),
        evening.app.extensions["companion.content"],
        "w1",
    )
    queued = db.session.query(OutboxMessage).filter(OutboxMessage.kind == "dose").one()
    assert queued.status == "pending"
    clock.set(at("2026-11-25T21:00:30+00:00"))
    nurse = ApiClient(evening.app, "dr.north@example.org")
    held = nurse.post(
        f"/api/patients/{evening.patient_id}/treatment-events",
        json={"action": "hold", "reason": "Fever: count first"},
    )
    assert held.status_code == 201, held.get_json()
    for minute in ("21:01", "21:15", "21:30", "21:45", "22:00", "22:30"):
        tick(evening.app, sender, at(f"2026-11-25T{minute}:00+00:00"))
    assert dose_pushes(push) == []
    db.session.expire_all()
    assert db.session.get(OutboxMessage, queued.id).status == "cancelled"


def test_no_dose_reminder_after_missed_doses_over_48_hours(
    evening: World, push: PushService, sender: WebPushSender, clock: FakeClock
) -> None:
    """Issue 13: after missed doses over 48 h the usual doses were still reminded. Alex takes
    the first dose, then nothing: from 48 h on, no dose push reaches anyone."""
    tick(evening.app, sender, at("2026-11-25T21:00:00+00:00"))
    dose_id = dose_pushes(push)[0].payload["dose_id"]
    clock.set(at("2026-11-25T21:02:00+00:00"))
    taken = ApiClient(evening.app, "alex@example.org").post(
        f"/api/patients/{evening.patient_id}/dose-events",
        json={"dose_id": dose_id, "status": "taken", "at": "2026-11-25T21:01:00+00:00"},
    )
    assert taken.status_code == 201
    moment = at("2026-11-27T21:02:00+00:00")  # 48 h 1 min after the dose
    tick(evening.app, sender, moment)
    push.clear()
    while moment < at("2026-11-29T23:00:00+00:00"):
        moment += dt.timedelta(minutes=15)
        tick(evening.app, sender, moment)
    assert dose_pushes(push) == []


# -- a plan change never loses a reminder (issue 17, finding 3: after a plan change 0 of 60
# patients got their reminder, since the new plan's doses for the days the worker had
# already made were never created)

PATIENTS = 60


def plan_at(times: list[str], start: str = "2026-11-25") -> dict:
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
            f"/api/patients/{made['id']}/dose-plan", json=plan_at(["21:00"])
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
        give_browser(login.id, push)
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
            f"/api/patients/{patient_id}/dose-plan", json=plan_at(["20:00"], "2026-11-26")
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


def queued_doses() -> list[str]:
    db.session.expire_all()
    rows = db.session.query(OutboxMessage.dedupe_key).filter(OutboxMessage.kind == "dose")
    return sorted(key for (key,) in rows)


def test_the_dose_cursor_holder_queues_its_window_and_another_takes_over_when_the_hold_lapses(
    evening: World,
) -> None:
    from server.models import DispatchCursor
    from server.services import reminders as reminder_service
    from server.services.steps.dose_reminders import CURSOR, enqueue_dose_reminders

    now = at("2026-11-25T21:00:00+00:00")
    assert reminder_service.hold_cursor(db.session, CURSOR, "w1", now) is not None
    db.session.commit()  # w1 holds the window, then stalls
    assert enqueue_dose_reminders(db.session, now, worker="w2") == 0
    db.session.commit()
    assert queued_doses() == []
    just_before = now + reminder_service.HOLD - dt.timedelta(seconds=1)
    assert enqueue_dose_reminders(db.session, just_before, worker="w2") == 0
    lapsed = now + reminder_service.HOLD
    assert enqueue_dose_reminders(db.session, lapsed, worker="w2") == 1
    cursor = db.session.get(DispatchCursor, CURSOR, populate_existing=True)
    assert cursor is not None
    assert (cursor.at, cursor.held_by, cursor.held_until) == (lapsed, None, None)
    # w1 comes back: the window is no longer its own, and the cursor stays where w2 put it
    assert not reminder_service.renew_hold(db.session, CURSOR, "w1", lapsed)
    reminder_service.release_cursor(db.session, CURSOR, "w1", now)
    db.session.commit()
    assert db.session.get(DispatchCursor, CURSOR, populate_existing=True).at == lapsed  # type: ignore[union-attr]


def test_a_worker_dying_between_chunks_leaves_what_it_queued_and_the_rest_to_the_next(
    evening: World, push: PushService, sender: WebPushSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are committed as they go: a worker killed after two of them leaves those two
    queued and the cursor where it was; once its hold lapses, the next worker queues the window
    again, each reminder once (their unique keys), and every one is sent once."""
    from server.models import DispatchCursor
    from server.services import reminders as reminder_service
    from server.services.steps import dose_reminders

    class WorkerDied(Exception):
        pass

    monkeypatch.setattr(dose_reminders, "QUEUE_CHUNK", 1)
    real_enqueue = outbox.enqueue
    chunks: list[int] = []

    def enqueue_then_die(session: Any, rows: Any, now: dt.datetime) -> int:
        if len(chunks) == 2:
            raise WorkerDied
        chunks.append(len(rows))
        return real_enqueue(session, rows, now)

    # 22:00 after a quiet hour: the dose, its three nags and the caregiver's follow-up at once
    now = at("2026-11-25T22:00:00+00:00")
    monkeypatch.setattr(outbox, "enqueue", enqueue_then_die)
    with pytest.raises(WorkerDied):
        dose_reminders.enqueue_dose_reminders(db.session, now, worker="w1")
    db.session.rollback()
    monkeypatch.setattr(outbox, "enqueue", real_enqueue)
    assert chunks == [1, 1] and len(queued_doses()) == 2
    cursor = db.session.get(DispatchCursor, dose_reminders.CURSOR, populate_existing=True)
    assert cursor is not None and cursor.held_by == "w1" and cursor.at < now
    assert cursor.held_until is not None and cursor.held_until >= now + reminder_service.HOLD

    assert dose_reminders.enqueue_dose_reminders(db.session, now, worker="w2") == 0
    lapsed = cursor.held_until
    assert dose_reminders.enqueue_dose_reminders(db.session, lapsed, worker="w2") == 3
    keys = queued_doses()
    assert len(keys) == len(set(keys)) == 5
    assert any(key.startswith("dose-followup:") for key in keys)
    tick(evening.app, sender, lapsed)
    doses = db.session.query(OutboxMessage).filter(OutboxMessage.kind == "dose").all()
    assert sorted(m.status for m in doses) == ["sent"] * 2 + ["skipped"] * 3  # the rest expired
    assert len(dose_pushes(push)) == 2
