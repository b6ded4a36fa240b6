"""Web Push delivery: RFC 8291 (aes128gcm) payload encryption with RFC 8292 VAPID.

The sender turns every push service answer into one of four outcomes the caller
acts on: DELIVERED, GONE (delete the subscription), RETRY (try again later) or
REJECTED (ours to fix; retrying will not help). It never raises for network errors.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from email.message import Message
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import http_ece
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from server.notify.channels import (
    MAX_PAYLOAD_BYTES,
    Kind,
    Outcome,
    PushMessage,
    Send,
    SendResult,
    Subscription,
    Urgency,
    origin_of,
    padded,
    topic_for,
    validate_endpoint,
    validate_subscription_keys,
)
from server.notify.destinations import Destinations, Refused
from server.notify.transport import DeadlinePassed, ReplyTooLarge, Transport

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Kind",
    "Outcome",
    "PushChannel",
    "PushMessage",
    "SendResult",
    "Subscription",
    "Urgency",
    "WebPushSender",
    "origin_of",
    "parse_retry_after",
    "topic_for",
    "validate_endpoint",
    "validate_subscription_keys",
]

logger = logging.getLogger(__name__)

_DIGITS = re.compile(r"[0-9]+")
# A VAPID token is signed for 12 hours (RFC 8292 allows up to 24) and reused for
# one hour, so a reused token always has at least 11 hours left.
VAPID_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60
VAPID_TOKEN_REUSE_SECONDS = 60 * 60
_MAX_CACHED_ORIGINS = 1024

DEFAULT_RETRY_AFTER_SECONDS = 60.0
# A push service asking us to wait longer than a day is treated as "a day".
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60.0


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        # Compare as text length first: a 400-digit number would overflow float().
        if len(value) > 9:
            return MAX_RETRY_AFTER_SECONDS
        return min(float(int(value)), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 HTTP-dates are always GMT.
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER_SECONDS)


class WebPushSender:
    """Encrypts and sends push messages; safe to share between threads.

    `subject` is the VAPID `sub` (mailto: or https:). Nothing from the environment applies
    (no proxy, no ~/.netrc, no cookies). `timeout_seconds` is each request's total deadline
    (name lookup, connect, TLS, send and reading the reply), and at most a few KiB of a reply
    are read (server/notify/transport.py). Endpoints must pass `destinations` (the known push
    services, public addresses; `allow_http` alone means loopback http for local testing),
    checked again at each new connection.
    `clock` returns Unix time; it only dates VAPID tokens and HTTP-date Retry-After.
    """

    def __init__(
        self,
        vapid: Vapid02,
        subject: str,
        *,
        timeout_seconds: float = 10.0,
        allow_http: bool = False,
        destinations: Destinations | None = None,
        max_workers: int = 16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _validate_subject(subject)
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be greater than 0")
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        try:
            vapid.private_key  # noqa: B018 - raises when the Vapid object holds no private key
        except VapidException as exc:
            raise ValueError("the VAPID object has no private key") from exc
        self._vapid = vapid
        self._subject = subject
        self._destinations = destinations or Destinations(push_allow_http=allow_http)
        self._allow_http = self._destinations.push_allow_http
        self._clock = clock
        self._authorizations: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self.transport = Transport(deadline_seconds=timeout_seconds)
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, sub: Subscription, msg: PushMessage) -> SendResult:
        """Encrypt and send one message; report what the push service said."""
        try:
            return self._send(sub, msg)
        except Exception as exc:
            # A bug, not a network problem: log it and let the batch go on.
            logger.exception("Unexpected error sending a %s push", msg.kind)
            return _rejected(f"internal error ({type(exc).__name__})")

    def send_many(self, items: Sequence[tuple[Subscription, PushMessage]]) -> list[SendResult]:
        """Send concurrently; results follow the input order."""
        if not items:
            return []
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="webpush"
                )
            executor = self._executor
        futures = [executor.submit(self.send, sub, msg) for sub, msg in items]
        return [future.result() for future in futures]

    def close(self) -> None:
        """Wait for sends in flight, then release the threads and connections."""
        if self._closed:
            return
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.transport.close()

    def _send(self, sub: Subscription, msg: PushMessage) -> SendResult:
        try:
            validate_endpoint(sub.endpoint, allow_http=self._allow_http)
            self._destinations.check_push_endpoint(sub.endpoint, resolve_now=False)
            # the shapes only: the encryption's own ECDH refuses a point off the curve, before
            # any request, and the full check (costly: docs/performance.md, Reminders) ran when it
            # was stored
            validate_subscription_keys(sub.p256dh, sub.auth, curve=False)
        except ValueError as exc:
            return _rejected(f"invalid subscription: {exc}")
        origin = origin_of(sub.endpoint)
        try:
            authorization = self._authorization_for(origin)
        except VapidException:
            return _rejected("cannot sign a VAPID token for this origin")

        headers = {"Authorization": authorization, "Urgency": msg.urgency}
        if msg.topic is not None:
            headers["Topic"] = msg.topic
        subscription_info = {
            "endpoint": sub.endpoint,
            # pywebpush appends the wrong amount of '=' for some lengths (lenient decoding
            # saves it today); hand it correctly padded values instead.
            "keys": {"p256dh": padded(sub.p256dh), "auth": padded(sub.auth)},
        }
        try:
            # pywebpush does the RFC 8291 encryption; the POST is ours (below)
            body = WebPusher(subscription_info).encode(msg.payload(), "aes128gcm")["body"]
        except (WebPushException, http_ece.ECEException, ValueError) as exc:
            return _rejected(f"encryption failed ({type(exc).__name__})")
        headers["Content-Encoding"] = "aes128gcm"
        headers["TTL"] = str(msg.ttl_seconds)
        destinations = self._destinations
        try:
            reply = self.transport.post(
                sub.endpoint,
                headers,
                body,
                lambda url, host, port: destinations.push_addresses(url),
            )
        except Refused as exc:
            return _rejected(f"endpoint refused when sending: {exc}")
        except DeadlinePassed:
            return SendResult(Outcome.RETRY, None, None, "timed out")
        except ReplyTooLarge:
            return SendResult(Outcome.RETRY, None, None, "reply too large")
        except http.client.InvalidURL as exc:
            return _rejected(f"invalid endpoint ({type(exc).__name__})")
        except (OSError, http.client.HTTPException) as exc:
            # refused, reset, DNS, TLS, a broken answer, ...
            return SendResult(Outcome.RETRY, None, None, f"network error ({type(exc).__name__})")
        if 300 <= reply.status < 400:
            # Endpoints come from browsers: never follow a redirect somewhere else.
            return _rejected("push service redirected; not followed", reply.status)
        result = _classify(reply.status, reply.reason, reply.headers, self._clock())
        if result.outcome is not Outcome.DELIVERED:
            logger.info("Push to %s: %s", origin, result.detail)
        return result

    def _authorization_for(self, origin: str) -> str:
        """The VAPID Authorization header for an origin, re-signed at most once an hour."""
        now = self._clock()
        with self._lock:
            cached = self._authorizations.get(origin)
        if cached is not None:
            signed_at, header = cached
            if signed_at <= now < signed_at + VAPID_TOKEN_REUSE_SECONDS:
                return header
        claims = {
            "aud": origin,
            "sub": self._subject,
            "exp": int(now) + VAPID_TOKEN_LIFETIME_SECONDS,
        }
        header = str(self._vapid.sign(claims)["Authorization"])
        with self._lock:
            if len(self._authorizations) >= _MAX_CACHED_ORIGINS:
                self._authorizations.clear()
            self._authorizations[origin] = (now, header)
        return header


def _classify(
    status: int, reason: str | None, headers: Mapping[str, str] | Message, now: float
) -> SendResult:
    phrase = f"{status} {(reason or '').strip()[:60]}".strip()
    if 200 <= status < 300:
        return SendResult(Outcome.DELIVERED, status, None, f"accepted ({phrase})")
    if status in (404, 410):
        return SendResult(Outcome.GONE, status, None, f"subscription gone ({phrase})")
    if status == 429:
        wait = parse_retry_after(headers.get("Retry-After"), now=now)
        if wait is None:
            wait = DEFAULT_RETRY_AFTER_SECONDS
        return SendResult(Outcome.RETRY, status, wait, f"rate limited ({phrase})")
    if 500 <= status < 600:
        # Honour a Retry-After a 503 may carry; otherwise the caller picks the backoff.
        wait = parse_retry_after(headers.get("Retry-After"), now=now)
        return SendResult(Outcome.RETRY, status, wait, f"push service error ({phrase})")
    return SendResult(Outcome.REJECTED, status, None, f"rejected ({phrase})")


def _rejected(detail: str, status: int | None = None) -> SendResult:
    return SendResult(Outcome.REJECTED, status, None, detail)


def _validate_subject(subject: str) -> None:
    if subject.startswith("mailto:") and "@" in subject[len("mailto:") :]:
        return
    if subject.startswith("https://") and urlsplit(subject).hostname:
        return
    raise ValueError("VAPID subject must be a mailto: address or an https:// URL")


class PushChannel:
    """Web push as a channel (server/notify/channels.py): a send to each subscription."""

    name = "push"
    in_order = False
    retries_refusals = False
    nowhere = "no push subscription"

    def __init__(self, sender: WebPushSender) -> None:
        self.sender = sender

    def route(self, to: Subscription) -> tuple[Subscription, str]:
        return to, origin_of(to.endpoint)

    def send(self, send: Send) -> SendResult:
        return self.sender.send(send.to, send.body)

    def send_many(self, sends: Sequence[Send]) -> list[SendResult]:
        return self.sender.send_many([(send.to, send.body) for send in sends])

    def close(self) -> None:
        self.sender.close()
