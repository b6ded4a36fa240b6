"""Red flags: what a symptom report or the passage of time means for the care team.

RULES.md section 4 (and 1 for missed doses, 3 for overdue tests and liver tests). The product
informs and alerts; the advice code of each flag equals its rule code (content/ has the text).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from server.domain.codes import (
    RULE_ORDER,
    SYMPTOM_CODES,
    Advice,
    Prompt,
    Rule,
    Severity,
    Symptom,
    severity_rank,
)
from server.domain.dosetimes import as_utc
from server.domain.titration import needs_retitration

FEVER_C: Final = 38.0  # RULES.md 4 "temperature >= 38.0 C"
MIN_PLAUSIBLE_C: Final = 30.0
MAX_PLAUSIBLE_C: Final = 45.0
MYOCARDITIS_WATCH_DAYS: Final = 28  # RULES.md 3 "Myocarditis watch, days 1-28"; guideline L175
BOWEL_FLAG_AFTER: Final = timedelta(hours=72)  # RULES.md 4 no_bowel_movement_72h
BOWEL_PROMPT_AFTER: Final = timedelta(hours=48)  # RULES.md 4 "At 48 h ... a prompt first"
WEEK: Final = timedelta(days=7)
MIN_BOWEL_MOVEMENTS_PER_WEEK: Final = 3  # RULES.md 4 "Fewer than 3 bowel movements in a week"
LIVER_MULTIPLE_OF_ULN: Final = 3.0  # RULES.md 3; guideline L292 ">3x upper limit ... symptoms"

_CARDIAC: Final = frozenset({Symptom.PALPITATIONS, Symptom.SHORTNESS_OF_BREATH, Symptom.FAINTING})
_INFECTION: Final = frozenset({Symptom.SORE_THROAT, Symptom.MOUTH_SORES, Symptom.FLU_LIKE})
_OBSTRUCTION_WITH_CONSTIPATION: Final = frozenset(
    {Symptom.ABDOMINAL_PAIN, Symptom.VOMITING, Symptom.SWOLLEN_BELLY}
)
_NMS_WITH_FEVER: Final = frozenset({Symptom.MUSCLE_STIFFNESS, Symptom.CONFUSION})
_SMOKING: Final = frozenset(
    {Symptom.STOPPED_SMOKING, Symptom.STARTED_SMOKING, Symptom.SWITCHED_TO_ECIG}
)
_DIZZINESS: Final = frozenset({Symptom.DIZZINESS, Symptom.DIZZINESS_ON_STANDING})


@dataclass(frozen=True)
class RedFlag:
    """One escalation: its rule code, severity, and advice code (== rule code)."""

    rule: str
    severity: str
    advice: str


def _flag(rule: Rule, severity: Severity, advice: Advice | None = None) -> RedFlag:
    return RedFlag(rule=rule.value, severity=severity.value, advice=(advice or rule).value)


def is_plausible_temperature(temperature_c: object) -> bool:
    """Whether a body temperature in C is a finite number from 30 to 45 (a typo guard: a value
    outside it is refused on its own field, RULES.md 7 "Temperature alone")."""
    return (
        not isinstance(temperature_c, bool)
        and isinstance(temperature_c, int | float)
        and math.isfinite(temperature_c)
        and MIN_PLAUSIBLE_C <= temperature_c <= MAX_PLAUSIBLE_C
    )


def sort_flags(flags: Collection[RedFlag]) -> list[RedFlag]:
    """Emergency first, then by the rules' declaration order."""
    return sorted(flags, key=lambda f: (-severity_rank(f.severity), RULE_ORDER.index(f.rule)))


def classify_symptoms(
    symptoms: Collection[str],
    *,
    temperature_c: float | None,
    days_on_clozapine: int | None,
) -> list[RedFlag]:
    """Red flags raised by one symptom report, emergency first, one per rule (RULES.md 4).

    chest_pain emergency (guideline L309). cardiac_symptoms: palpitations, shortness of breath
    or fainting, urgent; emergency when fever is present on days 1-28 (myocarditis, guideline
    L112, L174-L175) or when days_on_clozapine is unknown (None; the cautious reading); unusual
    tiredness in days 1-28 is cardiac_symptoms too (RULES.md 7 "Tiredness"; guideline L174
    "unexplained fatigue"). fever: temperature >= 38.0 C or fever reported, urgent, a
    temperature alone included (RULES.md 7; guideline L302). sore_throat: sore throat,
    mouth sores or flu-like illness, urgent (guideline L302). bowel_obstruction_signs:
    constipation with abdominal pain, vomiting or a swollen belly, or diarrhoea after
    constipation (its code says constipation came first), emergency (guideline L221, L232).
    seizure emergency (guideline L331). nms_signs: fever (reported or >= 38.0 C, taken as "high
    fever") with muscle stiffness or confusion, emergency (guideline L269).
    pregnancy_reported, breastfeeding_reported, smoking_change (guideline L345) and
    fainting_or_dizziness (dizziness on standing, guideline L307) are routine.
    days_on_clozapine: 1 on the start date. ValueError for an unknown code or a temperature
    outside 30-45 C.
    """
    reported = set(symptoms)
    unknown = reported - SYMPTOM_CODES
    if unknown:
        raise ValueError(f"unknown symptom code(s): {', '.join(sorted(unknown))}")
    if temperature_c is not None and not is_plausible_temperature(temperature_c):
        raise ValueError(
            f"temperature must be between {MIN_PLAUSIBLE_C:g} and {MAX_PLAUSIBLE_C:g} C"
        )
    fever = Symptom.FEVER in reported or (temperature_c is not None and temperature_c >= FEVER_C)
    in_myocarditis_window = days_on_clozapine is None or 1 <= days_on_clozapine <= (
        MYOCARDITIS_WATCH_DAYS
    )

    tired_in_window = Symptom.UNUSUAL_TIREDNESS in reported and in_myocarditis_window

    flags: list[RedFlag] = []
    if Symptom.CHEST_PAIN in reported:
        flags.append(_flag(Rule.CHEST_PAIN, Severity.EMERGENCY))
    if reported & _CARDIAC or tired_in_window:
        severity = Severity.EMERGENCY if fever and in_myocarditis_window else Severity.URGENT
        flags.append(_flag(Rule.CARDIAC_SYMPTOMS, severity))
    if fever:
        flags.append(_flag(Rule.FEVER, Severity.URGENT))
    if reported & _INFECTION:
        flags.append(_flag(Rule.SORE_THROAT, Severity.URGENT))
    if Symptom.DIARRHOEA_AFTER_CONSTIPATION in reported or (
        Symptom.CONSTIPATION in reported and reported & _OBSTRUCTION_WITH_CONSTIPATION
    ):
        flags.append(_flag(Rule.BOWEL_OBSTRUCTION_SIGNS, Severity.EMERGENCY))
    if Symptom.SEIZURE in reported:
        flags.append(_flag(Rule.SEIZURE, Severity.EMERGENCY))
    if fever and reported & _NMS_WITH_FEVER:
        flags.append(_flag(Rule.NMS_SIGNS, Severity.EMERGENCY))
    if Symptom.PREGNANT in reported:
        flags.append(_flag(Rule.PREGNANCY_REPORTED, Severity.ROUTINE))
    if Symptom.BREASTFEEDING in reported:
        flags.append(_flag(Rule.BREASTFEEDING_REPORTED, Severity.ROUTINE))
    if reported & _SMOKING:
        flags.append(_flag(Rule.SMOKING_CHANGE, Severity.ROUTINE))
    if reported & _DIZZINESS:
        flags.append(_flag(Rule.FAINTING_OR_DIZZINESS, Severity.ROUTINE))
    return sort_flags(flags)


def raised_in_pairs(symptoms: Collection[str]) -> list[tuple[tuple[str, str], RedFlag]]:
    """The pairs of `symptoms` that raise a flag neither raises alone (or a higher severity of
    one), each pair with each such flag, read as `classify_symptoms` reads a report of unknown
    days on clozapine (the cautious reading).

    With each symptom's own flags, this is all a phone needs to class a report offline as the
    server would: no rule asks for more than two symptoms, and a temperature from FEVER_C counts
    as a reported fever; so a report raises, for each rule, the most severe flag any one of its
    symptoms or any such pair of them raises. tests/unit/test_red_flags.py holds that for every
    report of up to three symptoms, with and without a fever temperature.
    """
    codes = sorted(set(symptoms))

    def alone(code: str) -> list[RedFlag]:
        return classify_symptoms([code], temperature_c=None, days_on_clozapine=None)

    singles = {code: {(f.rule, f.severity) for f in alone(code)} for code in codes}
    pairs: list[tuple[tuple[str, str], RedFlag]] = []
    for index, first in enumerate(codes):
        for second in codes[index + 1 :]:
            known = singles[first] | singles[second]
            both = classify_symptoms([first, second], temperature_c=None, days_on_clozapine=None)
            pairs += [((first, second), f) for f in both if (f.rule, f.severity) not in known]
    return pairs


def hours_since(earlier: datetime, now: datetime) -> float:
    """Hours from `earlier` to `now` (negative if `earlier` is later); naive values are UTC."""
    return (as_utc(now) - as_utc(earlier)).total_seconds() / 3600.0


@dataclass(frozen=True)
class TimeSummary:
    """What the time-based rules need to know about a patient at `now`.

    tracking_since: when diary tracking started (no bowel flag before 72 h of tracking without
    a recorded movement). first_missed_due_at: the earliest scheduled dose not taken since the
    last dose taken. today: the patient's local date. days_on_clozapine (optional; 1 = start
    date) turns on the daily check-in prompt in days 1-28. doses_due_since (optional): when
    the current stretch of due doses began (needs_retitration).
    """

    now: datetime
    tracking_since: datetime
    last_bowel_movement_at: datetime | None
    bowel_movements_last_7d: int
    last_dose_taken_at: datetime | None
    first_missed_due_at: datetime | None
    next_blood_test_due: date | None
    today: date
    days_on_clozapine: int | None = None
    doses_due_since: datetime | None = None


@dataclass(frozen=True)
class TimeRuleResult:
    """Red flags (emergency first) and patient prompts (codes) due at summary.now."""

    red_flags: tuple[RedFlag, ...]
    prompts: tuple[str, ...]


def evaluate_time_rules(summary: TimeSummary) -> TimeRuleResult:
    """Flags and prompts that arise from time passing (RULES.md 1, 3, 4).

    no_bowel_movement_72h urgent at >= 72 h since the last recorded movement, or since tracking
    began if none (71:59 no, 72:00 yes; guideline L316 "no bowel movement for 2-3 days");
    prompt bowel_check_48h from 48 h up to 72 h; prompt bowel_fewer_than_3_in_7d when fewer
    than 3 movements in the last 7 days and tracking has run >= 7 days. missed_doses_48h urgent
    via needs_retitration (> 48 h; guideline L339). blood_test_overdue urgent when today is
    after the next due date (guideline L303). Prompt daily_check_in on days 1-28 (RULES.md 3
    myocarditis watch).
    """
    now = summary.now
    flags: list[RedFlag] = []
    prompts: list[str] = []

    now_utc = as_utc(now)
    tracked = now_utc - as_utc(summary.tracking_since)
    reference = summary.last_bowel_movement_at or summary.tracking_since
    without = now_utc - as_utc(reference)
    if without >= BOWEL_FLAG_AFTER:
        flags.append(_flag(Rule.NO_BOWEL_MOVEMENT_72H, Severity.URGENT))
    elif without >= BOWEL_PROMPT_AFTER:
        prompts.append(Prompt.BOWEL_CHECK_48H.value)
    if tracked >= WEEK and summary.bowel_movements_last_7d < MIN_BOWEL_MOVEMENTS_PER_WEEK:
        prompts.append(Prompt.BOWEL_FEWER_THAN_3_IN_7D.value)

    if needs_retitration(
        summary.last_dose_taken_at,
        summary.first_missed_due_at,
        now,
        doses_due_since=summary.doses_due_since,
    ):
        flags.append(_flag(Rule.MISSED_DOSES_48H, Severity.URGENT))

    if summary.next_blood_test_due is not None and summary.today > summary.next_blood_test_due:
        flags.append(_flag(Rule.BLOOD_TEST_OVERDUE, Severity.URGENT))

    days = summary.days_on_clozapine
    if days is not None and 1 <= days <= MYOCARDITIS_WATCH_DAYS:
        prompts.append(Prompt.DAILY_CHECK_IN.value)

    return TimeRuleResult(red_flags=tuple(sort_flags(flags)), prompts=tuple(prompts))


def check_liver_tests(
    alt_or_ast_u_per_l: float, upper_limit: float, *, symptomatic: bool
) -> RedFlag | None:
    """liver_tests_high when ALT/AST is above 3x the upper limit: urgent with symptoms, routine
    (shown to the team, advice liver_tests_raised) without.

    RULES.md 3 "> 3x upper limit with symptoms is a red flag" and 7 "Liver tests ... without
    symptoms -> shown to the team (routine)"; guideline L288, L292. Exactly 3x is not above.
    ValueError for a negative value or a non-positive upper limit.
    """
    for name, value in (("ALT/AST", alt_or_ast_u_per_l), ("upper limit", upper_limit)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number (U/L)")
    if alt_or_ast_u_per_l < 0:
        raise ValueError("ALT/AST must not be negative")
    if upper_limit <= 0:
        raise ValueError("the upper limit of normal must be positive")
    if alt_or_ast_u_per_l <= LIVER_MULTIPLE_OF_ULN * upper_limit:
        return None
    if symptomatic:
        return _flag(Rule.LIVER_TESTS_HIGH, Severity.URGENT)
    return _flag(Rule.LIVER_TESTS_HIGH, Severity.ROUTINE, Advice.LIVER_TESTS_RAISED)
