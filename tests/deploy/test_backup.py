"""The README's SQLite backups, made and restored with the commands it shows (the sqlite3
shell): the restored database matches the migrations exactly, keeps every row, still refuses
changes to the audit trail, and serves the patient."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from server import create_app
from server.extensions import db
from server.models import Base
from tests.conftest import app_config
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
SQLITE3 = shutil.which("sqlite3") or "sqlite3"  # `make test` installs it where it is missing


def readme_commands() -> list[str]:
    """The SQLite backup section's shell lines (comments removed)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("SQLite (`instance/companion.sqlite3`", 1)[1].split("\n\n", 2)[1]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in section.splitlines()]
    return [line for line in lines if line.startswith("sqlite3 ")]


def shell(command: str, cwd: Path) -> None:
    # the README's line with the shell's redirections, run by the shell as a user would
    subprocess.run(
        ["bash", "-c", command.replace("sqlite3 ", f"{SQLITE3} ", 1)], cwd=cwd, check=True
    )


@pytest.fixture
def live(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """A clinic's instance folder with data in its SQLite database."""
    instance = tmp_path / "instance"
    instance.mkdir()
    database = instance / "companion.sqlite3"
    shutil.copy(sqlite_template, database)
    app = create_app(app_config(f"sqlite:///{database}", instance))
    with app.app_context():
        world = World.build(app)
        response = world.patient.post(
            f"/api/patients/{world.patient_id}/bowel-movements",
            json={"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4},
        )
        assert response.status_code == 201
        world.clinician.get(f"/api/patients/{world.patient_id}")  # an audit event
        db.session.remove()
        db.engine.dispose()
    yield app, tmp_path


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()  # noqa: S608
            for table in inspect(connection).get_table_names()
        }
    engine.dispose()
    return counts


def assert_restored(url: str, instance: Path, expected: dict[str, int]) -> None:
    assert row_counts(url) == expected
    app = create_app(app_config(url, instance))
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []  # the migrations' own check
            head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
            assert context.get_current_revision() == head
        for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError):
                db.session.execute(text(statement))
            db.session.rollback()
        world_clinician = app.test_client()
        signed_in = world_clinician.post(
            "/api/session",
            json={"email": "dr.north@example.org", "password": "correct-horse-battery-staple"},
        )
        assert signed_in.status_code == 200
        patient = world_clinician.get("/api/patients/1").get_json()
        assert patient["display_name"] == "Alex"
        db.session.remove()
        db.engine.dispose()


def test_the_readme_shows_a_backup_a_dump_and_a_restore() -> None:
    commands = readme_commands()
    assert any(".backup" in c for c in commands)
    assert any(".dump >" in c for c in commands)
    assert any(c.endswith("< companion-backup.sql") for c in commands)


def test_an_sqlite_dump_restored_into_a_new_file_passes_the_migrations_check(
    live: tuple[Flask, Path],
) -> None:
    _, folder = live
    source = f"sqlite:///{folder / 'instance' / 'companion.sqlite3'}"
    expected = row_counts(source)
    assert expected["bowel_movement"] == 1 and expected["audit_event"] > 0
    backup, dump, restore = readme_commands()
    shell(backup, folder)
    shell(dump, folder)
    # the restore, into a new instance folder (the README restores over the stopped one)
    restored = folder / "restored"
    (restored / "instance").mkdir(parents=True)
    shutil.copy(folder / "companion-backup.sql", restored / "companion-backup.sql")
    shell(restore, restored)
    assert_restored(
        f"sqlite:///{restored / 'instance' / 'companion.sqlite3'}", restored / "instance", expected
    )
    # and the online copy, used as the database file
    assert_restored(f"sqlite:///{folder / 'companion-backup.sqlite3'}", folder / "copy", expected)
