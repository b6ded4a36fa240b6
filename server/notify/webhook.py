"""The care-team webhook: JSON POSTed with an HMAC-SHA256 signature of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import requests

from server.notify.webpush import Outcome, SendResult


def signature(secret: str, body: bytes) -> str:
    """The X-Companion-Signature header value: sha256=<hex HMAC of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


@dataclass
class WebhookSender:
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        self._session = requests.Session()
        self._session.trust_env = False

    def send(self, url: str, secret: str, document: dict[str, Any]) -> SendResult:
        """POST once; 2xx is delivered, anything else (or no answer) is retried later."""
        body = body_of(document)
        headers = {
            "Content-Type": "application/json",
            "X-Companion-Signature": signature(secret, body),
            "User-Agent": "clozapine-companion-webhook/1",
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
