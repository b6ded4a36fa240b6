"""The limiter's counters in the app's own database (`companion-db://`, the default), so every
web worker counts against the same limit without running Redis. `memory://` counts per process
and is only right for a single one; `redis://` is the other shared choice."""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any, cast

from limits.storage import Storage
from sqlalchemy import Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from server.models import RateLimitCounter

COUNTERS = cast(Table, RateLimitCounter.__table__)
SCHEME = "companion-db"
# expired counters are swept on one call in this many
SWEEP_EVERY = 500


def _key(key: str) -> str:
    """Keys name an account's email: a long one is shortened to fit the column, kept unique."""
    if len(key) <= 200:
        return key
    return key[:120] + "#" + hashlib.sha256(key.encode()).hexdigest()


def _upsert(dialect: str, key: str, now: float, expiry: int, amount: int) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(COUNTERS).values(key=key, count=amount, expires_at=now + expiry)
    expired = COUNTERS.c.expires_at <= now
    # both expressions read the row as it was: a window that has ended starts again
    return statement.on_conflict_do_update(
        index_elements=[COUNTERS.c.key],
        set_={
            "count": case((expired, amount), else_=COUNTERS.c.count + amount),
            "expires_at": case((expired, now + expiry), else_=COUNTERS.c.expires_at),
        },
    ).returning(COUNTERS.c.count)


class DatabaseStorage(Storage):
    """A `limits` storage (fixed windows) over the `rate_limit_counter` table, each call in its
    own short transaction on its own connection (never the request's)."""

    STORAGE_SCHEME = [SCHEME]  # limits registers the class under these schemes

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions, **options)
        self._calls = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def _engine(self) -> Engine:
        from server.extensions import db  # the app of the request being limited

        return db.engine

    def _reader(self) -> Connection:
        """A connection for one read; on SQLite it takes no write lock, so the limiter can
        read its counters while the request's own transaction holds that lock."""
        from server.db import READ_WITHOUT_LOCK

        return self._engine().connect().execution_options(**{READ_WITHOUT_LOCK: True})

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        engine = self._engine()
        with engine.begin() as connection:
            statement = _upsert(engine.dialect.name, _key(key), now, expiry, amount)
            count = int(connection.execute(statement).scalar_one())
            if next(self._calls) % SWEEP_EVERY == 0:
                connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at < now))
        return count

    def get(self, key: str) -> int:
        with self._reader() as connection:
            count = connection.execute(
                select(COUNTERS.c.count).where(
                    COUNTERS.c.key == _key(key), COUNTERS.c.expires_at > time.time()
                )
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self._reader() as connection:
            expires = connection.execute(
                select(COUNTERS.c.expires_at).where(COUNTERS.c.key == _key(key))
            ).scalar_one_or_none()
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        with self._reader() as connection:
            connection.execute(select(1))
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as connection:
            return int(connection.execute(delete(COUNTERS)).rowcount)

    def clear(self, key: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(delete(COUNTERS).where(COUNTERS.c.key == _key(key)))
