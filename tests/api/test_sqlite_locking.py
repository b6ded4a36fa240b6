"""SQLite's single write lock: a request's reads before its view runs do not take it."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

from server import create_app
from server.extensions import db
from tests.conftest import app_config
from tests.support.world import World


def test_signed_in_reads_wait_for_no_writer(sqlite_template: Path, tmp_path: Path) -> None:
    target = tmp_path / "companion.sqlite3"
    shutil.copy(sqlite_template, target)
    app = create_app(app_config(f"sqlite:///{target}", tmp_path / "instance"))
    with app.app_context():
        world = World.build(app)
        db.session.rollback()
        writer = sqlite3.connect(target, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        try:
            # the session's user is read outside a transaction: it does not queue behind the
            # writer (with BEGIN IMMEDIATE it would wait out the 30 s busy timeout and fail)
            me = world.patient.get("/api/me")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert me.status_code == 200
        assert me.get_json()["user"]["role"] == "patient"
        db.session.remove()
        db.engine.dispose()


def test_a_writer_waits_for_another_and_then_writes(sqlite_template: Path, tmp_path: Path) -> None:
    """A diary entry made while another process holds the write lock waits for it and is then
    written: the view's first statement takes the lock the reads before it did not."""
    target = tmp_path / "companion.sqlite3"
    shutil.copy(sqlite_template, target)
    app = create_app(app_config(f"sqlite:///{target}", tmp_path / "instance"))
    with app.app_context():
        world = World.build(app)
        db.session.rollback()
        writer = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        writer.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: writer.execute("ROLLBACK"))
        started = time.monotonic()
        release.start()
        try:
            response = world.patient.post(
                f"/api/patients/{world.patient_id}/bowel-movements",
                json={"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4},
            )
        finally:
            release.join()
            writer.close()
        assert response.status_code == 201, response.get_json()
        assert time.monotonic() - started >= 0.3  # it did wait for the other writer
        db.session.remove()
        db.engine.dispose()
