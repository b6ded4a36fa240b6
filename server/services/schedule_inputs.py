"""What the monitoring schedule reads besides the patient's summary: the latest clinic counts,
the treatment breaks, and the step downs the care team confirmed (RULES.md 3 and 7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import CountReading, ResultSource, TreatmentBreak, local_date
from server.domain.lab_units import COUNT_TESTS
from server.models import AncStepDownConfirmation, LabResult, Patient, TreatmentInterruption

# enough to find the last red behind a run of results (daily tests until two greens)
RECENT_COUNTS = 20


def recent_clinic_counts(session: Session, patient: Patient) -> list[CountReading]:
    """The clinic's latest counts (ANC or WBC) as the schedule reads them, newest first.

    Only the clinic's results count (RULES.md 7 "Whose result counts"); a WBC that no profile
    read (no interpretation) is left out. One sample is one reading: the neutrophils and the
    WBC of one collection instant entered as two tests are read by the later entry with both
    counts (labs._read_count), so only that one is kept -- two rows of one sample are not two
    greens (RULES.md 7 "after red, tests are daily until two greens").
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
    sample: dt.datetime | None = None
    for collected_at, interpretation in rows:
        if not interpretation or not interpretation.get("band"):
            continue
        if collected_at == sample:
            continue  # the other count of the sample just read
        sample = collected_at
        readings.append(
            CountReading(
                collected_on=local_date(collected_at, patient.timezone),
                band=interpretation["band"],
                traffic_light=interpretation.get("traffic_light"),
                first_below_normal=bool(interpretation.get("confirm_within_24h")),
            )
        )
    return readings


def treatment_breaks(session: Session, patient: Patient) -> list[TreatmentBreak]:
    """The patient's ended treatment breaks, in hours (RULES.md 6), from the last dose taken to
    the next."""
    return [
        TreatmentBreak(
            started_on=local_date(row.gap_from, patient.timezone),
            resumed_on=local_date(row.resumed_at, patient.timezone),
            hours=(row.resumed_at - row.gap_from).total_seconds() / 3600,
        )
        for row in session.scalars(
            select(TreatmentInterruption)
            .where(
                TreatmentInterruption.patient_id == patient.id,
                TreatmentInterruption.resumed_at.is_not(None),
            )
            .order_by(TreatmentInterruption.gap_from)
        )
        if row.resumed_at is not None
    ]


def confirmed_step_downs(session: Session, patient: Patient) -> frozenset[tuple[dt.date, int]]:
    """The step downs of the ANC schedule the care team confirmed: (clock_from, from_week)."""
    rows = session.execute(
        select(AncStepDownConfirmation.clock_from, AncStepDownConfirmation.from_week).where(
            AncStepDownConfirmation.patient_id == patient.id
        )
    )
    return frozenset((clock_from, from_week) for clock_from, from_week in rows)
