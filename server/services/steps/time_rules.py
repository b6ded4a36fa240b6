"""The cycle's time rules step: the time-based red flags for every patient at once (no bowel
movement, missed doses, overdue blood tests). One indexed query finds the few patients who
might be due; the pure rules decide for each of them."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, select, union
from sqlalchemy.orm import Session

from server.domain import Rule, TimeSummary, evaluate_time_rules, local_date
from server.domain.red_flags import BOWEL_PROMPT_AFTER, WEEK
from server.domain.titration import RETITRATION_AFTER, first_missed_due
from server.models import Escalation, Patient, PatientState
from server.services import course, escalations
from server.services import state as states
from server.services.content import Content
from server.services.sql import batches
from server.services.steps.base import CycleRun, Step

# A patient's local date is at most 14 hours ahead of UTC.
MAX_ZONE_AHEAD = dt.timedelta(hours=14)


@dataclass
class Evaluation:
    candidates: int = 0
    opened: list[int] = field(default_factory=list)
    prompts: list[tuple[int, str]] = field(default_factory=list)


def candidates_query(now: dt.datetime) -> CompoundSelect:
    """Patients for whom some time rule may hold at `now` (a superset; the rules decide).

    Each rule's clock is a generated, indexed column of `patient_state` (models.py): the query
    is the union of four index ranges (a union, since SQLite's planner scans the table for an
    OR of them), and reads no row when no rule is near, as the cycle runs each minute over
    every patient. Only the summary columns the rules read are selected: building ORM objects
    for every candidate each minute cost more than the query itself (benchmarks/time_rules.py).
    """
    return _candidates().params(_candidate_values(now))


@functools.cache
def _candidates() -> CompoundSelect:
    """candidates_query with its values as named parameters (_candidate_values), built once."""
    s = PatientState
    columns = select(
        s.patient_id,
        s.tracking_since,
        s.last_bowel_movement_at,
        s.third_last_bowel_movement_at,
        s.last_dose_taken_at,
        s.doses_due_since,
        s.next_blood_test_due,
        Patient.timezone,
    ).join(Patient, Patient.id == s.patient_id)
    return union(
        columns.where(s.bowel_clock_from <= bindparam("bowel_before")),
        columns.where(s.week_clock_from <= bindparam("week_before")),
        columns.where(s.dose_clock_from <= bindparam("dose_before")),
        columns.where(s.next_blood_test_due < bindparam("blood_before")),
    )


def _candidate_values(now: dt.datetime) -> dict[str, Any]:
    # each clock's earliest rule, from the domain: the bowel clock's is the 48 h prompt
    return {
        "bowel_before": now - BOWEL_PROMPT_AFTER,
        "week_before": now - WEEK,
        "dose_before": now - RETITRATION_AFTER,
        "blood_before": (now + MAX_ZONE_AHEAD).date(),
    }


def evaluate_all(session: Session, now: dt.datetime, content: Content) -> Evaluation:
    """One pass of every time-based rule over every patient; opens escalations, commits."""
    result = Evaluation()
    rows = session.execute(candidates_query(now)).all()
    result.candidates = len(rows)
    if not rows:
        return result
    ids = [row.patient_id for row in rows]
    active: dict[int, set[str]] = defaultdict(set)
    for batch in batches(ids):
        for patient_id, rule in session.execute(
            select(Escalation.patient_id, Escalation.rule).where(
                Escalation.patient_id.in_(batch), Escalation.resolved_at.is_(None)
            )
        ):
            active[patient_id].add(rule)
    week_ago = now - WEEK
    for row in rows:
        recent = 0 if row.last_bowel_movement_at is None else 1
        if (
            row.third_last_bowel_movement_at is not None
            and row.third_last_bowel_movement_at >= week_ago
        ):
            recent = 3  # three or more in the week: the rule only asks whether it is fewer than 3
        outcome = evaluate_time_rules(
            TimeSummary(
                now=now,
                tracking_since=row.tracking_since or now,
                last_bowel_movement_at=row.last_bowel_movement_at,
                bowel_movements_last_7d=recent,
                last_dose_taken_at=row.last_dose_taken_at,
                first_missed_due_at=first_missed_due(row.last_dose_taken_at, row.doses_due_since),
                doses_due_since=row.doses_due_since,
                next_blood_test_due=row.next_blood_test_due,
                today=local_date(now, row.timezone),
            )
        )
        for flag in outcome.red_flags:
            if row.tracking_since is None and flag.rule != "blood_test_overdue":
                continue
            missed = flag.rule == Rule.MISSED_DOSES_48H
            if flag.rule in active[row.patient_id] and not missed:
                continue
            # only now are the patient's objects loaded: a few per minute, not every candidate
            patient = session.get(Patient, row.patient_id)
            state = session.get(PatientState, row.patient_id)
            assert patient is not None and state is not None
            # RULES.md 6: missed doses over 48 h pause an active course for re-titration,
            # every time it happens (an escalation still open or acknowledged is added to)
            if missed and not course.missed_doses(session, patient, now):
                continue
            # the stored due date is the candidate query's copy, written when something
            # happened; the calendar may have moved the course since (a taper that ended it):
            # the schedule decides, and the copy follows (RULES.md 3, 6)
            if flag.rule == Rule.BLOOD_TEST_OVERDUE:
                due = states.blood_schedule_refreshed(session, patient, now)
                if due is None or due.status != "overdue":
                    continue
            escalation, _ = escalations.raise_flag(
                session,
                patient=patient,
                rule=flag.rule,
                severity=flag.severity,
                summary=content.advice_for(flag.advice)["title"],
                evidence=_evidence(flag.rule, state),
                now=now,
            )
            active[row.patient_id].add(flag.rule)
            result.opened.append(escalation.id)
        if row.tracking_since is not None:
            result.prompts.extend((row.patient_id, prompt) for prompt in outcome.prompts)
    session.commit()
    return result


def _evidence(rule: str, state: PatientState) -> dict[str, object]:
    def iso(value: dt.datetime | dt.date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "kind": "time_rule",
        "rule": rule,
        "last_bowel_movement_at": iso(state.last_bowel_movement_at),
        "last_dose_taken_at": iso(state.last_dose_taken_at),
        "next_blood_test_due": iso(state.next_blood_test_due),
    }


class TimeRules(Step):
    """Evaluate the time rules; the diary prompts they ask for go to the prompts step."""

    name = "time_rules"
    counts = ("time_rule_candidates", "escalations_opened")

    def due(self) -> Sequence[ColumnElement[bool]]:
        return [part.exists() for part in _candidates().selects]

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return _candidate_values(now)

    def run(self, cycle: CycleRun) -> dict[str, int]:
        evaluation = evaluate_all(cycle.session, cycle.now, cycle.content)
        cycle.prompts.extend(evaluation.prompts)
        return {
            "time_rule_candidates": evaluation.candidates,
            "escalations_opened": len(evaluation.opened),
        }
