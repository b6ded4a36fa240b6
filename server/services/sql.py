"""Small helpers over SQLAlchemy shared by the use cases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")
# ids per IN (...): a cycle may find tens of thousands due at once (after a worker was down),
# and SQLite refuses a statement with more than 32,766 parameters
IN_BATCH = 1000


def insert_for(session: Session) -> Any:
    """The dialect's INSERT construct, which has ON CONFLICT DO NOTHING on both databases."""
    return insert_in(session.get_bind().dialect.name)


def insert_in(dialect: str) -> Any:
    """`insert_for` by the dialect's name (for a statement built once per dialect)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def batches(ids: Sequence[T]) -> Iterator[Sequence[T]]:
    """`ids` IN_BATCH at a time, for statements with an IN list of them."""
    for start in range(0, len(ids), IN_BATCH):
        yield ids[start : start + IN_BATCH]
