"""Monitoring profiles are data (RULES.md preamble: "adding a profile must not need code
changes")."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.domain import (
    ANC_ACTIONS,
    DEFAULT_PROFILE,
    MONITORING_CODES,
    RULE_CODES,
    ProfileError,
    TreatmentBreak,
    anc_phase_interval_days,
    available_profiles,
    interpret_anc,
    interpret_uk_traffic_light,
    load_profile,
    monitoring_schedule,
)

PROFILE_DIR = Path(__file__).resolve().parents[2] / "server" / "domain" / "profiles"
SHIPPED = ("guideline", "uk-smpc", "us-label-2025")


def guideline_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PROFILE_DIR / "guideline.json").read_text("utf-8"))
    return data


def test_shipped_profiles_are_listed_and_load() -> None:
    assert available_profiles() == SHIPPED
    assert DEFAULT_PROFILE == "guideline"  # RULES.md: guideline is the default
    for name in SHIPPED:
        assert load_profile(name).name == name


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_use_codes_content_knows(name: str) -> None:
    profile = load_profile(name)
    outcomes: list[Any] = [*profile.anc_bands_general, *(profile.anc_bands_ben or ())]
    if profile.traffic_light is not None:
        outcomes.extend(profile.traffic_light.lights)
    for outcome in outcomes:
        assert outcome.action in ANC_ACTIONS
        assert outcome.monitoring in MONITORING_CODES
        assert outcome.escalation_rule is None or outcome.escalation_rule in RULE_CODES


def test_profiles_differ_only_where_rules_md_marks() -> None:
    g, us, uk = (load_profile(n) for n in ("guideline", "us-label-2025", "uk-smpc"))
    # guideline and us-label-2025 share the band thresholds and actions (RULES.md 2) ...
    for a, b in zip(g.anc_bands_general, us.anc_bands_general, strict=True):
        assert (a.band, a.min_cells_per_ul, a.action) == (b.band, b.min_cells_per_ul, b.action)
    # ... and differ in the interruption rule (RULES.md 3).
    assert g.interruption_rules != us.interruption_rules
    assert [p.interval_days for p in g.anc_phases] == [7, 14, 28]
    assert [p.to_week for p in uk.anc_phases] == [18, 52, None]  # RULES.md 3 uk-smpc
    assert g.traffic_light is None and us.traffic_light is None and uk.traffic_light is not None
    assert g.calendar_tests == us.calendar_tests


@pytest.mark.parametrize("name", ["nope", "../guideline", "Guideline", "", "a/b", "x" * 80])
def test_unknown_or_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ProfileError):
        load_profile(name)


def test_profile_error_is_a_value_error() -> None:
    assert issubclass(ProfileError, ValueError)


def test_a_new_profile_is_just_a_json_file(tmp_path: Path) -> None:
    """A clinic profile written to a folder works with no code change."""
    data = guideline_json()
    data["name"] = "clinic-x"
    data["title"] = "Clinic X (test)"
    data["anc"]["test"] = "wbc_neutrophils"
    data["anc"]["phases"] = [
        {"from_week": 1, "to_week": 12, "interval_days": 7, "label": "weekly to week 12"},
        {"from_week": 13, "to_week": None, "interval_days": 21, "label": "every 3 weeks"},
    ]
    data["anc"]["interruptions"] = [
        {
            "break_at_least_hours": 120,
            "break_below_hours": None,
            "on_treatment_over_weeks": None,
            "effect": "intensify",
            "interval_days": 3,
            "for_weeks": 2,
            "source": "test",
        }
    ]
    # under traffic lights the table begins its bands where the lights do: 2200, 1000, 0
    general = {row["band"]: row for row in data["anc"]["bands"]["general"]}
    data["anc"]["bands"]["general"] = [
        {**general["normal"], "min_cells_per_ul": 2200},
        {**general["mild"], "min_cells_per_ul": 1000},
        {**general["severe"], "min_cells_per_ul": 0},
    ]
    data["anc"]["bands"]["ben"] = None
    data["anc"]["traffic_light"] = {
        "green": {"wbc_min": 4.0, "neutrophils_min": 2.2},
        "red": {"wbc_below": 2.5, "neutrophils_below": 1.0},
        "lights": {
            light: {
                "band": band,
                "action": "continue",
                "action_text": f"{light} (test)",
                "monitoring": "by_phase",
                "next_test_in_days": days,
                "escalation_rule": rule,
                "severity": severity,
            }
            for light, band, days, rule, severity in [
                ("green", "normal", None, None, None),
                ("amber", "mild", 4, "anc_mild", "urgent"),
                ("red", "severe", 1, "anc_severe", "emergency"),
            ]
        },
    }
    data["calendar_tests"]["waist"] = {"at_days": [0], "then_every_days": 30, "label": "waist"}
    (tmp_path / "clinic-x.json").write_text(json.dumps(data), "utf-8")

    assert available_profiles(tmp_path) == ("clinic-x",)
    profile = load_profile("clinic-x", tmp_path)
    assert load_profile("clinic-x", tmp_path / "clinic-x.json") == profile

    # Band thresholds come from the file: 2199 is mild here, and BEN falls back to general.
    assert interpret_anc(2199, ben=False, profile=profile).band == "mild"
    assert interpret_anc(2199, ben=True, profile=profile).band == "mild"
    assert interpret_anc(2200, ben=False, profile=profile).band == "normal"
    # Traffic lights from the file.
    assert interpret_uk_traffic_light(3.9, 3.0, profile).traffic_light == "amber"
    assert interpret_uk_traffic_light(4.0, 2.2, profile).traffic_light == "green"
    assert interpret_uk_traffic_light(4.0, 0.99, profile).traffic_light == "red"
    # Phases and interruption rule from the file.
    start = date(2026, 1, 5)
    assert anc_phase_interval_days(start, start + timedelta(days=83), profile, []) == 7
    assert anc_phase_interval_days(start, start + timedelta(days=84), profile, []) == 21
    gap = [TreatmentBreak(start + timedelta(days=100), start + timedelta(days=105), 120.0)]
    assert anc_phase_interval_days(start, start + timedelta(days=106), profile, gap) == 3
    assert anc_phase_interval_days(start, start + timedelta(days=119), profile, gap) == 21
    short = [TreatmentBreak(start + timedelta(days=100), start + timedelta(days=105), 119.9)]
    assert anc_phase_interval_days(start, start + timedelta(days=106), profile, short) == 21
    # Schedule: the file's test code and the extra calendar test.
    items = monitoring_schedule(
        start_date=start,
        today=start,
        profile=profile,
        last_results={},
        anc_band=None,
        anc_band_since=None,
        interruptions=[],
        stable_dose_since=None,
    )
    assert {i.test for i in items} >= {"wbc_neutrophils", "waist"}


def _write(tmp_path: Path, data: Any, name: str = "bad") -> Path:
    (tmp_path / f"{name}.json").write_text(
        data if isinstance(data, str) else json.dumps(data), "utf-8"
    )
    return tmp_path


def _broken(change: str) -> Any:
    data = guideline_json()
    data["name"] = "bad"
    anc = data["anc"]
    if change == "gap_in_phases":
        anc["phases"][1]["from_week"] = 28
    elif change == "open_phase_not_last":
        anc["phases"][0]["to_week"] = None
    elif change == "bands_not_decreasing":
        anc["bands"]["general"][2]["min_cells_per_ul"] = 1200
    elif change == "no_zero_band":
        anc["bands"]["general"][-1]["min_cells_per_ul"] = 100
    elif change == "unknown_rule":
        anc["bands"]["general"][1]["escalation_rule"] = "anc_meh"
    elif change == "unknown_band":
        anc["bands"]["general"][1]["band"] = "borderline"
    elif change == "rule_without_severity":
        anc["bands"]["general"][1]["severity"] = None
    elif change == "bad_effect":
        anc["interruptions"][0]["effect"] = "pause"
    elif change == "break_without_bound":
        del anc["interruptions"][0]["break_more_than_hours"]
    elif change == "break_bounds_reversed":
        anc["interruptions"][0]["break_below_hours"] = 24
    elif change == "interval_not_int":
        anc["phases"][0]["interval_days"] = 7.5
    elif change == "calendar_not_increasing":
        data["calendar_tests"]["weight"]["at_days"] = [0, 14, 7]
    elif change == "missing_trough":
        del data["trough_level"]
    elif change == "name_mismatch":
        data["name"] = "other"
    return data


@pytest.mark.parametrize(
    "change",
    [
        "gap_in_phases",
        "open_phase_not_last",
        "bands_not_decreasing",
        "break_without_bound",
        "break_bounds_reversed",
        "no_zero_band",
        "unknown_rule",
        "unknown_band",
        "rule_without_severity",
        "bad_effect",
        "interval_not_int",
        "calendar_not_increasing",
        "missing_trough",
        "name_mismatch",
    ],
)
def test_malformed_profiles_are_refused(tmp_path: Path, change: str) -> None:
    with pytest.raises(ProfileError):
        load_profile("bad", _write(tmp_path, _broken(change)))


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError):
        load_profile("bad", _write(tmp_path, "{not json"))
    with pytest.raises(ProfileError):
        load_profile("missing", tmp_path)


def test_a_traffic_light_profile_whose_band_table_reads_otherwise_is_refused(
    tmp_path: Path,
) -> None:
    """Under uk-smpc a count is banded by the lights' neutrophil cut-offs (RULES.md 2, the UK
    traffic light: green >= 2.0, red < 1.5 x10^9/L); the band table, read where no WBC is at
    hand, may not say otherwise (the two were written apart in the file, nothing held them)."""
    data = json.loads((PROFILE_DIR / "uk-smpc.json").read_text("utf-8"))
    data["name"] = "bad"
    data["anc"]["bands"]["general"][1]["min_cells_per_ul"] = 1400
    with pytest.raises(ProfileError, match="must read as the traffic light does"):
        load_profile("bad", _write(tmp_path, data))
    data["anc"]["bands"]["general"][1]["min_cells_per_ul"] = 1500
    data["anc"]["traffic_light"]["green"]["neutrophils_min"] = 2.5
    with pytest.raises(ProfileError, match="must read as the traffic light does"):
        load_profile("bad", _write(tmp_path, data))
    data["anc"]["bands"]["general"][0]["min_cells_per_ul"] = 2500
    assert load_profile("bad", _write(tmp_path, data)).traffic_light is not None
