"""The ways out, behind one small interface: what a channel is handed, what it answers, and
the registry the worker looks a message's channel up in.

A `Channel` (web push, the care-team webhook, email; server/notify/webpush.py, webhook.py,
email.py) takes `Send`s, one request each, and answers a `SendResult` with one of four
outcomes: DELIVERED, GONE (delete the subscription), RETRY (try again later) or REJECTED
(ours to fix). It never raises for network errors. A `RecordingChannel` records what it was
asked to send and answers delivered, for tests and development.

The types a service builds for a channel (a push `Subscription` and its `PushMessage`, an
`Email`, a `WebhookTarget`) live here too, so that services import this module and no
channel.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

Kind = Literal["dose", "blood_test", "check_in", "escalation"]
Urgency = Literal["very-low", "low", "normal", "high"]
KINDS: frozenset[str] = frozenset(get_args(Kind))
URGENCIES: frozenset[str] = frozenset(get_args(Urgency))

# RFC 8291 section 4: a push service need only accept 4096 octets of encrypted body.
# aes128gcm adds a 86-octet header (salt 16, rs 4, idlen 1, keyid 65), a padding
# delimiter octet and a 16-octet tag, leaving 3993 octets of plaintext.
MAX_PAYLOAD_BYTES = 4096 - 86 - 1 - 16
MAX_ENDPOINT_LENGTH = 2048
# RFC 8030 section 5.4: at most 32 characters from the URL- and filename-safe base64 alphabet.
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Subscription:
    """A browser's PushSubscription: where to send, and the keys to encrypt for."""

    endpoint: str
    # The keys stay out of repr() so that logging a subscription leaks no secret.
    p256dh: str = field(repr=False)
    auth: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        """Read the shape of PushSubscription.toJSON(); values are checked by the validators."""
        try:
            endpoint = data["endpoint"]
            keys = data["keys"]
            p256dh, auth = keys["p256dh"], keys["auth"]
        except (KeyError, TypeError) as exc:
            raise ValueError("subscription needs endpoint, keys.p256dh and keys.auth") from exc
        if not all(isinstance(value, str) for value in (endpoint, p256dh, auth)):
            raise ValueError("subscription endpoint and keys must be strings")
        return cls(endpoint=endpoint, p256dh=p256dh, auth=auth)


@dataclass(frozen=True)
class PushMessage:
    """One notification: what the service worker shows, and how the push service treats it."""

    title: str
    body: str
    url: str
    tag: str
    kind: Kind
    ttl_seconds: int
    urgency: Urgency = "normal"
    topic: str | None = None
    actions: tuple[dict[str, str], ...] = ()
    # ids the service worker needs to act from the notification (never names or values)
    refs: tuple[tuple[str, int], ...] = ()
    # what the service worker words in `language` from its catalogue (title and body are the
    # same words made by the sender, for a worker that has no catalogue entry for `code`)
    code: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    language: str | None = None
    _payload: bytes = field(init=False, repr=False, compare=False, default=b"")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        if isinstance(self.ttl_seconds, bool) or not isinstance(self.ttl_seconds, int):
            raise ValueError("ttl_seconds must be an integer")
        if self.ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be greater than 0")
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {sorted(URGENCIES)}")
        if self.topic is not None and not _TOPIC.fullmatch(self.topic):
            raise ValueError(
                "topic must be 1-32 characters of A-Z a-z 0-9 - _ (use topic_for() to derive one)"
            )
        object.__setattr__(self, "actions", tuple(self.actions))
        if not all(isinstance(action, Mapping) for action in self.actions):
            raise ValueError("each action must be a mapping such as {'action': ..., 'title': ...}")
        payload = self._document()
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        object.__setattr__(self, "_payload", payload)  # made once: it is checked, then sent

    def payload(self) -> bytes:
        """The JSON the service worker receives after decryption."""
        return self._payload

    def _document(self) -> bytes:
        document: dict[str, Any] = {
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "tag": self.tag,
            "kind": self.kind,
        }
        if self.code is not None:
            document["code"] = self.code
            document["params"] = dict(self.params)
            document["lang"] = self.language
        if self.actions:
            document["actions"] = [dict(action) for action in self.actions]
        for name, value in self.refs:
            document.setdefault(name, value)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Outcome(Enum):
    """What the caller should do next with a subscription after one send."""

    DELIVERED = "delivered"
    GONE = "gone"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send; `detail` is a short reason and never holds payload content."""

    outcome: Outcome
    status: int | None
    retry_after_seconds: float | None
    detail: str


def topic_for(text: str) -> str:
    """A valid RFC 8030 Topic for `text`: itself when already valid, else a stable digest."""
    if _TOPIC.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:32]


def validate_endpoint(endpoint: str, *, allow_http: bool) -> None:
    """Refuse an endpoint that is not an absolute https URL (http only when allowed)."""
    if not isinstance(endpoint, str) or not endpoint:
        raise ValueError("endpoint must be a non-empty string")
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise ValueError(f"endpoint is longer than {MAX_ENDPOINT_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in endpoint):
        raise ValueError("endpoint contains whitespace or control characters")
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        raise ValueError("endpoint must be an https URL" + (" (or http)" if allow_http else ""))
    if not parts.hostname:
        raise ValueError("endpoint has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("endpoint must not carry credentials")
    try:
        parts.port  # noqa: B018 - urlsplit only checks the port when it is read
    except ValueError as exc:
        raise ValueError("endpoint has an invalid port") from exc


def validate_subscription_keys(p256dh: str, auth: str, *, curve: bool = True) -> None:
    """Refuse keys that are not a P-256 public point (65 bytes, 0x04...) and a 16-byte secret
    (`curve=False` skips checking that the point is on the curve)."""
    point = _b64url_decode(p256dh, "p256dh")
    if len(point) != 65 or point[0] != 0x04:
        raise ValueError("p256dh must be an uncompressed P-256 point (65 bytes starting 0x04)")
    if curve:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as exc:
            raise ValueError("p256dh is not a point on the P-256 curve") from exc
    if len(_b64url_decode(auth, "auth")) != 16:
        raise ValueError("auth must be a 16-byte secret")


def origin_of(endpoint: str) -> str:
    """The VAPID `aud`: scheme://host[:port] of the endpoint, default port omitted."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def padded(value: str) -> str:
    """base64url `value` with the right amount of `=` padding."""
    stripped = value.rstrip("=")
    return stripped + "=" * (-len(stripped) % 4)


def _b64url_decode(value: str, name: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty base64url string")
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value):
        raise ValueError(f"{name} is not base64url")
    try:
        return base64.urlsafe_b64decode(padded(value))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} is not base64url") from exc


@dataclass(frozen=True)
class Email:
    """An email as it is sent: its words, made from the message's codes (services/messages.py)."""

    subject: str
    text: str


@dataclass(frozen=True)
class WebhookTarget:
    """A clinic's own webhook, when it has one; the channel's default otherwise."""

    url: str | None = None
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Send:
    """One request to make for a claimed message: `to` (a push `Subscription`, the webhook's
    URL and secret, email addresses) as the channel routed it, `body` (a `PushMessage`, the
    webhook's document, an `Email`). `origin` is where it goes (sends are bounded per origin);
    sends to an `in_order` origin go one at a time, in the order claimed (a webhook receiver
    sees an escalation opened before it is resolved)."""

    message_id: int
    channel: str
    origin: str
    to: Any
    body: Any
    subscription_id: int | None = None
    in_order: bool = False


class Channel(Protocol):
    """One way out. `route` says where a send to `to` goes (the destination as it will be sent,
    and its origin), or None when there is nowhere to go (`nowhere` says why); `send` makes one
    request, `send_many` several (results in the input order)."""

    name: str
    in_order: bool  # one send at a time to an origin, in the order claimed
    retries_refusals: bool  # a REJECTED answer is tried again later (the receiver may be fixed)
    nowhere: str

    def route(self, to: Any) -> tuple[Any, str] | None: ...

    def send(self, send: Send) -> SendResult: ...

    def send_many(self, sends: Sequence[Send]) -> list[SendResult]: ...

    def close(self) -> None: ...


class Registry(dict[str, Channel]):
    """The channels by name: a message is sent by the channel its outbox row names.
    `content` is what emails are worded from (server/services/content.py; None: the app's)."""

    def __init__(self, channels: Iterable[Channel], *, content: Any = None) -> None:
        super().__init__((channel.name, channel) for channel in channels)
        self.content = content

    def close(self) -> None:
        for channel in self.values():
            channel.close()


class RecordingChannel:
    """Records what it is asked to send and answers delivered (tests and development)."""

    retries_refusals = False

    def __init__(self, name: str, *, in_order: bool = False) -> None:
        self.name = name
        self.in_order = in_order
        self.nowhere = f"no {name} configured"
        self.sent: list[Send] = []
        self._lock = threading.Lock()

    def route(self, to: Any) -> tuple[Any, str] | None:
        return to, f"recorded {self.name}"

    def send(self, send: Send) -> SendResult:
        with self._lock:
            self.sent.append(send)
        return SendResult(Outcome.DELIVERED, 200, None, "recorded")

    def send_many(self, sends: Sequence[Send]) -> list[SendResult]:
        return [self.send(send) for send in sends]

    def close(self) -> None:
        pass


def recording_registry(content: Any = None) -> Registry:
    """Push, webhook and email, each a RecordingChannel."""
    return Registry(
        [
            RecordingChannel("push"),
            RecordingChannel("webhook", in_order=True),
            RecordingChannel("email", in_order=True),
        ],
        content=content,
    )


def send_each(channel: Channel, sends: Sequence[Send]) -> list[SendResult]:
    """`send_many` one at a time (a channel whose sends are in order)."""
    return [channel.send(send) for send in sends]
