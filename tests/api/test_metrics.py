"""/metrics: Prometheus text for the clinic's monitoring, behind a token or an allowed address,
with the figures an alert needs (outbox backlog, outcomes, acknowledgement times, heartbeat)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from reminders.cycle import run_cycle
from reminders.dispatch import Channels
from server import create_app
from server.api.push import vapid
from server.extensions import db
from server.models import Escalation, OutboxMessage, WorkerHeartbeat
from server.notify.webpush import WebPushSender
from tests.conftest import START, app_config
from tests.support.clock import FakeClock
from tests.support.world import World

TOKEN = "a-long-metrics-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def build(database_url: str, instance: Path, clock: FakeClock | None = None, **config) -> Flask:
    settings = app_config(database_url, instance, clock)
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def monitored(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    app = build(database_url, tmp_path / "instance", clock, METRICS_TOKEN=TOKEN)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def scrape(app: Flask, **kwargs) -> dict[str, dict[tuple, float]]:
    response = app.test_client().get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(figures: dict, name: str, **labels: str) -> float:
    return figures[name][tuple(sorted(labels.items()))]


def test_without_a_token_or_allow_list_there_is_no_metrics_path(app: Flask) -> None:
    response = app.test_client().get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_token_is_needed(monitored: Flask) -> None:
    client = monitored.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/metrics", headers=BEARER).status_code == 200


@pytest.mark.parametrize(
    ("hops", "peer", "forwarded", "allowed"),
    [
        (0, "10.1.2.3", None, True),  # the scraper inside the allowed network
        (0, "192.0.2.9", None, False),
        (0, "192.0.2.9", "10.1.2.3", False),  # a forged header, nobody trusted: refused
        (1, "10.9.9.9", "192.0.2.9", False),  # behind the proxy, the client is what counts
        (1, "192.0.2.1", "10.1.2.3", True),
    ],
)
def test_an_allowed_address_needs_no_token(
    database_url: str,
    tmp_path: Path,
    hops: int,
    peer: str,
    forwarded: str | None,
    allowed: bool,
) -> None:
    app = build(database_url, tmp_path / "i", METRICS_ALLOW=["10.0.0.0/8"], TRUSTED_PROXIES=hops)
    with app.app_context():
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        response = app.test_client().get(
            "/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer}
        )
        assert response.status_code == (200 if allowed else 403)
        db.session.remove()
        db.engine.dispose()


def test_the_figures_follow_the_outbox_escalations_and_heartbeat(
    monitored: Flask, clock: FakeClock
) -> None:
    figures = scrape(monitored, headers=BEARER)
    assert value(figures, "companion_worker_heartbeat_age_seconds") == float("inf")
    assert value(figures, "companion_outbox_due_messages", channel="push") == 0

    world = World.build(monitored)
    response = world.patient.post(
        f"/api/patients/{world.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
    )
    assert response.status_code == 201
    # the care team's alerts are queued; no worker has sent them yet
    clock.advance(minutes=3)
    figures = scrape(monitored, headers=BEARER)
    due = value(figures, "companion_outbox_due_messages", channel="webhook")
    assert due == 1
    assert value(figures, "companion_outbox_oldest_due_age_seconds") == pytest.approx(180)
    assert sum(figures["companion_escalations_unacknowledged"].values()) == 1
    assert value(figures, "companion_escalation_oldest_unacknowledged_age_seconds") == 180

    # a worker's cycle at that moment: push and webhook have nowhere to go here (skipped)
    with monitored.test_request_context():
        key = vapid()
    channels = Channels(push=WebPushSender(key, "mailto:a@example.org", allow_http=True))
    try:
        run_cycle(db.session, clock(), monitored.extensions["companion.content"], "w1", channels)
    finally:
        channels.close()
    clock.advance(seconds=30)
    figures = scrape(monitored, headers=BEARER)
    assert value(figures, "companion_outbox_due_messages", channel="webhook") == 0
    assert value(figures, "companion_outbox_oldest_due_age_seconds") == 0
    outcomes = figures["companion_outbox_outcomes_last_hour"]
    # the fever's and whatever the cycle itself opened for the new patient
    webhooks = db.session.query(OutboxMessage).filter_by(channel="webhook").all()
    assert len(webhooks) >= 1 and {m.status for m in webhooks} == {"skipped"}
    assert outcomes[(("channel", "webhook"), ("outcome", "skipped"))] == len(webhooks)
    assert value(figures, "companion_worker_heartbeat_age_seconds") == pytest.approx(30)

    # acknowledged 10 minutes after it opened
    [escalation] = db.session.query(Escalation).filter_by(rule="fever").all()
    opened = escalation.opened_at
    clock.set(opened.replace(tzinfo=dt.UTC) + dt.timedelta(minutes=10))
    response = world.clinician.post(f"/api/escalations/{escalation.id}/acknowledge")
    assert response.status_code == 200, response.get_json()
    figures = scrape(monitored, headers=BEARER)
    histogram = figures["companion_escalation_acknowledgement_seconds_bucket"]
    assert histogram[(("le", "300.0"),)] == 0
    assert histogram[(("le", "900.0"),)] == 1
    assert value(figures, "companion_escalation_acknowledgement_seconds_count") == 1
    assert value(figures, "companion_escalation_acknowledgement_seconds_sum") == 600
    still_open = db.session.query(Escalation).filter_by(status="open").count()
    assert sum(figures["companion_escalations_unacknowledged"].values()) == still_open
    assert escalation.status == "acknowledged"


def test_the_heartbeat_age_is_the_newest_workers(monitored: Flask, clock: FakeClock) -> None:
    for worker, minutes in (("old", 30), ("new", 4)):
        db.session.add(
            WorkerHeartbeat(
                worker_id=worker, last_cycle_at=START - dt.timedelta(minutes=minutes), cycles=1
            )
        )
    db.session.commit()
    figures = scrape(monitored, headers=BEARER)
    assert value(figures, "companion_worker_heartbeat_age_seconds") == 240
