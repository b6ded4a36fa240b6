"""A month of a patient's diary at a glance: each day's doses, bowel movements and symptoms."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.doses import dose_status
from server.models import BowelMovement, Patient, SymptomReport
from server.services import diary, doses
from server.services import state as states

DOSE_STATUSES = ("taken", "skipped", "missed", "pending", "withheld")


@dataclass
class DayAtAGlance:
    """One local day: its doses counted by status, its bowel movements with their Bristol
    types, the symptoms reported and the highest temperature."""

    date: dt.date
    doses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOSE_STATUSES, 0))
    bowel_movements: int = 0
    bristol_types: list[int] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    highest_temperature_c: float | None = None


@dataclass(frozen=True)
class MonthAtAGlance:
    """A month (YYYY-MM) day by day up to today, and the months before and after it (None
    after this month)."""

    month: str
    previous: str
    next: str | None
    days: list[DayAtAGlance]


def _local_bounds(patient: Patient, first: dt.date, last: dt.date) -> tuple[dt.datetime, ...]:
    zone = zoneinfo.ZoneInfo(patient.timezone)
    start = dt.datetime.combine(first, dt.time(0), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def month_view(
    session: Session, patient: Patient, month: tuple[int, int] | None, now: dt.datetime
) -> MonthAtAGlance:
    """Each local day of a month (default this month) up to today: the doses by status, the
    number of bowel movements with their Bristol types, and the symptoms reported."""
    today = states.today_for(patient, now)
    year, number = month or (today.year, today.month)
    first = dt.date(year, number, 1)
    last = dt.date(year, number, calendar.monthrange(year, number)[1])
    zone = zoneinfo.ZoneInfo(patient.timezone)
    start, end = _local_bounds(patient, first, last)
    days = {
        first + dt.timedelta(days=n): DayAtAGlance(first + dt.timedelta(days=n))
        for n in range(last.day)
        if first + dt.timedelta(days=n) <= today
    }
    for day, status, scheduled_at in session.execute(doses.of_dates(patient, first, last)):
        if day in days:
            days[day].doses[dose_status(status, scheduled_at, now)] += 1
    movements = session.execute(
        diary.bowel_movements_between(patient, start, end).order_by(BowelMovement.occurred_at)
    )
    for at, bristol in movements:
        entry = days.get(at.astimezone(zone).date())
        if entry is not None:
            entry.bowel_movements += 1
            entry.bristol_types.append(bristol)
    reports = session.execute(
        select(SymptomReport.occurred_at, SymptomReport.symptoms, SymptomReport.temperature_c)
        .where(
            SymptomReport.patient_id == patient.id,
            SymptomReport.occurred_at >= start,
            SymptomReport.occurred_at < end,
        )
        .order_by(SymptomReport.occurred_at)
    )
    for at, codes, temperature in reports:
        entry = days.get(at.astimezone(zone).date())
        if entry is None:
            continue
        entry.symptoms.extend(c for c in codes or () if c not in entry.symptoms)
        if temperature is not None:
            high = entry.highest_temperature_c
            entry.highest_temperature_c = temperature if high is None else max(high, temperature)
    previous = first - dt.timedelta(days=1)
    following = last + dt.timedelta(days=1)
    return MonthAtAGlance(
        month=f"{year:04d}-{number:02d}",
        previous=f"{previous.year:04d}-{previous.month:02d}",
        next=f"{following.year:04d}-{following.month:02d}" if following <= today else None,
        days=list(days.values()),
    )
