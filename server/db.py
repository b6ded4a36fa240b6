"""The database runtime: how the app's and the worker's connections behave, in one place.

SQLite has one writer (a transaction that may write takes the lock at its first statement);
PostgreSQL's pooled connections are tested after they sat idle, the worker's connections plan
each statement for its own values, and the worker's idle cycle asks and writes outside a
transaction. Nothing here reads a Flask global: what a hook needs is passed in (`init_engine`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, scoped_session

# an execution option: this connection's statements are single reads, outside any transaction
READ_WITHOUT_LOCK = "companion_read_without_lock"


def init_engine(
    engine: Engine, *, ping_after_idle_seconds: float, reads_without_lock: Callable[[], bool]
) -> None:
    """The app's engine (create_app): SQLite's single writer, or PostgreSQL's pool health.
    `reads_without_lock`: whether the statement about to run is one of a request's reads
    before its view runs (the request layer knows; see sqlite_single_writer)."""
    if engine.dialect.name == "sqlite":
        sqlite_single_writer(engine, reads_without_lock)
    else:
        ping_after_idle(engine, ping_after_idle_seconds)


class QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on a lock file beside the database
    (`<database>-writers`, flock) before they take SQLite's own write lock: a writer waiting
    there is woken as soon as the one before it ends. SQLite's own wait for a busy lock sleeps
    between tries (up to 100 ms at a time), so with several workers writing often the lock
    sat free while they slept (docs/performance.md, Reminders). SQLite's lock and its busy
    timeout still apply: a connection that does not queue here (the sqlite3 shell, a backup)
    is waited for as before. Each connection has its own descriptor, so threads of one process
    queue as processes do; the kernel lets go of a dead process's place."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fspath(database) if not isinstance(database, bytes) else database.decode()
        in_memory = name in ("", ":memory:") or "mode=memory" in name or name.startswith(":")
        self._queue: int | None = None
        if not in_memory and not kwargs.get("uri"):
            self._queue = os.open(f"{name}-writers", os.O_RDWR | os.O_CREAT, 0o600)
        self._queued = False

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, after this connection's turn in the queue."""
        if self._queue is not None and not self._queued:
            fcntl.flock(self._queue, fcntl.LOCK_EX)
            self._queued = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()
            if self._queue is not None:
                os.close(self._queue)
                self._queue = None

    def _leave(self) -> None:
        if self._queued and self._queue is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._queue, fcntl.LOCK_UN)
        self._queued = False


def sqlite_connect_args() -> dict[str, Any]:
    """How the app's SQLite connections are made (create_app): writers queue (QueuedWriter),
    and a statement waits up to 30 s for a lock held by what does not queue."""
    return {"timeout": 30, "factory": QueuedWriter}


def sqlite_single_writer(engine: Engine, reads_without_lock: Callable[[], bool]) -> None:
    """SQLite: WAL, foreign keys, and every transaction that may write takes the write lock at
    its first statement (BEGIN IMMEDIATE), so concurrent writers queue instead of failing
    mid-transaction (a plain BEGIN that later writes fails at once if another writer committed
    in between). A request's reads before its view runs are the exception
    (`reads_without_lock()` is true then): they run outside a database transaction (each is one
    statement, read from one snapshot) and take no lock, and the view's first statement, in the
    same session transaction, takes it. A connection with the `READ_WITHOUT_LOCK` execution
    option only reads (the limiter's counters, read while the request holds the lock) and takes
    none either."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _write_lock_first(connection: Any, *args: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if (
            not dbapi_connection.in_transaction
            and connection.in_transaction()
            and not reads_without_lock()
            and not connection.get_execution_options().get(READ_WITHOUT_LOCK)
        ):
            if isinstance(dbapi_connection, QueuedWriter):
                dbapi_connection.begin_immediate()
            else:
                dbapi_connection.execute("BEGIN IMMEDIATE")


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """PostgreSQL: test a pooled connection before use only when it has sat unused for
    `seconds` (a server restart or a dropped link is found there), not before every request
    (a round trip each: docs/performance.md, API throughput). One that fails the test is replaced
    before the request uses it. A connection in constant use that the server dropped fails
    its request once, and the pool then replaces all of its connections."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["companion.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("companion.idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its test") from exc


_PLANNED_FOR_VALUES: weakref.WeakSet[Engine] = weakref.WeakSet()


def plan_for_values(engine: Engine) -> None:
    """The worker's PostgreSQL connections plan each statement for its own values
    (plan_cache_mode=force_custom_plan): psycopg prepares a statement run five times, and the
    generic plan PostgreSQL then chose for the cycle's "due before $1" was a scan. Not for the
    web workers: their statements are mostly by key, and planning each one cost the
    authenticated POST a share of its throughput (docs/performance.md, Reminders)."""
    if engine.dialect.name != "postgresql" or engine in _PLANNED_FOR_VALUES:
        return
    _PLANNED_FOR_VALUES.add(engine)

    @event.listens_for(engine, "connect")
    def _custom_plans(dbapi_connection: Any, record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    engine.dispose()  # connections made before now are made again, with it


def outside_transaction(session: Session | scoped_session[Session]) -> bool:
    """PostgreSQL, a session with no transaction open: its next statements run in autocommit
    (no BEGIN and COMMIT round trips) until the session commits; returns whether they do. The
    worker's idle cycle asks its question and makes its one write so. SQLite: no (its single
    writer takes the lock at a transaction's first statement; there is no round trip to
    save)."""
    own = session() if isinstance(session, scoped_session) else session  # Flask-SQLAlchemy's
    if own.get_bind().dialect.name != "postgresql" or own.in_transaction():
        return False
    own.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True
