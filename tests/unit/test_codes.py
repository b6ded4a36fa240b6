"""Codes are the contract's (CONTRACT.md) and RULES.md's; severities order emergency first."""

from __future__ import annotations

import pytest

from server.domain import (
    ADVICE_CODES,
    PROMPT_CODES,
    RULE_CODES,
    SYMPTOM_CODES,
    Severity,
    severity_rank,
)

# CONTRACT.md "Symptom codes include at least" + the brief's extra codes.
CONTRACT_SYMPTOMS = {
    "fever", "sore_throat", "chest_pain", "palpitations", "shortness_of_breath", "fainting",
    "dizziness", "seizure", "constipation", "abdominal_pain", "vomiting", "muscle_stiffness",
    "confusion", "hypersalivation", "sedation", "flu_like",
}  # fmt: skip
EXTRA_SYMPTOMS = {
    "mouth_sores", "swollen_belly", "diarrhoea_after_constipation", "unusual_tiredness",
    "pregnant", "breastfeeding", "stopped_smoking", "started_smoking", "switched_to_ecig",
    "dizziness_on_standing",
}  # fmt: skip
# CONTRACT.md "Escalation rule codes include at least" + RULES.md section 4 table.
RULES = {
    "chest_pain", "cardiac_symptoms", "fever", "sore_throat", "no_bowel_movement_72h",
    "bowel_obstruction_signs", "seizure", "nms_signs", "missed_doses_48h", "anc_mild",
    "anc_moderate", "anc_severe", "blood_test_overdue", "pregnancy_reported",
    "breastfeeding_reported", "smoking_change", "fainting_or_dizziness", "liver_tests_high",
}  # fmt: skip
# CONTRACT.md "Treatment course (v2)": further rule codes; RULES.md 7 (whose result counts).
RULES_V2 = {
    "myocarditis_markers",
    "clozapine_level_high",
    "result_discrepancy",
    "reported_low_count",
}
# Issue 16: a clozapine dose skipped because the supply ran out (RULES.md has no line for it).
RULES_SUPPLY = {"out_of_clozapine"}
# Advice for a rule read with another signal, and for results shown to the patient's side.
ADVICE_ONLY = {"neutropenic_fever", "liver_tests_raised", "result_normal", "own_copy"}
PROMPTS = {"bowel_check_48h", "bowel_fewer_than_3_in_7d", "anc_repeat_within_24h", "daily_check_in"}


def test_symptom_codes_cover_the_contract() -> None:
    assert CONTRACT_SYMPTOMS | EXTRA_SYMPTOMS <= SYMPTOM_CODES


def test_rule_prompt_and_advice_codes() -> None:
    assert RULE_CODES == RULES | RULES_V2 | RULES_SUPPLY
    assert PROMPT_CODES == PROMPTS
    assert ADVICE_CODES == RULES | RULES_V2 | RULES_SUPPLY | PROMPTS | ADVICE_ONLY


def test_severity_values_are_the_contract_codes() -> None:
    # CONTRACT.md "Severities: emergency, urgent, routine".
    assert {s.value for s in Severity} == {"emergency", "urgent", "routine"}
    assert Severity.URGENT == "urgent"


@pytest.mark.parametrize(
    ("higher", "lower"),
    [("emergency", "urgent"), ("urgent", "routine"), ("emergency", "routine")],
)
def test_severity_rank_orders_emergency_first(higher: str, lower: str) -> None:
    assert severity_rank(higher) > severity_rank(lower)


def test_severity_rank_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        severity_rank("critical")
