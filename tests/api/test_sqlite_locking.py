"""SQLite's single write lock: a request's reads before its view runs do not take it."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.db import QueuedWriter
from server.extensions import db
from tests.support.world import World

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def another_writer(release_after: float | None = None) -> Iterator[None]:
    """Another process in the middle of a write to the app's database file: it holds the write
    lock until the block ends, or for `release_after` seconds from its start."""
    db.session.rollback()  # the test's own session holds nothing
    writer = sqlite3.connect(
        db.engine.url.database or "", isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(release_after or 0, lambda: writer.execute("ROLLBACK"))
    if release_after is not None:
        release.start()
    try:
        yield
    finally:
        if release_after is None:
            writer.execute("ROLLBACK")
        else:
            release.join()
        writer.close()


@sqlite_only
def test_signed_in_reads_wait_for_no_writer(world: World) -> None:
    with another_writer():
        # the session's user is read outside a transaction: it does not queue behind the
        # writer (with BEGIN IMMEDIATE it would wait out the 30 s busy timeout and fail)
        me = world.patient.get("/api/me")
    assert me.status_code == 200
    assert me.get_json()["user"]["role"] == "patient"


@sqlite_only
def test_a_writer_waits_for_another_and_then_writes(world: World) -> None:
    """A diary entry made while another process holds the write lock waits for it and is then
    written: the view's first statement takes the lock the reads before it did not."""
    started = time.monotonic()
    with another_writer(release_after=0.3):
        response = world.patient.post(
            f"/api/patients/{world.patient_id}/bowel-movements",
            json={"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4},
        )
    assert response.status_code == 201, response.get_json()
    assert time.monotonic() - started >= 0.3  # it did wait for the other writer


# -- the writers' queue (server/db.py, QueuedWriter) --------------------------------------------


def _queued(path: str) -> QueuedWriter:

    return sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, factory=QueuedWriter
    )


def test_writers_queue_beside_the_database_and_the_next_goes_when_the_first_ends(
    tmp_path: object,
) -> None:
    """A second writer waits in the queue (not in SQLite's busy loop) while the first holds it,
    and goes as soon as the first commits; a rollback and a close leave the queue too."""
    path = f"{tmp_path}/queue.sqlite3"
    first, second = _queued(path), _queued(path)
    first.execute("CREATE TABLE t (n INTEGER)")
    assert (tmp_path / "queue.sqlite3-writers").exists()
    first.begin_immediate()
    first.execute("INSERT INTO t VALUES (1)")
    entered = threading.Event()

    def write_second() -> None:
        second.begin_immediate()
        entered.set()
        second.execute("INSERT INTO t VALUES (2)")
        second.rollback()

    waiting = threading.Thread(target=write_second)
    waiting.start()
    assert not entered.wait(0.3)  # queued behind the first
    first.commit()
    assert entered.wait(5)
    waiting.join(5)
    assert [n for (n,) in first.execute("SELECT n FROM t")] == [1]  # the second rolled back

    # a writer that closes in the middle leaves its place too
    second.begin_immediate()
    second.close()
    third = _queued(path)
    third.begin_immediate()
    third.execute("INSERT INTO t VALUES (3)")
    third.commit()
    assert sorted(n for (n,) in first.execute("SELECT n FROM t")) == [1, 3]
    first.close()
    third.close()


def test_a_database_in_memory_has_no_queue_file(tmp_path: Path) -> None:
    connection = _queued(":memory:")
    connection.begin_immediate()
    connection.execute("CREATE TABLE t (n INTEGER)")
    connection.commit()
    connection.close()
