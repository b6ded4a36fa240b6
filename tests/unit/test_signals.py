"""Rules that read several signals together: RULES.md section 7, guideline lines per row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain import (
    CountReading,
    RedFlag,
    StepDown,
    TreatmentBreak,
    baseline_allows_start_on,
    interpret_anc,
    interpret_uk_counts,
    is_far_from,
    is_plausible_temperature,
    load_profile,
    monitoring_schedule,
    neutropenic_fever,
    obstruction_from_diary,
    parse_profile,
    pending_step_downs,
    read_clozapine_level,
    read_crp,
    read_liver_test,
    read_result,
    read_symptom_report,
    read_troponin,
    red_frequency_holds,
    traffic_light_of,
)

GUIDELINE = load_profile("guideline")
US = load_profile("us-label-2025")
UK = load_profile("uk-smpc")


def report(
    symptoms: set[str],
    *,
    band: str | None = None,
    hours: float | None = None,
    temperature: float | None = None,
    days: int | None = 60,
) -> list[tuple[str, str, str]]:
    return [
        (f.rule, f.severity, f.advice)
        for f in read_symptom_report(
            symptoms,
            temperature_c=temperature,
            days_on_clozapine=days,
            clinic_anc_band=band,
            hours_without_bowel_movement=hours,
        )
    ]


# --- neutropenic fever: RULES.md 7; guideline L139-L140 (bands), L302 (infection signs) ----


@pytest.mark.parametrize(
    ("band", "symptoms", "temperature", "expected"),
    [
        # general: moderate and severe make infection signs an emergency
        ("severe", {"fever"}, None, [("fever", "emergency", "neutropenic_fever")]),
        ("moderate", set(), 38.0, [("fever", "emergency", "neutropenic_fever")]),
        ("moderate", {"sore_throat"}, None, [("sore_throat", "emergency", "neutropenic_fever")]),
        ("moderate", {"mouth_sores"}, None, [("sore_throat", "emergency", "neutropenic_fever")]),
        ("mild", {"fever"}, None, [("fever", "urgent", "fever")]),
        ("normal", {"sore_throat"}, None, [("sore_throat", "urgent", "sore_throat")]),
        (None, {"fever"}, None, [("fever", "urgent", "fever")]),  # no clinic count yet
        ("moderate", set(), 37.9, []),  # no fever: nothing to raise
        # other flags of the same report are untouched
        (
            "severe",
            {"chest_pain", "fever"},
            None,
            [
                ("chest_pain", "emergency", "chest_pain"),
                ("fever", "emergency", "neutropenic_fever"),
            ],
        ),
    ],
)
def test_neutropenic_fever(
    band: str | None, symptoms: set[str], temperature: float | None, expected: list
) -> None:
    assert report(symptoms, band=band, temperature=temperature) == expected


@pytest.mark.parametrize(
    ("profile", "ben", "cells", "emergency"),
    [
        # the band each table gives is what the rule reads (RULES.md 2 tables)
        (GUIDELINE, False, 999, True),  # moderate
        (GUIDELINE, False, 1000, False),  # mild
        (GUIDELINE, True, 499, True),  # BEN severe
        (GUIDELINE, True, 500, False),  # BEN mild
        (UK, False, 1499, True),  # UK red
        (UK, False, 1500, False),  # UK amber
        (US, False, 499, True),
    ],
)
def test_neutropenic_fever_reads_each_profiles_band(
    profile, ben: bool, cells: float, emergency: bool
) -> None:
    band = interpret_anc(cells, ben=ben, profile=profile).band
    [flag] = neutropenic_fever([RedFlag("fever", "urgent", "fever")], band)
    assert (flag.severity == "emergency") is emergency


# --- obstruction from the diary: RULES.md 7; guideline L221, L232, L316; MHRA -------------


@pytest.mark.parametrize(
    ("symptoms", "hours", "flag"),
    [
        ({"abdominal_pain"}, 48.0, True),
        ({"abdominal_pain"}, 47.99, False),
        ({"vomiting"}, 72.0, True),
        ({"swollen_belly"}, 48.0, True),
        ({"abdominal_pain", "vomiting"}, 100.0, True),
        ({"abdominal_pain"}, None, False),  # the diary does not know
        ({"constipation"}, 96.0, False),  # constipation alone: the 72 h rule's business
        ({"sedation"}, 96.0, False),
    ],
)
def test_obstruction_from_the_diary(symptoms: set[str], hours: float | None, flag: bool) -> None:
    found = obstruction_from_diary(symptoms, hours)
    obstruction = RedFlag("bowel_obstruction_signs", "emergency", "bowel_obstruction_signs")
    assert (found == obstruction) is flag
    assert (found is None) is (not flag)


def test_obstruction_from_the_report_and_the_diary_is_one_flag() -> None:
    assert report({"constipation", "abdominal_pain"}, hours=80) == [
        ("bowel_obstruction_signs", "emergency", "bowel_obstruction_signs")
    ]
    assert report({"vomiting"}, hours=10) == []


# --- temperature: RULES.md 7 "Temperature alone" -------------------------------------------


@pytest.mark.parametrize(
    ("value", "plausible"),
    [(30.0, True), (45.0, True), (29.9, False), (45.1, False), (float("nan"), False),
     (True, False), ("38", False), (None, False)],
)  # fmt: skip
def test_is_plausible_temperature(value: object, plausible: bool) -> None:
    assert is_plausible_temperature(value) is plausible


def test_a_temperature_alone_is_read() -> None:
    assert report(set(), temperature=38.0) == [("fever", "urgent", "fever")]
    assert report(set(), temperature=37.9) == []


# --- myocarditis markers: RULES.md 7 (Ronaldson 2011; guideline L113, L180) ---------------


@pytest.mark.parametrize(
    ("value", "limit", "days", "finding", "severity"),
    [
        (14.0, 14.0, 10, "within_limit", None),  # at the limit: not above it
        (14.1, 14.0, 10, "above_upper_limit", "urgent"),
        (28.0, 14.0, 10, "above_upper_limit", "urgent"),  # exactly 2x: not above 2x
        (28.1, 14.0, 10, "above_2x_upper_limit", "emergency"),
        (84.0, 14.0, 14, "above_2x_upper_limit", "emergency"),  # the 6x in week 2
        (84.0, 14.0, 1, "above_2x_upper_limit", "emergency"),
        (84.0, 14.0, 45, "above_2x_upper_limit", "emergency"),
        (84.0, 14.0, 46, "above_2x_upper_limit", "urgent"),  # after day 45
        (20.0, 14.0, 45, "above_upper_limit", "urgent"),
        (20.0, 14.0, 46, "above_upper_limit", None),  # a lesser rise after day 45: shown only
        (84.0, 14.0, None, "above_2x_upper_limit", "emergency"),  # day unknown: cautious
        (84.0, 14.0, 0, "above_2x_upper_limit", "urgent"),  # before the first dose
    ],
)
def test_troponin(
    value: float, limit: float, days: int | None, finding: str, severity: str | None
) -> None:
    reading = read_troponin(value, upper_limit=limit, days_on_clozapine=days)
    assert reading.finding == finding
    assert (reading.flag.severity if reading.flag else None) == severity
    if reading.flag:
        assert reading.flag.rule == "myocarditis_markers"
    assert reading.multiple_of_upper_limit == round(value / limit, 2)


@pytest.mark.parametrize(
    ("value", "days", "finding", "severity"),
    [
        (49.9, 10, "crp_below_50", None),
        (50.0, 10, "crp_50_to_100", "urgent"),
        (100.0, 10, "crp_50_to_100", "urgent"),  # "above 100" starts after 100
        (100.1, 10, "crp_above_100", "emergency"),
        (100.1, 45, "crp_above_100", "emergency"),
        (100.1, 46, "crp_above_100", "urgent"),
        (60.0, 46, "crp_50_to_100", None),
    ],
)
def test_crp(value: float, days: int, finding: str, severity: str | None) -> None:
    reading = read_crp(value, days_on_clozapine=days)
    assert reading.finding == finding
    assert (reading.flag.severity if reading.flag else None) == severity


# --- clozapine level: RULES.md 7 (guideline L62, L128) -------------------------------------


@pytest.mark.parametrize(
    ("value", "finding", "flag"),
    [
        (349.9, "below_target", None),
        (350.0, "in_target", None),
        (999.9, "in_target", None),
        (1000.0, "level_high", ("clozapine_level_high", "urgent")),
        (1500.0, "level_high", ("clozapine_level_high", "urgent")),
    ],
)
def test_clozapine_level(value: float, finding: str, flag: tuple[str, str] | None) -> None:
    reading = read_clozapine_level(value)
    assert reading.finding == finding
    assert ((reading.flag.rule, reading.flag.severity) if reading.flag else None) == flag


# --- liver tests: RULES.md 3 and 7 (guideline L288, L292) ----------------------------------


@pytest.mark.parametrize(
    ("value", "symptomatic", "finding", "flag"),
    [
        (40.0, False, "within_limit", None),
        (40.1, False, "above_upper_limit", None),
        (120.0, True, "above_upper_limit", None),  # exactly 3x
        (120.1, False, "above_3x_upper_limit", ("routine", "liver_tests_raised")),
        (120.1, True, "above_3x_upper_limit", ("urgent", "liver_tests_high")),
    ],
)
def test_liver_test(
    value: float, symptomatic: bool, finding: str, flag: tuple[str, str] | None
) -> None:
    reading = read_liver_test(value, upper_limit=40.0, symptomatic=symptomatic)
    assert reading.finding == finding
    assert ((reading.flag.severity, reading.flag.advice) if reading.flag else None) == flag


def test_read_result_needs_the_upper_limit_where_the_rule_does() -> None:
    for test in ("troponin", "alt", "ast"):
        with pytest.raises(ValueError):
            read_result(test, 50.0, upper_limit=None, days_on_clozapine=10)
    assert read_result("crp", 20.0, upper_limit=None, days_on_clozapine=10) is not None
    assert read_result("fasting_glucose", 5.0, upper_limit=None, days_on_clozapine=10) is None
    with pytest.raises(ValueError):
        read_troponin(10.0, upper_limit=0.0, days_on_clozapine=10)
    with pytest.raises(ValueError):
        read_crp(-1.0, days_on_clozapine=10)


# --- a copy beside the clinic's value: RULES.md 7 "Whose result counts" -------------------


@pytest.mark.parametrize(
    ("copy", "clinic", "far"),
    [
        (4000.0, 400.0, True),  # "4.0 x10^9/L" for 0.4
        (400.0, 400.0, False),
        (1500.0, 1520.0, False),  # a rounding
        (800.0, 1000.0, False),  # exactly a fifth of the larger apart
        (799.0, 1000.0, True),
        (1250.0, 1000.0, False),
        (1251.0, 1000.0, True),
        (0.0, 0.0, False),
    ],
)
def test_is_far_from(copy: float, clinic: float, far: bool) -> None:
    assert is_far_from(copy, clinic) is far


# --- UK traffic light on a WBC alone: RULES.md 2 and 7 (uk-smpc) ---------------------------


@pytest.mark.parametrize(
    ("wbc", "neutrophils", "light"),
    [
        (2.99, None, "red"),
        (3.0, None, "amber"),
        (3.49, None, "amber"),
        (3.5, None, "green"),
        (None, 1.49, "red"),
        (None, 1.5, "amber"),
        (None, 2.0, "green"),
        (3.5, 1.49, "red"),
        (2.99, 2.0, "red"),
        (3.5, 2.0, "green"),
        (3.49, 2.0, "amber"),
    ],
)
def test_uk_light_of_whatever_counts_a_result_carries(
    wbc: float | None, neutrophils: float | None, light: str
) -> None:
    assert traffic_light_of(UK, wbc_10e9_l=wbc, neutrophils_10e9_l=neutrophils) == light


def test_uk_light_needs_a_count() -> None:
    with pytest.raises(ValueError):
        traffic_light_of(UK)
    with pytest.raises(ValueError):
        traffic_light_of(GUIDELINE, wbc_10e9_l=3.0)


@pytest.mark.parametrize("ben", [False, True])
def test_uk_ben_patients_get_no_no_rechallenge_wording(ben: bool) -> None:
    # RULES.md 2 "UK BEN cut-offs ... not encoded until sourced"; RULES.md 7 UK profile
    for reading in (
        interpret_uk_counts(UK, wbc_10e9_l=2.5, ben=ben),
        interpret_anc(1200, ben=ben, profile=UK),
    ):
        assert reading.band == "severe"
        assert ("rechallenge" in reading.action_text.lower()) is not ben
        assert (reading.action == "stop_no_rechallenge") is not ben
    # the guideline has BEN cut-offs: its BEN table's own wording stands
    assert interpret_anc(400, ben=True, profile=GUIDELINE).action == "interrupt_hematology_consult"


# --- the baseline's age: RULES.md 7 "Baseline" (guideline L89 requires one) ----------------

START = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("counts", "ben", "ok", "says"),
    [
        ([(START - timedelta(days=10), 2000.0)], False, True, ""),
        ([(START - timedelta(days=11), 2000.0)], False, False, "more than 10 days"),
        ([(START - timedelta(days=300), 2000.0)], False, False, "more than 10 days"),
        ([(START, 2000.0)], False, True, ""),
        ([(START + timedelta(days=1), 2000.0)], False, False, "needed"),  # after the start
        # an old count beside a recent low one: the recent one decides
        ([(START - timedelta(days=40), 2000.0), (START - timedelta(days=2), 1400.0)], False,
         False, "below 1500"),
        # BEN: two counts within 10 days
        ([(START - timedelta(days=12), 1100.0), (START - timedelta(days=1), 1100.0)], True,
         False, "more than 10 days"),
        ([(START - timedelta(days=9), 1100.0), (START - timedelta(days=1), 1100.0)], True,
         True, ""),
    ],
)  # fmt: skip
def test_baseline_age(counts: list, ben: bool, ok: bool, says: str) -> None:
    check = baseline_allows_start_on(counts, start_date=START, ben=ben, profile=GUIDELINE)
    assert check.ok is ok
    assert says in check.reason


# --- the schedule: first low count, two greens after red, step downs -----------------------

S = date(2026, 1, 5)


def anc_due(
    profile, *, today: int, last: int, band: str | None, recent, confirmed=frozenset()
) -> date:
    items = monitoring_schedule(
        start_date=S,
        today=S + timedelta(days=today),
        profile=profile,
        last_results={profile.anc_test: S + timedelta(days=last)},
        anc_band=band,
        anc_band_since=S + timedelta(days=last),
        interruptions=(),
        stable_dose_since=None,
        recent_counts=recent,
        confirmed_step_downs=confirmed,
    )
    return next(i.due_date for i in items if i.test == profile.anc_test)


def reading(day: int, band: str, light: str | None = None, first: bool = False) -> CountReading:
    return CountReading(S + timedelta(days=day), band, light, first)


@pytest.mark.parametrize(
    ("band", "first", "due_after"),
    [
        # RULES.md 7 "First low count. Due again within 24 h"; RULES.md 2; guideline L141
        ("mild", True, 1),
        ("mild", False, 2),  # the repeat confirmed it: three times weekly
        ("moderate", True, 1),
        ("normal", False, 7),
    ],
)
def test_a_first_low_count_is_due_the_next_day(band: str, first: bool, due_after: int) -> None:
    due = anc_due(GUIDELINE, today=20, last=20, band=band, recent=[reading(20, band, None, first)])
    assert due == S + timedelta(days=20 + due_after)


@pytest.mark.parametrize(
    ("lights", "holds"),
    [
        # newest first. RULES.md 2 (uk-smpc) "daily tests until two greens"
        (["red"], True),
        (["green", "red"], True),
        (["green", "green", "red"], False),
        (["amber", "green", "red"], True),
        (["green", "amber", "green", "red"], True),  # not two greens in a row
        (["green", "green", "amber", "red"], False),
        (["amber"], False),
        (["green"], False),
        ([], False),
    ],
)
def test_red_frequency_holds_until_two_greens_in_a_row(lights: list[str], holds: bool) -> None:
    readings = [reading(30 - i, "normal", light) for i, light in enumerate(lights)]
    assert red_frequency_holds(readings, 2) is holds


def test_after_red_a_single_green_is_followed_by_a_test_the_next_day() -> None:
    recent = [reading(21, "normal", "green"), reading(20, "severe", "red")]
    assert anc_due(UK, today=21, last=21, band="normal", recent=recent) == S + timedelta(days=22)
    recent = [reading(22, "normal", "green"), *recent]
    assert anc_due(UK, today=22, last=22, band="normal", recent=recent) == S + timedelta(days=29)


def test_the_guideline_profile_has_no_two_greens_rule() -> None:
    recent = [reading(21, "normal", "green"), reading(20, "severe", "red")]
    assert anc_due(GUIDELINE, today=21, last=21, band="normal", recent=recent) == S + timedelta(
        days=28
    )


@pytest.mark.parametrize(
    ("last", "confirmed", "due_after"),
    [
        # RULES.md 3 (uk-smpc): weekly to week 18, every 2 weeks to 52; the team confirms each
        (125, frozenset(), 7),  # week 18
        (126, frozenset(), 7),  # week 19, not confirmed: still weekly
        (126, frozenset({(S, 19)}), 14),
        (364, frozenset({(S, 19)}), 14),  # week 53: the next step waits
        (364, frozenset({(S, 19), (S, 53)}), 28),
        (364, frozenset({(S, 53)}), 7),  # the first step is still to confirm
    ],
)
def test_uk_step_downs_wait_for_the_care_team(last: int, confirmed, due_after: int) -> None:
    due = anc_due(UK, today=last, last=last, band="normal", recent=[], confirmed=confirmed)
    assert due == S + timedelta(days=last + due_after)


@pytest.mark.parametrize(
    ("profile", "today", "confirmed", "expected"),
    [
        (UK, 125, frozenset(), []),
        (UK, 126, frozenset(), [StepDown(S, 19, 7, 14, S + timedelta(days=126))]),
        (UK, 200, frozenset({(S, 19)}), []),
        (UK, 364, frozenset({(S, 19)}), [StepDown(S, 53, 14, 28, S + timedelta(days=364))]),
        (UK, 364, frozenset(), [StepDown(S, 19, 7, 14, S + timedelta(days=126))]),
        (GUIDELINE, 364, frozenset(), []),  # the guideline steps down by itself
    ],
)
def test_pending_step_downs(profile, today: int, confirmed, expected: list) -> None:
    assert pending_step_downs(S, S + timedelta(days=today), profile, (), confirmed) == expected


def test_a_restart_asks_again_from_the_new_clock() -> None:
    restart = S + timedelta(days=228)
    # 28 days: a new patient under uk-smpc (672 h and more)
    gaps = [TreatmentBreak(S + timedelta(days=199), restart, 29 * 24)]
    confirmed = frozenset({(S, 19), (S, 53)})
    [step] = pending_step_downs(S, restart + timedelta(days=126), UK, gaps, confirmed)
    assert (step.clock_from, step.from_week) == (restart, 19)


def test_profiles_parse_the_new_fields() -> None:
    assert UK.step_down_needs_confirmation is True
    assert GUIDELINE.step_down_needs_confirmation is False
    assert UK.traffic_light is not None and UK.traffic_light.greens_to_end_red_frequency == 2
    assert {p.baseline.max_age_days for p in (GUIDELINE, US, UK)} == {10}
    import json
    from importlib import resources

    raw = json.loads(
        resources.files("server.domain").joinpath("profiles/guideline.json").read_text()
    )
    raw["anc"]["step_down_needs_confirmation"] = "yes"
    with pytest.raises(ValueError):
        parse_profile(raw)
