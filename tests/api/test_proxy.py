"""Behind the clinic's TLS proxy (COMPANION_TRUSTED_PROXIES=1) the app sees each client: its
own sign-in limit, its own address in the audit trail, https links. Reached directly (0, the
default), X-Forwarded-* headers change nothing, so nobody can pose as another address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import AuditEvent
from tests.conftest import app_config
from tests.support.world import World

PROXY = "10.0.0.2"  # the proxy's own address: what the app sees as the peer
ALICE = "203.0.113.5"
BOB = "198.51.100.7"


def build(database_url: str, instance: Path, hops: int, limit: str = "3 per minute") -> Flask:
    config = app_config(database_url, instance)
    # 3 a minute instead of 30 where a test reaches the limit
    config.update(TRUSTED_PROXIES=hops, LOGIN_LIMIT_PER_ADDRESS=limit)
    return create_app(config)


@pytest.fixture(params=[1, 0], ids=["one-trusted-hop", "no-trusted-hop"])
def proxied(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    limit = "3 per minute" if "limit" in request.node.name else "30 per minute"
    app = build(database_url, tmp_path / "instance", request.param, limit)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def via_proxy(forwarded_for: str, **headers: str) -> dict:
    """What the proxy passes on: the client's address appended to X-Forwarded-For."""
    return {
        "headers": {"X-Forwarded-For": forwarded_for, **headers},
        "environ_base": {"REMOTE_ADDR": PROXY},
    }


def failed_sign_in(app: Flask, forwarded_for: str, attempt: int) -> int:
    response = app.test_client().post(
        "/api/session",
        # a different account each time: only the per-address limit is in play
        json={"email": f"nobody{attempt}@example.org", "password": "not-the-password"},
        **via_proxy(forwarded_for),
    )
    return response.status_code


def test_two_clients_behind_the_proxy_have_their_own_sign_in_limits(proxied: Flask) -> None:
    hops = proxied.config["TRUSTED_PROXIES"]
    statuses = [failed_sign_in(proxied, ALICE, attempt) for attempt in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Bob, behind the same proxy, is not locked out by Alice (with no trusted hop, the app
    # cannot tell them apart: the proxy's one address is throttled for everyone)
    assert failed_sign_in(proxied, BOB, 10) == (401 if hops else 429)
    # a client cannot escape its bucket by writing an address of its choice in front: the
    # proxy appends the real one, and only that one is trusted
    assert failed_sign_in(proxied, f"{BOB}, {ALICE}", 11) == 429


def test_a_directly_reached_server_ignores_forged_headers(
    database_url: str, tmp_path: Path
) -> None:
    app = build(database_url, tmp_path / "instance", 0)  # the default
    assert create_app(app_config(database_url, tmp_path / "x")).config["TRUSTED_PROXIES"] == 0
    with app.app_context():
        statuses = [
            failed_sign_in(app, f"192.0.2.{attempt}", attempt) for attempt in range(4)
        ]  # a new forged address on every attempt
        assert statuses == [401, 401, 401, 429]
        db.session.remove()
        db.engine.dispose()


def test_the_audit_records_the_clients_address(proxied: Flask) -> None:
    hops = proxied.config["TRUSTED_PROXIES"]
    world = World.build(proxied)
    response = world.clinician.get(f"/api/patients/{world.patient_id}", **via_proxy(ALICE))
    assert response.status_code == 200
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "patient.read", AuditEvent.actor_role == "clinician")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.address == (ALICE if hops else PROXY)


def test_external_urls_are_https_behind_the_proxy(proxied: Flask) -> None:
    hops = proxied.config["TRUSTED_PROXIES"]
    world = World.build(proxied)
    response = world.patient.post(
        f"/api/patients/{world.patient_id}/calendar-feed",
        **via_proxy(ALICE, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "care.example"}),
    )
    assert response.status_code == 201
    url = response.get_json()["url"]
    if hops:
        assert url.startswith("https://care.example/api/calendar/")
    else:
        assert url.startswith("http://localhost/api/calendar/")


def test_a_negative_number_of_proxies_is_refused(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COMPANION_TRUSTED_PROXIES"):
        build(database_url, tmp_path / "instance", -1)
