"""Error reports with sentry-sdk when COMPANION_SENTRY_DSN is set, received by a real HTTP
server on loopback (Sentry's envelope endpoint): the web's unhandled errors and the worker's
failed cycles arrive, tagged with their ids, and carry no health data."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from flask import Flask

from server import create_app, policy
from server.api.access import access
from server.extensions import db
from server.logs import log_context
from tests.conftest import app_config


class SentryReceiver:
    """Accepts envelopes at /api/<project>/envelope/ and keeps their items."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.items: list[tuple[dict[str, Any], bytes]] = []
        self.raw: list[bytes] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                receiver.raw.append(body)
                lines = body.split(b"\n")
                for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                    receiver.items.append((json.loads(header), payload))
                receiver.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/42"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(p) for h, p in self.items if h.get("type") == "event"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[SentryReceiver]:
    server = SentryReceiver()
    yield server
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the suite
    server.close()


@pytest.fixture
def reporting(receiver: SentryReceiver, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    config = app_config(database_url, tmp_path / "instance")
    config["ENVIRON"] = {"COMPANION_SENTRY_DSN": receiver.dsn}
    app = create_app(config)

    @access(policy.public("test.broken"))
    def broken() -> Any:
        raise RuntimeError("the database went away")

    app.add_url_rule("/api/broken", "broken", broken, methods=["POST"])
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_no_dsn_no_reporter(app: Flask) -> None:
    assert not sentry_sdk.get_client().is_active()


def test_an_unhandled_web_error_is_reported_without_health_data(
    reporting: Flask, receiver: SentryReceiver
) -> None:
    client = reporting.test_client()
    client.set_cookie("companion_session", "COOKIE-VALUE-SECRET")
    response = client.post(
        "/api/broken?token=QUERY-SECRET",
        json={"notes": "BODY-SECRET: stools black"},
        headers={"X-Request-Id": "req-0123456789"},
    )
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    sentry_sdk.flush(timeout=10)
    assert receiver.arrived.wait(10)
    [event] = receiver.events()
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == "req-0123456789"
    assert event["request"] == {"method": "POST", "url": "/api/broken"}
    everything = b"".join(receiver.raw)
    for secret in (b"COOKIE-VALUE-SECRET", b"QUERY-SECRET", b"BODY-SECRET", b"stools"):
        assert secret not in everything


def test_a_failed_worker_cycle_is_reported_with_its_cycle_id(
    reporting: Flask, receiver: SentryReceiver
) -> None:
    import logging

    with log_context(worker_id="host:7", cycle_id="dispatch-feedc0ffee"):
        try:
            raise ConnectionError("database unreachable")
        except ConnectionError:
            logging.getLogger("reminders").exception("dispatch cycle failed; the next one retries")
    sentry_sdk.flush(timeout=10)
    assert receiver.arrived.wait(10)
    [event] = receiver.events()
    assert event["exception"]["values"][0]["type"] == "ConnectionError"
    assert event["tags"]["cycle_id"] == "dispatch-feedc0ffee"
    assert event["tags"]["worker_id"] == "host:7"
