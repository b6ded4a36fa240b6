"""ANC interpretation: RULES.md section 2; guideline L89 (baseline), L137-L149 (bands)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from server.domain import (
    ANC_UNITS,
    AncBandEdge,
    Profile,
    anc_band_edges,
    baseline_allows_start,
    interpret_anc,
    interpret_uk_counts,
    interpret_uk_traffic_light,
    load_profile,
    parse_profile,
    to_cells_per_ul,
)

GUIDELINE = load_profile("guideline")
US = load_profile("us-label-2025")
UK = load_profile("uk-smpc")
PROFILE_DIR = Path(__file__).resolve().parents[2] / "server" / "domain" / "profiles"

# (cells/uL, band, action, next test in days, escalation, severity)
GENERAL_ROWS = [
    # RULES.md 2 general table; guideline L141 (1000-1499 continue, 3x weekly).
    (1500, "normal", "continue", None, None, None),
    (1499, "mild", "continue_monitor_closely", 2, "anc_mild", "urgent"),
    (1000, "mild", "continue_monitor_closely", 2, "anc_mild", "urgent"),
    # guideline L140 "ANC 500-999/uL: Interrupt treatment, monitor daily"; L146 hematology.
    (999, "moderate", "interrupt_hematology_consult", 1, "anc_moderate", "urgent"),
    (500, "moderate", "interrupt_hematology_consult", 1, "anc_moderate", "urgent"),
    # guideline L139 "ANC <500/uL: Discontinue clozapine immediately".
    (499, "severe", "stop_hematology_consult", 1, "anc_severe", "emergency"),
    (0, "severe", "stop_hematology_consult", 1, "anc_severe", "emergency"),
]
BEN_ROWS = [
    # RULES.md 2 BEN table (US label): no moderate band; guideline L89 ">=1000/uL ... BEN".
    (1500, "normal", "continue", None, None, None),
    (1000, "normal", "continue", None, None, None),
    (999, "mild", "continue_hematology_consult", 2, "anc_mild", "urgent"),
    (500, "mild", "continue_hematology_consult", 2, "anc_mild", "urgent"),
    (499, "severe", "interrupt_hematology_consult", 1, "anc_severe", "emergency"),
]
UNITS = [("cells/uL", 1.0), ("10^9/L", 1000.0)]


def _rows(rows: list[tuple], ben: bool) -> list[tuple]:
    return [(value / scale, unit, ben, *rest) for value, *rest in rows for unit, scale in UNITS]


@pytest.mark.parametrize("profile", [GUIDELINE, US], ids=["guideline", "us-label-2025"])
@pytest.mark.parametrize(
    ("value", "unit", "ben", "band", "action", "next_days", "rule", "severity"),
    _rows(GENERAL_ROWS, ben=False) + _rows(BEN_ROWS, ben=True),
)
def test_interpret_anc_boundaries(
    profile: Profile,
    value: float,
    unit: str,
    ben: bool,
    band: str,
    action: str,
    next_days: int | None,
    rule: str | None,
    severity: str | None,
) -> None:
    result = interpret_anc(to_cells_per_ul(value, unit), ben=ben, profile=profile)
    assert (result.band, result.action, result.next_test_in_days) == (band, action, next_days)
    assert (result.escalation_rule, result.severity) == (rule, severity)
    assert result.monitoring == {None: "by_phase", 2: "three_times_weekly", 1: "daily"}[next_days]
    assert result.traffic_light is None and result.action_text


@pytest.mark.parametrize(
    ("cells", "ben", "band", "rule"),
    [
        # uk-smpc: ANC alone judged on the traffic-light neutrophil cut-offs (RULES.md 2).
        (2000, False, "normal", None),
        (1999, False, "mild", "anc_mild"),
        (1500, False, "mild", "anc_mild"),
        (1499, False, "severe", "anc_severe"),
        # UK BEN cut-offs "not encoded until sourced": BEN uses the general (stricter) table.
        (1999, True, "mild", "anc_mild"),
        (1499, True, "severe", "anc_severe"),
    ],
)
def test_interpret_anc_uk(cells: float, ben: bool, band: str, rule: str | None) -> None:
    result = interpret_anc(cells, ben=ben, profile=UK)
    assert (result.band, result.escalation_rule) == (band, rule)


@pytest.mark.parametrize(
    ("cells", "previous", "confirm"),
    [
        # RULES.md 2: "A first result below the normal band is confirmed by a repeat within 24 h".
        (1200, None, True),
        (1200, "normal", True),
        (400, "normal", True),
        (1200, "mild", False),
        (400, "moderate", False),
        (1600, None, False),
        (1600, "mild", False),
    ],
)
def test_confirm_within_24h(cells: float, previous: str | None, confirm: bool) -> None:
    result = interpret_anc(cells, ben=False, profile=GUIDELINE, previous_band=previous)
    assert result.confirm_within_24h is confirm


@pytest.mark.parametrize("cells", [-1, -0.001, 100_000.1, 1e9, math.nan, math.inf])
def test_interpret_anc_rejects_impossible_counts(cells: float) -> None:
    with pytest.raises(ValueError):
        interpret_anc(cells, ben=False, profile=GUIDELINE)


def test_interpret_anc_accepts_the_range_ends() -> None:
    assert interpret_anc(0, ben=False, profile=GUIDELINE).band == "severe"
    assert interpret_anc(100_000, ben=False, profile=GUIDELINE).band == "normal"


@pytest.mark.parametrize(
    ("value", "unit", "cells"),
    [
        (1500, "cells/uL", 1500.0),
        (1.5, "10^9/L", 1500.0),  # RULES.md 2 heading: 10^9/L x 1000
        (1.499, "10^9/L", 1499.0),
        (0.999, "10^9/L", 999.0),
        (0.499, "10^9/L", 499.0),
    ],
)
def test_to_cells_per_ul(value: float, unit: str, cells: float) -> None:
    assert to_cells_per_ul(value, unit) == cells


@pytest.mark.parametrize("unit", ["cells/mm3", "10^3/uL", "", "CELLS/UL"])
def test_to_cells_per_ul_rejects_unknown_units(unit: str) -> None:
    assert unit not in ANC_UNITS
    with pytest.raises(ValueError):
        to_cells_per_ul(1.5, unit)


# --- UK traffic lights (RULES.md 2, uk-smpc) -----------------------------------------------


@pytest.mark.parametrize(
    ("wbc", "neut", "light"),
    [
        (3.5, 2.0, "green"),  # green: WBC >= 3.5 and neutrophils >= 2.0
        (3.49, 2.0, "amber"),  # WBC just under 3.5
        (3.5, 1.99, "amber"),  # neutrophils just under 2.0
        (3.0, 2.5, "amber"),  # amber: WBC 3.0-3.5
        (2.99, 2.5, "red"),  # red: WBC < 3.0
        (4.0, 1.5, "amber"),  # amber: neutrophils 1.5-2.0
        (4.0, 1.49, "red"),  # red: neutrophils < 1.5
        (3.0, 1.5, "amber"),  # both at the red cut-offs: still amber
        (2.99, 1.49, "red"),
        (10.0, 6.0, "green"),
    ],
)
def test_uk_traffic_light_boundaries(wbc: float, neut: float, light: str) -> None:
    assert interpret_uk_traffic_light(wbc, neut, UK).traffic_light == light


@pytest.mark.parametrize(
    ("wbc", "neut", "band", "action", "monitoring", "next_days", "rule", "severity"),
    [
        (5.0, 3.0, "normal", "continue", "by_phase", None, None, None),
        # amber: "tests twice weekly until green" -> every 3 days; anc_mild urgent.
        (3.2, 2.5, "mild", "continue_monitor_closely", "twice_weekly", 3, "anc_mild", "urgent"),
        # red: "stop at once, daily tests until two greens, no rechallenge"; anc_severe emergency.
        (2.5, 2.5, "severe", "stop_no_rechallenge", "daily", 1, "anc_severe", "emergency"),
    ],
)
def test_uk_traffic_light_meaning(
    wbc: float,
    neut: float,
    band: str,
    action: str,
    monitoring: str,
    next_days: int | None,
    rule: str | None,
    severity: str | None,
) -> None:
    result = interpret_uk_traffic_light(wbc, neut, UK)
    assert (result.band, result.action, result.monitoring) == (band, action, monitoring)
    assert (result.next_test_in_days, result.escalation_rule, result.severity) == (
        next_days,
        rule,
        severity,
    )
    assert result.confirm_within_24h is (band != "normal")


def test_uk_traffic_light_needs_a_traffic_light_profile() -> None:
    with pytest.raises(ValueError):
        interpret_uk_traffic_light(4.0, 2.0, GUIDELINE)


@pytest.mark.parametrize(("wbc", "neut"), [(-0.1, 2.0), (4.0, -1.0), (math.nan, 2.0)])
def test_uk_traffic_light_rejects_impossible_counts(wbc: float, neut: float) -> None:
    with pytest.raises(ValueError):
        interpret_uk_traffic_light(wbc, neut, UK)


# --- the band edges the care team's chart draws (RULES.md 2) --------------------------------

GENERAL_EDGES = (  # RULES.md 2 lines 31-34: >= 1500 normal, 1000-1499 mild, 500-999 moderate
    AncBandEdge(1500, "normal"),
    AncBandEdge(1000, "mild"),
    AncBandEdge(500, "moderate"),
    AncBandEdge(0, "severe"),
)
BEN_EDGES = (  # RULES.md 2 lines 40-42: >= 1000 normal, 500-999 mild, < 500 severe
    AncBandEdge(1000, "normal"),
    AncBandEdge(500, "mild"),
    AncBandEdge(0, "severe"),
)
UK_EDGES = (  # RULES.md 2 lines 46-49: neutrophils >= 2.0 green, 1.5-2.0 amber, < 1.5 red
    AncBandEdge(2000, "normal", "green"),
    AncBandEdge(1500, "mild", "amber"),
    AncBandEdge(0, "severe", "red"),
)


@pytest.mark.parametrize(
    ("profile", "ben", "edges"),
    [
        (GUIDELINE, False, GENERAL_EDGES),
        (GUIDELINE, True, BEN_EDGES),
        (US, False, GENERAL_EDGES),
        (US, True, BEN_EDGES),
        (UK, False, UK_EDGES),
        # RULES.md 2 line 49: UK BEN cut-offs not encoded; a BEN patient is read as general
        (UK, True, UK_EDGES),
    ],
    ids=["guideline", "guideline-ben", "us", "us-ben", "uk", "uk-ben"],
)
def test_anc_band_edges(profile: Profile, ben: bool, edges: tuple[AncBandEdge, ...]) -> None:
    assert anc_band_edges(profile, ben=ben) == edges


def _uk_with(green: float, red: float) -> Profile:
    """uk-smpc with other neutrophil cut-offs, its band table moved with them (a profile whose
    table reads otherwise than its lights is refused)."""
    data = json.loads((PROFILE_DIR / "uk-smpc.json").read_text("utf-8"))
    lights = data["anc"]["traffic_light"]
    lights["green"]["neutrophils_min"] = green
    lights["red"]["neutrophils_below"] = red
    rows = {row["band"]: row for row in data["anc"]["bands"]["general"]}
    scheme = load_profile("uk-smpc").traffic_light
    assert scheme is not None
    moved = replace(scheme, green_neutrophils_min=green, red_neutrophils_below=red)
    data["anc"]["bands"]["general"] = [
        {**rows[scheme.rule_for(light).band], "min_cells_per_ul": start}
        for start, light in moved.neutrophil_edges()
    ]
    return parse_profile(data)


def test_anc_band_edges_follow_the_lights_not_a_second_table() -> None:
    """The lights' own cut-offs (what a UK count is read with), not the bands table beside them."""
    assert [e.min_cells_per_ul for e in anc_band_edges(_uk_with(1.8, 1.2), ben=False)] == [
        1800,
        1200,
        0,
    ]


@pytest.mark.parametrize(
    ("green", "red", "edges"),
    [
        # red and green meet: nothing is amber, as traffic_light_of reads it
        (1.5, 1.5, [(1500, "green"), (0, "red")]),
        # nothing is red below 0
        (2.0, 0.0, [(2000, "green"), (0, "amber")]),
    ],
)
def test_anc_band_edges_leave_out_an_empty_light(
    green: float, red: float, edges: list[tuple[float, str]]
) -> None:
    profile = _uk_with(green, red)
    assert [(e.min_cells_per_ul, e.traffic_light) for e in anc_band_edges(profile, ben=False)] == (
        edges
    )
    for cells, light in edges:
        assert interpret_anc_light(profile, cells) == light


def interpret_anc_light(profile: Profile, cells: float) -> str | None:
    return interpret_uk_counts(profile, neutrophils_10e9_l=cells / 1000).traffic_light


# --- baseline (RULES.md 2 "Baseline before starting"; guideline L89) ------------------------


@pytest.mark.parametrize(
    ("counts", "ben", "ok"),
    [
        ([1500], False, True),  # general >= 1500
        ([1499], False, False),
        ([1400, 1600], False, True),  # the latest count decides
        ([1600, 1400], False, False),
        ([], False, False),
        ([1000, 1000], True, True),  # BEN: two counts >= 1000
        ([1000], True, False),  # only one count
        ([999, 1000], True, False),
        ([400, 1000, 1200], True, True),  # the latest two
        ([1200, 1000, 999], True, False),
    ],
)
def test_baseline_allows_start(counts: list[float], ben: bool, ok: bool) -> None:
    check = baseline_allows_start(counts, ben=ben)
    assert check.ok is ok and check.reason


@pytest.mark.parametrize(
    ("counts", "ben", "ok"),
    [
        ([2000], False, True),  # uk-smpc: green neutrophils >= 2.0 x10^9/L to start
        ([1999], False, False),
        ([2000], True, True),  # no sourced UK BEN cut-off: judged as general
        ([1500, 1500], True, False),
    ],
)
def test_baseline_allows_start_uk(counts: list[float], ben: bool, ok: bool) -> None:
    assert baseline_allows_start(counts, ben=ben, profile=UK).ok is ok


def test_baseline_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        baseline_allows_start([-5], ben=False)
