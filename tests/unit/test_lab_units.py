"""Lab units and ranges (server/domain/lab_units.py): an ANC in cells/uL or 10^9/L x 1000
(RULES.md 2 heading, line 26); the other conversions are the laboratory's; the ranges are typo
guards, checked at both ends."""

from __future__ import annotations

import pytest

from server.domain.lab_units import (
    COUNT_TESTS,
    MONITORED_COUNTS,
    RANGES,
    UNITS,
    is_plausible,
    monitored_test,
    to_canonical,
)


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected"),
    [
        ("anc", 1499, "cells/uL", 1499.0),
        ("anc", 1.5, "10^9/L", 1500.0),  # RULES.md 2: 10^9/L x 1000
        ("anc", 1.499, "10^9/L", 1499.0),  # no binary noise at a band's edge
        ("fasting_glucose", 90, "mg/dL", 5.0),
        ("fasting_glucose", 5.0, "mmol/L", 5.0),
        ("lipids", 193.35, "mg/dL", 5.0),
        ("bilirubin", 1.0, "mg/dL", 17.1),
        ("bilirubin", 17.1, "umol/L", 17.1),
        ("troponin", 12, "ng/L", 12.0),
    ],
)
def test_values_are_read_in_the_canonical_unit(
    test: str, value: float, unit: str, expected: float
) -> None:
    assert to_canonical(test, value, unit) == pytest.approx(expected)


def test_every_test_has_units_and_a_range_and_its_first_unit_is_canonical() -> None:
    assert set(UNITS) == set(RANGES)
    for test, units in UNITS.items():
        low, high = RANGES[test]
        assert to_canonical(test, high, units[0]) == high
        assert low < high


@pytest.mark.parametrize(
    ("test", "canonical", "plausible"),
    [
        ("anc", -0.1, False),
        ("anc", 0, True),
        ("anc", 100_000, True),
        ("anc", 100_000.1, False),
        ("wbc", 500, True),
        ("wbc", 500.1, False),
        ("ecg", 199.9, False),
        ("ecg", 200, True),
        ("ecg", 800, True),
        ("ecg", 800.1, False),
        ("crp", 1_000, True),
        ("crp", 1_000.1, False),
    ],
)
def test_the_ranges_include_their_ends(test: str, canonical: float, plausible: bool) -> None:
    assert is_plausible(test, canonical) is plausible


@pytest.mark.parametrize(
    ("test", "monitored"),
    [
        ("anc", "anc"),
        ("wbc", "wbc_neutrophils"),
        ("fasting_glucose", "glucose_lipids"),
        ("lipids", "glucose_lipids"),
        ("alt", "liver_tests"),
        ("ast", "liver_tests"),
        ("bilirubin", "liver_tests"),
        ("trough_level", "trough_level"),
        ("ecg", "ecg"),
    ],
)
def test_each_result_counts_for_its_schedule_entry(test: str, monitored: str) -> None:
    """RULES.md 3: the schedule lists glucose and lipids together (line 66), and the liver
    tests (AST, ALT, bilirubin: line 68)."""
    assert monitored_test(test) == monitored


def test_the_counts_are_counted_for_the_schedules_count() -> None:
    assert {monitored_test(test) for test in COUNT_TESTS} == set(MONITORED_COUNTS)
