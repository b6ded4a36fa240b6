"""Rules that read several signals together: a symptom with the clinic's count or the bowel
diary, a heart marker with the day of treatment, a level, a liver test, a copy of a result
beside the clinic's.

RULES.md section 7 ("Reading every signal the product holds"); each function names its line
of the guideline. Pure: the caller passes what it read (the clinic's current band, the hours
since the last bowel movement, the day of treatment).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from server.domain.codes import Advice, AncBand, Rule, Severity, Symptom
from server.domain.red_flags import RedFlag, classify_symptoms, sort_flags

# RULES.md 7 "Neutropenic fever": the clinic band is moderate or severe (general), severe
# (BEN; its table has no moderate band) or red (UK; stored as severe).
NEUTROPENIC_BANDS: Final = frozenset({AncBand.MODERATE.value, AncBand.SEVERE.value})
OBSTRUCTION_AFTER_HOURS: Final = 48.0  # RULES.md 7 "no bowel movement for 48 h or more"
_OBSTRUCTION_SIGNS: Final = frozenset(
    {Symptom.ABDOMINAL_PAIN, Symptom.VOMITING, Symptom.SWOLLEN_BELLY}
)
_INFECTION_RULES: Final = frozenset({Rule.FEVER.value, Rule.SORE_THROAT.value})

MARKER_WATCH_DAYS: Final = 45  # RULES.md 7 "Myocarditis markers ... in days 1-45"
TROPONIN_HIGH_MULTIPLE: Final = 2.0  # "troponin above 2x its upper limit"
CRP_HIGH_MG_L: Final = 100.0  # "CRP above 100 mg/L"
CRP_RAISED_MG_L: Final = 50.0  # "CRP 50-100 mg/L"
LEVEL_HIGH_NG_ML: Final = 1000.0  # RULES.md 7 "Clozapine level ... >= 1000 ng/mL"
LEVEL_TARGET_NG_ML: Final = 350.0  # "< 350 ng/mL -> ... below target"; guideline L62
LIVER_MULTIPLE: Final = 3.0  # RULES.md 3 and 7; guideline L288, L292
# RULES.md 7 "a copy far from the clinic's value on the same day": product choice (pending
# clinical sign-off) -- more than a fifth of the larger value apart. A unit slip (x1000, x10)
# is always far; a rounding of the clinic's figure never is.
DISCREPANCY_FRACTION: Final = 0.2


def _flag(rule: Rule, severity: Severity, advice: Advice | None = None) -> RedFlag:
    return RedFlag(rule=rule.value, severity=severity.value, advice=(advice or rule).value)


def _number(name: str, value: float, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'zero or more'}")
    return float(value)


# --- symptom reports ----------------------------------------------------------------------


def is_neutropenic(clinic_anc_band: str | None) -> bool:
    """Whether the clinic's current band makes an infection sign an emergency (RULES.md 7)."""
    return clinic_anc_band in NEUTROPENIC_BANDS


def neutropenic_fever(flags: Collection[RedFlag], clinic_anc_band: str | None) -> list[RedFlag]:
    """fever and sore_throat become emergencies while the clinic band is moderate or severe.

    RULES.md 7 "Neutropenic fever": fever or sore throat while the current clinic band is
    moderate or severe (UK red), or BEN severe, is an emergency; guideline L139-L140 (the
    bands), L302 ("Fever, sore throat, weakness ... may indicate neutropenia"). The advice is
    neutropenic_fever (get care now), never "contact your team today".
    """
    if not is_neutropenic(clinic_anc_band):
        return list(flags)
    return [
        _flag(Rule(f.rule), Severity.EMERGENCY, Advice.NEUTROPENIC_FEVER)
        if f.rule in _INFECTION_RULES
        else f
        for f in flags
    ]


def obstruction_from_diary(
    symptoms: Collection[str], hours_without_bowel_movement: float | None
) -> RedFlag | None:
    """bowel_obstruction_signs (emergency) for abdominal pain, vomiting or a swollen belly when
    the diary shows no bowel movement for 48 h or more, "constipation" ticked or not.

    RULES.md 7 "Obstruction from the diary"; guideline L221 (hypomotility can progress to
    obstruction), L232, L316; MHRA Drug Safety Update on clozapine and intestinal obstruction.
    hours_without_bowel_movement: from the last movement logged before the report (or from
    when tracking began); None when unknown (no flag from the diary). 47.99 h no, 48 h yes.
    """
    if hours_without_bowel_movement is None or not set(symptoms) & _OBSTRUCTION_SIGNS:
        return None
    if hours_without_bowel_movement >= OBSTRUCTION_AFTER_HOURS:
        return _flag(Rule.BOWEL_OBSTRUCTION_SIGNS, Severity.EMERGENCY)
    return None


def read_symptom_report(
    symptoms: Collection[str],
    *,
    temperature_c: float | None,
    days_on_clozapine: int | None,
    clinic_anc_band: str | None,
    hours_without_bowel_movement: float | None,
) -> list[RedFlag]:
    """All red flags of one report, emergency first, one per rule: the report on its own
    (classify_symptoms, RULES.md 4 and 7), read with the clinic's current ANC band
    (neutropenic_fever) and with the bowel diary (obstruction_from_diary).

    A temperature alone (no symptom ticked) is a report. ValueError as classify_symptoms.
    """
    flags = neutropenic_fever(
        classify_symptoms(
            symptoms, temperature_c=temperature_c, days_on_clozapine=days_on_clozapine
        ),
        clinic_anc_band,
    )
    obstruction = obstruction_from_diary(symptoms, hours_without_bowel_movement)
    if obstruction is not None and all(f.rule != obstruction.rule for f in flags):
        flags.append(obstruction)
    return sort_flags(flags)


def reading_context() -> dict[str, dict[str, object]]:
    """The two rules of `read_symptom_report` that need more than the report, as data, for a
    phone that reads a report offline (with each symptom's flags and red_flags.raised_in_pairs):
    `neutropenic` (which rules become which emergency under which clinic bands) and `diary`
    (which symptoms raise which flag after how many hours without a bowel movement).
    tests/browser/test_offline.py holds the app's reading to read_symptom_report."""
    obstruction = _flag(Rule.BOWEL_OBSTRUCTION_SIGNS, Severity.EMERGENCY)
    return {
        "neutropenic": {
            "rules": sorted(_INFECTION_RULES),
            "bands": sorted(NEUTROPENIC_BANDS),
            "severity": Severity.EMERGENCY.value,
            "advice": Advice.NEUTROPENIC_FEVER.value,
        },
        "diary": {
            "symptoms": sorted(str(code) for code in _OBSTRUCTION_SIGNS),
            "hours": OBSTRUCTION_AFTER_HOURS,
            "rule": obstruction.rule,
            "severity": obstruction.severity,
            "advice": obstruction.advice,
        },
    }


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultReading:
    """What a clinic result means beyond its value: a finding code the care team sees beside
    the value (content and the care app word it), the red flag it raises (None: none), and
    its multiple of the laboratory's upper limit where one was given."""

    finding: str
    flag: RedFlag | None = None
    multiple_of_upper_limit: float | None = None


def _in_marker_watch(days_on_clozapine: int | None) -> bool:
    # None: the day is unknown -- the cautious reading (in the watch), as classify_symptoms
    return days_on_clozapine is None or 1 <= days_on_clozapine <= MARKER_WATCH_DAYS


def read_troponin(
    ng_per_l: float, *, upper_limit: float, days_on_clozapine: int | None
) -> ResultReading:
    """Troponin against the laboratory's upper limit (assays differ: the limit is required).

    RULES.md 7 "Myocarditis markers" (Ronaldson 2011; guideline L113, L180): above 2x the
    upper limit -> myocarditis_markers emergency in days 1-45, urgent after; above the upper
    limit (up to 2x) -> urgent in days 1-45, shown to the team after. Exactly 2x is not above
    2x; exactly the limit is not above it.
    """
    value = _number("troponin", ng_per_l)
    limit = _number("the upper limit", upper_limit, positive=True)
    multiple = round(value / limit, 2)
    watch = _in_marker_watch(days_on_clozapine)
    if value > TROPONIN_HIGH_MULTIPLE * limit:
        severity = Severity.EMERGENCY if watch else Severity.URGENT
        return ResultReading(
            "above_2x_upper_limit", _flag(Rule.MYOCARDITIS_MARKERS, severity), multiple
        )
    if value > limit:
        flag = _flag(Rule.MYOCARDITIS_MARKERS, Severity.URGENT) if watch else None
        return ResultReading("above_upper_limit", flag, multiple)
    return ResultReading("within_limit", None, multiple)


def read_crp(mg_per_l: float, *, days_on_clozapine: int | None) -> ResultReading:
    """C-reactive protein in mg/L.

    RULES.md 7 "Myocarditis markers" (Ronaldson 2011; guideline L113, L180): above 100 mg/L ->
    myocarditis_markers emergency in days 1-45, urgent after; 50-100 mg/L -> urgent in days
    1-45, shown to the team after. 100 is in 50-100; 49.9 is below it.
    """
    value = _number("CRP", mg_per_l)
    watch = _in_marker_watch(days_on_clozapine)
    if value > CRP_HIGH_MG_L:
        severity = Severity.EMERGENCY if watch else Severity.URGENT
        return ResultReading("crp_above_100", _flag(Rule.MYOCARDITIS_MARKERS, severity))
    if value >= CRP_RAISED_MG_L:
        flag = _flag(Rule.MYOCARDITIS_MARKERS, Severity.URGENT) if watch else None
        return ResultReading("crp_50_to_100", flag)
    return ResultReading("crp_below_50")


def read_clozapine_level(ng_per_ml: float) -> ResultReading:
    """A trough clozapine level in ng/mL.

    RULES.md 7 "Clozapine level": >= 1000 -> clozapine_level_high urgent (toxicity, seizures;
    guideline L124, L190); < 350 -> below target, shown to the team without an alert
    (guideline L62, L128 "to ensure levels >= 350 ng/mL"); 350-999.9 in target.
    """
    value = _number("the clozapine level", ng_per_ml)
    if value >= LEVEL_HIGH_NG_ML:
        return ResultReading("level_high", _flag(Rule.CLOZAPINE_LEVEL_HIGH, Severity.URGENT))
    if value < LEVEL_TARGET_NG_ML:
        return ResultReading("below_target")
    return ResultReading("in_target")


def read_liver_test(u_per_l: float, *, upper_limit: float, symptomatic: bool) -> ResultReading:
    """ALT or AST against the laboratory's upper limit.

    RULES.md 3 and 7 "Liver tests"; guideline L288 ("> 3x ULN"), L292 ("with symptoms"):
    above 3x -> liver_tests_high, urgent with symptoms, routine (shown to the team) without.
    Exactly 3x is not above.
    """
    value = _number("ALT/AST", u_per_l)
    limit = _number("the upper limit", upper_limit, positive=True)
    multiple = round(value / limit, 2)
    if value > LIVER_MULTIPLE * limit:
        severity = Severity.URGENT if symptomatic else Severity.ROUTINE
        advice = None if symptomatic else Advice.LIVER_TESTS_RAISED
        return ResultReading(
            "above_3x_upper_limit", _flag(Rule.LIVER_TESTS_HIGH, severity, advice), multiple
        )
    if value > limit:
        return ResultReading("above_upper_limit", None, multiple)
    return ResultReading("within_limit", None, multiple)


# Tests read here, and whether each needs the laboratory's upper limit to be read at all.
READ_TESTS: Final[dict[str, bool]] = {
    "troponin": True,
    "crp": False,
    "trough_level": False,
    "alt": True,
    "ast": True,
}


def read_result(
    test: str,
    value: float,
    *,
    upper_limit: float | None,
    symptomatic: bool = False,
    days_on_clozapine: int | None,
) -> ResultReading | None:
    """The reading of a clinic result of `test` in its canonical unit (ng/L, mg/L, ng/mL,
    U/L), or None for a test with no rule here (ANC and WBC are read by anc.py). ValueError
    when a test that needs its upper limit comes without one."""
    if test not in READ_TESTS:
        return None
    if READ_TESTS[test] and upper_limit is None:
        raise ValueError(f"{test} is read against the laboratory's upper limit: give it")
    if test == "troponin":
        assert upper_limit is not None
        return read_troponin(value, upper_limit=upper_limit, days_on_clozapine=days_on_clozapine)
    if test == "crp":
        return read_crp(value, days_on_clozapine=days_on_clozapine)
    if test == "trough_level":
        return read_clozapine_level(value)
    assert upper_limit is not None
    return read_liver_test(value, upper_limit=upper_limit, symptomatic=symptomatic)


def is_far_from(copy_value: float, clinic_value: float) -> bool:
    """Whether a patient's or caregiver's copy is far from the clinic's value of the same test
    on the same day: more than a fifth of the larger value apart (RULES.md 7 "Whose result
    counts"; DISCREPANCY_FRACTION). Both in the same unit."""
    copy = _number("the copy", copy_value)
    clinic = _number("the clinic's value", clinic_value)
    return abs(copy - clinic) > DISCREPANCY_FRACTION * max(copy, clinic)
