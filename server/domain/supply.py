"""Other medicines and the supply of every medicine: when a stock runs out, when the refill
reminder is due, whether the next clozapine supply waits on a blood result, and what "I have
run out" of clozapine means for the care team.

RULES.md has no line on stock or refills: the week's notice is the product's choice (issue 16,
"a refill reminder a week before it runs out"). The blood result ties to RULES.md 3 ("no current
result means no supply at many pharmacies"; guideline L303 "Pharmacy cannot dispense medication
without current blood test results"), read with the monitoring schedule's own due status
(server/domain/schedule.py), never a copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Final

from server.domain.codes import Rule, Severity
from server.domain.dosetimes import as_utc, dose_instants, local_date, sorted_times
from server.domain.red_flags import RedFlag
from server.domain.schedule import due_status

# Product rule (issue 16): the refill reminder comes a week before the stock runs out, at the
# same hour of the morning as blood-test reminders.
REFILL_NOTICE: Final = timedelta(days=7)
REFILL_REMINDER_TIME: Final = "09:00"
MAX_TIMES_A_DAY: Final = 6  # other medicines: up to 6 times a day (e.g. four times daily)


class MedicineKind(StrEnum):
    """What a listed medicine is: clozapine (its doses come from the plan), a laxative (listed
    first: RULES.md 4 "take laxatives as prescribed"; guideline L225, L314 "Take laxatives daily
    as prescribed"), or any other medicine."""

    CLOZAPINE = "clozapine"
    LAXATIVE = "laxative"
    OTHER = "other"


MEDICINE_KINDS: Final = frozenset(k.value for k in MedicineKind)
# the order medicines are listed in: laxatives first (issue 16), then clozapine, then the rest
_LIST_ORDER: Final = {MedicineKind.LAXATIVE: 0, MedicineKind.CLOZAPINE: 1, MedicineKind.OTHER: 2}


def list_order(kind: str, name: str) -> tuple[int, str]:
    """Sort key of a medicine in every list: laxatives first, then by name."""
    return (_LIST_ORDER.get(MedicineKind(kind), 9), name.casefold())


class SkipReason(StrEnum):
    """Why a dose was skipped, as the apps offer it."""

    UNWELL = "unwell"
    RAN_OUT = "ran_out"
    TOLD = "told"
    OTHER = "other"


SKIP_REASONS: Final = frozenset(r.value for r in SkipReason)


class BloodForSupply(StrEnum):
    """Whether the blood result the next clozapine supply needs is in."""

    IN = "in"  # the latest count stays current past the day the stock runs out
    NEEDED = "needed"  # a test falls due on or before that day: its result is not in yet
    UNKNOWN = "unknown"  # no count to go by (no schedule yet)


def _exact(value: float) -> Fraction:
    # tablets come in halves and quarters: exact arithmetic, so 28 x 0.5 leaves exactly 0
    return Fraction(value).limit_denominator(1000)


def runs_out_on(stock: float, uses: Iterable[tuple[date, float]]) -> date | None:
    """The local date of the first dose the stock cannot fully cover, walking the doses still
    to take in time order as (local date, units); None when the stock covers every one."""
    left = _exact(stock)
    for day, units in uses:
        left -= _exact(units)
        if left < 0:
            return day
    return None


def refill_reminder_day(runs_out: date) -> date:
    """The day of the refill reminder: a week before the stock runs out."""
    return runs_out - REFILL_NOTICE


def is_refill_reminder_due(runs_out: date | None, today: date) -> bool:
    """Whether the refill reminder is due by `today` (on the 7th day before running out, not
    the 8th; at once when the stock already lasts less than a week)."""
    return runs_out is not None and today >= refill_reminder_day(runs_out)


def refill_reminder_at(runs_out: date | None, tz_name: str, now: datetime) -> datetime | None:
    """The instant of the refill reminder: 09:00 local a week before the stock runs out, or
    `now` when that moment has passed (a count that already lasts less than a week)."""
    if runs_out is None:
        return None
    moment = dose_instants(refill_reminder_day(runs_out), [REFILL_REMINDER_TIME], tz_name)[0]
    return max(moment, as_utc(now))


def blood_for_supply(next_anc_due: date | None, runs_out: date) -> BloodForSupply:
    """Whether the next clozapine supply waits on a blood result (RULES.md 3: "no current result
    means no supply at many pharmacies"): the result is in when the ANC is still upcoming, by
    the schedule's own due status, on the day the stock runs out."""
    if next_anc_due is None:
        return BloodForSupply.UNKNOWN
    if due_status(next_anc_due, runs_out) == "upcoming":
        return BloodForSupply.IN
    return BloodForSupply.NEEDED


def ran_out_flag(kind: str, status: str, reason: str | None) -> RedFlag | None:
    """A clozapine dose skipped because the patient has run out tells the care team (routine):
    no supply means missed doses, and over 48 h a restart from a low dose (RULES.md 1 "Missed
    doses over 2 days"; guideline L339 "Contact prescriber before resuming"); RULES.md 4 has
    no line of its own for it, so the severity is the product's choice. Other medicines and other
    reasons tell no one."""
    if kind != MedicineKind.CLOZAPINE or status != "skipped" or reason != SkipReason.RAN_OUT:
        return None
    rule = Rule.OUT_OF_CLOZAPINE
    return RedFlag(rule=rule.value, severity=Severity.ROUTINE.value, advice=rule.value)


def tablets_per_dose(mg: float, strength_mg: float) -> float:
    """How many tablets of one strength a dose of clozapine uses (12.5 mg of 25 mg tablets is
    half a tablet)."""
    if strength_mg <= 0:
        raise ValueError("a tablet strength is above 0 mg")
    return float(_exact(mg) / _exact(strength_mg))


def medicine_times(times: Iterable[str]) -> tuple[str, ...]:
    """Check 1-6 unique "HH:MM" times of day for another medicine and return them sorted."""
    return sorted_times(times, MAX_TIMES_A_DAY, "times a day", "the times must be different")


def next_dose_at(times: Iterable[str], tz_name: str, after: datetime) -> datetime | None:
    """The first dose instant strictly after `after` at these wall-clock times in the
    patient's zone (DST as dose_instants)."""
    values = list(times)
    if not values:
        return None
    day = local_date(after, tz_name) - timedelta(days=1)
    for _ in range(4):
        later = [i for i in sorted(dose_instants(day, values, tz_name)) if i > as_utc(after)]
        if later:
            return later[0]
        day += timedelta(days=1)
    return None
