"""What a message's sends add up to, whichever channel made them (services/sends.py), and the
recording channel the tests and development send through (notify/channels.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.dispatch import Channels, channels_of
from server.notify.channels import (
    Outcome,
    Registry,
    SendResult,
    Subscription,
    WebhookTarget,
    recording_registry,
)
from server.notify.email import EmailChannel, SmtpSettings
from server.notify.webhook import WebhookChannel, WebhookSender
from server.notify.webpush import PushChannel
from server.services.sends import Underway, conclude

DELIVERED = SendResult(Outcome.DELIVERED, 201, None, "accepted (201 Created)")
GONE = SendResult(Outcome.GONE, 410, None, "subscription gone (410 Gone)")
REJECTED = SendResult(Outcome.REJECTED, None, None, "webhook refused: private address")
RETRY_30 = SendResult(Outcome.RETRY, 503, 30.0, "push service error (503)")
RETRY = SendResult(Outcome.RETRY, None, None, "timed out")


def underway(channel: str, *results: SendResult, reached_before: bool = False) -> Underway:
    refusals = {"push": False, "webhook": True, "email": True}[channel]
    nowhere = {"push": "no push subscription", "webhook": "no webhook configured"}.get(
        channel, "no email configured"
    )
    message = Underway(7, channel, len(results), reached_before, refusals, nowhere)
    message.outcomes = [(None, result) for result in results]
    return message


@pytest.mark.parametrize(
    ("message", "status", "retry_after", "error"),
    [
        (underway("push", DELIVERED, GONE), "sent", None, None),
        (underway("push", GONE), "failed", None, GONE.detail),
        (underway("push", REJECTED), "failed", None, REJECTED.detail),
        (underway("push", GONE, reached_before=True), "sent", None, None),
        (underway("push", DELIVERED, RETRY_30, RETRY), "retry", 30, RETRY_30.detail),
        (underway("push"), "skipped", None, "no push subscription"),
        (underway("push", reached_before=True), "sent", None, None),
        (underway("webhook", DELIVERED), "sent", None, None),
        # a webhook refused (a clinic's URL not allowed yet) is tried again, not given up
        (underway("webhook", REJECTED), "retry", None, REJECTED.detail),
        (underway("webhook", RETRY_30), "retry", 30, RETRY_30.detail),
        (underway("email", RETRY), "retry", None, RETRY.detail),
    ],
)
def test_a_message_ends_by_its_sends_outcomes(
    message: Underway, status: str, retry_after: int | None, error: str | None
) -> None:
    result = conclude(message)
    assert (result.message_id, result.status, result.error) == (7, status, error)
    wait = dt.timedelta(seconds=retry_after) if retry_after else None
    assert result.retry_after == wait


def test_the_channels_route_or_say_there_is_nowhere_to_go() -> None:
    webhook = WebhookChannel(WebhookSender(), "https://hooks.example.org/in", "s3cret")
    assert webhook.route(WebhookTarget()) == (
        WebhookTarget("https://hooks.example.org/in", "s3cret"),
        "webhook https://hooks.example.org",
    )
    own = WebhookTarget("https://clinic.example.org:8443/hook", "theirs")
    assert webhook.route(own) == (own, "webhook https://clinic.example.org:8443")
    assert WebhookChannel(WebhookSender()).route(WebhookTarget()) is None
    email = EmailChannel(SmtpSettings("mail.example.org", 25))
    assert email.route(["team@example.org"]) == (["team@example.org"], "smtp mail.example.org:25")
    assert email.route([]) is None and EmailChannel(None).route(["a@example.org"]) is None
    webhook.close()


def test_a_registry_finds_each_channel_by_name_and_records(app) -> None:
    recorded = recording_registry()
    assert sorted(recorded) == ["email", "push", "webhook"]
    assert channels_of(recorded) is recorded
    push = recorded["push"]
    to = Subscription("https://push.example.org/1", "k", "a")
    assert push.route(to) == (to, "recorded push")
    with app.test_request_context():
        from server.api.push import vapid
        from server.notify.webpush import WebPushSender

        sender = WebPushSender(vapid(), "mailto:care@example.org")
    channels = channels_of(sender)
    assert isinstance(channels, Channels) and isinstance(channels, Registry)
    assert isinstance(channels["push"], PushChannel) and channels["push"].sender is sender
    channels.close()
