"""The worker's channels as the tests and benchmarks use them: receivers on this machine."""

from __future__ import annotations

from typing import Any

from reminders.dispatch import Channels
from server.notify.destinations import Destinations
from server.notify.webhook import WebhookSender
from server.notify.webpush import WebPushSender


def loopback_channels(push: WebPushSender, **others: Any) -> Channels:
    """Channels whose webhook may be a receiver on loopback (COMPANION_WEBHOOK_ALLOW_INTERNAL)."""
    webhook = WebhookSender(
        timeout_seconds=5, destinations=Destinations(webhook_allow_internal=True)
    )
    return Channels(push=push, webhook=webhook, **others)
