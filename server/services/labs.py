"""Lab results and the blood-test schedule.

Only the clinic's results count (RULES.md 7 "Whose result counts"): a clinic count sets the
band and the schedule and escalates a low band; a clinic troponin, CRP, level or liver test is
read by its rule. A patient's or caregiver's copy is kept and shown as theirs, never read as
the clinic's; one far from the clinic's value of the same day is shown to the team as a
discrepancy, and a low copy with no clinic count that day asks the team to check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import (
    AncBand,
    AncBandEdge,
    AncInterpretation,
    Prompt,
    ResultReading,
    ResultSource,
    Rule,
    Severity,
    anc_band_edges,
    interpret_anc,
    interpret_uk_counts,
    is_far_from,
    load_profile,
    local_date,
    read_result,
)
from server.domain.anc import CONFIRM_WITHIN
from server.domain.lab_units import COUNT_TESTS, UNITS, is_plausible, to_canonical
from server.domain.schedule import DueTest
from server.domain.signals import READ_TESTS
from server.models import LabResult, Patient, ReminderSettings
from server.policy import CARE_TEAM
from server.services import course, escalations, idempotency, outbox
from server.services import state as states
from server.services.content import Content
from server.services.diary import check_log_time
from server.services.errors import Invalid
from server.services.recipients import who_logs_for
from server.services.reminder_times import after_quiet_hours

# What the patient's side is shown of an interpretation; the clinician's action text stays
# with the care team (RULES.md 7: the patient's side gets its own words from content/).
PATIENT_SIDE_KEYS = ("band", "traffic_light", "confirm_within_24h", "next_test_due", "counts")


@dataclass(frozen=True)
class ReadLabResult:
    """A lab result as one reader gets it: the row, and its reading cut to what the reader's
    role sees (`reader_interpretation`)."""

    row: LabResult
    interpretation: dict[str, Any] | None

    @property
    def counts(self) -> bool:
        """Whether it is the clinic's result (only those decide anything)."""
        return self.row.source == ResultSource.CLINIC.value

    @property
    def band(self) -> str | None:
        return (self.row.interpretation or {}).get("band")

    @property
    def discrepancy(self) -> dict[str, Any] | None:
        """A copy far from the clinic's value of the same day: that value."""
        return (self.row.interpretation or {}).get("discrepancy")


@dataclass(frozen=True)
class BloodTests:
    """What is due (upcoming, due or overdue) and what was done."""

    upcoming: list[DueTest]
    history: list[ReadLabResult]


def _days_on_clozapine(
    session: Session, patient: Patient, at: dt.datetime, now: dt.datetime
) -> int:
    """Day of the course in force on the day of `at` (1 = its first day; RULES.md 6: a
    re-titration starts the myocarditis watch again, from its own first day)."""
    day = local_date(at, patient.timezone)
    return (day - states.watch_from_on(session, patient, day, now)).days + 1


def _local_day_bounds(patient: Patient, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The patient's local calendar day of `at`, as UTC instants [start, end)."""
    zone = ZoneInfo(patient.timezone)
    day = local_date(at, patient.timezone)
    start = dt.datetime.combine(day, dt.time(0), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _same_day(
    session: Session, patient: Patient, result: LabResult, tests: Sequence[str], clinic: bool
) -> list[LabResult]:
    """Other results of `tests` on the result's local day, clinic or copies, newest first."""
    start, end = _local_day_bounds(patient, result.collected_at)
    source = LabResult.source == ResultSource.CLINIC.value
    return list(
        session.scalars(
            select(LabResult)
            .where(
                LabResult.patient_id == patient.id,
                LabResult.id != result.id,
                LabResult.test.in_(tests),
                LabResult.collected_at >= start,
                LabResult.collected_at < end,
                source if clinic else ~source,
            )
            .order_by(LabResult.collected_at.desc(), LabResult.id.desc())
        )
    )


def band_edges(patient: Patient) -> tuple[AncBandEdge, ...]:
    """The bands the patient's ANC is read with by _read_count, highest first: the clinic's
    monitoring profile, with its BEN table for a BEN patient (RULES.md 2)."""
    profile = load_profile(patient.clinic.monitoring_profile)
    return anc_band_edges(profile, ben=patient.benign_ethnic_neutropenia)


def _read_count(
    session: Session, patient: Patient, result: LabResult, previous_band: str | None
) -> AncInterpretation | None:
    """The band (and UK light) of a count: an ANC, or under a traffic-light profile a WBC, read
    with the other count of the same sample (the same collection instant) when there is one.
    None for a WBC under a profile without traffic lights."""
    profile = load_profile(patient.clinic.monitoring_profile)
    ben = patient.benign_ethnic_neutropenia
    value = result.normalised_value or 0.0
    if profile.traffic_light is None:
        if result.test != "anc":
            return None
        return interpret_anc(value, ben=ben, profile=profile, previous_band=previous_band)
    counts: dict[str, float | None] = {"anc": None, "wbc": None}
    counts[result.test] = value
    if result.wbc_10e9_l is not None:
        counts["wbc"] = result.wbc_10e9_l
    if result.source == ResultSource.CLINIC.value:
        other = "wbc" if result.test == "anc" else "anc"
        for row in _same_day(session, patient, result, [other], clinic=True):
            if row.collected_at == result.collected_at and counts[other] is None:
                counts[other] = row.normalised_value
    neutrophils = counts["anc"]
    return interpret_uk_counts(
        profile,
        wbc_10e9_l=counts["wbc"],
        neutrophils_10e9_l=None if neutrophils is None else neutrophils / 1000,
        ben=ben,
        previous_band=previous_band,
    )


def _count_view(reading: AncInterpretation) -> dict[str, Any]:
    return {
        "band": reading.band,
        "action": reading.action,
        "action_text": reading.action_text,
        "monitoring": reading.monitoring,
        "next_test_in_days": reading.next_test_in_days,
        "confirm_within_24h": reading.confirm_within_24h,
        "traffic_light": reading.traffic_light,
        "escalation_rule": reading.escalation_rule,
        "severity": reading.severity,
        "advice_code": reading.escalation_rule or "result_normal",
        "counts": True,
    }


def _prompt_repeat(session: Session, patient: Patient, result: LabResult, now: dt.datetime) -> int:
    """The repeat prompt of a first low count, to whoever logs for the patient, once per
    result, outside quiet hours (RULES.md 7 "First low count ... the patient is prompted")."""
    due = after_quiet_hours(now, patient.timezone, session.get(ReminderSettings, patient.id))
    rows = [
        {
            "dedupe_key": f"anc-repeat:{result.id}:{user_id}",
            "kind": "blood_test",
            "recipient_user_id": user_id,
            "patient_id": patient.id,
            "due_at": due,
            "expires_at": due + CONFIRM_WITHIN,
            "payload": {"prompt": Prompt.ANC_REPEAT_WITHIN_24H.value},
        }
        for user_id in who_logs_for(session, patient.id)
    ]
    return outbox.enqueue(session, rows, now)


def _marker_view(reading: ResultReading) -> dict[str, Any]:
    flag = reading.flag
    return {
        "finding": reading.finding,
        "multiple_of_upper_limit": reading.multiple_of_upper_limit,
        "escalation_rule": flag.rule if flag else None,
        "severity": flag.severity if flag else None,
        "counts": True,
    }


def _raise(
    session: Session,
    patient: Patient,
    content: Content,
    *,
    rule: str,
    severity: str,
    detail: str,
    result: LabResult,
    now: dt.datetime,
    advice: str | None = None,
    **evidence: Any,
) -> None:
    """Open (or add to) the rule's escalation for a result. The summary starts with the rule's
    title: the care team's push shows only that part (no lab values on a lock screen)."""
    escalations.raise_flag(
        session,
        patient=patient,
        rule=rule,
        severity=severity,
        summary=f"{content.english.advice_for(advice or rule)['title']}: {detail}",
        evidence={
            "kind": "lab_result",
            "lab_result_id": result.id,
            "source": result.source,
            **evidence,
        },
        now=now,
        advice=advice,
    )


def _describe(result: LabResult) -> str:
    return f"{result.test.upper().replace('_', ' ')} {result.value:g} {result.unit or ''}".strip()


def _mark_discrepancies(
    session: Session,
    patient: Patient,
    content: Content,
    pairs: Sequence[tuple[LabResult, LabResult]],
    now: dt.datetime,
) -> None:
    """Show the team each copy far from the clinic's value of the same day (RULES.md 7)."""
    for copy, clinic in pairs:
        copy.interpretation = {
            **(copy.interpretation or {}),
            "discrepancy": {
                "clinic_result_id": clinic.id,
                "clinic_value": clinic.value,
                "clinic_unit": clinic.unit,
                "clinic_collected_at": clinic.collected_at.isoformat(),
            },
        }
        day = local_date(copy.collected_at, patient.timezone).isoformat()
        _raise(
            session,
            patient,
            content,
            rule=Rule.RESULT_DISCREPANCY.value,
            severity=Severity.ROUTINE.value,
            detail=(
                f"on {day}, {_describe(copy)} reported by the {copy.source}, "
                f"{_describe(clinic)} from the clinic"
            ),
            result=copy,
            now=now,
            clinic_result_id=clinic.id,
        )


def _far(copy: LabResult, clinic: LabResult) -> bool:
    if copy.normalised_value is None or clinic.normalised_value is None:
        return False
    return is_far_from(copy.normalised_value, clinic.normalised_value)


def _read_clinic_result(
    session: Session, patient: Patient, content: Content, result: LabResult, now: dt.datetime
) -> dict[str, Any] | None:
    """Read a clinic result: a count sets the band and may escalate and prompt a repeat; a
    marker, level or liver test is read by its rule. Returns the interpretation to store."""
    # a count is read against the band before it and may change the course: the summary row
    # is locked first, so a concurrent transition is waited for (states.get_state)
    state = states.get_state(session, patient, now, for_update=result.test in COUNT_TESTS)
    flag: tuple[str, str, str, str | None] | None = None
    interpretation: dict[str, Any] | None = None
    if result.test in COUNT_TESTS:
        reading = _read_count(session, patient, result, state.anc_band)
        if reading is not None:
            # RULES.md 6, 7: the clinic's count keeps the band when it is the newest, and may
            # interrupt the treatment course
            applied = course.clinic_anc(
                session,
                patient,
                band=reading.band,
                action=reading.action,
                collected_at=result.collected_at,
                result_id=result.id,
                now=now,
            )
            interpretation = _count_view(reading)
            if reading.escalation_rule and reading.severity:
                summary = f"{_describe(result)} ({reading.traffic_light or reading.band})"
                if applied.start_called_off is not None:
                    # RULES.md 2: below the baseline the plan cannot start; the team is told
                    # with the count's own escalation (every band below a profile's baseline
                    # has one)
                    summary += (
                        ": below the baseline needed to start clozapine, so the start planned "
                        f"for {applied.start_called_off.isoformat()} is called off"
                    )
                if not applied.newest:
                    # RULES.md 7: the newest clinic count keeps the band; the team reads this
                    # one as history, not as the patient's count today
                    summary += f"; entered after a newer count, which is {state.anc_band}"
                flag = (reading.escalation_rule, reading.severity, summary, None)
            if applied.newest and reading.confirm_within_24h:
                _prompt_repeat(session, patient, result, now)
    else:
        marker = read_result(
            result.test,
            result.normalised_value or 0.0,
            upper_limit=result.upper_limit,
            symptomatic=bool(result.symptomatic),
            days_on_clozapine=_days_on_clozapine(session, patient, result.collected_at, now),
        )
        if marker is not None:
            interpretation = _marker_view(marker)
            if marker.flag is not None:
                limit = f", upper limit {result.upper_limit:g}" if result.upper_limit else ""
                symptoms = " with symptoms" if result.symptomatic else ""
                flag = (
                    marker.flag.rule,
                    marker.flag.severity,
                    f"{_describe(result)}{limit}{symptoms}",
                    marker.flag.advice,
                )
    if flag is not None:
        rule, severity, detail, advice = flag
        _raise(
            session, patient, content, rule=rule, severity=severity, detail=detail,
            result=result, now=now, advice=advice,
        )  # fmt: skip
    copies = _same_day(session, patient, result, [result.test], clinic=False)
    pairs = [(copy, result) for copy in copies if _far(copy, result)]
    _mark_discrepancies(session, patient, content, pairs, now)
    return interpretation


def _read_copy(
    session: Session, patient: Patient, content: Content, result: LabResult, now: dt.datetime
) -> None:
    """A patient's or caregiver's copy: compared with the clinic's value of the same day; a
    low count with no clinic count that day asks the team to check. It decides nothing."""
    clinic = _same_day(session, patient, result, [result.test], clinic=True)
    if clinic:
        if _far(result, clinic[0]):
            _mark_discrepancies(session, patient, content, [(result, clinic[0])], now)
        return
    if result.test not in COUNT_TESTS:
        return
    reading = _read_count(session, patient, result, None)
    if reading is None or reading.band == AncBand.NORMAL:
        return
    if _same_day(session, patient, result, list(COUNT_TESTS), clinic=True):
        return
    _raise(
        session,
        patient,
        content,
        rule=Rule.REPORTED_LOW_COUNT.value,
        severity=Severity.URGENT.value,
        detail=(
            f"{_describe(result)} reported by the {result.source} ({reading.band}), no clinic "
            "count that day: check with the laboratory"
        ),
        result=result,
        now=now,
    )


def record_lab_result(
    session: Session, entry: idempotency.Entry, content: Content
) -> idempotency.Outcome:
    """Record a result. The clinic's is read (RULES.md 2, 3, 7); a copy is kept as the
    patient's or caregiver's and compared with the clinic's value of the same day."""
    actor, patient, data, now = entry.actor, entry.patient, entry.data, entry.now
    test, unit, value = data["test"], data.get("unit"), data.get("value")
    if unit not in UNITS[test]:
        raise Invalid({"unit": [f"Use one of: {', '.join(UNITS[test])}."]})
    if value is None:
        raise Invalid({"value": ["A value is needed."]})
    canonical = to_canonical(test, value, unit)
    if not is_plausible(test, canonical):
        raise Invalid({"value": [f"This value is outside what is possible for {test}."]})
    if data.get("wbc") is not None and test != "anc":
        raise Invalid({"wbc": ["A WBC count goes with an ANC result only."]})
    check_log_time("collected_at", data["collected_at"], now)
    source = ResultSource.CLINIC.value if actor.role in CARE_TEAM else actor.role
    if (
        source == ResultSource.CLINIC.value
        and READ_TESTS.get(test)
        and data.get("upper_limit") is None
    ):
        raise Invalid(
            {"upper_limit": [f"Give the laboratory's upper limit: {test} is read against it."]}
        )

    def work() -> LabResult:
        result = LabResult(
            patient_id=patient.id,
            test=test,
            value=value,
            unit=unit,
            normalised_value=canonical,
            wbc_10e9_l=data.get("wbc"),
            upper_limit=data.get("upper_limit"),
            symptomatic=data.get("symptomatic"),
            collected_at=data["collected_at"],
            source=source,
            recorded_by_id=actor.user_id,
            recorded_at=now,
        )
        session.add(result)
        session.flush()
        clinic = source == ResultSource.CLINIC.value
        if clinic:
            result.interpretation = _read_clinic_result(session, patient, content, result, now)
        else:
            result.interpretation = {"counts": False, "advice_code": "own_copy"}
            _read_copy(session, patient, content, result, now)  # may mark it a discrepancy
        # the schedule reads the stored reading of this count (a first low one, a red one)
        anc_due = states.blood_schedule_refreshed(session, patient, now)
        if result.interpretation is not None and (test in COUNT_TESTS or not clinic):
            due = anc_due.due_date.isoformat() if anc_due else None
            result.interpretation = {**result.interpretation, "next_test_due": due}
        return result

    return entry.once(session, lambda: read_as(work(), content, reader_role=actor.role))


def _patient_side(
    interpretation: dict[str, Any], content: Content | None, role: str
) -> dict[str, Any]:
    """What the patient's side sees of an interpretation: no clinician action text; the
    advice in their own words from content/ (RULES.md 7 "Whose result counts")."""
    shown = {key: interpretation[key] for key in PATIENT_SIDE_KEYS if key in interpretation}
    code = interpretation.get("advice_code")
    if code and content is not None and code in content.advice:
        advice = content.advice_for(code)
        text = advice.get("caregiver") if role == "caregiver" else None
        shown["advice"] = {
            "code": code,
            "title": advice["title"],
            "text": text or advice["patient"],
        }
    return shown


def reader_interpretation(
    result: LabResult, content: Content | None = None, *, reader_role: str | None = None
) -> dict[str, Any] | None:
    """The reading of a result one reader gets; reader_role: the caller's role (the patient's
    side never receives the clinician's action text). None: the care team's view. The
    discrepancy is shown apart (ReadLabResult.discrepancy)."""
    interpretation = result.interpretation or None
    if interpretation is not None and reader_role is not None and reader_role not in CARE_TEAM:
        interpretation = _patient_side(interpretation, content, reader_role)
    elif interpretation is not None:
        interpretation = {k: v for k, v in interpretation.items() if k != "discrepancy"}
    return interpretation or None


def read_as(
    result: LabResult, content: Content | None = None, *, reader_role: str | None = None
) -> ReadLabResult:
    """A result with its reading as one reader gets it (`reader_interpretation`)."""
    return ReadLabResult(result, reader_interpretation(result, content, reader_role=reader_role))


def results(
    session: Session, patient: Patient, *, since: dt.datetime | None, limit: int
) -> Sequence[LabResult]:
    """Lab results, newest first; `since` keeps those recorded at or after that instant."""
    query = select(LabResult).where(LabResult.patient_id == patient.id)
    if since is not None:
        query = query.where(LabResult.recorded_at >= since)
    return session.scalars(query.order_by(LabResult.collected_at.desc()).limit(limit)).all()


def blood_tests(
    session: Session,
    patient: Patient,
    now: dt.datetime,
    *,
    content: Content | None = None,
    reader_role: str | None = None,
) -> BloodTests:
    """What is due (upcoming, due or overdue) and what was done."""
    return BloodTests(
        upcoming=states.schedule(session, patient, now),
        history=[
            read_as(r, content, reader_role=reader_role)
            for r in results(session, patient, since=None, limit=200)
        ],
    )
