"""A dose as tablets: how many of which strength make it (RULES.md 1 "Doses are multiples of
12.5 mg (tablets 12.5/25/50/100/200 mg)").

Which tablets a patient has is the clinic's choice (per patient); the split is ours:

- whole tablets first, as few as possible (the strengths are 1, 2, 4, 8 and 16 times 12.5 mg,
  so taking the largest that fits, again and again, is the fewest tablets);
- only when whole tablets cannot make the dose, one half tablet (never of a 12.5 mg tablet,
  whose half is below the smallest dose step), with as few whole tablets as possible beside it;
- never more than one half tablet in a dose, and nothing when the tablets cannot make it
  (the patient is told to ask the care team rather than shown a guess).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

STEP_MG: Final = 12.5
TABLET_STRENGTHS_MG: Final = (12.5, 25.0, 50.0, 100.0, 200.0)
# the smallest tablet that may be halved (a half of 12.5 mg is not a dose step)
HALVES_FROM_MG: Final = 25.0


@dataclass(frozen=True)
class Tablets:
    """`whole` tablets of one strength, and `half` a tablet more of it."""

    strength_mg: float
    whole: int
    half: bool = False


def _units(mg: float) -> int | None:
    """A dose in 12.5 mg steps, or None when it is not a whole number of steps."""
    steps = mg / STEP_MG
    return round(steps) if abs(steps - round(steps)) < 1e-9 else None


def _largest_first(units: int, strengths: list[int]) -> dict[int, int] | None:
    """Whole tablets (strengths in 12.5 mg steps, largest first) that make `units` exactly."""
    counts: dict[int, int] = {}
    left = units
    for strength in strengths:
        if left >= strength:
            counts[strength], left = divmod(left, strength)
    return counts if left == 0 else None


def split_dose(mg: float, strengths_mg: Iterable[float]) -> tuple[Tablets, ...] | None:
    """The tablets that make a dose of `mg` from the strengths the patient has, largest
    strength first; () for a dose of 0 mg; None when they cannot make it."""
    units = _units(mg)
    have = sorted(
        {u for s in strengths_mg if s in TABLET_STRENGTHS_MG and (u := _units(s))}, reverse=True
    )
    if units is None or units < 0 or not have:
        return None
    if units == 0:
        return ()
    whole = _largest_first(units, have)
    half_of: int | None = None
    if whole is None:
        best: tuple[int, int, dict[int, int]] | None = None
        for strength in have:
            if strength * STEP_MG < HALVES_FROM_MG or units * 2 < strength:
                continue
            rest = _largest_first(units - strength // 2, have)
            if rest is None:
                continue
            # the fewest pieces, then the larger tablet halved (fewer tablets to count)
            key = (sum(rest.values()) + 1, -strength)
            if best is None or key < best[:2]:
                best = (key[0], key[1], rest)
        if best is None:
            return None
        half_of, whole = -best[1], best[2]
    parts = set(whole) | ({half_of} if half_of else set())
    return tuple(
        Tablets(strength * STEP_MG, whole.get(strength, 0), strength == half_of)
        for strength in sorted(parts, reverse=True)
    )
