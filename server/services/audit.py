"""The audit trail: who touched which patient's data, what, when and from where."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, event, insert, or_, select
from sqlalchemy.orm import Session

from server.models import AuditEvent

EVENTS = cast(Table, AuditEvent.__table__)
# built once, on the Table: an append-only row needs no unit of work (the ORM's flush of one
# object costs several times the INSERT itself)
INSERT_EVENT = insert(EVENTS)


def event_values(
    *,
    actor_id: int | None,
    actor_role: str,
    patient_id: int | None,
    action: str,
    method: str,
    path: str,
    address: str | None,
    now: dt.datetime,
    status: int | None = None,
) -> dict[str, Any]:
    """The columns of one audit event (who, what, when, from where, with which outcome)."""
    return {
        "at": now,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "patient_id": patient_id,
        "action": action,
        "method": method,
        "path": path[:300],
        "address": address,
        "status": status,
    }


def append(session: Session, values: dict[str, Any]) -> None:
    """Insert one event (see `event_values`) in the session's current transaction."""
    session.execute(INSERT_EVENT, values)


def write(session: Session, values: dict[str, Any]) -> None:
    """Append one event in its own transaction."""
    append(session, values)
    session.commit()


def write_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append several events (a list read: one per patient shown) in one transaction."""
    if rows:
        session.execute(INSERT_EVENT, rows)
    session.commit()


def trail(
    session: Session,
    patient_id: int,
    *,
    before_id: int | None = None,
    limit: int = 100,
    kind: str = "all",
    hide_reads_of: int | None = None,
) -> Sequence[AuditEvent]:
    """A patient's audit events, newest first: all, only the changes (not GET) or only the
    reads; `hide_reads_of` leaves out one user's reads (a nurse's own page views)."""
    query = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
    if kind == "changes":
        query = query.where(AuditEvent.method != "GET")
    elif kind == "reads":
        query = query.where(AuditEvent.method == "GET")
    if hide_reads_of is not None:
        query = query.where(
            or_(AuditEvent.method != "GET", AuditEvent.actor_id.is_(None))
            | (AuditEvent.actor_id != hide_reads_of)
        )
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper: object, connection: object, target: AuditEvent) -> None:
    raise PermissionError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper: object, connection: object, target: AuditEvent) -> None:
    raise PermissionError("audit events are append-only")
