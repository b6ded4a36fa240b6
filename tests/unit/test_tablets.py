"""A dose as tablets (RULES.md 1: doses are multiples of 12.5 mg; tablets 12.5/25/50/100/200
mg), and the window in which a dose can be marked (server/domain/doses.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.doses import can_mark, marking_window
from server.domain.tablets import TABLET_STRENGTHS_MG, Tablets, split_dose

ALL = TABLET_STRENGTHS_MG


@pytest.mark.parametrize(
    ("mg", "have", "expected"),
    [
        # the example: 37.5 mg from 25 mg tablets is one and a half
        (37.5, [25], (Tablets(25, 1, True),)),
        (12.5, [25], (Tablets(25, 0, True),)),  # half a 25 mg, nothing whole
        (25, [25], (Tablets(25, 1),)),
        (37.5, [12.5, 25], (Tablets(25, 1), Tablets(12.5, 1))),  # whole tablets first
        (12.5, [12.5], (Tablets(12.5, 1),)),
        (6.25, ALL, None),  # not a 12.5 mg step
        (18.75, [25], None),
        (12.5, [50, 100], None),  # half a 50 mg is 25 mg: too much
        (25, [50], (Tablets(50, 0, True),)),
        (75, [50], (Tablets(50, 1, True),)),
        (125, [100, 25], (Tablets(100, 1), Tablets(25, 1))),
        (150, [100], (Tablets(100, 1, True),)),
        (175, [100, 50], (Tablets(100, 1), Tablets(50, 1, True))),
        (300, [100, 200], (Tablets(200, 1), Tablets(100, 1))),
        (450, ALL, (Tablets(200, 2), Tablets(50, 1))),
        (900, [200], (Tablets(200, 4, True),)),
        (887.5, ALL, (Tablets(200, 4), Tablets(50, 1), Tablets(25, 1), Tablets(12.5, 1))),
        (0, [25], ()),
        (25, [], None),  # no tablets set: nothing to show
        (25, [30], None),  # not a strength clozapine comes in
        (12.5, [12.5, 25], (Tablets(12.5, 1),)),
        (62.5, [25], (Tablets(25, 2, True),)),
        (62.5, [25, 100], (Tablets(25, 2, True),)),
        (-25, [25], None),
    ],
)
def test_split_dose(mg: float, have: list[float], expected: tuple[Tablets, ...] | None) -> None:
    assert split_dose(mg, have) == expected


def test_a_12_5_mg_tablet_is_never_halved() -> None:
    # 6.25 mg is below the smallest step; 12.5 mg tablets make 37.5 mg whole
    assert split_dose(37.5, [12.5]) == (Tablets(12.5, 3),)
    assert split_dose(43.75, [12.5]) is None


@given(
    st.integers(min_value=0, max_value=72).map(lambda n: n * 12.5),
    st.sets(st.sampled_from(ALL), min_size=1),
)
def test_a_split_adds_up_and_has_at_most_one_half(mg: float, have: set[float]) -> None:
    split = split_dose(mg, have)
    if split is None:
        # only when even the smallest strength cannot make it with one half
        smallest = min(have)
        assert mg % smallest != 0
        return
    assert sum(t.strength_mg * (t.whole + (0.5 if t.half else 0)) for t in split) == mg
    assert sum(t.half for t in split) <= 1
    assert all(t.strength_mg in have for t in split)
    assert not any(t.half and t.strength_mg == 12.5 for t in split)
    if 12.5 in have:
        assert not any(t.half for t in split)  # whole tablets always can


NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        # RULES.md leaves the window to the product: event_time_problem refuses a time more
        # than 12 h before the dose or more than 36 h after it
        (timedelta(hours=-12, seconds=-1), False),
        (timedelta(hours=-12), True),
        (timedelta(0), True),
        (timedelta(hours=36), True),
        (timedelta(hours=36, seconds=1), False),
    ],
)
def test_a_dose_can_be_marked_inside_its_window(offset: timedelta, allowed: bool) -> None:
    assert can_mark("pending", NOON, NOON + offset, withheld=False) is allowed
    assert can_mark("missed", NOON, NOON + offset, withheld=False) is allowed


@pytest.mark.parametrize("status", ["taken", "skipped", "withheld", "cancelled"])
def test_a_recorded_or_withheld_dose_is_not_offered(status: str) -> None:
    assert not can_mark(status, NOON, NOON, withheld=False)
    assert not can_mark("pending", NOON, NOON, withheld=True)


def test_the_window_is_the_event_limits() -> None:
    assert marking_window(NOON) == (NOON - timedelta(hours=12), NOON + timedelta(hours=36))
