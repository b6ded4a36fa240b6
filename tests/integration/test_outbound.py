"""Outbound requests no receiver can hold (issue 17, findings 1, 2 and 7): a total deadline
per request, a bounded reply, and connections only where they belong, checked again when
sending. Real sockets on loopback throughout."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from py_vapid import Vapid02

from server.notify.destinations import DEFAULT_PUSH_SERVICES, Destinations, Refused, address_kind
from server.notify.transport import MAX_REPLY_BYTES
from server.notify.webhook import WebhookSender
from server.notify.webpush import Outcome, PushMessage, Subscription, WebPushSender
from tests.support.push_service import PushService
from tests.support.slow_receiver import SlowReceiver

SUBJECT = "mailto:care@example.org"


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    key = Vapid02()
    key.generate_keys()
    return key


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service


def note() -> PushMessage:
    return PushMessage(
        title="Time for your dose", body="Tap to open.", url="/", tag="t", kind="dose",
        ttl_seconds=600,
    )  # fmt: skip


def browser_at(push_service: PushService, base_url: str) -> Subscription:
    """A real browser's keys, its endpoint on another receiver."""
    made = push_service.new_subscription()
    return Subscription(f"{base_url}/push/x", made["keys"]["p256dh"], made["keys"]["auth"])


# -- finding 1: a total deadline --------------------------------------------------------------


def test_a_trickling_push_service_is_cut_off_at_the_deadline(
    push_service: PushService, vapid: Vapid02
) -> None:
    # 42 bytes of answer, one every 0.3 s: each read is quick, the whole takes 12 s; a
    # timeout per read (the old sender) waited for all of it
    with SlowReceiver("trickle", every=0.3) as slow:
        sub = browser_at(push_service, slow.url)
        with WebPushSender(vapid, SUBJECT, allow_http=True, timeout_seconds=1.0) as sender:
            started = time.monotonic()
            result = sender.send(sub, note())
            elapsed = time.monotonic() - started
    assert (result.outcome, result.detail) == (Outcome.RETRY, "timed out")
    assert elapsed < 1.8


def test_a_trickling_webhook_is_cut_off_at_the_deadline() -> None:
    with SlowReceiver("trickle", every=0.3) as slow:
        sender = WebhookSender(1.0, Destinations(webhook_allow_internal=True))
        started = time.monotonic()
        result = sender.send(f"{slow.url}/hook", "s" * 20, {"event": "x"}, message_id="msg_1")
        elapsed = time.monotonic() - started
        sender.close()
    assert (result.outcome, result.detail) == (Outcome.RETRY, "webhook timed out")
    assert elapsed < 1.8


# -- finding 2: a bounded reply ---------------------------------------------------------------


def test_a_huge_reply_is_not_read(push_service: PushService, vapid: Vapid02) -> None:
    """A push service answering 201 with a 64 MB body: the status counts, a few KiB are
    read, memory stays flat (the old sender read the whole body into memory)."""
    with SlowReceiver("huge", size=64 * 1024 * 1024) as huge:
        sub = browser_at(push_service, huge.url)
        with WebPushSender(vapid, SUBJECT, allow_http=True, timeout_seconds=5.0) as sender:
            sender.send(browser_at(push_service, huge.url), note())  # warm up (imports, keys)
            tracemalloc.start()
            started = time.monotonic()
            result = sender.send(sub, note())
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert (result.outcome, result.status) == (Outcome.DELIVERED, 201)
    assert peak < 1024 * 1024, f"peak {peak} bytes while sending"
    assert elapsed < 2.0
    assert huge.bytes_written < 32 * 1024 * 1024  # it stopped when we hung up


def test_the_reply_budget_counts_headers_too(push_service: PushService, vapid: Vapid02) -> None:
    """An answer whose headers alone pass the budget is cut off (retried later)."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            header = b"X-Padding: " + b"a" * 1000 + b"\r\n"
            with contextlib.suppress(OSError):
                connection.sendall(b"HTTP/1.1 201 Created\r\n" + header * 64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with WebPushSender(vapid, SUBJECT, allow_http=True, timeout_seconds=2.0) as sender:
        result = sender.send(browser_at(push_service, url), note())
    listener.close()
    assert (result.outcome, result.detail) == (Outcome.RETRY, "reply too large")
    assert MAX_REPLY_BYTES < 64 * 1000


# -- finding 7: only where they belong, checked again when sending ------------------------------


class ChangingName:
    """A name whose answer changes between registration and sending (DNS rebinding): the
    resolver's answers, in turn."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        return self.answers[min(self.asked, len(self.answers)) - 1]


def test_a_push_service_name_resolving_inside_at_send_time_is_not_connected(
    push_service: PushService, vapid: Vapid02
) -> None:
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/abc"
    name = ChangingName(["34.117.65.55"], ["127.0.0.1"])
    destinations = Destinations(resolver=name)
    destinations.check_push_endpoint(endpoint)  # registration: a public address
    made = push_service.new_subscription()
    sub = Subscription(endpoint, made["keys"]["p256dh"], made["keys"]["auth"])
    with WebPushSender(vapid, SUBJECT, destinations=destinations) as sender:
        result = sender.send(sub, note())
    assert result.outcome is Outcome.REJECTED
    assert "not a public one" in result.detail
    assert name.asked == 2


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("2606:4700:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("0.0.0.0", "other"),  # noqa: S104 (an address to classify, not to bind)
        ("224.0.0.1", "other"),
    ],
)
def test_address_kinds(address: str, kind: str) -> None:
    assert address_kind(address) == kind


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://android.googleapis.com/gcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGx0ZXN0",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
    ],
)
def test_the_browsers_push_services_are_known(endpoint: str) -> None:
    Destinations(resolver=lambda host, port: ["142.250.1.1"]).check_push_endpoint(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/fcm.googleapis.com/x",
        "https://fcm.googleapis.com.evil.example/x",
        "https://push.apple.com.evil.example/x",
        "https://notpush.services.mozilla.com/x",
        "http://fcm.googleapis.com/fcm/send/abc",
    ],
)
def test_look_alike_push_services_are_refused(endpoint: str) -> None:
    with pytest.raises(Refused):
        Destinations(resolver=lambda host, port: ["142.250.1.1"]).check_push_endpoint(endpoint)
    assert "*.push.services.mozilla.com" in DEFAULT_PUSH_SERVICES


def test_loopback_http_push_only_when_allowed() -> None:
    with pytest.raises(Refused):
        Destinations().check_push_endpoint("http://127.0.0.1:9/push/x")
    Destinations(push_allow_http=True).check_push_endpoint("http://127.0.0.1:9/push/x")
    with pytest.raises(Refused):  # http, but not loopback
        Destinations(push_allow_http=True).check_push_endpoint("http://10.0.0.1/push/x")


@pytest.mark.parametrize(
    ("url", "allow_internal", "allowed"),
    [
        ("https://hooks.example.org/x", False, True),
        ("http://hooks.example.org/x", False, False),
        ("https://10.0.0.5/x", False, False),
        ("https://127.0.0.1/x", False, False),
        ("https://169.254.169.254/latest/meta-data/", False, False),
        ("http://10.0.0.5/x", True, True),
        ("http://127.0.0.1:8080/x", True, True),
        ("http://169.254.169.254/latest/meta-data/", True, False),
    ],
)
def test_webhook_urls(url: str, allow_internal: bool, allowed: bool) -> None:
    def public_or_literal(host: str, port: int) -> list[str]:
        return ["93.184.215.14"] if host == "hooks.example.org" else [host]

    rules = Destinations(webhook_allow_internal=allow_internal, resolver=public_or_literal)
    if allowed:
        rules.check_webhook_url(url)
    else:
        with pytest.raises(Refused):
            rules.check_webhook_url(url)


def test_a_webhook_on_loopback_is_not_connected_unless_allowed() -> None:
    with SlowReceiver("trickle", every=0.01) as receiver:
        sender = WebhookSender(2.0)
        result = sender.send(f"{receiver.url}/hook", "s" * 20, {"event": "x"}, message_id="m")
        sender.close()
        assert result.outcome is Outcome.REJECTED
        assert receiver.requests == 0


# -- the reply's framing: what lets a connection carry the next request ------------------------


def _scripted_receiver(replies: list[bytes]) -> tuple[str, list[int], object]:
    """A loopback receiver answering each request with the next of `replies` (raw bytes) on
    whichever connection it came; returns its URL, the connections it accepted (a count in a
    list) and its listening socket."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    accepted = [0]
    left = list(replies)

    def serve_one(connection: socket.socket) -> None:
        with connection:
            while left:
                request = connection.recv(65536)
                if not request:
                    return
                connection.sendall(left.pop(0))

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                accepted[0] += 1
                threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/hook", accepted, listener


@pytest.mark.parametrize(
    ("first", "reused"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", True),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
            True,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    ],
    ids=["length", "chunked", "interim-then-204", "close", "http-1.0"],
)
def test_a_reply_read_whole_leaves_its_connection_for_the_next(first: bytes, reused: bool) -> None:
    """The body is read past by its framing (length, chunks and trailers, none), after any
    interim reply; the next request then goes on the same connection, unless the receiver said
    it would close it."""
    from server.notify.transport import Transport

    second = b"HTTP/1.1 202 Accepted\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n"
    url, accepted, listener = _scripted_receiver([first, second])
    transport = Transport(deadline_seconds=2.0)
    try:
        one = transport.post(url, {}, b"{}", lambda url, host, port: ["127.0.0.1"])
        two = transport.post(url, {}, b"{}", lambda url, host, port: ["127.0.0.1"])
    finally:
        transport.close()
        listener.close()  # type: ignore[attr-defined]
    assert one.status in (200, 204)
    assert (two.status, two.reason, two.headers.get("retry-after")) == (202, "Accepted", "7")
    assert accepted[0] == (1 if reused else 2)


def test_a_reply_that_is_not_http_is_a_network_error() -> None:
    """What does not start with an HTTP/1.x status line is retried later, as a broken answer."""
    url, _, listener = _scripted_receiver([b"SSH-2.0-OpenSSH_9.2\r\n"])
    sender = WebhookSender(2.0, Destinations(webhook_allow_internal=True))
    try:
        result = sender.send(url, "s" * 20, {"event": "x"}, message_id="msg_2")
    finally:
        sender.close()
        listener.close()  # type: ignore[attr-defined]
    assert result.outcome is Outcome.RETRY
    assert "BadStatusLine" in (result.detail or "")
