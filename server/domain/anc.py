"""ANC results: unit conversion, band interpretation, UK traffic lights, baseline check.

RULES.md section 2; guideline L89 (baseline), L137-L149 (bands). The thresholds, actions and
test frequencies are data in the monitoring profile; this module applies them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from server.domain.codes import AncBand, TrafficLight
from server.domain.monitoring_profile import BandOutcome, Profile

CELLS_PER_UL: Final = "cells/uL"
GIGA_PER_L: Final = "10^9/L"
ANC_UNITS: Final[tuple[str, ...]] = (CELLS_PER_UL, GIGA_PER_L)
MAX_ANC_CELLS_PER_UL: Final = 100_000.0
MAX_WBC_10E9_L: Final = 500.0  # above any plausible count; a typo guard, not a clinical limit
# RULES.md 2 (line 44): "A first result below the normal band is confirmed by a repeat within
# 24 h"; RULES.md 7 (line 136): the patient is prompted for it
CONFIRM_WITHIN: Final = timedelta(hours=24)


@dataclass(frozen=True)
class AncInterpretation:
    """What one count means: band, the clinician's action, and when to test next.

    next_test_in_days None means "by monitoring phase" (section 3). confirm_within_24h: a first
    result below normal is repeated within 24 h. traffic_light is set for UK results only.
    """

    band: str
    action: str
    action_text: str
    monitoring: str
    next_test_in_days: int | None
    confirm_within_24h: bool
    escalation_rule: str | None
    severity: str | None
    traffic_light: str | None = None


@dataclass(frozen=True)
class BaselineCheck:
    """Whether the baseline counts allow starting clozapine, and why."""

    ok: bool
    reason: str


def to_cells_per_ul(value: float, unit: str) -> float:
    """Convert an ANC to cells/uL: "cells/uL" as is, "10^9/L" x 1000 (RULES.md 2 heading)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("ANC must be a finite number")
    if unit == CELLS_PER_UL:
        return float(value)
    if unit == GIGA_PER_L:
        # Rounding removes binary noise (1.499 * 1000) so thresholds compare exactly.
        return round(float(value) * 1000.0, 6)
    raise ValueError(f"unknown ANC unit {unit!r}; use one of {', '.join(ANC_UNITS)}")


def _check_anc(anc_cells_per_ul: float) -> float:
    if (
        isinstance(anc_cells_per_ul, bool)
        or not isinstance(anc_cells_per_ul, int | float)
        or not math.isfinite(anc_cells_per_ul)
    ):
        raise ValueError("ANC must be a finite number of cells/uL")
    if not 0 <= anc_cells_per_ul <= MAX_ANC_CELLS_PER_UL:
        raise ValueError(f"ANC must be between 0 and {MAX_ANC_CELLS_PER_UL:g} cells/uL")
    return float(anc_cells_per_ul)


def _is_first_below_normal(band: str, previous_band: str | None) -> bool:
    # RULES.md 2: "A first result below the normal band is confirmed by a repeat within 24 h."
    return band != AncBand.NORMAL and previous_band in (None, AncBand.NORMAL)


def _without_ben_cutoffs(profile: Profile, ben: bool) -> bool:
    # RULES.md 2 and 7: UK BEN cut-offs are not encoded, so a BEN patient read on the general
    # cut-offs is not given the general "no rechallenge" wording.
    return ben and profile.anc_bands_ben is None


def _from_rule(
    rule: BandOutcome,
    previous_band: str | None,
    light: str | None,
    *,
    ben_unsourced: bool = False,
) -> AncInterpretation:
    action, action_text = rule.action, rule.action_text
    if ben_unsourced and rule.action_without_ben_cutoffs is not None:
        action = rule.action_without_ben_cutoffs
        action_text = rule.action_text_without_ben_cutoffs or action_text
    return AncInterpretation(
        band=rule.band,
        action=action,
        action_text=action_text,
        monitoring=rule.monitoring,
        next_test_in_days=rule.next_test_in_days,
        confirm_within_24h=_is_first_below_normal(rule.band, previous_band),
        escalation_rule=rule.escalation_rule,
        severity=rule.severity,
        traffic_light=light,
    )


def interpret_anc(
    anc_cells_per_ul: float,
    *,
    ben: bool,
    profile: Profile,
    previous_band: str | None = None,
) -> AncInterpretation:
    """Band an ANC (cells/uL) with the profile's general or BEN table.

    RULES.md 2 tables. guideline/us-label-2025, general: normal >= 1500, mild 1000-1499
    (continue, 3x weekly; guideline L141), moderate 500-999 (interrupt, hematology; L140,
    L146), severe < 500 (stop; L139). BEN: normal >= 1000, mild 500-999 (continue, hematology
    consult), severe < 500 (interrupt) -- no moderate band. uk-smpc applies the neutrophil
    cut-offs of its traffic lights (green >= 2.0, amber 1.5-2.0, red < 1.5 x10^9/L); its BEN
    cut-offs are not sourced (RULES.md 2), so BEN patients get the general (stricter) table,
    without its "no rechallenge" wording (RULES.md 7). Escalations: mild anc_mild urgent,
    moderate anc_moderate urgent, severe anc_severe emergency. ValueError for a negative count
    or one above 100000 cells/uL.
    """
    value = _check_anc(anc_cells_per_ul)
    for rule in profile.band_rules(ben=ben):
        if value >= rule.min_cells_per_ul:
            return _from_rule(
                rule, previous_band, None, ben_unsourced=_without_ben_cutoffs(profile, ben)
            )
    raise AssertionError("band tables end at 0 cells/uL")  # guaranteed by profile parsing


def traffic_light_for(wbc_10e9_l: float, neutrophils_10e9_l: float, profile: Profile) -> str:
    """The UK light: red if WBC or neutrophils under the red cut-offs, green if both at or
    above the green ones, amber otherwise (RULES.md 2, uk-smpc)."""
    return traffic_light_of(profile, wbc_10e9_l=wbc_10e9_l, neutrophils_10e9_l=neutrophils_10e9_l)


def traffic_light_of(
    profile: Profile,
    *,
    wbc_10e9_l: float | None = None,
    neutrophils_10e9_l: float | None = None,
) -> str:
    """The UK light of the counts a result carries: a WBC alone, neutrophils alone, or both.

    RULES.md 2 (uk-smpc cut-offs) and 7 ("A WBC entered as its own test is read by the
    traffic light"): red if any count given is under its red cut-off, green if every count
    given is at or above its green one, amber otherwise.
    """
    scheme = profile.traffic_light
    if scheme is None:
        raise ValueError(f"profile {profile.name!r} does not use traffic lights")
    counts = [
        (name, value, red, green)
        for name, value, red, green in (
            ("WBC", wbc_10e9_l, scheme.red_wbc_below, scheme.green_wbc_min),
            (
                "neutrophils",
                neutrophils_10e9_l,
                scheme.red_neutrophils_below,
                scheme.green_neutrophils_min,
            ),
        )
        if value is not None
    ]
    if not counts:
        raise ValueError("a WBC or a neutrophil count is needed")
    for name, value, _, _ in counts:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number (x10^9/L)")
        if not 0 <= value <= MAX_WBC_10E9_L:
            raise ValueError(f"{name} must be between 0 and {MAX_WBC_10E9_L:g} x10^9/L")
    if any(value < red for _, value, red, _ in counts):
        return TrafficLight.RED.value
    if all(value >= green for _, value, _, green in counts):
        return TrafficLight.GREEN.value
    return TrafficLight.AMBER.value


def interpret_uk_traffic_light(
    wbc_10e9_l: float,
    neutrophils_10e9_l: float,
    profile: Profile,
    *,
    previous_band: str | None = None,
) -> AncInterpretation:
    """Interpret a UK WBC + neutrophil result (x10^9/L) as a traffic light.

    RULES.md 2 (uk-smpc): green WBC >= 3.5 and neutrophils >= 2.0 (band normal); amber WBC
    3.0-3.5 or neutrophils 1.5-2.0 (band mild, anc_mild urgent, tests twice weekly until
    green); red WBC < 3.0 or neutrophils < 1.5 (band severe, anc_severe emergency, stop at
    once, daily tests until two greens, no rechallenge). Cut-offs come from the profile.
    """
    return interpret_uk_counts(
        profile,
        wbc_10e9_l=wbc_10e9_l,
        neutrophils_10e9_l=neutrophils_10e9_l,
        previous_band=previous_band,
    )


def interpret_uk_counts(
    profile: Profile,
    *,
    wbc_10e9_l: float | None = None,
    neutrophils_10e9_l: float | None = None,
    ben: bool = False,
    previous_band: str | None = None,
) -> AncInterpretation:
    """Interpret whatever counts a UK result carries (a WBC alone, neutrophils alone, or both)
    as a traffic light (traffic_light_of), with the light's meaning from the profile.

    RULES.md 2 (uk-smpc) and 7 (a WBC alone is read; BEN patients get no "no rechallenge"
    wording while UK BEN cut-offs are not encoded).
    """
    light = traffic_light_of(profile, wbc_10e9_l=wbc_10e9_l, neutrophils_10e9_l=neutrophils_10e9_l)
    assert profile.traffic_light is not None
    return _from_rule(
        profile.traffic_light.rule_for(light),
        previous_band,
        light,
        ben_unsourced=_without_ben_cutoffs(profile, ben),
    )


@dataclass(frozen=True)
class AncBandEdge:
    """Where one ANC band begins: a count (cells/uL) at or above min_cells_per_ul, and below
    the edge above it, falls in `band` (under a traffic-light profile, in `traffic_light`)."""

    min_cells_per_ul: float
    band: str
    traffic_light: str | None = None


def anc_band_edges(profile: Profile, *, ben: bool) -> tuple[AncBandEdge, ...]:
    """The bands a patient's ANC is read with, highest first, the last beginning at 0.

    The same reading as the lab results get (RULES.md 2, lines 26-49): without traffic lights,
    the profile's general table, or its BEN table for a BEN patient when it has one
    (interpret_anc); under traffic lights (uk-smpc), the neutrophil cut-offs of the lights,
    green >= 2.0, amber 1.5-2.0, red < 1.5 x10^9/L (interpret_uk_counts), whatever the BEN
    flag, since UK BEN cut-offs are not encoded (RULES.md 2, line 49).
    """
    scheme = profile.traffic_light
    if scheme is None:
        return tuple(
            AncBandEdge(rule.min_cells_per_ul, rule.band) for rule in profile.band_rules(ben=ben)
        )
    return tuple(
        AncBandEdge(start, scheme.rule_for(light).band, light)
        for start, light in scheme.neutrophil_edges()
    )


def baseline_allows_start(
    baseline_counts_cells_per_ul: Sequence[float],
    *,
    ben: bool,
    profile: Profile | None = None,
) -> BaselineCheck:
    """Whether baseline ANC counts (oldest first) allow starting clozapine.

    RULES.md 2 "Baseline before starting: >= 1500 (BEN >= 1000)"; guideline L89. General: the
    latest count >= 1500. BEN: two baseline counts needed -- the latest two must both be
    >= 1000. The profile (default: these guideline values) may set other cut-offs; uk-smpc
    needs neutrophils >= 2.0 x10^9/L and, having no BEN cut-off, judges BEN as general.
    """
    counts = [_check_anc(c) for c in baseline_counts_cells_per_ul]
    if profile is not None:
        rule = profile.baseline
        general_min = rule.general_min_cells_per_ul
        ben_min = rule.ben_min_cells_per_ul
        ben_needed = rule.ben_counts_required
    else:
        general_min, ben_min, ben_needed = 1500.0, 1000.0, 2
    if ben and ben_min is not None:
        minimum, needed, who = ben_min, ben_needed, "benign ethnic neutropenia"
    else:
        minimum, needed, who = general_min, 1, "general population"
    if len(counts) < needed:
        return BaselineCheck(
            False, f"{needed} baseline ANC count(s) needed ({who}); {len(counts)} recorded"
        )
    latest = counts[-needed:]
    if all(c >= minimum for c in latest):
        return BaselineCheck(True, f"baseline ANC >= {minimum:g}/uL ({who})")
    return BaselineCheck(
        False,
        f"baseline ANC below {minimum:g}/uL ({who}): clozapine cannot start",
    )


def baseline_allows_start_on(
    counts: Sequence[tuple[date, float]],
    *,
    start_date: date,
    ben: bool,
    profile: Profile,
) -> BaselineCheck:
    """Whether the clinic's baseline counts, (collection date, cells/uL) oldest first, allow a
    plan starting on start_date.

    RULES.md 7 "Baseline": a count older than the profile's max_age_days (10) before the start
    does not count (10 days before counts, 11 does not); counts after the start are not a
    baseline. Then baseline_allows_start (RULES.md 2; guideline L89). The refusal names the
    stale count's date when only stale counts stood in the way.
    """
    max_age = profile.baseline.max_age_days
    oldest = start_date - timedelta(days=max_age)
    recent = [cells for day, cells in counts if oldest <= day <= start_date]
    stale = [day for day, _ in counts if day < oldest]
    check = baseline_allows_start(recent, ben=ben, profile=profile)
    if check.ok or not stale:
        return check
    rule = profile.baseline
    needed = rule.ben_counts_required if ben and rule.ben_min_cells_per_ul is not None else 1
    if len(recent) >= needed:
        return check
    return BaselineCheck(
        False,
        f"the latest baseline ANC ({max(stale).isoformat()}) is more than {max_age} days "
        f"before the start ({start_date.isoformat()}) and no longer counts; "
        "a new count is needed",
    )
