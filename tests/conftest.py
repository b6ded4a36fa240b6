"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is
set), an app with a fixed clock, and signed-in API clients for each role."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from server import create_app
from server.extensions import db
from tests.support.clock import FakeClock

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
START = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def app_config(database_url: str, instance: Path, clock: FakeClock | None = None) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "ENVIRON": {},
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 256,
        "ARGON2_PARALLELISM": 1,
        # one process, and the tests share one database session across requests: the
        # database-backed default is tested with two processes (test_rate_limit_workers.py)
        "RATELIMIT_STORAGE_URI": "memory://",
        "CLOCK": clock or FakeClock(START),
        "PUSH_ALLOW_HTTP": True,
    }


def _migrate(url: str, instance: Path) -> None:
    app = create_app(app_config(url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = sqlalchemy_url(PG_URL)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    _migrate(url, tmp_path_factory.mktemp("pg"))
    with engine.connect() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
    engine.dispose()
    os.environ["COMPANION_TEST_PG_TABLES"] = ",".join(tables)
    yield url


def _truncate(url: str) -> None:
    tables = os.environ["COMPANION_TEST_PG_TABLES"]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "companion.sqlite3"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(app_config(database_url, tmp_path / "instance", clock))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(app: Flask):
    """People to act as: two clinics, their clinicians, an admin, patients and a caregiver."""
    from tests.support.world import World

    return World.build(app)
