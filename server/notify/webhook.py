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
import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from standardwebhooks import Webhook

from server.notify.webpush import Outcome, SendResult

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


@dataclass
class WebhookSender:
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.trust_env = False

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
        try:
            response = self._session.post(
                url, data=body, headers=headers, timeout=self.timeout_seconds, allow_redirects=False
            )
        except requests.RequestException as exc:
            return SendResult(
                Outcome.RETRY, None, None, f"webhook unreachable: {type(exc).__name__}"
            )
        if 200 <= response.status_code < 300:
            return SendResult(Outcome.DELIVERED, response.status_code, None, "delivered")
        retry = response.headers.get("Retry-After")
        wait = float(retry) if retry and retry.isdigit() else None
        return SendResult(
            Outcome.RETRY, response.status_code, wait, f"webhook answered {response.status_code}"
        )

    def close(self) -> None:
        self._session.close()
