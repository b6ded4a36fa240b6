"""Red flags: RULES.md section 4 (and 1, 3); guideline lines cited per row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.domain import (
    ADVICE_CODES,
    SYMPTOM_CODES,
    RedFlag,
    TimeSummary,
    check_liver_tests,
    classify_symptoms,
    evaluate_time_rules,
    hours_since,
    severity_rank,
)


def flags(
    symptoms: set[str], temperature: float | None = None, days: int | None = 60
) -> list[tuple[str, str]]:
    return [
        (f.rule, f.severity)
        for f in classify_symptoms(symptoms, temperature_c=temperature, days_on_clozapine=days)
    ]


@pytest.mark.parametrize(
    ("symptoms", "temperature", "days", "expected"),
    [
        # chest_pain: emergency (guideline L309 "Report chest pain ... immediately").
        ({"chest_pain"}, None, 60, [("chest_pain", "emergency")]),
        # cardiac_symptoms: urgent (guideline L174 myocarditis signs; L309).
        ({"palpitations"}, None, 60, [("cardiac_symptoms", "urgent")]),
        ({"shortness_of_breath"}, None, 10, [("cardiac_symptoms", "urgent")]),
        ({"fainting"}, None, 60, [("cardiac_symptoms", "urgent")]),
        # ... emergency in days 1-28 with fever (guideline L112, L175 "first 2-4 weeks").
        (
            {"palpitations"},
            38.0,
            1,
            [("cardiac_symptoms", "emergency"), ("fever", "urgent")],
        ),
        (
            {"palpitations", "fever"},
            None,
            28,
            [("cardiac_symptoms", "emergency"), ("fever", "urgent")],
        ),
        (
            {"palpitations", "fever"},
            None,
            29,
            [("cardiac_symptoms", "urgent"), ("fever", "urgent")],
        ),
        ({"palpitations"}, 37.9, 10, [("cardiac_symptoms", "urgent")]),
        # Unknown day count: the cautious reading (emergency).
        (
            {"palpitations", "fever"},
            None,
            None,
            [("cardiac_symptoms", "emergency"), ("fever", "urgent")],
        ),
        # fever: temperature >= 38.0 C or reported (guideline L302 "Report infections").
        (set(), 37.9, 60, []),
        (set(), 38.0, 60, [("fever", "urgent")]),
        ({"fever"}, None, 60, [("fever", "urgent")]),
        ({"fever"}, 36.8, 60, [("fever", "urgent")]),  # reported fever counts
        # sore_throat: sore throat, mouth sores, flu-like (guideline L302).
        ({"sore_throat"}, None, 60, [("sore_throat", "urgent")]),
        ({"mouth_sores"}, None, 60, [("sore_throat", "urgent")]),
        ({"flu_like"}, None, 60, [("sore_throat", "urgent")]),
        ({"sore_throat", "flu_like", "mouth_sores"}, None, 60, [("sore_throat", "urgent")]),
        # bowel_obstruction_signs: emergency (guideline L221, L232; MHRA).
        ({"constipation"}, None, 60, []),
        ({"abdominal_pain"}, None, 60, []),
        ({"constipation", "abdominal_pain"}, None, 60, [("bowel_obstruction_signs", "emergency")]),
        ({"constipation", "vomiting"}, None, 60, [("bowel_obstruction_signs", "emergency")]),
        ({"constipation", "swollen_belly"}, None, 60, [("bowel_obstruction_signs", "emergency")]),
        ({"diarrhoea_after_constipation"}, None, 60, [("bowel_obstruction_signs", "emergency")]),
        # seizure: emergency (guideline L331).
        ({"seizure"}, None, 60, [("seizure", "emergency")]),
        # nms_signs: fever with muscle stiffness or confusion (guideline L269).
        ({"muscle_stiffness"}, None, 60, []),
        ({"confusion"}, 37.9, 60, []),
        (
            {"muscle_stiffness", "fever"},
            None,
            60,
            [("nms_signs", "emergency"), ("fever", "urgent")],
        ),
        ({"confusion"}, 39.5, 60, [("nms_signs", "emergency"), ("fever", "urgent")]),
        # Routine (RULES.md 4; guideline L361, L368, L345, L307).
        ({"pregnant"}, None, 60, [("pregnancy_reported", "routine")]),
        ({"breastfeeding"}, None, 60, [("breastfeeding_reported", "routine")]),
        ({"stopped_smoking"}, None, 60, [("smoking_change", "routine")]),
        ({"started_smoking"}, None, 60, [("smoking_change", "routine")]),
        ({"switched_to_ecig"}, None, 60, [("smoking_change", "routine")]),
        ({"dizziness"}, None, 60, [("fainting_or_dizziness", "routine")]),
        ({"dizziness_on_standing"}, None, 60, [("fainting_or_dizziness", "routine")]),
        # Unusual tiredness in days 1-28 is cardiac_symptoms (RULES.md 7 "Tiredness"; guideline
        # L174 "Unexplained fatigue" among myocarditis signs), with fever an emergency.
        ({"unusual_tiredness"}, None, 1, [("cardiac_symptoms", "urgent")]),
        ({"unusual_tiredness"}, None, 28, [("cardiac_symptoms", "urgent")]),
        ({"unusual_tiredness"}, None, 29, []),
        ({"unusual_tiredness"}, None, 0, []),  # before the first dose
        ({"unusual_tiredness"}, None, None, [("cardiac_symptoms", "urgent")]),
        (
            {"unusual_tiredness"},
            38.2,
            14,
            [("cardiac_symptoms", "emergency"), ("fever", "urgent")],
        ),
        # No rule (recorded for the team only).
        ({"hypersalivation", "sedation", "unusual_tiredness"}, None, 60, []),
        (set(), None, 60, []),
    ],
)
def test_classify_symptoms(
    symptoms: set[str],
    temperature: float | None,
    days: int | None,
    expected: list[tuple[str, str]],
) -> None:
    assert flags(symptoms, temperature, days) == expected


def test_flags_are_sorted_emergency_first_one_per_rule() -> None:
    result = classify_symptoms(
        ["dizziness", "palpitations", "fainting", "chest_pain", "sore_throat", "pregnant"],
        temperature_c=None,
        days_on_clozapine=60,
    )
    ranks = [severity_rank(f.severity) for f in result]
    assert ranks == sorted(ranks, reverse=True)
    assert [f.rule for f in result] == [
        "chest_pain",
        "cardiac_symptoms",
        "sore_throat",
        "pregnancy_reported",
        "fainting_or_dizziness",
    ]


def test_every_flag_advice_is_its_rule_and_a_known_advice_code() -> None:
    result = classify_symptoms(SYMPTOM_CODES, temperature_c=39.0, days_on_clozapine=5)
    assert result
    for flag in result:
        assert flag.advice == flag.rule and flag.advice in ADVICE_CODES


@pytest.mark.parametrize(
    ("symptoms", "temperature"),
    [({"headache"}, None), ({"fever", "FEVER"}, None), (set(), 29.9), (set(), 45.1)],
)
def test_classify_symptoms_rejects(symptoms: set[str], temperature: float | None) -> None:
    with pytest.raises(ValueError):
        classify_symptoms(symptoms, temperature_c=temperature, days_on_clozapine=1)


@pytest.mark.parametrize("temperature", [30.0, 45.0])
def test_temperature_range_ends_are_accepted(temperature: float) -> None:
    classify_symptoms(set(), temperature_c=temperature, days_on_clozapine=1)


# --- time rules -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


def summary(**changes: object) -> TimeSummary:
    base: dict[str, object] = {
        "now": NOW,
        "tracking_since": NOW - timedelta(days=30),
        "last_bowel_movement_at": NOW - timedelta(hours=10),
        "bowel_movements_last_7d": 7,
        "last_dose_taken_at": NOW - timedelta(hours=3),
        "first_missed_due_at": None,
        "next_blood_test_due": TODAY + timedelta(days=3),
        "today": TODAY,
    }
    base.update(changes)
    return TimeSummary(**base)  # type: ignore[arg-type]


def rules(result_flags: tuple[RedFlag, ...]) -> list[str]:
    return [f.rule for f in result_flags]


@pytest.mark.parametrize(
    ("since_bowel", "flag", "prompt"),
    [
        # RULES.md 4: no_bowel_movement_72h at 72 h; "At 48 h the patient gets a prompt first".
        (timedelta(hours=47, minutes=59), False, False),
        (timedelta(hours=48), False, True),
        (timedelta(hours=71, minutes=59), False, True),  # boundary row 71h59
        (timedelta(hours=72), True, False),  # boundary row 72h00
        (timedelta(days=5), True, False),
    ],
)
def test_bowel_72h_boundary(since_bowel: timedelta, flag: bool, prompt: bool) -> None:
    result = evaluate_time_rules(summary(last_bowel_movement_at=NOW - since_bowel))
    assert ("no_bowel_movement_72h" in rules(result.red_flags)) is flag
    assert ("bowel_check_48h" in result.prompts) is prompt
    if flag:
        assert result.red_flags[0].severity == "urgent"


@pytest.mark.parametrize(
    ("tracked", "flag"),
    [
        # No movement recorded: counted from the start of tracking, never before 72 h of it.
        (timedelta(hours=71, minutes=59), False),
        (timedelta(hours=72), True),
    ],
)
def test_bowel_counted_from_tracking_start(tracked: timedelta, flag: bool) -> None:
    result = evaluate_time_rules(
        summary(
            tracking_since=NOW - tracked, last_bowel_movement_at=None, bowel_movements_last_7d=0
        )
    )
    assert ("no_bowel_movement_72h" in rules(result.red_flags)) is flag
    assert "bowel_fewer_than_3_in_7d" not in result.prompts  # under 7 days of tracking


@pytest.mark.parametrize(
    ("count", "tracked", "prompt"),
    [
        # RULES.md 4: "Fewer than 3 bowel movements in a week also prompts the patient".
        (2, timedelta(days=7), True),
        (3, timedelta(days=7), False),
        (0, timedelta(days=6, hours=23, minutes=59), False),  # under a week of tracking
    ],
)
def test_fewer_than_3_in_7_days(count: int, tracked: timedelta, prompt: bool) -> None:
    result = evaluate_time_rules(
        summary(tracking_since=NOW - tracked, bowel_movements_last_7d=count)
    )
    assert ("bowel_fewer_than_3_in_7d" in result.prompts) is prompt


@pytest.mark.parametrize(
    ("since_last_dose", "flag"),
    [
        # RULES.md 1; guideline L339 "If doses missed for >2 days".
        (timedelta(hours=47, minutes=59), False),
        (timedelta(hours=48), False),
        (timedelta(hours=48, minutes=1), True),
    ],
)
def test_missed_doses_48h(since_last_dose: timedelta, flag: bool) -> None:
    last = NOW - since_last_dose
    result = evaluate_time_rules(
        summary(last_dose_taken_at=last, first_missed_due_at=last + timedelta(hours=12))
    )
    assert ("missed_doses_48h" in rules(result.red_flags)) is flag


@pytest.mark.parametrize(
    ("since_due", "flag"),
    [
        # RULES.md 1 (line 21): "while doses were due" -- a re-titration plan's first dose,
        # not yet marked, after a last dose taken 5 days before it
        (timedelta(minutes=5), False),
        (timedelta(hours=48), False),
        (timedelta(hours=48, minutes=1), True),
    ],
)
def test_missed_doses_count_from_when_doses_were_due_again(
    since_due: timedelta, flag: bool
) -> None:
    due = NOW - since_due
    result = evaluate_time_rules(
        summary(
            last_dose_taken_at=due - timedelta(days=5),
            first_missed_due_at=due,
            doses_due_since=due,
        )
    )
    assert ("missed_doses_48h" in rules(result.red_flags)) is flag


@pytest.mark.parametrize(
    ("due", "flag"),
    [
        # RULES.md 3: a test past its due date is overdue (guideline L303).
        (TODAY + timedelta(days=1), False),
        (TODAY, False),
        (TODAY - timedelta(days=1), True),
        (None, False),
    ],
)
def test_blood_test_overdue(due: date | None, flag: bool) -> None:
    result = evaluate_time_rules(summary(next_blood_test_due=due))
    assert ("blood_test_overdue" in rules(result.red_flags)) is flag


@pytest.mark.parametrize(
    ("days", "prompt"),
    [(None, False), (0, False), (1, True), (28, True), (29, False)],  # RULES.md 3 days 1-28
)
def test_daily_check_in_prompt(days: int | None, prompt: bool) -> None:
    result = evaluate_time_rules(summary(days_on_clozapine=days))
    assert ("daily_check_in" in result.prompts) is prompt


def test_quiet_summary_has_nothing() -> None:
    result = evaluate_time_rules(summary())
    assert result.red_flags == () and result.prompts == ()


def test_time_rules_are_sorted_and_known() -> None:
    result = evaluate_time_rules(
        summary(
            last_bowel_movement_at=NOW - timedelta(days=4),
            last_dose_taken_at=NOW - timedelta(days=3),
            first_missed_due_at=NOW - timedelta(days=2, hours=12),
            next_blood_test_due=TODAY - timedelta(days=2),
        )
    )
    assert rules(result.red_flags) == [
        "no_bowel_movement_72h",
        "missed_doses_48h",
        "blood_test_overdue",
    ]
    assert set(result.prompts) <= ADVICE_CODES


def test_hours_since() -> None:
    assert hours_since(NOW - timedelta(hours=71, minutes=30), NOW) == 71.5
    assert hours_since(NOW.replace(tzinfo=None), NOW) == 0  # naive = UTC
    assert hours_since(NOW + timedelta(hours=1), NOW) == -1


# --- liver tests (RULES.md 3 and 7; guideline L288, L292 "ALT/AST >3x upper limit") ---------


@pytest.mark.parametrize(
    ("value", "uln", "symptomatic", "flag"),
    [
        (120.0, 40.0, True, None),  # exactly 3x: not above
        (120.1, 40.0, True, ("urgent", "liver_tests_high")),
        # RULES.md 7 "Liver tests": above 3x without symptoms is shown to the team (routine)
        (120.0, 40.0, False, None),
        (120.1, 40.0, False, ("routine", "liver_tests_raised")),
        (500.0, 40.0, False, ("routine", "liver_tests_raised")),
        (30.0, 40.0, True, None),
    ],
)
def test_check_liver_tests(
    value: float, uln: float, symptomatic: bool, flag: tuple[str, str] | None
) -> None:
    result = check_liver_tests(value, uln, symptomatic=symptomatic)
    if flag:
        assert result == RedFlag("liver_tests_high", *flag)
    else:
        assert result is None


@pytest.mark.parametrize(("value", "uln"), [(-1.0, 40.0), (100.0, 0.0), (100.0, -5.0)])
def test_check_liver_tests_rejects(value: float, uln: float) -> None:
    with pytest.raises(ValueError):
        check_liver_tests(value, uln, symptomatic=True)


def _from_singles_and_pairs(
    report: set[str], temperature: float | None, pairs: list[tuple[tuple[str, str], RedFlag]]
) -> list[tuple[str, str]]:
    """The closure the catalogue promises (raised_in_pairs' docstring): a temperature from
    FEVER_C as a reported fever; each symptom's own flags and each pair's; for each rule the
    most severe. (The app's own reading is held to the server's by a browser test.)"""
    from server.domain.red_flags import FEVER_C, sort_flags

    fever = temperature is not None and temperature >= FEVER_C
    reported = set(report) | ({"fever"} if fever else set())
    raised = [
        f
        for code in reported
        for f in classify_symptoms([code], temperature_c=None, days_on_clozapine=None)
    ]
    raised += [f for pair, f in pairs if set(pair) <= reported]
    best: dict[str, RedFlag] = {}
    for flag in raised:
        had = best.get(flag.rule)
        if had is None or severity_rank(flag.severity) > severity_rank(had.severity):
            best[flag.rule] = flag
    return [(f.rule, f.severity) for f in sort_flags(best.values())]


@pytest.mark.parametrize("temperature", [None, 37.9, 38.0])
def test_single_symptoms_and_pairs_class_any_report_as_the_rules_do(
    temperature: float | None,
) -> None:
    """What the catalogue gives the phone (each symptom alone, and the pairs that raise more)
    classes every report of up to three symptoms as classify_symptoms does with unknown days
    (RULES.md 4: bowel obstruction, NMS and myocarditis signs are pairs; guideline L221, L269,
    L175). A rule that needed three symptoms would fail here before a phone misread it."""
    import itertools

    from server.domain.red_flags import raised_in_pairs

    pairs = raised_in_pairs(SYMPTOM_CODES)
    codes = sorted(SYMPTOM_CODES)
    for size in (1, 2, 3):
        for report in itertools.combinations(codes, size):
            offline = _from_singles_and_pairs(set(report), temperature, pairs)
            assert offline == flags(set(report), temperature, None), report


def test_the_pairs_that_raise_more_than_their_symptoms_alone() -> None:
    """RULES.md 4: constipation with abdominal pain, vomiting or a swollen belly (guideline
    L221, L232); fever with stiffness or confusion (L269); fever with a heart symptom or
    unusual tiredness, read as in the first 28 days when the days are unknown (L112, L175)."""
    from server.domain.red_flags import raised_in_pairs

    raised = {(pair, f.rule, f.severity) for pair, f in raised_in_pairs(SYMPTOM_CODES)}
    assert raised == {
        (("abdominal_pain", "constipation"), "bowel_obstruction_signs", "emergency"),
        (("constipation", "swollen_belly"), "bowel_obstruction_signs", "emergency"),
        (("constipation", "vomiting"), "bowel_obstruction_signs", "emergency"),
        (("confusion", "fever"), "nms_signs", "emergency"),
        (("fever", "muscle_stiffness"), "nms_signs", "emergency"),
        (("fainting", "fever"), "cardiac_symptoms", "emergency"),
        (("fever", "palpitations"), "cardiac_symptoms", "emergency"),
        (("fever", "shortness_of_breath"), "cardiac_symptoms", "emergency"),
        (("fever", "unusual_tiredness"), "cardiac_symptoms", "emergency"),
    }
