"""Bowel movements, symptom reports with red flags and escalations, weights."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import BowelMovement, Escalation, SymptomReport
from tests.support.world import World

NOW = "2026-11-25T11:00:00+00:00"


def post_bm(world: World, body: dict, client=None, key: str | None = None):
    client = client or world.patient
    headers = {"Idempotency-Key": key} if key else None
    return client.post(
        f"/api/patients/{world.patient_id}/bowel-movements", json=body, headers=headers
    )


def post_symptoms(world: World, body: dict, client=None):
    client = client or world.patient
    return client.post(f"/api/patients/{world.patient_id}/symptoms", json=body)


def test_a_bowel_movement_is_logged_and_listed_newest_first(world: World) -> None:
    assert (
        post_bm(world, {"occurred_at": "2026-11-24T08:00:00+00:00", "bristol_type": 2}).status_code
        == 201
    )
    made = post_bm(world, {"occurred_at": NOW, "bristol_type": 4, "notes": "fine"}, world.caregiver)
    assert made.status_code == 201
    items = world.clinician.get(f"/api/patients/{world.patient_id}/bowel-movements").get_json()[
        "items"
    ]
    assert [i["bristol_type"] for i in items] == [4, 2]
    summary = world.patient.get(f"/api/patients/{world.patient_id}").get_json()
    assert summary["status"]["last_bowel_movement_at"] == NOW


def _summaries(world: World) -> tuple[str | None, str | None]:
    from server.models import PatientState

    db.session.expire_all()
    state = db.session.get(PatientState, world.patient_id)
    assert state is not None
    return (
        state.last_bowel_movement_at and state.last_bowel_movement_at.isoformat(),
        state.third_last_bowel_movement_at and state.third_last_bowel_movement_at.isoformat(),
    )


def test_the_summaries_follow_the_diary_whatever_order_entries_arrive_in(world: World) -> None:
    """The last and third-last movements (the 72-hour and 7-day rules run from them) follow
    the diary as entries arrive; a phone's older entry, synced late, moves neither forward."""
    times = ["2026-11-25T06:00:00+00:00", "2026-11-23T06:00:00+00:00"]
    for at in times:
        assert post_bm(world, {"occurred_at": at, "bristol_type": 4}).status_code == 201
    assert _summaries(world) == (times[0], None)
    late = "2026-11-24T06:00:00+00:00"  # made offline yesterday, synced now
    assert post_bm(world, {"occurred_at": late, "bristol_type": 4}).status_code == 201
    assert _summaries(world) == (times[0], times[1])
    older = "2026-11-20T06:00:00+00:00"
    made = post_bm(world, {"occurred_at": older, "bristol_type": 4}, world.caregiver)
    assert made.status_code == 201
    assert _summaries(world) == (times[0], times[1])
    assert post_bm(world, {"occurred_at": NOW, "bristol_type": 4}).status_code == 201
    assert _summaries(world) == (NOW, late)


def test_a_patient_without_a_summary_row_gets_one_with_the_first_entry(world: World) -> None:
    from sqlalchemy import delete

    from server.models import PatientState

    db.session.execute(delete(PatientState).where(PatientState.patient_id == world.patient_id))
    db.session.commit()
    assert post_bm(world, {"occurred_at": NOW, "bristol_type": 4}).status_code == 201
    db.session.expire_all()
    state = db.session.get(PatientState, world.patient_id)
    assert state is not None
    assert state.treatment_status == "not_started" and state.tracking_since is not None
    assert _summaries(world) == (NOW, None)


def test_the_same_idempotency_key_logs_once(world: World) -> None:
    body = {"occurred_at": NOW, "bristol_type": 3}
    first = post_bm(world, body, key="outbox-1")
    second = post_bm(world, body, key="outbox-1")
    assert first.get_json() == second.get_json()
    assert db.session.query(BowelMovement).count() == 1


def test_since_keeps_only_newer_entries(world: World, clock) -> None:
    post_bm(world, {"occurred_at": "2026-11-24T08:00:00+00:00", "bristol_type": 2})
    clock.advance(minutes=10)
    post_bm(world, {"occurred_at": "2026-11-25T12:05:00+00:00", "bristol_type": 5})
    items = world.patient.get(
        f"/api/patients/{world.patient_id}/bowel-movements?since=2026-11-25T12:05:00%2B00:00"
    ).get_json()["items"]
    assert [i["bristol_type"] for i in items] == [5]
    naive = world.patient.get(
        f"/api/patients/{world.patient_id}/bowel-movements?since=2026-11-25T12:05:00"
    )
    assert naive.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occurred_at": NOW, "bristol_type": 0}, "bristol_type"),
        ({"occurred_at": NOW, "bristol_type": 8}, "bristol_type"),
        ({"occurred_at": NOW, "bristol_type": "3"}, "bristol_type"),
        ({"occurred_at": NOW, "bristol_type": 3.5}, "bristol_type"),
        ({"occurred_at": "2026-11-25T13:00:00+00:00", "bristol_type": 3}, "occurred_at"),
        ({"occurred_at": "2026-11-25T11:00:00", "bristol_type": 3}, "occurred_at"),
        ({"occurred_at": "2024-01-01T11:00:00+00:00", "bristol_type": 3}, "occurred_at"),
        ({"bristol_type": 3}, "occurred_at"),
    ],
)
def test_bad_bowel_movements_are_422_and_write_nothing(
    world: World, body: dict, field: str
) -> None:
    response = post_bm(world, body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(BowelMovement).count() == 0


def test_the_care_team_reads_diaries_but_does_not_write_them(world: World) -> None:
    assert (
        post_bm(world, {"occurred_at": NOW, "bristol_type": 4}, world.clinician).status_code == 403
    )


def test_a_fever_report_returns_advice_and_opens_one_escalation(world: World) -> None:
    response = post_symptoms(
        world, {"occurred_at": NOW, "symptoms": ["sore_throat"], "temperature_c": 38.0}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    rules = {flag["rule"]: flag for flag in body["red_flags"]}
    assert set(rules) == {"fever", "sore_throat"}
    assert rules["fever"]["severity"] == "urgent"
    assert len(rules["fever"]["advice"]) > 40 and rules["fever"]["title"]
    assert len(body["escalation_ids"]) == 2
    listed = world.clinician.get("/api/escalations?status=open").get_json()["escalations"]
    assert {e["rule"] for e in listed} == {"fever", "sore_throat"}
    assert all(e["patient_id"] == world.patient_id for e in listed)
    # another clinic sees none of it
    assert world.other_clinician.get("/api/escalations").get_json()["escalations"] == []
    # the patient's own summary shows the open red flags with their advice
    flags = world.patient.get(f"/api/patients/{world.patient_id}").get_json()["open_red_flags"]
    assert {f["rule"] for f in flags} == {"fever", "sore_throat"}


def test_37_9_without_reported_fever_raises_nothing(world: World) -> None:
    body = post_symptoms(
        world, {"occurred_at": NOW, "symptoms": ["sedation"], "temperature_c": 37.9}
    ).get_json()
    assert body["red_flags"] == [] and body["escalation_ids"] == []
    assert db.session.query(Escalation).count() == 0


def test_a_repeat_adds_to_the_open_escalation(world: World) -> None:
    first = post_symptoms(world, {"occurred_at": NOW, "symptoms": ["fever"]}).get_json()
    second = post_symptoms(
        world, {"occurred_at": NOW, "symptoms": ["fever"]}, world.caregiver
    ).get_json()
    assert first["escalation_ids"] == second["escalation_ids"]
    escalation = db.session.query(Escalation).one()
    assert len(escalation.evidence) == 2


def test_emergencies_come_first(world: World) -> None:
    body = post_symptoms(
        world, {"occurred_at": NOW, "symptoms": ["fever", "chest_pain"]}
    ).get_json()
    assert body["red_flags"][0]["rule"] == "chest_pain"
    assert body["red_flags"][0]["severity"] == "emergency"
    assert body["red_flags"][0]["call_now"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occurred_at": NOW, "symptoms": ["itchy_elbow"]}, "symptoms[0]"),
        ({"occurred_at": NOW, "symptoms": []}, "symptoms"),
        # a temperature alone that cannot be right (RULES.md 7: refused on its own field; with
        # symptoms ticked they are still recorded: tests/api/test_signals.py)
        ({"occurred_at": NOW, "symptoms": [], "temperature_c": 50}, "temperature_c"),
        # not a number at all: a malformed request, refused whole
        ({"occurred_at": NOW, "symptoms": ["fever"], "temperature_c": "hot"}, "temperature_c"),
        ({"occurred_at": "2026-11-26T11:00:00+00:00", "symptoms": ["fever"]}, "occurred_at"),
    ],
)
def test_bad_symptom_reports_are_422_and_write_nothing(
    world: World, body: dict, field: str
) -> None:
    response = post_symptoms(world, body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert db.session.query(SymptomReport).count() == 0
    assert db.session.query(Escalation).count() == 0


def test_escalations_are_acknowledged_and_resolved_by_the_clinic(world: World) -> None:
    escalation_id = post_symptoms(world, {"occurred_at": NOW, "symptoms": ["fever"]}).get_json()[
        "escalation_ids"
    ][0]
    assert (
        world.other_clinician.post(f"/api/escalations/{escalation_id}/acknowledge").status_code
        == 404
    )
    assert world.patient.post(f"/api/escalations/{escalation_id}/acknowledge").status_code == 403
    ack = world.clinician.post(f"/api/escalations/{escalation_id}/acknowledge")
    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    assert (
        world.clinician.post(f"/api/escalations/{escalation_id}/resolve", json={}).status_code
        == 422
    )
    done = world.clinician.post(
        f"/api/escalations/{escalation_id}/resolve", json={"note": "Seen, FBC normal"}
    )
    assert done.get_json()["status"] == "resolved"
    assert (
        world.clinician.post(
            f"/api/escalations/{escalation_id}/resolve", json={"note": "x"}
        ).status_code
        == 409
    )
    # resolved: a new report opens a new one
    again = post_symptoms(world, {"occurred_at": NOW, "symptoms": ["fever"]}).get_json()
    assert again["escalation_ids"] != [escalation_id]


def test_weights_are_recorded(world: World) -> None:
    path = f"/api/patients/{world.patient_id}/weights"
    assert world.patient.post(path, json={"measured_at": NOW, "kg": 81.5}).status_code == 201
    assert world.patient.post(path, json={"measured_at": NOW, "kg": 5}).status_code == 422
    assert world.clinician.get(path).get_json()["items"][0]["kg"] == 81.5


def test_escalations_carry_the_patient_the_title_and_who_acted(world: World) -> None:
    escalation_id = post_symptoms(
        world, {"occurred_at": NOW, "symptoms": ["chest_pain"]}
    ).get_json()["escalation_ids"][0]
    world.clinician.post(f"/api/escalations/{escalation_id}/acknowledge")
    [item] = world.clinician.get("/api/escalations?status=unresolved").get_json()["escalations"]
    assert item["patient_name"] == "Alex"
    assert item["title"] and item["clinician_advice"]
    assert item["acknowledged_by"] == "dr.north"
    assert world.clinician.get("/api/escalations?status=open").get_json()["escalations"] == []
    # the list of symptom reports gives red flags in the same shape as the report's answer
    listed = world.patient.get(f"/api/patients/{world.patient_id}/symptoms").get_json()["items"]
    assert listed[0]["red_flags"][0]["advice_code"] == "chest_pain"
    assert len(listed[0]["red_flags"][0]["advice"]) > 20
