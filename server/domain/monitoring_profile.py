"""Monitoring profiles: the clinic-chosen rule parameters, loaded from JSON data.

RULES.md (preamble): "Rules are data, grouped in a monitoring profile chosen per clinic:
guideline (default), us-label-2025 and uk-smpc ... adding a profile must not need code
changes." Everything that differs between profiles lives in profiles/<name>.json; this module
only parses and checks it.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Final, Literal

from server.domain.codes import ANC_BANDS, RULE_CODES, SEVERITIES, TRAFFIC_LIGHTS

DEFAULT_PROFILE: Final = "guideline"

_PACKAGE: Final = __name__.rpartition(".")[0]
_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CODE_RE: Final = re.compile(r"[a-z][a-z0-9_]*")

InterruptionEffect = Literal["intensify", "restart"]


class ProfileError(ValueError):
    """A profile is missing or its JSON does not describe a usable profile."""


@dataclass(frozen=True)
class AncPhase:
    """One step of the ANC schedule: weeks from_week..to_week (None: open-ended)."""

    from_week: int
    to_week: int | None
    interval_days: int
    label: str


@dataclass(frozen=True)
class InterruptionRule:
    """What a treatment break does to the ANC schedule (RULES.md section 3, Interruption).

    A break is measured in hours, from the last dose taken to the next (RULES.md 6: "the same
    > 48 h definition as section 1, for the monitoring rules of section 3 as well"). Matches
    when the break is more than `more_than_hours` (or at least `at_least_hours`: one of the
    two is set) and below `below_hours` (None: no upper bound), and, if
    on_treatment_over_weeks is set, the patient had been treated for more than that many weeks
    when the break began. "restart": the schedule restarts as for a new patient from the
    restart date. "intensify": interval_days at most, for for_weeks from the restart date,
    then back to the phase schedule.
    """

    more_than_hours: float | None
    at_least_hours: float | None
    below_hours: float | None
    on_treatment_over_weeks: int | None
    effect: InterruptionEffect
    interval_days: int | None
    for_weeks: int | None
    source: str

    def matches(self, break_hours: float, days_on_treatment: int) -> bool:
        """Whether a break of break_hours after days_on_treatment days triggers this rule."""
        if self.more_than_hours is not None and not break_hours > self.more_than_hours:
            return False
        if self.at_least_hours is not None and break_hours < self.at_least_hours:
            return False
        if self.below_hours is not None and break_hours >= self.below_hours:
            return False
        return not (
            self.on_treatment_over_weeks is not None
            and days_on_treatment <= self.on_treatment_over_weeks * 7
        )


@dataclass(frozen=True, kw_only=True)
class BandOutcome:
    """What a result in one band means (RULES.md section 2): the action, its monitoring and
    next test, and the escalation it opens (None: none)."""

    band: str
    action: str
    action_text: str
    monitoring: str
    next_test_in_days: int | None
    escalation_rule: str | None
    severity: str | None
    # For BEN patients under a profile without BEN cut-offs (uk-smpc): the action and its text
    # without "no rechallenge" wording (RULES.md 2 and 7, UK profile). None: as above.
    action_without_ben_cutoffs: str | None = None
    action_text_without_ben_cutoffs: str | None = None


@dataclass(frozen=True, kw_only=True)
class AncBandRule(BandOutcome):
    """One row of an ANC table (RULES.md section 2): results >= min_cells_per_ul fall here."""

    min_cells_per_ul: float


@dataclass(frozen=True, kw_only=True)
class TrafficLightRule(BandOutcome):
    """What one UK traffic light means (RULES.md section 2, uk-smpc)."""

    light: str


@dataclass(frozen=True)
class TrafficLightScheme:
    """UK WBC/neutrophil cut-offs (x10^9/L) and the meaning of each light."""

    green_wbc_min: float
    green_neutrophils_min: float
    red_wbc_below: float
    red_neutrophils_below: float
    lights: tuple[TrafficLightRule, ...]
    # After a red result, tests stay at the red frequency until this many greens in a row
    # (RULES.md 2 "daily tests until two greens"). None: the light's own frequency applies.
    greens_to_end_red_frequency: int | None = None

    def rule_for(self, light: str) -> TrafficLightRule:
        """The rule of one light."""
        for rule in self.lights:
            if rule.light == light:
                return rule
        raise KeyError(light)

    def neutrophil_edges(self) -> tuple[tuple[float, str], ...]:
        """Where each light begins on the neutrophil count alone, in cells/uL (x1000 the
        cut-offs), highest first, the last at 0: green at its minimum, amber at red's "below",
        red at 0. A light whose range is empty (amber when red and green meet, red when its
        cut-off is 0) is left out, as anc.traffic_light_of reads the count."""
        starts = (
            (round(self.green_neutrophils_min * 1000.0, 6), "green"),
            (round(self.red_neutrophils_below * 1000.0, 6), "amber"),
            (0.0, "red"),
        )
        edges: list[tuple[float, str]] = []
        for start, light in starts:
            if not edges or start < edges[-1][0]:
                edges.append((start, light))
        return tuple(edges)


@dataclass(frozen=True)
class BaselineRule:
    """ANC needed before starting (RULES.md section 2). ben_min None: BEN uses the general rule."""

    general_min_cells_per_ul: float
    ben_min_cells_per_ul: float | None
    ben_counts_required: int
    # RULES.md 7 "Baseline": a count older than this many days before the start does not count.
    max_age_days: int = 10


@dataclass(frozen=True)
class TroughRule:
    """Trough level timing after a stable dose (RULES.md section 3; guideline L128)."""

    earliest_days_after_stable_dose: int
    due_days_after_stable_dose: int


@dataclass(frozen=True)
class CalendarSchedule:
    """A test due at fixed days from the start date, then every then_every_days (None: never)."""

    test: str
    at_days: tuple[int, ...]
    then_every_days: int | None
    label: str


@dataclass(frozen=True)
class Profile:
    """A monitoring profile: all rule parameters that may differ between clinics."""

    name: str
    title: str
    sources: tuple[str, ...]
    anc_test: str
    anc_phases: tuple[AncPhase, ...]
    interruption_rules: tuple[InterruptionRule, ...]
    anc_bands_general: tuple[AncBandRule, ...]
    anc_bands_ben: tuple[AncBandRule, ...] | None
    traffic_light: TrafficLightScheme | None
    baseline: BaselineRule
    trough: TroughRule
    calendar_tests: tuple[CalendarSchedule, ...]
    # RULES.md 3 (uk-smpc): "the care team confirms each step down" of the ANC phases.
    step_down_needs_confirmation: bool = False

    def band_rules(self, *, ben: bool) -> tuple[AncBandRule, ...]:
        """The ANC table for the population; BEN falls back to the general table if unset."""
        if ben and self.anc_bands_ben is not None:
            return self.anc_bands_ben
        return self.anc_bands_general

    def band_interval_days(self, band: str) -> int | None:
        """Days between ANC tests while in `band` (None: by phase), general table first."""
        tables: list[Sequence[AncBandRule]] = [self.anc_bands_general]
        if self.anc_bands_ben is not None:
            tables.append(self.anc_bands_ben)
        for table in tables:
            for rule in table:
                if rule.band == band:
                    return rule.next_test_in_days
        raise ValueError(f"band {band!r} is not used by profile {self.name!r}")

    def phase_for_week(self, week: int) -> AncPhase:
        """The ANC phase in force in treatment week `week` (week 1 = first 7 days)."""
        for phase in self.anc_phases:
            if week >= phase.from_week and (phase.to_week is None or week <= phase.to_week):
                return phase
        return self.anc_phases[0]  # before the start date: the first phase

    def calendar_schedule(self, test: str) -> CalendarSchedule | None:
        """The calendar schedule of a test, if the profile has one."""
        for schedule in self.calendar_tests:
            if schedule.test == test:
                return schedule
        return None


# --- loading -------------------------------------------------------------------------------


def available_profiles(directory: str | PathLike[str] | None = None) -> tuple[str, ...]:
    """Names of the profiles shipped with the package, or of the *.json files in `directory`."""
    if directory is None:
        root = resources.files(_PACKAGE).joinpath("profiles")
        names = [p.name[: -len(".json")] for p in root.iterdir() if p.name.endswith(".json")]
    else:
        names = [p.stem for p in Path(directory).glob("*.json")]
    return tuple(sorted(n for n in names if _NAME_RE.fullmatch(n)))


def load_profile(name: str, directory: str | PathLike[str] | None = None) -> Profile:
    """Load profile `name` from the package data, or from `directory` (a folder or a .json file).

    Raises ProfileError (a ValueError) if it is missing or malformed.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ProfileError(f"invalid profile name: {name!r}")
    if directory is None:
        return _load_packaged(name)
    path = Path(directory)
    if path.is_dir():
        path = path / f"{name}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"no profile named {name!r} in {directory}") from None
    return parse_profile(_decode(text, name), expected_name=name)


@lru_cache(maxsize=16)
def _load_packaged(name: str) -> Profile:
    resource = resources.files(_PACKAGE).joinpath("profiles").joinpath(f"{name}.json")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"no profile named {name!r}") from None
    return parse_profile(_decode(text, name), expected_name=name)


def _decode(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"profile {name!r} is not valid JSON: {exc}") from None


def parse_profile(data: Any, *, expected_name: str | None = None) -> Profile:
    """Build a Profile from decoded JSON, checking every field (ProfileError on a problem)."""
    root = _obj(data, "$")
    name = _str(root, "name", "$")
    if not _NAME_RE.fullmatch(name):
        raise ProfileError(f"$.name: invalid profile name {name!r}")
    if expected_name is not None and name != expected_name:
        raise ProfileError(f"$.name: {name!r} does not match the file name {expected_name!r}")
    anc = _obj(root.get("anc"), "$.anc")
    bands = _obj(anc.get("bands"), "$.anc.bands")
    ben_raw = bands.get("ben")
    traffic_raw = anc.get("traffic_light")
    general = _band_table(bands.get("general"), "$.anc.bands.general")
    lights = None if traffic_raw is None else _traffic_light(traffic_raw, "$.anc.traffic_light")
    if lights is not None:
        _table_reads_as_lights(general, lights, "$.anc.bands.general")
    return Profile(
        name=name,
        title=_str(root, "title", "$"),
        sources=tuple(_str_list(root.get("sources", []), "$.sources")),
        anc_test=_code(anc, "test", "$.anc"),
        anc_phases=_phases(anc.get("phases"), "$.anc.phases"),
        interruption_rules=tuple(
            _interruption(item, f"$.anc.interruptions[{i}]")
            for i, item in enumerate(_list(anc.get("interruptions", []), "$.anc.interruptions"))
        ),
        anc_bands_general=general,
        anc_bands_ben=None if ben_raw is None else _band_table(ben_raw, "$.anc.bands.ben"),
        traffic_light=lights,
        baseline=_baseline(anc.get("baseline"), "$.anc.baseline"),
        trough=_trough(root.get("trough_level"), "$.trough_level"),
        calendar_tests=_calendar_tests(root.get("calendar_tests"), "$.calendar_tests"),
        step_down_needs_confirmation=_opt_bool(anc, "step_down_needs_confirmation", "$.anc"),
    )


def _phases(raw: Any, where: str) -> tuple[AncPhase, ...]:
    items = _list(raw, where)
    if not items:
        raise ProfileError(f"{where}: at least one phase is needed")
    phases: list[AncPhase] = []
    expected_from = 1
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        obj = _obj(item, at)
        from_week = _int(obj, "from_week", at, minimum=1)
        to_week = _opt_int(obj, "to_week", at, minimum=from_week)
        if from_week != expected_from:
            raise ProfileError(
                f"{at}.from_week: expected {expected_from} (phases must be contiguous)"
            )
        last = i == len(items) - 1
        if (to_week is None) != last:
            raise ProfileError(f"{at}.to_week: only the last phase is open-ended (null)")
        phases.append(
            AncPhase(
                from_week=from_week,
                to_week=to_week,
                interval_days=_int(obj, "interval_days", at, minimum=1),
                label=_str(obj, "label", at),
            )
        )
        expected_from = (to_week or 0) + 1
    return tuple(phases)


def _interruption(raw: Any, where: str) -> InterruptionRule:
    obj = _obj(raw, where)
    effect = _str(obj, "effect", where)
    bounds = [key for key in ("break_more_than_hours", "break_at_least_hours") if key in obj]
    if len(bounds) != 1:
        raise ProfileError(f"{where}: give one of break_more_than_hours or break_at_least_hours")
    lower = _num(obj, bounds[0], where)
    below = None if obj.get("break_below_hours") is None else _num(obj, "break_below_hours", where)
    if below is not None and below <= lower:
        raise ProfileError(f"{where}.break_below_hours: must be above the lower bound")
    more_than = lower if bounds[0] == "break_more_than_hours" else None
    at_least = lower if bounds[0] == "break_at_least_hours" else None
    over_weeks = _opt_int(obj, "on_treatment_over_weeks", where, minimum=0)
    source = _str(obj, "source", where)
    if effect == "restart":
        return InterruptionRule(
            more_than, at_least, below, over_weeks, "restart", None, None, source
        )
    if effect == "intensify":
        return InterruptionRule(
            more_than,
            at_least,
            below,
            over_weeks,
            "intensify",
            _int(obj, "interval_days", where, minimum=1),
            _int(obj, "for_weeks", where, minimum=1),
            source,
        )
    raise ProfileError(f"{where}.effect: must be 'restart' or 'intensify', not {effect!r}")


def _outcome_fields(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    band = _str(obj, "band", where)
    if band not in ANC_BANDS:
        raise ProfileError(f"{where}.band: unknown band {band!r}")
    escalation = obj.get("escalation_rule")
    severity = obj.get("severity")
    if escalation is not None and escalation not in RULE_CODES:
        raise ProfileError(f"{where}.escalation_rule: unknown rule {escalation!r}")
    if severity is not None and severity not in SEVERITIES:
        raise ProfileError(f"{where}.severity: unknown severity {severity!r}")
    if (escalation is None) != (severity is None):
        raise ProfileError(f"{where}: escalation_rule and severity are set together")
    if band == "normal" and escalation is not None:
        raise ProfileError(f"{where}: the normal band does not escalate")
    without_ben = obj.get("without_ben_cutoffs")
    ben_fields: dict[str, Any] = {}
    if without_ben is not None:
        at = f"{where}.without_ben_cutoffs"
        ben_obj = _obj(without_ben, at)
        ben_fields = {
            "action_without_ben_cutoffs": _code(ben_obj, "action", at),
            "action_text_without_ben_cutoffs": _str(ben_obj, "action_text", at),
        }
    return {
        "band": band,
        "action": _code(obj, "action", where),
        "action_text": _str(obj, "action_text", where),
        "monitoring": _code(obj, "monitoring", where),
        "next_test_in_days": _opt_int(obj, "next_test_in_days", where, minimum=1),
        "escalation_rule": escalation,
        "severity": severity,
        **ben_fields,
    }


def _band_table(raw: Any, where: str) -> tuple[AncBandRule, ...]:
    items = _list(raw, where)
    rules: list[AncBandRule] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        obj = _obj(item, at)
        rules.append(
            AncBandRule(
                min_cells_per_ul=_num(obj, "min_cells_per_ul", at), **_outcome_fields(obj, at)
            )
        )
    if not rules or rules[0].band != "normal":
        raise ProfileError(f"{where}: the first row must be the normal band")
    if rules[-1].min_cells_per_ul != 0:
        raise ProfileError(f"{where}: the last row must start at 0 cells/uL")
    mins = [r.min_cells_per_ul for r in rules]
    if any(a <= b for a, b in itertools.pairwise(mins)):
        raise ProfileError(f"{where}: min_cells_per_ul must strictly decrease")
    if len({r.band for r in rules}) != len(rules):
        raise ProfileError(f"{where}: each band appears once")
    return tuple(rules)


def _traffic_light(raw: Any, where: str) -> TrafficLightScheme:
    obj = _obj(raw, where)
    green = _obj(obj.get("green"), f"{where}.green")
    red = _obj(obj.get("red"), f"{where}.red")
    lights_obj = _obj(obj.get("lights"), f"{where}.lights")
    lights: list[TrafficLightRule] = []
    for light in ("green", "amber", "red"):
        at = f"{where}.lights.{light}"
        lights.append(
            TrafficLightRule(light=light, **_outcome_fields(_obj(lights_obj.get(light), at), at))
        )
    extra = set(lights_obj) - TRAFFIC_LIGHTS
    if extra:
        raise ProfileError(f"{where}.lights: unknown lights {sorted(extra)}")
    scheme = TrafficLightScheme(
        green_wbc_min=_num(green, "wbc_min", f"{where}.green"),
        green_neutrophils_min=_num(green, "neutrophils_min", f"{where}.green"),
        red_wbc_below=_num(red, "wbc_below", f"{where}.red"),
        red_neutrophils_below=_num(red, "neutrophils_below", f"{where}.red"),
        lights=tuple(lights),
        greens_to_end_red_frequency=_opt_int(obj, "greens_to_end_red_frequency", where, minimum=1),
    )
    if not (
        scheme.red_wbc_below <= scheme.green_wbc_min
        and scheme.red_neutrophils_below <= scheme.green_neutrophils_min
    ):
        raise ProfileError(f"{where}: red cut-offs must not be above green ones")
    return scheme


def _table_reads_as_lights(
    table: tuple[AncBandRule, ...], lights: TrafficLightScheme, where: str
) -> None:
    """Under traffic lights a count is banded by the lights' neutrophil cut-offs; the profile's
    band table (whose bands and actions the course and the schedule read) must begin its bands
    where the lights do (TrafficLightScheme.neutrophil_edges), each with its light's band."""
    wanted = [(start, lights.rule_for(light).band) for start, light in lights.neutrophil_edges()]
    found = [(float(row.min_cells_per_ul), row.band) for row in table]
    if found != wanted:
        raise ProfileError(f"{where}: must read as the traffic light does, {wanted}, not {found}")


def _baseline(raw: Any, where: str) -> BaselineRule:
    obj = _obj(raw, where)
    ben_min = obj.get("ben_min_cells_per_ul")
    return BaselineRule(
        general_min_cells_per_ul=_num(obj, "general_min_cells_per_ul", where),
        ben_min_cells_per_ul=None if ben_min is None else _num(obj, "ben_min_cells_per_ul", where),
        ben_counts_required=_int(obj, "ben_counts_required", where, minimum=1),
        max_age_days=_int(obj, "max_age_days", where, minimum=0)
        if "max_age_days" in obj
        else BaselineRule.max_age_days,
    )


def _trough(raw: Any, where: str) -> TroughRule:
    obj = _obj(raw, where)
    earliest = _int(obj, "earliest_days_after_stable_dose", where, minimum=0)
    return TroughRule(
        earliest_days_after_stable_dose=earliest,
        due_days_after_stable_dose=_int(obj, "due_days_after_stable_dose", where, minimum=earliest),
    )


def _calendar_tests(raw: Any, where: str) -> tuple[CalendarSchedule, ...]:
    obj = _obj(raw, where)
    schedules: list[CalendarSchedule] = []
    for test, item in obj.items():
        at = f"{where}.{test}"
        if not _CODE_RE.fullmatch(test):
            raise ProfileError(f"{at}: test codes are snake_case")
        entry = _obj(item, at)
        days = [
            _as_int(v, f"{at}.at_days[{i}]", 0)
            for i, v in enumerate(_list(entry.get("at_days"), f"{at}.at_days"))
        ]
        if not days or any(a >= b for a, b in itertools.pairwise(days)):
            raise ProfileError(f"{at}.at_days: a non-empty, strictly increasing list")
        schedules.append(
            CalendarSchedule(
                test=test,
                at_days=tuple(days),
                then_every_days=_opt_int(entry, "then_every_days", at, minimum=1),
                label=_str(entry, "label", at),
            )
        )
    return tuple(schedules)


# --- JSON field helpers ----------------------------------------------------------------------


def _obj(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected an object")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ProfileError(f"{where}: expected a list")
    return raw


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{where}.{key}: expected a non-empty string")
    return value


def _str_list(raw: Any, where: str) -> list[str]:
    items = _list(raw, where)
    if not all(isinstance(s, str) for s in items):
        raise ProfileError(f"{where}: expected a list of strings")
    return items


def _code(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _str(obj, key, where)
    if not _CODE_RE.fullmatch(value):
        raise ProfileError(f"{where}.{key}: codes are snake_case, not {value!r}")
    return value


def _as_int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProfileError(f"{where}: expected an integer")
    if value < minimum:
        raise ProfileError(f"{where}: must be >= {minimum}")
    return value


def _int(obj: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int:
    return _as_int(obj.get(key), f"{where}.{key}", minimum)


def _opt_int(obj: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int | None:
    value = obj.get(key)
    return None if value is None else _as_int(value, f"{where}.{key}", minimum)


def _opt_bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise ProfileError(f"{where}.{key}: expected true or false")
    return value


def _num(obj: Mapping[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProfileError(f"{where}.{key}: expected a number")
    if value < 0:
        raise ProfileError(f"{where}.{key}: must be >= 0")
    return float(value)
