"""The lab results the product records: the units each test accepts, the canonical unit the
rules read, and the range a value must fall in (a typo guard, not a clinical limit).

RULES.md 2 heading: an ANC is read in cells/uL, 10^9/L x 1000 (anc.to_cells_per_ul). The other
conversions are the laboratory's: glucose mg/dL / 18, cholesterol mg/dL / 38.67, bilirubin
mg/dL x 17.1 give mmol/L and umol/L.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from server.domain.anc import ANC_UNITS, MAX_ANC_CELLS_PER_UL, MAX_WBC_10E9_L, to_cells_per_ul
from server.domain.codes import MonitoredTest

# The tests the product records, and the units each accepts (the first is canonical).
UNITS: Final[Mapping[str, tuple[str, ...]]] = {
    "anc": ANC_UNITS,
    "wbc": ("10^9/L",),
    "trough_level": ("ng/mL",),
    "fasting_glucose": ("mmol/L", "mg/dL"),
    "lipids": ("mmol/L", "mg/dL"),
    "alt": ("U/L",),
    "ast": ("U/L",),
    "bilirubin": ("umol/L", "mg/dL"),
    "ecg": ("ms",),
    "troponin": ("ng/L",),
    "crp": ("mg/L",),
}
# Plausible ranges (a typo guard, not a clinical limit), in the canonical unit of each test.
RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "anc": (0, MAX_ANC_CELLS_PER_UL),
    "wbc": (0, MAX_WBC_10E9_L),
    "trough_level": (0, 10_000),
    "fasting_glucose": (0, 200),
    "lipids": (0, 200),
    "alt": (0, 50_000),
    "ast": (0, 50_000),
    "bilirubin": (0, 2_000),
    "ecg": (200, 800),
    "troponin": (0, 1_000_000),
    "crp": (0, 1_000),
}
# factor from "<unit>:<test>" to the canonical unit, where it is not 1
TO_CANONICAL: Final[Mapping[str, float]] = {
    "mg/dL:fasting_glucose": 1 / 18.0,
    "mg/dL:lipids": 1 / 38.67,
    "mg/dL:bilirubin": 17.1,
}
# the blood counts (a band is read from them; RULES.md 2)
COUNT_TESTS: Final = ("anc", "wbc")


def to_canonical(test: str, value: float, unit: str) -> float:
    """`value` in `unit` as the canonical unit of `test` (the first of UNITS[test])."""
    if test == "anc":
        return to_cells_per_ul(value, unit)
    return value * TO_CANONICAL.get(f"{unit}:{test}", 1.0)


def is_plausible(test: str, canonical: float) -> bool:
    """Whether a value in the canonical unit lies in the test's range (ends included)."""
    low, high = RANGES[test]
    return low <= canonical <= high


# the monitoring schedule's entry each recorded test counts for (RULES.md 3), where it is not
# the test's own code
_MONITORED_AS: Final[Mapping[str, str]] = {
    "fasting_glucose": MonitoredTest.GLUCOSE_LIPIDS.value,
    "lipids": MonitoredTest.GLUCOSE_LIPIDS.value,
    "alt": MonitoredTest.LIVER_TESTS.value,
    "ast": MonitoredTest.LIVER_TESTS.value,
    "bilirubin": MonitoredTest.LIVER_TESTS.value,
    "wbc": MonitoredTest.WBC_NEUTROPHILS.value,
}
# the schedule's blood counts: an ANC, or under uk-smpc a WBC with neutrophils (RULES.md 3)
MONITORED_COUNTS: Final = (MonitoredTest.ANC.value, MonitoredTest.WBC_NEUTROPHILS.value)


def monitored_test(test: str) -> str:
    """The monitoring schedule's test a recorded result counts for."""
    return _MONITORED_AS.get(test, test)
