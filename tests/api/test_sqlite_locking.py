"""SQLite's single write lock: a request's reads before its view runs do not take it."""

from __future__ import annotations

import shutil
import sqlite3
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
            # the session's user is read with a plain BEGIN: it does not queue behind the writer
            # (with BEGIN IMMEDIATE it would wait out the 30 s busy timeout and fail)
            me = world.patient.get("/api/me")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert me.status_code == 200
        assert me.get_json()["user"]["role"] == "patient"
        db.session.remove()
        db.engine.dispose()
