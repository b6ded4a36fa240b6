"""A real Web Push service on loopback, for tests and benchmarks.

It plays both ends a browser relies on: `new_subscription()` makes the browser's
key pair and auth secret, and POST /push/<id> behaves like a push service that
checks VAPID (RFC 8292), the Web Push headers (RFC 8030) and decrypts the
aes128gcm body (RFC 8291) before it stores the message. Behaviour can be
programmed per subscription (a status for the next n requests, a delay).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import secrets
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["PushService", "Received", "Rejection"]

MAX_BODY_BYTES = 4096
MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60
_URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_CACHED_TOKENS = 10_000


@dataclass(frozen=True)
class Received:
    """A message the service accepted, already verified and decrypted."""

    subscription_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    vapid_public_key: str
    at: datetime
    vapid_claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """A request the service refused on its own (not a programmed response)."""

    subscription_id: str
    status: int
    reason: str


class HasEndpoint(Protocol):
    @property
    def endpoint(self) -> str: ...


# A subscription id, its endpoint URL, its toJSON() dict or any object with .endpoint.
SubscriptionRef = str | Mapping[str, Any] | HasEndpoint


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Behaviour:
    status: int
    headers: dict[str, str]
    remaining: int | None


@dataclass
class _Browser:
    """The browser side of one subscription: its keys and how its endpoint behaves."""

    subscription_id: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: bytes | None
    behaviours: deque[_Behaviour] = field(default_factory=deque)
    delay_seconds: float = 0.0
    gone: bool = False


class PushService:
    """A loopback push service; use as a context manager or call close()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._browsers: dict[str, _Browser] = {}
        self._received: list[Received] = []
        self._rejections: list[Rejection] = []
        self._attempts: Counter[str] = Counter()
        # Verified Authorization header -> (claims, public key bytes). Signature
        # checks are the costly part; each distinct token is checked once.
        self._tokens: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.service = self
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"push-service-{port}",
            daemon=True,
        )
        self._thread.start()
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

    def close(self) -> None:
        """Stop accepting, drop open connections and wake delayed requests."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._thread.join(timeout=5)

    # -- subscriptions ---------------------------------------------------------

    def new_subscription(
        self, name: str | None = None, *, application_server_key: str | None = None
    ) -> dict[str, Any]:
        """Subscribe a new browser; return what PushSubscription.toJSON() would.

        With `application_server_key`, requests signed by any other VAPID key get 403,
        as they would for a browser that subscribed with that key.
        """
        subscription_id = name or secrets.token_urlsafe(16)
        if not _SUBSCRIPTION_ID.fullmatch(subscription_id):
            raise ValueError("subscription name must be 1-64 characters of A-Z a-z 0-9 - _")
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = secrets.token_bytes(16)
        server_key = _b64decode(application_server_key) if application_server_key else None
        browser = _Browser(subscription_id, private_key, auth_secret, server_key)
        with self._lock:
            if subscription_id in self._browsers:
                raise ValueError(f"subscription {subscription_id!r} already exists")
            self._browsers[subscription_id] = browser
        public_point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.url}/push/{subscription_id}",
            "keys": {"p256dh": _b64encode(public_point), "auth": _b64encode(auth_secret)},
        }

    def subscription_id(self, sub: SubscriptionRef) -> str:
        """The id behind a subscription id, endpoint URL, subscription JSON or object."""
        if isinstance(sub, Mapping):
            sub = str(sub["endpoint"])
        elif not isinstance(sub, str):
            sub = sub.endpoint
        return sub.rsplit("/push/", 1)[-1]

    def respond_with(
        self,
        sub: SubscriptionRef,
        status: int,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer the next `times` valid requests (all when None) with `status`.

        Calls queue up: respond_with(s, 500, times=2) then normal service.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        behaviour = _Behaviour(status, dict(headers or {}), times)
        with self._lock:
            self._browser(sub).behaviours.append(behaviour)

    def delay(self, sub: SubscriptionRef, seconds: float) -> None:
        """Hold every request to `sub` for `seconds` before answering (0 to stop)."""
        with self._lock:
            self._browser(sub).delay_seconds = seconds

    def reset_behaviour(self, sub: SubscriptionRef) -> None:
        """Forget programmed responses and delays for `sub`."""
        with self._lock:
            browser = self._browser(sub)
            browser.behaviours.clear()
            browser.delay_seconds = 0.0

    def unsubscribe(self, sub: SubscriptionRef) -> None:
        """The browser dropped the subscription: its endpoint now answers 410."""
        with self._lock:
            self._browser(sub).gone = True

    # -- what arrived ----------------------------------------------------------

    def received(self, kind: str | None = None) -> list[Received]:
        """Messages accepted so far, oldest first; optionally only one payload kind."""
        with self._lock:
            messages = list(self._received)
        if kind is None:
            return messages
        return [message for message in messages if message.payload.get("kind") == kind]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until at least `count` messages arrived; TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._received) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} push messages, got {len(self._received)} in {timeout}s"
                )
            return list(self._received)

    def rejections(self) -> list[Rejection]:
        """Requests refused by the service's own checks, oldest first."""
        with self._lock:
            return list(self._rejections)

    def attempts(self, sub: SubscriptionRef | None = None) -> int:
        """POSTs seen, for one subscription or in total (including refused ones)."""
        with self._lock:
            if sub is None:
                return sum(self._attempts.values())
            return self._attempts[self.subscription_id(sub)]

    def clear(self) -> None:
        """Forget received messages, rejections and counts; keep subscriptions."""
        with self._lock:
            self._received.clear()
            self._rejections.clear()
            self._attempts.clear()

    # -- request handling (called from server threads) -------------------------

    def _browser(self, sub: SubscriptionRef) -> _Browser:
        subscription_id = self.subscription_id(sub)
        try:
            return self._browsers[subscription_id]
        except KeyError:
            raise KeyError(f"no subscription {subscription_id!r}") from None

    def _handle(self, path: str, headers: Message, body: bytes) -> tuple[int, dict[str, str]]:
        if not path.startswith("/push/"):
            return 404, {}
        subscription_id = path[len("/push/") :]
        with self._lock:
            self._attempts[subscription_id] += 1
            browser = self._browsers.get(subscription_id)
            delay_seconds = browser.delay_seconds if browser else 0.0
        if browser is None:
            return self._refuse(subscription_id, _Refused(404, "unknown subscription"))
        if delay_seconds:
            self._closing.wait(delay_seconds)
        if browser.gone:
            return self._refuse(subscription_id, _Refused(410, "unsubscribed"))
        try:
            claims, public_key = self._verify_vapid(headers.get("Authorization"), browser)
            delivery_headers = _check_push_headers(headers, body)
            payload = _decrypt(browser, body)
        except _Refused as refused:
            return self._refuse(subscription_id, refused)

        with self._lock:
            if browser.behaviours:
                behaviour = browser.behaviours[0]
                if behaviour.remaining is not None:
                    behaviour.remaining -= 1
                    if behaviour.remaining == 0:
                        browser.behaviours.popleft()
                return behaviour.status, behaviour.headers
            self._received.append(
                Received(
                    subscription_id=subscription_id,
                    payload=payload,
                    headers=delivery_headers,
                    vapid_public_key=_b64encode(public_key),
                    at=datetime.now(UTC),
                    vapid_claims=claims,
                )
            )
            number = len(self._received)
            self._arrived.notify_all()
        return 201, {"Location": f"{self.url}/message/{number}"}

    def _refuse(self, subscription_id: str, refused: _Refused) -> tuple[int, dict[str, str]]:
        with self._lock:
            self._rejections.append(Rejection(subscription_id, refused.status, refused.reason))
        return refused.status, {}

    def _verify_vapid(
        self, authorization: str | None, browser: _Browser
    ) -> tuple[dict[str, Any], bytes]:
        if not authorization:
            raise _Refused(401, "missing Authorization")
        cached = self._tokens.get(authorization)
        if cached is None:
            cached = self._verify_authorization(authorization)
            if len(self._tokens) >= _MAX_CACHED_TOKENS:
                self._tokens.clear()
            self._tokens[authorization] = cached
        claims, public_key = cached
        now = time.time()
        if not now < claims["exp"] <= now + MAX_TOKEN_LIFETIME_SECONDS:
            raise _Refused(401, "VAPID token expired or exp more than 24 h ahead")
        if browser.application_server_key not in (None, public_key):
            raise _Refused(403, "VAPID key is not the one the subscription was made with")
        return claims, public_key

    def _verify_authorization(self, authorization: str) -> tuple[dict[str, Any], bytes]:
        """Check `vapid t=<jwt>, k=<key>` once: ES256 signature by k, aud, exp type, sub."""
        scheme, _, params = authorization.strip().partition(" ")
        if scheme.lower() != "vapid":
            raise _Refused(401, "Authorization scheme is not vapid")
        parts: dict[str, str] = {}
        for item in params.split(","):
            name, sep, value = item.partition("=")
            if not sep:
                raise _Refused(401, "malformed vapid parameters")
            parts[name.strip().lower()] = value.strip()
        token, key = parts.get("t"), parts.get("k")
        if not token or not key:
            raise _Refused(401, "vapid needs t= and k=")
        try:
            public_key_bytes = _b64decode(key)
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), public_key_bytes
            )
        except ValueError:
            raise _Refused(401, "k is not a P-256 public key") from None
        if len(public_key_bytes) != 65:
            raise _Refused(401, "k must be an uncompressed point")

        segments = token.split(".")
        if len(segments) != 3:
            raise _Refused(401, "token is not a JWS compact serialisation")
        try:
            header = json.loads(_b64decode(segments[0]))
            claims = json.loads(_b64decode(segments[1]))
            signature = _b64decode(segments[2])
        except ValueError:
            raise _Refused(401, "token segments are not base64url JSON") from None
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise _Refused(401, "token alg must be ES256")
        if header.get("typ", "JWT") != "JWT":
            raise _Refused(401, "token typ must be JWT")
        if len(signature) != 64:
            raise _Refused(401, "ES256 signature must be 64 bytes")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        signed = f"{segments[0]}.{segments[1]}".encode("ascii")
        try:
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise _Refused(401, "token signature does not match k") from None

        if not isinstance(claims, dict):
            raise _Refused(401, "token claims are not an object")
        if claims.get("aud") != self.url:
            raise _Refused(401, "token aud is not this push service's origin")
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int):
            raise _Refused(401, "token exp must be an integer")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise _Refused(401, "token sub must be a mailto: or https: URI")
        return claims, public_key_bytes


def _check_push_headers(headers: Message, body: bytes) -> dict[str, str]:
    if (headers.get("Content-Encoding") or "").strip().lower() != "aes128gcm":
        raise _Refused(415, "Content-Encoding must be aes128gcm")
    ttl = headers.get("TTL")
    if ttl is None:
        raise _Refused(400, "missing TTL")
    ttl = ttl.strip()
    if not ttl.isascii() or not ttl.isdigit() or int(ttl) <= 0:
        raise _Refused(400, "TTL must be an integer greater than 0")
    delivery = {"TTL": ttl}
    urgency = headers.get("Urgency")
    if urgency is not None:
        if urgency.strip() not in _URGENCIES:
            raise _Refused(400, "unknown Urgency")
        delivery["Urgency"] = urgency.strip()
    topic = headers.get("Topic")
    if topic is not None:
        if not _TOPIC.fullmatch(topic.strip()):
            raise _Refused(400, "Topic must be 1-32 base64url characters")
        delivery["Topic"] = topic.strip()
    if not body:
        raise _Refused(400, "empty body")
    if len(body) > MAX_BODY_BYTES:
        raise _Refused(413, "body larger than 4096 bytes")
    return delivery


def _decrypt(browser: _Browser, body: bytes) -> dict[str, Any]:
    try:
        plaintext = http_ece.decrypt(
            body,
            private_key=browser.private_key,
            auth_secret=browser.auth_secret,
            version="aes128gcm",
        )
    except Exception:
        raise _Refused(400, "body does not decrypt with the subscription's keys") from None
    try:
        payload = json.loads(plaintext)
    except ValueError:
        raise _Refused(400, "decrypted body is not JSON") from None
    if not isinstance(payload, dict):
        raise _Refused(400, "decrypted body is not a JSON object")
    return payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections must not make close() wait.
    block_on_close = False
    # A sender opens a pool of connections at once; the default backlog of 5
    # would drop SYNs and cost a one-second retransmit.
    request_queue_size = 256
    service: PushService

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected; anything else is a bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # seconds an idle keep-alive connection is kept
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isascii() or not length.isdigit():
            # Without a length the body cannot be skipped: answer and hang up.
            self.close_connection = True
            self._reply(411, {})
            return
        size = int(length)
        if size > 16 * MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(413, {})
            return
        body = self.rfile.read(size)
        status, headers = self.server.service._handle(self.path, self.headers, body)
        self._reply(status, headers)

    def do_GET(self) -> None:
        # Any body is left unread, so this connection cannot be reused.
        self.close_connection = True
        self._reply(405, {"Allow": "POST"})

    do_PUT = do_DELETE = do_HEAD = do_GET

    def _reply(self, status: int, headers: Mapping[str, str]) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}", "Content-Length: 0"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        # One write per response: headers and (empty) body leave in one segment.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    stripped = text.strip().rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", stripped):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
