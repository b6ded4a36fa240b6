"""The cycle's doses-ahead step: make the dose rows of today and tomorrow (patient-local) for
patients whose next day is due to be made, as their treatment course has them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from server.models import Patient, PatientState
from server.services import course
from server.services import state as states
from server.services.sql import batches
from server.services.steps.base import CycleRun, Step

MAKE_DOSES_PER_CYCLE = 2000


@functools.cache
def _patients_due() -> Select[Any]:
    """Patients whose next day of doses is to be made by `now` (one index range, the soonest
    first; nothing read when all are made), built once."""
    s = PatientState
    return (
        select(s.patient_id)
        .where(s.doses_make_at <= bindparam("now"))
        .order_by(s.doses_make_at)
        .limit(bindparam("limit", type_=Integer))
    )


def _values(now: dt.datetime, limit: int = MAKE_DOSES_PER_CYCLE) -> dict[str, Any]:
    return {"now": now, "limit": limit}


def make_doses_ahead(session: Session, now: dt.datetime) -> int:
    """Make the dose rows of today and tomorrow (patient-local) for patients whose next day is
    due to be made, as their treatment course has them (services/course.py), a bounded number
    of patients per cycle. Their summary rows are locked first, in one statement per batch
    (states.lock_states), and only theirs: the idle cycle, and patients with nothing to make,
    lock nothing."""
    ids = sorted(session.scalars(_patients_due(), _values(now)))
    if not ids:  # the cycle's next commit ends this read
        return 0
    # the courses these doses follow, locked as a transition locks one (RULES.md 6): a hold,
    # stop, count or missed-dose pause committing now either commits first (its course is
    # read here, and the days are made withheld) or waits for these doses and withholds them
    states.lock_states(session, ids)
    patients = [
        patient
        for batch in batches(ids)
        for patient in session.scalars(select(Patient).where(Patient.id.in_(batch)))
    ]
    for patient in patients:
        course.make_ahead(session, patient, now, locked=True)
    session.commit()
    return len(patients)


class DosesAhead(Step):
    name = "doses_ahead"
    counts = ("doses_made_for",)

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [_patients_due().exists()]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return _values(now)

    def run(self, cycle: CycleRun) -> dict[str, int]:
        return {"doses_made_for": make_doses_ahead(cycle.session, cycle.now)}
