"""Lab results: ANC bands in both units, escalations, the blood-test schedule."""

from __future__ import annotations

import itertools

import pytest

from server.extensions import db
from server.models import Escalation, LabResult
from tests.support.clock import FakeClock
from tests.support.world import World, add_anc, enrol_patient

AT = "2026-11-25T09:00:00+00:00"


@pytest.mark.parametrize(
    ("value", "unit", "band", "rule", "severity"),
    [
        # RULES.md 2, general population (guideline L139-L141)
        (1500, "cells/uL", "normal", None, None),
        (1499, "cells/uL", "mild", "anc_mild", "urgent"),
        (1000, "cells/uL", "mild", "anc_mild", "urgent"),
        (999, "cells/uL", "moderate", "anc_moderate", "urgent"),
        (500, "cells/uL", "moderate", "anc_moderate", "urgent"),
        (499, "cells/uL", "severe", "anc_severe", "emergency"),
        (1.5, "10^9/L", "normal", None, None),
        (1.499, "10^9/L", "mild", "anc_mild", "urgent"),
        (0.999, "10^9/L", "moderate", "anc_moderate", "urgent"),
        (0.499, "10^9/L", "severe", "anc_severe", "emergency"),
    ],
)
def test_anc_is_banded_and_low_bands_escalate(
    world: World, value: float, unit: str, band: str, rule: str | None, severity: str | None
) -> None:
    response = add_anc(world.clinician, world.patient_id, value, AT, unit)
    assert response.status_code == 201, response.get_json()
    interpretation = response.get_json()["interpretation"]
    assert interpretation["band"] == band
    assert interpretation["next_test_due"]
    assert interpretation["confirm_within_24h"] is (band != "normal")
    escalations = db.session.query(Escalation).all()
    assert [(e.rule, e.severity) for e in escalations] == ([(rule, severity)] if rule else [])


def test_benign_ethnic_neutropenia_uses_its_own_table(world: World) -> None:
    from tests.support.world import enrol_patient

    ben = enrol_patient(world.clinician, "Ben", ben=True)
    assert (
        add_anc(world.clinician, ben["id"], 1000, AT).get_json()["interpretation"]["band"]
        == "normal"
    )
    assert (
        add_anc(world.clinician, ben["id"], 999, AT).get_json()["interpretation"]["band"] == "mild"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"test": "anc", "value": -1, "unit": "cells/uL"}, "value"),
        ({"test": "anc", "value": 100001, "unit": "cells/uL"}, "value"),
        ({"test": "anc", "value": 1500, "unit": "cells/mL"}, "unit"),
        ({"test": "anc", "value": "lots", "unit": "cells/uL"}, "value"),
        ({"test": "platelets", "value": 200, "unit": "10^9/L"}, "test"),
        (
            {
                "test": "anc",
                "value": 1500,
                "unit": "cells/uL",
                "collected_at": "2026-11-26T09:00:00Z",
            },
            "collected_at",
        ),
        (
            {
                "test": "anc",
                "value": 1500,
                "unit": "cells/uL",
                "collected_at": "2026-11-25T09:00:00",
            },
            "collected_at",
        ),
    ],
)
def test_bad_results_are_422_naming_the_field_and_write_nothing(
    world: World, body: dict, field: str
) -> None:
    body = {"collected_at": AT, **body}
    response = world.clinician.post(f"/api/patients/{world.patient_id}/lab-results", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(LabResult).count() == 0


def test_a_patients_own_copy_is_marked_as_theirs(world: World) -> None:
    response = add_anc(world.patient, world.patient_id, 1800, AT)
    assert response.status_code == 201
    assert response.get_json()["source"] == "patient"
    assert add_anc(world.caregiver, world.patient_id, 1800, AT).get_json()["source"] == "caregiver"


def test_blood_tests_move_from_upcoming_to_due_to_overdue(world: World, clock: FakeClock) -> None:
    add_anc(world.clinician, world.patient_id, 2000, AT)
    path = f"/api/patients/{world.patient_id}/blood-tests"
    anc = next(t for t in world.clinician.get(path).get_json()["upcoming"] if t["test"] == "anc")
    assert anc["status"] == "upcoming"
    assert anc["due_date"] == "2026-12-02"  # weekly in weeks 1-26 (started 2026-11-01)
    clock.set(clock.now.replace(month=12, day=2))
    world.patient.get("/api/me")
    anc = next(t for t in world.patient.get(path).get_json()["upcoming"] if t["test"] == "anc")
    assert anc["status"] == "due"
    clock.set(clock.now.replace(day=3))
    body = world.patient.get(path).get_json()
    anc = next(t for t in body["upcoming"] if t["test"] == "anc")
    assert anc["status"] == "overdue"
    assert body["history"][0]["band"] == "normal"


# --- the band edges the care team's chart draws (RULES.md 2) --------------------------------

# (min_cells_per_ul, band, traffic_light), highest first
GENERAL_EDGES = [(1500, "normal", None), (1000, "mild", None), (500, "moderate", None)]
GENERAL_EDGES += [(0, "severe", None)]  # RULES.md 2, general table (lines 31-34)
BEN_EDGES = [(1000, "normal", None), (500, "mild", None), (0, "severe", None)]  # lines 40-42
# lines 46-49: neutrophils >= 2.0 green, 1.5-2.0 amber, < 1.5 red; UK BEN cut-offs not encoded
UK_EDGES = [(2000, "normal", "green"), (1500, "mild", "amber"), (0, "severe", "red")]


def edges_of(summary: dict) -> list[tuple]:
    return [
        (e["min_cells_per_ul"], e["band"], e["traffic_light"]) for e in summary["anc_band_edges"]
    ]


@pytest.mark.parametrize(
    ("profile", "ben", "expected"),
    [
        ("guideline", False, GENERAL_EDGES),
        ("guideline", True, BEN_EDGES),
        ("us-label-2025", False, GENERAL_EDGES),
        ("us-label-2025", True, BEN_EDGES),
        ("uk-smpc", False, UK_EDGES),
        ("uk-smpc", True, UK_EDGES),
    ],
)
def test_the_summary_carries_the_band_edges_results_are_read_with(
    world: World, profile: str, ben: bool, expected: list[tuple]
) -> None:
    settings = world.admin.put("/api/clinic/settings", json={"monitoring_profile": profile})
    assert settings.status_code == 200, settings.get_json()
    patient_id = enrol_patient(world.clinician, "Robin", ben=ben)["id"]
    summary = world.clinician.get(f"/api/patients/{patient_id}").get_json()
    assert edges_of(summary) == expected
    listed = world.clinician.get("/api/patients").get_json()["items"]
    assert [edges_of(p) for p in listed if p["id"] == patient_id] == [expected]
    # the profile is the clinic's: the other clinic's patient keeps the guideline's lines
    other = world.other_clinician.get(f"/api/patients/{world.other_patient_id}").get_json()
    assert edges_of(other) == GENERAL_EDGES
    # each edge is where the server's own reading of a result changes band
    minute = 0
    for (cells, band, light), (_, below, below_light) in itertools.pairwise(expected):
        for value, want in ((cells, (band, light)), (cells - 1, (below, below_light))):
            minute += 1
            at = f"2026-11-25T08:{minute:02d}:00+00:00"
            response = add_anc(world.clinician, patient_id, value, at)
            assert response.status_code == 201, response.get_json()
            reading = response.get_json()["interpretation"]
            assert (reading["band"], reading["traffic_light"]) == want, value


def test_a_change_of_profile_moves_the_edges(world: World) -> None:
    path = f"/api/patients/{world.patient_id}"
    assert edges_of(world.clinician.get(path).get_json()) == GENERAL_EDGES
    assert edges_of(world.patient.get(path).get_json()) == GENERAL_EDGES
    settings = world.admin.put("/api/clinic/settings", json={"monitoring_profile": "uk-smpc"})
    assert settings.status_code == 200, settings.get_json()
    assert edges_of(world.clinician.get(path).get_json()) == UK_EDGES
