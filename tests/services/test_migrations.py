"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from server import create_app
from server.extensions import db
from server.models import Base
from tests.conftest import BACKENDS, PG_URL, app_config, sqlalchemy_url


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


# --- 0008: what the treatment course reads from the summaries stored before it ----------------


def _database_at(request: pytest.FixtureRequest, tmp_path: Path, revision: str) -> Iterator[Flask]:
    """An empty database migrated to `revision` (SQLite file, or a schema of its own on
    PostgreSQL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        schema = f"migration_{revision.split('_')[0]}"
        base = sqlalchemy_url(PG_URL)
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = f"{base}?options=-csearch_path%3D{schema}"
    application = create_app(app_config(url, tmp_path / "instance"))
    with application.app_context():
        upgrade(revision=revision)
        yield application
        db.session.remove()
        db.engine.dispose()


def _run(sql: str, **values: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), values)


def _clinic_and_clinician(now: str) -> None:
    """Clinic 1 and its clinician, user 1."""
    _run(
        "INSERT INTO clinic (id, name, monitoring_profile, settings, created_at) "
        "VALUES (1, 'C', 'guideline', '{}', :now)",
        now=now,
    )
    _run(
        "INSERT INTO user_account (id, email, display_name, role, password_hash, clinic_id, "
        "session_version, created_at) VALUES (1, 'dr@x.org', 'Dr', 'clinician', '-', 1, 1, :now)",
        now=now,
    )


@pytest.fixture(params=BACKENDS)
def at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    yield from _database_at(request, tmp_path, "0007_time_rule_clocks")


def test_0008_carries_each_patients_course_over(at_0007: Flask) -> None:
    times = {"now": "2026-11-25 12:00:00", "soon": "2099-01-01 08:00:00"}

    def run(sql: str) -> None:
        _run(sql, **times)

    _clinic_and_clinician(times["now"])
    run(
        "INSERT INTO patient (id, clinic_id, display_name, timezone, clozapine_start_date, "
        "benign_ethnic_neutropenia, created_at) VALUES "
        "(1, 1, 'P', 'Europe/London', '2026-11-01', false, :now), "
        "(2, 1, 'P', 'Europe/London', '2026-11-01', false, :now), "
        "(3, 1, 'P', 'Europe/London', '2026-11-01', false, :now)"
    )
    # 1 needed re-titration; 2 was on a plan, never activated (not tracked); 3 had no plan
    run(
        "INSERT INTO patient_state (patient_id, treatment_status, tracking_since, doses_due_since, "
        "doses_made_until, needs_retitration, updated_at) VALUES "
        "(1, 'not_started', :now, :now, '2026-11-26', true, :now), "
        "(2, 'not_started', NULL, :now, '2026-11-26', false, :now), "
        "(3, 'not_started', :now, NULL, NULL, false, :now)"
    )
    run(
        "INSERT INTO dose_plan (id, patient_id, version, start_date, times, steps, kind, "
        "warnings, created_by_id, created_at) VALUES (1, 1, 1, '2026-11-01', '[\"08:00\"]', "
        "'[{\"day\": 1, \"doses_mg\": [12.5]}]', 'standard', '[]', 1, :now)"
    )
    run(
        "INSERT INTO dose (id, patient_id, plan_id, local_date, local_time, scheduled_at, mg, "
        "status) VALUES (1, 1, 1, '2099-01-01', '08:00', :soon, 12.5, 'pending')"
    )
    run(
        "INSERT INTO treatment_interruption (id, patient_id, first_missed_on, restarted_on, "
        "created_at) VALUES (1, 1, '2026-11-20', '2026-11-23', :now)"
    )
    upgrade()
    with db.engine.connect() as conn:
        states = conn.execute(
            text(
                "SELECT patient_id, treatment_status, treatment_cause, doses_due_since IS NULL, "
                "tracking_since IS NOT NULL, doses_make_at IS NOT NULL FROM patient_state "
                "ORDER BY patient_id"
            )
        ).all()
        assert [tuple(row) for row in states] == [
            (1, "needs_retitration", "missed_doses_48h", True, True, True),
            (2, "in_titration", "initiation_plan", False, True, True),
            (3, "not_started", "enrolled", True, True, False),
        ]
        assert conn.execute(text("SELECT status FROM dose")).scalar_one() == "withheld"
        assert conn.execute(text("SELECT kind, generator FROM dose_plan")).one() == (
            "initiation",
            "standard",
        )
        gap = conn.execute(text("SELECT gap_from, resumed_at FROM treatment_interruption")).one()
    hours = (_instant(gap[1]) - _instant(gap[0])).total_seconds() / 3600
    assert hours == 4 * 24  # from the day before the first missed day to the restart
    downgrade(revision="0007_time_rule_clocks")
    with db.engine.connect() as conn:
        flags = conn.execute(
            text("SELECT needs_retitration FROM patient_state ORDER BY patient_id")
        ).scalars()
        assert [bool(flag) for flag in flags] == [True, False, False]
    upgrade()


def _instant(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return (
        value.replace(tzinfo=None)
        if value.tzinfo is None
        else value.astimezone(dt.UTC).replace(tzinfo=None)
    )


# --- 0015: courses held after a planned restart had begun (the hold did not hold) -----------


@pytest.fixture(params=BACKENDS)
def at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    yield from _database_at(request, tmp_path, "0014_held_cursor")


def test_0015_lets_a_hold_made_after_a_restart_began_hold(at_0014: Flask) -> None:
    """RULES.md 6 `held`: doses withheld. 1 was held after its planned restart had begun (the
    restart date kept: it read as active); 2 is held with no restart; 3 waits for a restart
    planned for a later day (its doses from that day are pending, as they should be)."""
    times = {"now": "2026-11-25 12:00:00", "past": "2026-11-20 08:00:00"}
    times["soon"] = "2099-01-01 08:00:00"

    def run(sql: str, **values: object) -> None:
        _run(sql, **times, **values)

    _clinic_and_clinician(times["now"])
    for pid in (1, 2, 3):
        run(
            "INSERT INTO patient (id, clinic_id, display_name, timezone, clozapine_start_date, "
            "benign_ethnic_neutropenia, created_at) VALUES (:pid, 1, 'P', 'Europe/London', "
            "'2026-11-01', false, :now)",
            pid=pid,
        )
        run(
            "INSERT INTO dose_plan (id, patient_id, version, start_date, times, steps, kind, "
            "warnings, created_by_id, created_at) VALUES (:pid, :pid, 1, '2026-11-01', "
            "'[\"08:00\"]', '[{\"day\": 1, \"doses_mg\": [12.5]}]', 'retitration', '[]', 1, :now)",
            pid=pid,
        )
        for day, at in (("2026-11-01", times["past"]), ("2026-11-02", times["soon"])):
            run(
                "INSERT INTO dose (patient_id, plan_id, local_date, local_time, scheduled_at, "
                "mg, status) VALUES (:pid, :pid, :day, '08:00', :at, 12.5, 'pending')",
                pid=pid,
                day=day,
                at=at,
            )
    run(
        "INSERT INTO patient_state (patient_id, treatment_status, treatment_cause, restart_on, "
        "restart_cause, updated_at) VALUES "
        "(1, 'held', 'clinician_hold', '2026-11-22', 'retitration_plan', :now), "
        "(2, 'held', 'clinician_hold', NULL, NULL, :now), "
        "(3, 'needs_retitration', 'missed_doses_48h', '2099-01-01', 'retitration_plan', :now)"
    )
    upgrade()
    with db.engine.connect() as conn:
        states = conn.execute(
            text(
                "SELECT patient_id, treatment_status, restart_on, restart_cause FROM "
                "patient_state ORDER BY patient_id"
            )
        ).all()
        doses = conn.execute(
            text("SELECT patient_id, local_date, status FROM dose ORDER BY patient_id, local_date")
        ).all()
    assert [(row[0], row[1], row[3]) for row in states] == [
        (1, "held", None),
        (2, "held", None),
        (3, "needs_retitration", "retitration_plan"),
    ]
    assert [row[2] is None for row in states] == [True, True, False]
    # the held course's dose still to come is withheld; a past one is left for the record
    assert [(row[0], str(row[1]), row[2]) for row in doses] == [
        (1, "2026-11-01", "pending"),
        (1, "2026-11-02", "withheld"),
        (2, "2026-11-01", "pending"),
        (2, "2026-11-02", "pending"),
        (3, "2026-11-01", "pending"),
        (3, "2026-11-02", "pending"),
    ]
