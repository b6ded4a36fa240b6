"""The care-team webhook: JSON POSTed, signed per the Standard Webhooks scheme.

Headers `webhook-id` (the message's id, the same on every attempt), `webhook-timestamp` (Unix
seconds of this attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`): a receiver rejects a timestamp more than 5 minutes from its
clock and an id it has seen, so a captured delivery cannot be replayed. The key is the
secret's bytes after a `whsec_` prefix, base64-decoded (the scheme's own form), else its UTF-8
bytes. The v1 header `X-Companion-Signature` (HMAC of the body alone) is still sent for one
release, for receivers not yet moved over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Sequence
from typing import Any

from standardwebhooks import Webhook

from server.notify.channels import Outcome, Send, SendResult, WebhookTarget, origin_of, send_each
from server.notify.destinations import Destinations, Refused
from server.notify.transport import DeadlinePassed, ReplyTooLarge, Transport

# a receiver's window for `webhook-timestamp` (README, Care-team webhook)
TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def signature(secret: str, body: bytes) -> str:
    """The v1 X-Companion-Signature header value: sha256=<hex HMAC of the raw body>.
    Deprecated: kept for one release beside the Standard Webhooks headers."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_key(secret: str) -> str | bytes:
    """The Standard Webhooks key: a `whsec_` secret as it is (the library decodes its base64),
    any other secret as its UTF-8 bytes."""
    return secret if secret.startswith(SECRET_PREFIX) else secret.encode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, and the v1 header."""
    webhook = Webhook(signing_key(secret))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook.sign(
            message_id, dt.datetime.fromtimestamp(timestamp, dt.UTC), body.decode()
        ),
        "X-Companion-Signature": signature(secret, body),
    }


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


class WebhookSender:
    """POSTs to the care-team webhook: each request under a total deadline, a few KiB of the
    reply read at most, to a URL and address `destinations` allow (checked again at each
    new connection)."""

    def __init__(
        self, timeout_seconds: float = 10.0, destinations: Destinations | None = None
    ) -> None:
        self.destinations = destinations or Destinations()
        self.transport = Transport(deadline_seconds=timeout_seconds)

    def send(
        self, url: str, secret: str, document: dict[str, Any], *, message_id: str
    ) -> SendResult:
        """POST once; 2xx is delivered, anything else (or no answer) is retried later.
        `message_id` is the same on every attempt of one message (receivers drop repeats)."""
        body = body_of(document)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "clozapine-companion-webhook/1",
            **signed_headers(secret, message_id, int(time.time()), body),
        }
        destinations = self.destinations
        try:
            reply = self.transport.post(
                url, headers, body, lambda u, host, port: destinations.webhook_addresses(u)
            )
        except Refused as exc:
            return SendResult(Outcome.REJECTED, None, None, f"webhook refused: {exc}")
        except DeadlinePassed:
            return SendResult(Outcome.RETRY, None, None, "webhook timed out")
        except (ReplyTooLarge, OSError, http.client.HTTPException, ValueError) as exc:
            return SendResult(
                Outcome.RETRY, None, None, f"webhook unreachable: {type(exc).__name__}"
            )
        if 200 <= reply.status < 300:
            return SendResult(Outcome.DELIVERED, reply.status, None, "delivered")
        retry = reply.headers.get("Retry-After")
        wait = float(retry) if retry and retry.isdigit() and len(retry) < 9 else None
        return SendResult(Outcome.RETRY, reply.status, wait, f"webhook answered {reply.status}")

    def close(self) -> None:
        self.transport.close()


class WebhookChannel:
    """The care-team webhook as a channel (server/notify/channels.py): a clinic's own URL and
    secret, else the worker's; one send at a time, in order."""

    name = "webhook"
    in_order = True
    retries_refusals = True
    nowhere = "no webhook configured"

    def __init__(
        self, sender: WebhookSender, url: str | None = None, secret: str | None = None
    ) -> None:
        self.sender = sender
        self.default = WebhookTarget(url, secret)

    def route(self, to: WebhookTarget | None) -> tuple[WebhookTarget, str] | None:
        url = (to and to.url) or self.default.url
        secret = (to and to.secret) or self.default.secret
        if not url or not secret:
            return None
        return WebhookTarget(url, secret), "webhook " + origin_of(url)

    def send(self, send: Send) -> SendResult:
        to: WebhookTarget = send.to
        assert to.url is not None and to.secret is not None  # routed
        return self.sender.send(to.url, to.secret, send.body, message_id=f"msg_{send.message_id}")

    def send_many(self, sends: Sequence[Send]) -> list[SendResult]:
        return send_each(self, sends)

    def close(self) -> None:
        self.sender.close()
