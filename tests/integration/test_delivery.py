"""The delivery runtime under a receiver that will not let go (issue 17, findings 1 and 5):
alerts never wait behind reminders, one slow origin holds only its own slots, a claim does not
expire under a worker still on it, and a worker killed mid-send re-sends at most what was in
flight. Real push service, webhook receiver and trickling receiver on loopback; a real
`kill -9` of a worker process."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from reminders.delivery import ALERTS, REMINDERS, Delivery, Lane
from reminders.dispatch import Channels
from server.api.push import vapid
from server.extensions import db
from server.models import OutboxMessage, PushSubscription, User
from server.notify.webpush import WebPushSender
from server.services import outbox
from tests.conftest import START
from tests.support.channels import loopback_channels
from tests.support.clock import FakeClock
from tests.support.push_service import PushService
from tests.support.slow_receiver import SlowReceiver, wait_until
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.world import World, give_browser

ROOT = Path(__file__).resolve().parents[2]
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def push() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def sender_for(app: Flask, deadline: float = 10.0) -> WebPushSender:
    with app.test_request_context():
        key = vapid()
    return WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=deadline)


def people(count: int, push: PushService, endpoint_base: str | None = None) -> list[int]:
    """`count` more users each with one browser (its endpoint on `endpoint_base` if given)."""
    first = db.session.query(User).count()
    ids = []
    for n in range(first, first + count):
        user = User(
            email=f"person{n}@example.org",
            display_name=f"Person {n}",
            role="caregiver",
            password_hash="-",
            created_at=START,
        )
        db.session.add(user)
        db.session.flush()
        give_browser(user.id, push, f"{endpoint_base}/push/{n}" if endpoint_base else None)
        ids.append(user.id)
    db.session.commit()
    return ids


def remind(user_ids: list[int], tag: str, now: dt.datetime) -> None:
    rows = [
        {"dedupe_key": f"{tag}:{uid}", "kind": "dose", "recipient_user_id": uid, "due_at": now}
        for uid in user_ids
    ]
    outbox.enqueue(db.session, rows, now)
    db.session.commit()


class LaneJob:
    """One lane run again and again in its own thread, as `companion worker` runs it."""

    def __init__(self, app: Flask, channels: Channels, lane: Lane, now: dt.datetime) -> None:
        self.app, self.channels, self.lane, self.now = app, channels, lane, now
        self.stop = threading.Event()
        self.busy = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        with self.app.app_context():
            while not self.stop.is_set():
                try:
                    self.busy.set()
                    Delivery(db.session, self.channels, "w1", self.lane, self.now).run()
                except BaseException as exc:  # reported by the test
                    self.errors.append(exc)
                    return
                finally:
                    self.busy.clear()
                    db.session.remove()
                self.stop.wait(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def test_an_escalation_reaches_the_webhook_while_a_trickling_push_service_is_served(
    world: World, app: Flask, clock: FakeClock, push: PushService, receiver: WebhookReceiver
) -> None:
    """Finding 1: a push endpoint answering one byte every 3 s held the whole worker; a
    fever escalation in another clinic then reached the care team after 80 s."""
    now = clock()
    with SlowReceiver("trickle", every=3.0) as slow:
        # 20 reminders to the trickling endpoint: more than its origin's slots
        stuck = people(20, push, endpoint_base=slow.url)
        remind(stuck, "slow", now)
        channels = loopback_channels(
            sender_for(app, deadline=6.0), webhook_url=receiver.url, webhook_secret=SECRET
        )
        reminders = LaneJob(app, channels, REMINDERS, now)
        alerts = LaneJob(app, channels, ALERTS, now)
        try:
            assert wait_until(lambda: slow.requests >= REMINDERS.per_origin, timeout=10)
            raised = time.monotonic()
            response = world.other_patient.post(
                f"/api/patients/{world.other_patient_id}/symptoms",
                json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
            )
            assert response.status_code == 201, response.get_json()
            assert wait_until(lambda: "escalation.opened" in receiver.events(), timeout=10)
            took = time.monotonic() - raised
            # the trickle is still being served: no reply has been read whole yet
            assert slow.requests == REMINDERS.per_origin  # its origin's slots, no more
            assert reminders.busy.is_set()
        finally:
            alerts.close()
            reminders.close()
            channels.close()
        assert reminders.errors == [] and alerts.errors == []
    assert took < 2.0, f"the escalation took {took:.2f} s"
    opened = [d.document for d in receiver.deliveries if d.document["event"] == "escalation.opened"]
    assert opened[0]["escalation"]["patient_id"] == world.other_patient_id


def test_one_slow_origin_holds_only_its_own_slots(
    world: World, app: Flask, clock: FakeClock, push: PushService
) -> None:
    """Reminders to a well-behaved push service go out while another origin trickles."""
    now = clock()
    with SlowReceiver("trickle", every=3.0) as slow:
        stuck = people(5, push, endpoint_base=slow.url)
        remind(stuck, "slow", now)
        channels = Channels(push=sender_for(app, deadline=4.0))
        job = LaneJob(app, channels, REMINDERS, now)
        try:
            assert wait_until(lambda: slow.requests >= 5, timeout=10)
            fine = people(10, push)
            remind(fine, "fine", now)
            started = time.monotonic()
            assert wait_until(lambda: len(push.received()) >= 10, timeout=10)
            assert time.monotonic() - started < 2.0
            assert job.busy.is_set()
        finally:
            job.close()
            channels.close()
        assert job.errors == []


def test_a_claim_does_not_expire_under_a_worker_still_sending_it(
    world: World, app: Flask, clock: FakeClock, push: PushService
) -> None:
    """Finding 1: when the 90 s claim expired under the stalled worker, another took the
    batch and 40 patients got the reminder twice. Here the lease is 1 s and each send
    takes 2.5 s; a second worker looking 1.5 s in takes nothing."""
    now = clock()
    users = people(3, push)
    for sub in db.session.query(PushSubscription):
        push.delay(sub.endpoint, 2.5)
    remind(users, "slow", now)
    lease = dt.timedelta(seconds=1)
    channels = Channels(push=sender_for(app))
    first_counts: dict[str, int] = {}
    errors: list[BaseException] = []

    def first() -> None:
        with app.app_context():
            try:
                first_counts.update(
                    Delivery(db.session, channels, "w1", REMINDERS, now, lease=lease).run()
                )
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(1.5)
    second = Delivery(
        db.session, channels, "w2", REMINDERS, now + dt.timedelta(seconds=1.5), lease=lease
    ).run()
    thread.join(timeout=30)
    channels.close()
    assert errors == []
    assert second.get("claimed", 0) == 0
    assert first_counts.get("sent") == 3, first_counts
    assert len(push.received()) == 3


def test_a_worker_killed_mid_send_resends_at_most_what_was_in_flight(
    world: World, app: Flask, clock: FakeClock, push: PushService
) -> None:
    """Finding 5: outcomes were recorded per batch, so `kill -9` mid-send gave 48 of 60
    patients the reminder twice. A worker process is killed when 50 of 100 reminders have
    arrived; after the lease another worker sends the rest."""
    now = clock()
    users = people(100, push)
    for sub in db.session.query(PushSubscription):
        push.delay(sub.endpoint, 0.1)
    remind(users, "burst", now)
    db.session.remove()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.drain_process",
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.instance_path,
            now.isoformat(),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_until(lambda: len(push.received()) >= 50, timeout=60, step=0.002), (
            worker.poll(),
            worker.stderr.read().decode() if worker.poll() is not None else "",
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=10)
    arrived_before = len(push.received())
    assert arrived_before < 100, "the worker finished before it was killed"
    channels = Channels(push=sender_for(app))
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    Delivery(db.session, channels, "w2", REMINDERS, later).run()
    channels.close()
    per_message = Counter(r.subscription_id for r in push.received())
    assert len(per_message) == 100, "lost reminders"
    duplicates = sum(per_message.values()) - 100
    assert duplicates <= REMINDERS.in_flight, duplicates
    statuses = Counter(m.status for m in db.session.query(OutboxMessage))
    assert statuses == {"sent": 100}


def test_messages_taken_over_by_another_worker_are_not_sent_again(
    world: World, app: Flask, clock: FakeClock, push: PushService
) -> None:
    """Should a claim expire all the same (a worker stalled for a third of the lease), the
    worker that took it over sends it; the stalled one drops it from its queue."""
    now = clock()
    users = people(3, push)
    for sub in db.session.query(PushSubscription):
        push.delay(sub.endpoint, 1.5)
    remind(users, "slow", now)
    one_at_a_time = Lane("reminders", None, frozenset({"escalation"}), 1, 1, 10)
    channels = Channels(push=sender_for(app))
    counts: dict[str, int] = {}

    def stalled() -> None:
        with app.app_context():
            counts.update(
                Delivery(
                    db.session, channels, "w1", one_at_a_time, now, lease=dt.timedelta(seconds=1.2)
                ).run()
            )
            db.session.remove()

    thread = threading.Thread(target=stalled)
    thread.start()
    assert wait_until(lambda: push.attempts() >= 1, timeout=10)
    # another worker takes the two still queued over (as after an expired lease)
    queued = [m.id for m in db.session.query(OutboxMessage).order_by(OutboxMessage.id)][1:]
    db.session.query(OutboxMessage).filter(OutboxMessage.id.in_(queued)).update(
        {"claimed_by": "w2", "claimed_until": now + outbox.LEASE}, synchronize_session=False
    )
    db.session.commit()
    thread.join(timeout=30)
    channels.close()
    assert counts.get("taken_over") == 2, counts
    assert push.attempts() == 1
    assert counts.get("sent") == 1


def test_a_cycle_that_sends_after_slow_steps_claims_for_a_lease_counted_from_the_claim(
    world: World, app: Flask, clock: FakeClock, push: PushService
) -> None:
    """A cycle's instant is taken at its start; its sending comes after the steps before it
    (queueing a burst took 20 s on PostgreSQL). The claims' lease runs from the claim: a
    worker whose steps took 30 s claims until 30 s + the lease after the cycle's instant, so
    another worker at that moment takes nothing (a lease counted from the cycle's start was
    over when claimed, and the crash benchmark sent 5,816 reminders twice)."""
    now = clock()
    users = people(2, push)
    remind(users, "late", now)
    lease = dt.timedelta(seconds=10)
    channels = Channels(push=sender_for(app))
    until: list[dt.datetime] = []

    def seen(claimed: list[outbox.Claimed]) -> None:
        rows = db.session.query(OutboxMessage).filter(OutboxMessage.dedupe_key.like("late:%"))
        until.extend(row.claimed_until for row in rows if row.claimed_until is not None)

    begun = time.monotonic() - 30  # the cycle's instant was taken 30 s ago
    counts = Delivery(
        db.session, channels, "w1", REMINDERS, now, lease=lease, after_claim=seen, begun=begun
    ).run()
    channels.close()
    assert counts.get("sent") == 2
    assert len(until) == 2 and all(u >= now + dt.timedelta(seconds=40) for u in until)
