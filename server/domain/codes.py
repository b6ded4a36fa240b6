"""The codes the clinical rules speak in: symptoms, severities, rules, prompts, bands.

Values are the public contract's codes (CONTRACT.md); content/ keys its text by them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal


class Severity(StrEnum):
    """How fast the care team must act (RULES.md section 4)."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


SeverityName = Literal["emergency", "urgent", "routine"]
SEVERITIES: Final[frozenset[str]] = frozenset(s.value for s in Severity)

_SEVERITY_RANK: Final[dict[str, int]] = {
    Severity.EMERGENCY.value: 3,
    Severity.URGENT.value: 2,
    Severity.ROUTINE.value: 1,
}


def severity_rank(severity: str) -> int:
    """Rank a severity for sorting: emergency 3 > urgent 2 > routine 1."""
    try:
        return _SEVERITY_RANK[str(severity)]
    except KeyError:
        raise ValueError(f"unknown severity: {severity!r}") from None


class Symptom(StrEnum):
    """Symptom and event codes a patient or caregiver can report (CONTRACT.md)."""

    FEVER = "fever"
    SORE_THROAT = "sore_throat"
    CHEST_PAIN = "chest_pain"
    PALPITATIONS = "palpitations"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    FAINTING = "fainting"
    # Dizziness on standing (routine); DIZZINESS_ON_STANDING is an alias with the same rule.
    DIZZINESS = "dizziness"
    SEIZURE = "seizure"
    CONSTIPATION = "constipation"
    ABDOMINAL_PAIN = "abdominal_pain"
    VOMITING = "vomiting"
    MUSCLE_STIFFNESS = "muscle_stiffness"
    CONFUSION = "confusion"
    HYPERSALIVATION = "hypersalivation"
    SEDATION = "sedation"
    FLU_LIKE = "flu_like"
    MOUTH_SORES = "mouth_sores"
    SWOLLEN_BELLY = "swollen_belly"
    DIARRHOEA_AFTER_CONSTIPATION = "diarrhoea_after_constipation"
    UNUSUAL_TIREDNESS = "unusual_tiredness"
    PREGNANT = "pregnant"
    BREASTFEEDING = "breastfeeding"
    STOPPED_SMOKING = "stopped_smoking"
    STARTED_SMOKING = "started_smoking"
    SWITCHED_TO_ECIG = "switched_to_ecig"
    DIZZINESS_ON_STANDING = "dizziness_on_standing"


SYMPTOM_CODES: Final[frozenset[str]] = frozenset(s.value for s in Symptom)


class Rule(StrEnum):
    """Escalation rule codes (RULES.md section 4; CONTRACT.md). Each is also an advice code."""

    CHEST_PAIN = "chest_pain"
    CARDIAC_SYMPTOMS = "cardiac_symptoms"
    FEVER = "fever"
    SORE_THROAT = "sore_throat"
    NO_BOWEL_MOVEMENT_72H = "no_bowel_movement_72h"
    BOWEL_OBSTRUCTION_SIGNS = "bowel_obstruction_signs"
    SEIZURE = "seizure"
    NMS_SIGNS = "nms_signs"
    MISSED_DOSES_48H = "missed_doses_48h"
    ANC_MILD = "anc_mild"
    ANC_MODERATE = "anc_moderate"
    ANC_SEVERE = "anc_severe"
    BLOOD_TEST_OVERDUE = "blood_test_overdue"
    PREGNANCY_REPORTED = "pregnancy_reported"
    BREASTFEEDING_REPORTED = "breastfeeding_reported"
    SMOKING_CHANGE = "smoking_change"
    FAINTING_OR_DIZZINESS = "fainting_or_dizziness"
    LIVER_TESTS_HIGH = "liver_tests_high"
    MYOCARDITIS_MARKERS = "myocarditis_markers"
    CLOZAPINE_LEVEL_HIGH = "clozapine_level_high"
    RESULT_DISCREPANCY = "result_discrepancy"
    REPORTED_LOW_COUNT = "reported_low_count"
    # a clozapine dose skipped because the supply ran out (server/domain/supply.py)
    OUT_OF_CLOZAPINE = "out_of_clozapine"


RULE_CODES: Final[frozenset[str]] = frozenset(r.value for r in Rule)
# Declaration order, used to order flags of equal severity deterministically.
RULE_ORDER: Final[tuple[str, ...]] = tuple(r.value for r in Rule)


class Prompt(StrEnum):
    """Patient prompts that are not escalations (RULES.md sections 2-4)."""

    BOWEL_CHECK_48H = "bowel_check_48h"
    BOWEL_FEWER_THAN_3_IN_7D = "bowel_fewer_than_3_in_7d"
    ANC_REPEAT_WITHIN_24H = "anc_repeat_within_24h"
    DAILY_CHECK_IN = "daily_check_in"


PROMPT_CODES: Final[frozenset[str]] = frozenset(p.value for p in Prompt)


class Advice(StrEnum):
    """Advice codes that are not a rule's own (RULES.md section 7): a rule read with another
    signal, or a result explained to the patient's side."""

    NEUTROPENIC_FEVER = "neutropenic_fever"  # fever or sore throat while the count is low
    LIVER_TESTS_RAISED = "liver_tests_raised"  # liver_tests_high without symptoms
    RESULT_NORMAL = "result_normal"  # a clinic count in the normal band
    OWN_COPY = "own_copy"  # a patient's or caregiver's copy of a result


# The advice shown for a red flag has the code of its rule unless the rule was read with
# another signal; prompts and result notes are advice too.
ADVICE_CODES: Final[frozenset[str]] = RULE_CODES | PROMPT_CODES | frozenset(a.value for a in Advice)


class AncBand(StrEnum):
    """ANC bands (RULES.md section 2; CONTRACT.md)."""

    NORMAL = "normal"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


ANC_BANDS: Final[frozenset[str]] = frozenset(b.value for b in AncBand)


class ResultSource(StrEnum):
    """Who recorded a result (RULES.md section 7 "Whose result counts")."""

    CLINIC = "clinic"  # the care team, or a laboratory sending to it: the result that counts
    PATIENT = "patient"  # the patient's own copy
    CAREGIVER = "caregiver"  # a caregiver's copy


class TrafficLight(StrEnum):
    """UK traffic-light result colours (RULES.md section 2, uk-smpc)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


TRAFFIC_LIGHTS: Final[frozenset[str]] = frozenset(t.value for t in TrafficLight)

# Action and monitoring codes used by the shipped profiles (content/ has text for each).
# A new profile may use other snake_case codes; content must then add their text.
ANC_ACTIONS: Final[frozenset[str]] = frozenset(
    {
        "continue",
        "continue_monitor_closely",
        "continue_hematology_consult",
        "interrupt_hematology_consult",
        "stop_hematology_consult",
        "stop_no_rechallenge",
    }
)
MONITORING_CODES: Final[frozenset[str]] = frozenset(
    {"by_phase", "three_times_weekly", "twice_weekly", "daily"}
)


class MonitoredTest(StrEnum):
    """Tests the monitoring schedule lists (RULES.md section 3)."""

    ANC = "anc"
    WBC_NEUTROPHILS = "wbc_neutrophils"
    TROUGH_LEVEL = "trough_level"
    WEIGHT = "weight"
    GLUCOSE_LIPIDS = "glucose_lipids"
    ECG = "ecg"
    LIVER_TESTS = "liver_tests"


MONITORED_TESTS: Final[frozenset[str]] = frozenset(t.value for t in MonitoredTest)

DueStatus = Literal["upcoming", "due", "overdue"]
DUE_STATUSES: Final[frozenset[str]] = frozenset({"upcoming", "due", "overdue"})
