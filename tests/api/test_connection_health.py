"""PostgreSQL: a pooled connection the server dropped is found before use when it sat unused
(a restart overnight), and costs one failed request when it was in constant use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from server import create_app
from server.extensions import db
from tests.conftest import BACKENDS, app_config
from tests.support.world import World


def _app(database_url: str, tmp_path: Path, ping_after_idle: float) -> Iterator[Flask]:
    config = app_config(database_url, tmp_path / "instance")
    config["DB_PING_AFTER_IDLE_SECONDS"] = ping_after_idle
    application = create_app(config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _signed_in_then_dropped(app: Flask, database_url: str) -> World:
    """People signed in and using the app; then the server drops the connection in the app's
    pool, as a restart does."""
    world = World.build(app)
    assert world.patient.get("/api/me").status_code == 200
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.rollback()  # back to the pool
    admin = create_engine(database_url)
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    return world


if "postgresql" in BACKENDS:  # PostgreSQL's pool: the test exists where PostgreSQL runs

    @pytest.fixture
    def tested_when_idle(database_url: str, tmp_path: Path) -> Iterator[Flask]:
        yield from _app(database_url, tmp_path, ping_after_idle=0)

    @pytest.fixture
    def tested_after_an_hour(database_url: str, tmp_path: Path) -> Iterator[Flask]:
        yield from _app(database_url, tmp_path, ping_after_idle=3600)

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_a_dropped_connection_that_sat_unused_is_replaced_before_use(
        tested_when_idle: Flask, database_url: str
    ) -> None:
        world = _signed_in_then_dropped(tested_when_idle, database_url)
        me = world.patient.get("/api/me")
        assert me.status_code == 200, me.get_json()
        assert me.get_json()["user"]["role"] == "patient"

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_a_dropped_connection_in_constant_use_fails_one_request_then_recovers(
        tested_after_an_hour: Flask, database_url: str
    ) -> None:
        world = _signed_in_then_dropped(tested_after_an_hour, database_url)
        failed = world.patient.get("/api/me")
        assert failed.status_code == 500
        assert failed.get_json()["error"]["code"] == "internal_error"
        db.session.remove()  # the end of that request
        assert world.patient.get("/api/me").status_code == 200
