"""The cycle's medicine reminders step: dose reminders of the patient's other medicines and
refill reminders (services/medicines.py makes the messages)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, CompoundSelect, bindparam, select, union

from server.models import Medicine
from server.services import medicines
from server.services.steps.base import CycleRun, Step

DUE_PER_CYCLE = 2000


@functools.cache
def _medicines_due() -> CompoundSelect:
    """Medicines with a dose reminder or a refill reminder due by `now` (two index ranges)."""
    now: BindParameter[dt.datetime] = bindparam("now")
    return union(
        select(Medicine.id).where(Medicine.next_reminder_at <= now),
        select(Medicine.id).where(Medicine.next_refill_reminder_at <= now),
    )


class MedicineReminders(Step):
    name = "medicine_reminders"
    counts = ("queued",)

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [part.exists() for part in _medicines_due().selects]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return {"now": now}

    def run(self, cycle: CycleRun) -> dict[str, int]:
        found = cycle.session.scalars(_medicines_due().limit(DUE_PER_CYCLE), {"now": cycle.now})
        return {"queued": medicines.enqueue_reminders(cycle.session, sorted(found), cycle.now)}
