"""The `companion` commands of the contract."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from server.cli import cli
from server.extensions import db
from server.models import (
    BowelMovement,
    CaregiverLink,
    Clinic,
    Dose,
    DosePlan,
    LabResult,
    Patient,
    User,
    WorkerHeartbeat,
)


def test_create_user_reads_the_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli,
        args=[
            "create-user",
            "--role",
            "clinician",
            "--email",
            "New@Example.org",
            "--name",
            "Dr New",
            "--clinic",
            "East",
            "--password-stdin",
        ],
        input="a-long-enough-secret\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="new@example.org").one()
    assert user.role == "clinician" and user.password_hash.startswith("$argon2id$")
    assert db.session.get(Clinic, user.clinic_id).name == "East"


def test_create_user_refuses_a_weak_password_and_writes_nothing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        cli,
        args=[
            "create-user",
            "--role",
            "admin",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--clinic",
            "West",
            "--password-stdin",
        ],
        input="password\n",
    )
    assert result.exit_code != 0
    assert "password" in result.output.lower()
    assert db.session.query(User).count() == 0
    assert db.session.query(Clinic).count() == 0


def test_seed_demo_twice_makes_one_of_each(app: Flask) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(cli, args=["seed-demo"])
        assert result.exit_code == 0, result.output
    assert db.session.query(User).count() == 3
    assert db.session.query(Patient).count() == 1
    assert db.session.query(CaregiverLink).count() == 1
    # a few weeks of data: a plan, doses mostly taken, a diary and weekly blood counts
    assert db.session.query(DosePlan).count() == 1
    taken = db.session.query(Dose).filter_by(status="taken").count()
    assert taken >= 30
    assert db.session.query(BowelMovement).count() >= 10
    assert db.session.query(LabResult).filter_by(test="anc").count() >= 3


def test_tick_runs_one_cycle_at_the_given_instant(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli, args=["tick", "--at", "2026-03-08T07:30:00Z"])
    assert result.exit_code == 0, result.output
    beat = db.session.query(WorkerHeartbeat).one()
    assert beat.last_cycle_at.isoformat() == "2026-03-08T07:30:00+00:00"
    refused = app.test_cli_runner().invoke(cli, args=["tick", "--at", "2026-03-08T07:30:00"])
    assert refused.exit_code != 0


def test_tick_at_a_future_instant_never_moves_the_cursor_past_the_real_time(app: Flask) -> None:
    """Issue 17, finding 11: `tick --at` a future instant moved the dose cursor there, and
    the worker then skipped every real reminder until that instant."""
    from server.models import DispatchCursor

    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    result = app.test_cli_runner().invoke(cli, args=["tick", "--at", future.isoformat()])
    assert result.exit_code == 0, result.output
    after = dt.datetime.now(dt.UTC)
    cursor = db.session.get(DispatchCursor, "doses")
    assert cursor is not None and cursor.at <= after
    beat = db.session.query(WorkerHeartbeat).one()
    assert beat.last_cycle_at <= after  # the health check is not fooled either
    # a second future tick (an idle one) leaves them where they were
    again = app.test_cli_runner().invoke(cli, args=["tick", "--at", future.isoformat()])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert db.session.get(DispatchCursor, "doses").at <= dt.datetime.now(dt.UTC)
