"""The care-team webhook is signed per Standard Webhooks (id, timestamp and body under one
HMAC), so a captured delivery cannot be replayed; the README's receiver check works on a real
delivery; the v1 header is still there for one release."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from standardwebhooks import Webhook, WebhookVerificationError

from reminders.cycle import run_cycle
from reminders.dispatch import Channels
from server.api.push import vapid
from server.extensions import db
from server.models import OutboxMessage
from server.notify.webhook import signed_headers
from server.notify.webpush import WebPushSender
from tests.support.channels import loopback_channels
from tests.support.webhook_receiver import Delivery, WebhookReceiver
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
SECRET = "webhook-secret-for-tests"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def readme_receiver() -> Any:
    """The receiver's check exactly as the README shows it."""
    readme = (ROOT / "README.md").read_text()
    [code] = re.findall(r"```python\n(.*?def verify_webhook.*?)```", readme, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace["verify_webhook"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


@pytest.fixture
def channels(app: Flask, receiver: WebhookReceiver) -> Iterator[Channels]:
    with app.test_request_context():
        key = vapid()
    out = loopback_channels(
        push=WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=2),
        webhook_url=receiver.url,
        webhook_secret=SECRET,
    )
    yield out
    out.close()


def fever(world: World) -> None:
    response = world.patient.post(
        f"/api/patients/{world.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
    )
    assert response.status_code == 201


def tick(app: Flask, channels: Channels, when: dt.datetime) -> None:
    run_cycle(db.session, when, app.extensions["companion.content"], "w1", channels)


def of_fever(receiver: WebhookReceiver) -> list[Delivery]:
    """The deliveries about the fever (the new patient's other rules may fire too)."""
    return [d for d in receiver.deliveries if d.document["escalation"]["rule"] == "fever"]


def delivered(world: World, channels: Channels, receiver: WebhookReceiver) -> Delivery:
    fever(world)
    tick(world.app, channels, NOW)
    [delivery] = of_fever(receiver)
    return delivery


def test_a_delivery_verifies_with_the_standard_library_and_the_readme_check(
    world: World, channels: Channels, receiver: WebhookReceiver
) -> None:
    delivery = delivered(world, channels, receiver)
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    # the scheme's reference implementation accepts it ...
    document = Webhook(SECRET.encode()).verify(delivery.body, headers)
    assert document["event"] == "escalation.opened"
    # ... and so does the README's check, once
    verify = readme_receiver()
    seen: set[str] = set()
    assert verify(SECRET.encode(), headers, delivery.body, seen)
    assert not verify(SECRET.encode(), headers, delivery.body, seen)  # the same id again


def test_a_captured_delivery_cannot_be_replayed_or_altered(
    world: World, channels: Channels, receiver: WebhookReceiver
) -> None:
    delivery = delivered(world, channels, receiver)
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    stamp = int(headers["webhook-timestamp"])
    verify = readme_receiver()
    key = SECRET.encode()
    # replayed more than 5 minutes later: refused, however new the receiver's memory of ids
    assert not verify(key, headers, delivery.body, set(), now=stamp + 301)
    assert verify(key, headers, delivery.body, set(), now=stamp + 299)
    # a fresh timestamp on the old signature: refused (the timestamp is signed)
    fresh = {**headers, "webhook-timestamp": str(stamp + 600)}
    assert not verify(key, fresh, delivery.body, set(), now=stamp + 600)
    # the body changed, or another message's id: refused
    assert not verify(key, headers, delivery.body.replace(b"fever", b"other"), set(), now=stamp)
    other = {**headers, "webhook-id": "msg_999999"}
    assert not verify(key, other, delivery.body, set(), now=stamp)
    with pytest.raises(WebhookVerificationError):
        Webhook(key).verify(delivery.body.replace(b"fever", b"other"), headers)


def test_the_id_is_the_messages_own_and_the_same_on_a_retry(
    world: World, channels: Channels, receiver: WebhookReceiver
) -> None:
    fever(world)
    receiver.status = 503  # the receiver is down: the message waits for another attempt
    tick(world.app, channels, NOW)
    assert receiver.deliveries == []
    receiver.status = 200
    tick(world.app, channels, NOW + dt.timedelta(minutes=5))
    [delivery] = of_fever(receiver)
    ids = {
        message.id: message.attempts
        for message in db.session.query(OutboxMessage).filter_by(channel="webhook")
    }
    message_id = int(delivery.headers["webhook-id"].removeprefix("msg_"))
    assert ids[message_id] == 2  # the second attempt, with the id the first one had
    # every message its own id
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == len(receiver.deliveries)


def test_the_v1_header_is_kept_for_one_release(
    world: World, channels: Channels, receiver: WebhookReceiver
) -> None:
    delivery = delivered(world, channels, receiver)
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["X-Companion-Signature"], expected)


def test_a_whsec_secret_is_the_schemes_own_base64_key() -> None:
    key = secrets.token_bytes(24)
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b'{"event":"escalation.opened"}'
    stamp = int(time.time())
    headers = signed_headers(secret, "msg_7", stamp, body)
    assert Webhook(secret).verify(body, headers) == {"event": "escalation.opened"}
    assert readme_receiver()(key, headers, body, set())
    # the signature covers "{id}.{timestamp}.{body}" with the decoded key
    mac = hmac.new(key, f"msg_7.{stamp}.".encode() + body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
