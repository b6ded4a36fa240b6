"""The cycle's renotify step: open escalations nobody acknowledged within their window are sent
again, climbing the ladder (services/alerts.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, select

from server.models import Clinic, Escalation
from server.services import alerts
from server.services.steps.base import CycleRun, Step


@functools.cache
def _notified_open() -> Select[Escalation, Clinic]:
    """Open escalations that were notified (the ladder climbs from there), with their clinics
    (whose settings hold the windows)."""
    return (
        select(Escalation, Clinic)
        .join(Clinic, Clinic.id == Escalation.clinic_id)
        .where(Escalation.status == "open", Escalation.last_notified_at.is_not(None))
    )


class Renotify(Step):
    name = "renotify"
    counts = ("renotified",)

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [_notified_open().exists()]

    def run(self, cycle: CycleRun) -> dict[str, int]:
        notified = cycle.session.execute(_notified_open()).all()
        return {"renotified": alerts.renotify_due(cycle.session, notified, cycle.now)}
