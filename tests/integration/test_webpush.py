"""Web Push end to end: real aes128gcm encryption and VAPID against a loopback push service."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from py_vapid import Vapid02
from pywebpush import WebPusher

from server.notify.vapid import application_server_key, load_or_create_vapid, vapid_from_pem
from server.notify.webpush import (
    MAX_RETRY_AFTER_SECONDS,
    Outcome,
    PushMessage,
    SendResult,
    Subscription,
    WebPushSender,
    parse_retry_after,
    topic_for,
    validate_endpoint,
    validate_subscription_keys,
)
from tests.support.push_service import PushService

SUBJECT = "mailto:care-team@example.org"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture(scope="module")
def vapid(tmp_path_factory: pytest.TempPathFactory) -> Vapid02:
    return load_or_create_vapid(tmp_path_factory.mktemp("vapid") / "vapid.pem")


@pytest.fixture
def sender(vapid: Vapid02) -> Iterator[WebPushSender]:
    with WebPushSender(vapid, SUBJECT, allow_http=True, timeout_seconds=5.0) as web_push:
        yield web_push


def subscribe(service: PushService, name: str | None = None, **options: Any) -> Subscription:
    return Subscription.from_json(service.new_subscription(name, **options))


def message(**overrides: Any) -> PushMessage:
    fields: dict[str, Any] = {
        "title": "Time for your evening medicine",
        "body": "Tap to log it",
        "url": "/today",
        "tag": "dose-2024-05-01-2100",
        "kind": "dose",
        "ttl_seconds": 3600,
    }
    fields.update(overrides)
    return PushMessage(**fields)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# -- delivery -----------------------------------------------------------------


def test_delivers_encrypted_payload_signed_with_vapid(
    push_service: PushService, sender: WebPushSender, vapid: Vapid02
) -> None:
    msg = message()

    result = sender.send(subscribe(push_service, "phone"), msg)

    assert (result.outcome, result.status, result.retry_after_seconds) == (
        Outcome.DELIVERED,
        201,
        None,
    )
    [received] = push_service.received()
    assert received.subscription_id == "phone"
    assert received.payload == json.loads(msg.payload())
    assert received.payload == {
        "title": "Time for your evening medicine",
        "body": "Tap to log it",
        "url": "/today",
        "tag": "dose-2024-05-01-2100",
        "kind": "dose",
    }
    assert received.headers == {"TTL": "3600", "Urgency": "normal"}
    assert received.vapid_public_key == application_server_key(vapid)
    assert received.vapid_claims["aud"] == push_service.url
    assert received.vapid_claims["sub"] == SUBJECT
    assert received.vapid_claims["exp"] <= time.time() + 12 * 3600 + 5
    assert msg.title not in result.detail
    assert msg.body not in result.detail


def test_escalation_arrives_with_high_urgency_topic_and_actions(
    push_service: PushService, sender: WebPushSender
) -> None:
    actions = ({"action": "call", "title": "Call the clinic"},)
    msg = message(
        title="Please check in with your care team",
        tag="escalation-17",
        kind="escalation",
        ttl_seconds=600,
        urgency="high",
        topic="escalation-17",
        actions=actions,
    )

    result = sender.send(subscribe(push_service), msg)

    assert result.outcome is Outcome.DELIVERED
    [received] = push_service.received(kind="escalation")
    assert received.headers == {"TTL": "600", "Urgency": "high", "Topic": "escalation-17"}
    assert received.payload["actions"] == [{"action": "call", "title": "Call the clinic"}]
    assert push_service.received(kind="dose") == []


def test_subscription_made_with_our_key_accepts_it_and_refuses_another(
    push_service: PushService, sender: WebPushSender, vapid: Vapid02
) -> None:
    ours = subscribe(push_service, application_server_key=application_server_key(vapid))
    other = Vapid02()
    other.generate_keys()
    theirs = subscribe(push_service, application_server_key=application_server_key(other))

    assert sender.send(ours, message()).outcome is Outcome.DELIVERED
    refused = sender.send(theirs, message())

    assert (refused.outcome, refused.status) == (Outcome.REJECTED, 403)


def test_each_push_service_origin_gets_its_own_audience(
    push_service: PushService, sender: WebPushSender
) -> None:
    with PushService() as second_service:
        first = sender.send(subscribe(push_service), message())
        second = sender.send(subscribe(second_service), message())

        assert first.outcome is second.outcome is Outcome.DELIVERED
        assert push_service.received()[0].vapid_claims["aud"] == push_service.url
        assert second_service.received()[0].vapid_claims["aud"] == second_service.url


def test_vapid_header_is_reused_for_an_hour_then_signed_again(
    push_service: PushService, vapid: Vapid02
) -> None:
    now = [time.time()]
    sub = subscribe(push_service)
    with WebPushSender(vapid, SUBJECT, allow_http=True, clock=lambda: now[0]) as web_push:
        web_push.send(sub, message())
        now[0] += 30 * 60
        web_push.send(sub, message())
        now[0] += 31 * 60
        web_push.send(sub, message())

    expiries = [received.vapid_claims["exp"] for received in push_service.received()]
    assert expiries[0] == expiries[1]
    assert expiries[2] == pytest.approx(expiries[0] + 61 * 60, abs=1)


# -- outcomes -----------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_and_gone_mean_the_subscription_is_gone(
    push_service: PushService, sender: WebPushSender, status: int
) -> None:
    sub = subscribe(push_service)
    push_service.respond_with(sub.endpoint, status)

    result = sender.send(sub, message())

    assert (result.outcome, result.status) == (Outcome.GONE, status)


def test_unsubscribed_and_unknown_endpoints_are_gone(
    push_service: PushService, sender: WebPushSender
) -> None:
    sub = subscribe(push_service)
    push_service.unsubscribe(sub.endpoint)
    unknown = Subscription(f"{push_service.url}/push/never-made", sub.p256dh, sub.auth)

    assert sender.send(sub, message()).status == 410
    assert sender.send(unknown, message()).status == 404
    assert push_service.received() == []


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("30", 30.0, 30.0),
        (lambda: formatdate(time.time() + 120, usegmt=True), 100.0, 120.0),
        (None, 60.0, 60.0),
    ],
    ids=["seconds", "http-date", "absent-defaults-to-60"],
)
def test_rate_limited_is_retried_after_the_advertised_delay(
    push_service: PushService,
    sender: WebPushSender,
    retry_after: str | Callable[[], str] | None,
    low: float,
    high: float,
) -> None:
    sub = subscribe(push_service)
    value = retry_after() if callable(retry_after) else retry_after
    push_service.respond_with(sub, 429, {"Retry-After": value} if value else None, times=1)

    limited = sender.send(sub, message())
    after = sender.send(sub, message())

    assert (limited.outcome, limited.status) == (Outcome.RETRY, 429)
    assert limited.retry_after_seconds is not None
    assert low <= limited.retry_after_seconds <= high
    assert after.outcome is Outcome.DELIVERED
    assert len(push_service.received()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_the_callers_backoff(
    push_service: PushService, sender: WebPushSender, status: int
) -> None:
    sub = subscribe(push_service)
    push_service.respond_with(sub, status)

    result = sender.send(sub, message())

    assert result == SendResult(Outcome.RETRY, status, None, result.detail)


def test_service_unavailable_with_retry_after_is_honoured(
    push_service: PushService, sender: WebPushSender
) -> None:
    sub = subscribe(push_service)
    push_service.respond_with(sub, 503, {"Retry-After": "10"})

    result = sender.send(sub, message())

    assert (result.outcome, result.retry_after_seconds) == (Outcome.RETRY, 10.0)


def test_two_server_errors_then_delivered_once(
    push_service: PushService, sender: WebPushSender
) -> None:
    sub = subscribe(push_service)
    push_service.respond_with(sub, 500, times=2)

    outcomes = [sender.send(sub, message()).outcome for _ in range(3)]

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DELIVERED]
    assert push_service.attempts(sub.endpoint) == 3
    assert len(push_service.received()) == 1


def test_slow_push_service_times_out_as_retry_without_hanging(
    push_service: PushService, vapid: Vapid02
) -> None:
    sub = subscribe(push_service)
    push_service.delay(sub, 5.0)

    with WebPushSender(vapid, SUBJECT, allow_http=True, timeout_seconds=0.3) as impatient:
        started = time.monotonic()
        result = impatient.send(sub, message())
        elapsed = time.monotonic() - started

    assert (result.outcome, result.status, result.retry_after_seconds) == (
        Outcome.RETRY,
        None,
        None,
    )
    assert "timed out" in result.detail
    assert elapsed < 4.0


@pytest.mark.parametrize("status", [400, 401, 403, 413, 418])
def test_client_errors_are_rejected(
    push_service: PushService, sender: WebPushSender, status: int
) -> None:
    sub = subscribe(push_service)
    push_service.respond_with(sub, status)

    result = sender.send(sub, message())

    assert (result.outcome, result.status, result.retry_after_seconds) == (
        Outcome.REJECTED,
        status,
        None,
    )


def test_redirects_are_not_followed(push_service: PushService, sender: WebPushSender) -> None:
    with PushService() as elsewhere:
        target = elsewhere.new_subscription()
        sub = subscribe(push_service)
        push_service.respond_with(sub, 307, {"Location": target["endpoint"]})

        result = sender.send(sub, message())

        assert (result.outcome, result.status) == (Outcome.REJECTED, 307)
        assert elsewhere.attempts() == 0


def test_connection_refused_is_retry(sender: WebPushSender, push_service: PushService) -> None:
    keys = subscribe(push_service)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sub = Subscription(f"http://127.0.0.1:{closed_port}/push/x", keys.p256dh, keys.auth)

    result = sender.send(sub, message())

    assert (result.outcome, result.status, result.retry_after_seconds) == (
        Outcome.RETRY,
        None,
        None,
    )
    assert "network error" in result.detail


# -- validation ---------------------------------------------------------------


def test_http_endpoint_is_refused_unless_allowed(push_service: PushService, vapid: Vapid02) -> None:
    sub = subscribe(push_service)

    with pytest.raises(ValueError, match="https"):
        validate_endpoint(sub.endpoint, allow_http=False)
    validate_endpoint(sub.endpoint, allow_http=True)
    with WebPushSender(vapid, SUBJECT) as strict:
        result = strict.send(sub, message())

    assert (result.outcome, result.status) == (Outcome.REJECTED, None)
    assert push_service.attempts() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "/push/relative",
        "ftp://push.example.com/x",
        "https://",
        "https:///no-host",
        "https://user:secret@push.example.com/x",
        "https://push.example.com:99999/x",
        "https://push.example.com/with space",
        "https://push.example.com/" + "a" * 2048,
    ],
)
def test_invalid_endpoints_are_refused(endpoint: str) -> None:
    with pytest.raises(ValueError):
        validate_endpoint(endpoint, allow_http=True)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGhpcyBpcyBhIHRlc3Q",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABm",
        "https://web.push.apple.com/QGx0ZXN0",
        "https://push.example.com:8443/p/" + "a" * 2000,
    ],
)
def test_push_service_endpoints_are_accepted(endpoint: str) -> None:
    validate_endpoint(endpoint, allow_http=False)


def _valid_keys() -> tuple[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64(point), b64(os.urandom(16))


def _off_curve_point() -> bytes:
    x = int.from_bytes(os.urandom(32), "big") >> 8
    for y in range(1, 1000):
        candidate = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), candidate)
        except ValueError:
            return candidate
    raise AssertionError("no off-curve point found")


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [
        (lambda good: good[0][:-4], lambda good: good[1]),
        (lambda good: b64(b"\x02" + os.urandom(32)), lambda good: good[1]),
        (lambda good: b64(b"\x05" + os.urandom(64)), lambda good: good[1]),
        (lambda good: b64(_off_curve_point()), lambda good: good[1]),
        (lambda good: "not base64!", lambda good: good[1]),
        (lambda good: "", lambda good: good[1]),
        (lambda good: good[0], lambda good: b64(os.urandom(15))),
        (lambda good: good[0], lambda good: b64(os.urandom(17))),
        (lambda good: good[0], lambda good: "a+b/"),
    ],
    ids=[
        "p256dh-short",
        "p256dh-compressed",
        "p256dh-bad-prefix",
        "p256dh-off-curve",
        "p256dh-not-base64",
        "p256dh-empty",
        "auth-15-bytes",
        "auth-17-bytes",
        "auth-standard-base64",
    ],
)
def test_bad_subscription_keys_are_refused_before_any_request(
    push_service: PushService,
    sender: WebPushSender,
    p256dh: Callable[[tuple[str, str]], str],
    auth: Callable[[tuple[str, str]], str],
) -> None:
    good = _valid_keys()
    bad_p256dh, bad_auth = p256dh(good), auth(good)
    sub = Subscription(push_service.new_subscription()["endpoint"], bad_p256dh, bad_auth)

    with pytest.raises(ValueError):
        validate_subscription_keys(bad_p256dh, bad_auth)
    result = sender.send(sub, message())

    assert (result.outcome, result.status) == (Outcome.REJECTED, None)
    assert push_service.attempts() == 0


def test_padded_and_unpadded_keys_are_both_accepted(
    push_service: PushService, sender: WebPushSender
) -> None:
    sub = subscribe(push_service)
    padded = Subscription(sub.endpoint, sub.p256dh + "=", sub.auth + "==")

    validate_subscription_keys(sub.p256dh, sub.auth)
    validate_subscription_keys(padded.p256dh, padded.auth)
    assert sender.send(padded, message()).outcome is Outcome.DELIVERED


@pytest.mark.parametrize(
    "overrides",
    [
        {"ttl_seconds": 0},
        {"ttl_seconds": -1},
        {"ttl_seconds": True},
        {"ttl_seconds": 1.5},
        {"kind": "reminder"},
        {"urgency": "urgent"},
        {"topic": ""},
        {"topic": "a" * 33},
        {"topic": "dose 21:00"},
        {"body": "x" * 4000},
    ],
)
def test_invalid_push_messages_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        message(**overrides)


def test_topic_for_passes_valid_topics_and_digests_the_rest() -> None:
    assert topic_for("dose-2024-05-01-2100") == "dose-2024-05-01-2100"
    derived = topic_for("dose 2024-05-01 21:00 for patient 42")

    assert derived == topic_for("dose 2024-05-01 21:00 for patient 42")
    assert len(derived) == 32
    assert message(topic=derived).topic == derived


def test_subscription_repr_hides_its_keys(push_service: PushService) -> None:
    sub = subscribe(push_service)

    assert sub.auth not in repr(sub)
    assert sub.p256dh not in repr(sub)


def test_sender_needs_a_mailto_or_https_subject(vapid: Vapid02) -> None:
    with pytest.raises(ValueError):
        WebPushSender(vapid, "care-team@example.org")


FIXED_NOW = 1_714_557_600.0  # 2024-05-01T10:00:00Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 45 ", 45.0),
        ("0", 0.0),
        ("Wed, 01 May 2024 10:01:30 GMT", 90.0),
        ("Wed, 01 May 2024 09:00:00 GMT", 0.0),
        ("99999999999999999999", MAX_RETRY_AFTER_SECONDS),
        ("-5", None),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=FIXED_NOW) == expected


# -- many at once -------------------------------------------------------------


def test_send_many_delivers_each_message_exactly_once(
    push_service: PushService, sender: WebPushSender
) -> None:
    subs = [subscribe(push_service, f"sub-{n}") for n in range(50)]
    items = [
        (sub, message(tag=f"dose-{round_}", body=f"reminder {round_}"))
        for round_ in range(4)
        for sub in subs
    ]

    results = sender.send_many(items)

    assert len(results) == 200
    assert all(result.outcome is Outcome.DELIVERED for result in results)
    arrived = Counter(
        (received.subscription_id, received.payload["tag"]) for received in push_service.received()
    )
    expected = {(f"sub-{n}", f"dose-{round_}") for n in range(50) for round_ in range(4)}
    assert set(arrived) == expected
    assert set(arrived.values()) == {1}


def test_send_many_returns_results_in_input_order(
    push_service: PushService, sender: WebPushSender
) -> None:
    fine = subscribe(push_service, "fine")
    gone = subscribe(push_service, "gone")
    limited = subscribe(push_service, "limited")
    push_service.respond_with(gone, 410)
    push_service.respond_with(limited, 429, {"Retry-After": "5"})
    pattern = [
        (fine, Outcome.DELIVERED),
        (gone, Outcome.GONE),
        (limited, Outcome.RETRY),
    ]
    items = [(sub, message(tag=f"t{n}")) for n in range(30) for sub, _ in [pattern[n % 3]]]

    results = sender.send_many(items)

    assert [result.outcome for result in results] == [pattern[n % 3][1] for n in range(30)]
    assert {received.payload["tag"] for received in push_service.received()} == {
        f"t{n}" for n in range(0, 30, 3)
    }
    assert sender.send_many([]) == []


# -- VAPID keys ---------------------------------------------------------------


def test_load_or_create_vapid_creates_one_private_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vapid.pem"

    first = load_or_create_vapid(path)
    second = load_or_create_vapid(path)

    assert application_server_key(first) == application_server_key(second)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["vapid.pem"]


def test_load_or_create_vapid_from_racing_threads_agree(tmp_path: Path) -> None:
    path = tmp_path / "vapid.pem"
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(application_server_key(load_or_create_vapid(path)))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert application_server_key(load_or_create_vapid(path)) == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vapid.pem"]


RACER = """
import sys, time, pathlib
from server.notify.vapid import application_server_key, load_or_create_vapid
key_path, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
print("ready", flush=True)
deadline = time.monotonic() + 20
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
print(application_server_key(load_or_create_vapid(key_path)), flush=True)
"""


def test_load_or_create_vapid_from_racing_processes_agree(tmp_path: Path) -> None:
    path, go = tmp_path / "vapid.pem", tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(path), str(go)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == "ready"
        go.touch()
        keys = [racer.communicate(timeout=30)[0].strip() for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()

    assert all(racer.returncode == 0 for racer in racers)
    assert len(set(keys)) == 1
    assert application_server_key(load_or_create_vapid(path)) == keys[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_application_server_key_is_an_uncompressed_p256_point(vapid: Vapid02) -> None:
    raw = base64.urlsafe_b64decode(application_server_key(vapid) + "==")

    assert "=" not in application_server_key(vapid)
    assert len(raw) == 65
    assert raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def test_vapid_from_pem_reads_environment_style_keys(vapid: Vapid02) -> None:
    pem = vapid.private_pem().decode("ascii")
    sec1 = vapid.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")

    for text in (pem, sec1, pem.replace("\n", "\\n"), f"\n  {pem}\n"):
        assert application_server_key(vapid_from_pem(text)) == application_server_key(vapid)


def test_vapid_from_pem_refuses_other_keys_without_echoing_them() -> None:
    p384 = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )

    with pytest.raises(ValueError, match="P-256"):
        vapid_from_pem(p384)
    with pytest.raises(ValueError) as refused:
        vapid_from_pem("secret-looking-garbage")
    assert "secret-looking-garbage" not in str(refused.value)


# -- the test push service itself must bite ----------------------------------


def _jwt(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any], alg: str = "ES256") -> str:
    header = b64(json.dumps({"typ": "JWT", "alg": alg}).encode())
    body = b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{header}.{body}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    return b64(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


class Forgery:
    """A hand-built push request, valid until a test case tampers with it."""

    def __init__(self, service: PushService, ours: ec.EllipticCurvePrivateKey) -> None:
        self.service = service
        self.ours = ours
        self.theirs = ec.generate_private_key(ec.SECP256R1())
        self.subscription = service.new_subscription(application_server_key=_public(ours))
        self.claims: dict[str, Any] = {
            "aud": service.url,
            "exp": int(time.time()) + 3600,
            "sub": SUBJECT,
        }
        self.body = self.encrypt_for(self.subscription)
        self.headers = {
            "Authorization": self.authorization(ours, self.claims),
            "TTL": "60",
            "Content-Encoding": "aes128gcm",
        }

    def authorization(
        self,
        signer: ec.EllipticCurvePrivateKey,
        claims: dict[str, Any],
        *,
        k: ec.EllipticCurvePrivateKey | None = None,
        alg: str = "ES256",
    ) -> str:
        return f"vapid t={_jwt(signer, claims, alg)}, k={_public(k or signer)}"

    def with_claims(self, **changes: Any) -> None:
        claims = {**self.claims, **changes}
        self.headers["Authorization"] = self.authorization(
            self.ours, {key: value for key, value in claims.items() if value is not None}
        )

    @staticmethod
    def encrypt_for(subscription: dict[str, Any]) -> bytes:
        payload = json.dumps({"title": "t", "body": "b", "url": "/", "tag": "x", "kind": "dose"})
        return bytes(WebPusher(subscription).encode(payload.encode(), "aes128gcm")["body"])

    def post(self) -> requests.Response:
        return requests.post(
            self.subscription["endpoint"], data=self.body, headers=self.headers, timeout=5
        )


def _swap_claims_keep_signature(forgery: Forgery) -> None:
    token = forgery.headers["Authorization"].split("t=", 1)[1].split(",", 1)[0]
    header, _, signature = token.split(".")
    forged = b64(json.dumps({**forgery.claims, "sub": "mailto:mallory@example.net"}).encode())
    forgery.headers["Authorization"] = (
        f"vapid t={header}.{forged}.{signature}, k={_public(forgery.ours)}"
    )


TAMPERINGS: dict[str, tuple[int, Callable[[Forgery], object]]] = {
    "untouched (control)": (201, lambda f: None),
    "signed by another key, claiming ours": (
        401,
        lambda f: f.headers.update(Authorization=f.authorization(f.theirs, f.claims, k=f.ours)),
    ),
    "claims changed after signing": (401, _swap_claims_keep_signature),
    "valid token from another application server": (
        403,
        lambda f: f.headers.update(Authorization=f.authorization(f.theirs, f.claims)),
    ),
    "wrong audience": (401, lambda f: f.with_claims(aud="https://fcm.googleapis.com")),
    "expired": (401, lambda f: f.with_claims(exp=int(time.time()) - 1)),
    "expires more than 24 h ahead": (401, lambda f: f.with_claims(exp=int(time.time()) + 90000)),
    "no subject": (401, lambda f: f.with_claims(sub=None)),
    "alg is not ES256": (
        401,
        lambda f: f.headers.update(Authorization=f.authorization(f.ours, f.claims, alg="HS256")),
    ),
    "legacy WebPush scheme": (
        401,
        lambda f: f.headers.update(
            Authorization=f.headers["Authorization"].replace("vapid", "WebPush")
        ),
    ),
    "no Authorization": (401, lambda f: f.headers.pop("Authorization")),
    "no TTL": (400, lambda f: f.headers.pop("TTL")),
    "TTL 0": (400, lambda f: f.headers.update(TTL="0")),
    "aesgcm encoding": (415, lambda f: f.headers.update({"Content-Encoding": "aesgcm"})),
    "bad Urgency": (400, lambda f: f.headers.update(Urgency="urgent")),
    "Topic too long": (400, lambda f: f.headers.update(Topic="t" * 33)),
    "body encrypted for another browser": (
        400,
        lambda f: setattr(f, "body", f.encrypt_for(f.service.new_subscription())),
    ),
    "body flipped": (400, lambda f: setattr(f, "body", f.body[:-1] + bytes([f.body[-1] ^ 1]))),
}


@pytest.mark.parametrize("case", list(TAMPERINGS))
def test_push_service_refuses_tampered_requests(
    push_service: PushService, vapid: Vapid02, case: str
) -> None:
    expected_status, tamper = TAMPERINGS[case]
    forgery = Forgery(push_service, vapid.private_key)
    tamper(forgery)

    response = forgery.post()

    assert response.status_code == expected_status
    assert len(push_service.received()) == (1 if expected_status == 201 else 0)
    if expected_status != 201:
        assert [r.status for r in push_service.rejections()] == [expected_status]


def test_kept_alive_connections_are_bounded(
    vapid: Vapid02, monkeypatch: pytest.MonkeyPatch
) -> None:
    # endpoints come from browsers: many push service origins must not pile up open sockets
    from server.notify import transport

    monkeypatch.setattr(transport, "_MAX_ORIGINS", 16)
    with contextlib.ExitStack() as stack:
        services = [stack.enter_context(PushService()) for _ in range(18)]
        with WebPushSender(vapid, SUBJECT, allow_http=True, max_workers=1) as web_push:
            for service in services:
                assert web_push.send(subscribe(service), message()).outcome is Outcome.DELIVERED
            kept = web_push.transport._idle
            assert len(kept) == 16
            assert all(len(pool) == 1 for pool in kept.values())
            first = urlsplit(services[0].url)
            assert ("http", first.hostname, first.port) not in kept  # the oldest was closed
            # and a closed origin is simply reopened
            assert web_push.send(subscribe(services[0]), message()).outcome is Outcome.DELIVERED
            assert [len(s.received()) for s in services] == [2] + [1] * 17
