"""What the monitoring schedule reads besides the patient's summary: the latest clinic counts,
the treatment breaks, and the step downs the care team confirmed (RULES.md 3 and 7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import CountReading, ResultSource, local_date
from server.models import AncStepDownConfirmation, LabResult, Patient, TreatmentInterruption

COUNT_TESTS = ("anc", "wbc")
# enough to find the last red behind a run of results (daily tests until two greens)
RECENT_COUNTS = 20


def recent_clinic_counts(session: Session, patient: Patient) -> list[CountReading]:
    """The clinic's latest counts (ANC or WBC) as the schedule reads them, newest first.

    Only the clinic's results count (RULES.md 7 "Whose result counts"); a WBC that no profile
    read (no interpretation) is left out.
    """
    rows = session.execute(
        select(LabResult.collected_at, LabResult.interpretation)
        .where(
            LabResult.patient_id == patient.id,
            LabResult.source == ResultSource.CLINIC.value,
            LabResult.test.in_(COUNT_TESTS),
        )
        .order_by(LabResult.collected_at.desc(), LabResult.id.desc())
        .limit(RECENT_COUNTS)
    ).all()
    readings = []
    for collected_at, interpretation in rows:
        if not interpretation or not interpretation.get("band"):
            continue
        readings.append(
            CountReading(
                collected_on=local_date(collected_at, patient.timezone),
                band=interpretation["band"],
                traffic_light=interpretation.get("traffic_light"),
                first_below_normal=bool(interpretation.get("confirm_within_24h")),
            )
        )
    return readings


def treatment_breaks(session: Session, patient: Patient) -> list[tuple[dt.date, dt.date]]:
    """(first day missed, day restarted) of each break that has ended."""
    return [
        (row.first_missed_on, row.restarted_on)
        for row in session.scalars(
            select(TreatmentInterruption).where(
                TreatmentInterruption.patient_id == patient.id,
                TreatmentInterruption.restarted_on.is_not(None),
            )
        )
        if row.restarted_on is not None
    ]


def confirmed_step_downs(session: Session, patient: Patient) -> frozenset[tuple[dt.date, int]]:
    """The step downs of the ANC schedule the care team confirmed: (clock_from, from_week)."""
    rows = session.execute(
        select(AncStepDownConfirmation.clock_from, AncStepDownConfirmation.from_week).where(
            AncStepDownConfirmation.patient_id == patient.id
        )
    )
    return frozenset((clock_from, from_week) for clock_from, from_week in rows)
