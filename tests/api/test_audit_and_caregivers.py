"""Every patient a list showed is audited, and so are calendar reads and activations; a patient
and their clinician see, remove and cancel caregivers and invites (issue 17)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, BowelMovement, OutboxMessage
from tests.conftest import START
from tests.support.world import World, activate, enrol_patient

NOW = "2026-11-25T11:00:00+00:00"


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_the_patient_list_records_each_patient_it_showed(world: World) -> None:
    third = enrol_patient(world.clinician, "Cleo")
    before = len(events("patients.list"))
    listed = world.clinician.get("/api/patients").get_json()["items"]
    rows = events("patients.list")[before:]
    assert sorted(r.patient_id for r in rows) == sorted(p["id"] for p in listed)
    assert {world.patient_id, third["id"]} <= {r.patient_id for r in rows}
    assert world.other_patient_id not in {r.patient_id for r in rows}
    assert all(r.actor_role == "clinician" and r.status == 200 for r in rows)
    # and the patient's own trail shows the read
    trail = world.clinician.get(f"/api/patients/{third['id']}/audit").get_json()["items"]
    assert any(e["action"] == "patients.list" for e in trail)


def test_the_escalation_list_records_each_patient_it_showed(world: World) -> None:
    for client, patient_id in ((world.patient, world.patient_id),):
        client.post(
            f"/api/patients/{patient_id}/symptoms",
            json={"occurred_at": NOW, "symptoms": ["fever"], "temperature_c": 38.6},
        )
    before = len(events("escalations.list"))
    shown = world.clinician.get("/api/escalations?status=open").get_json()["escalations"]
    assert shown
    rows = events("escalations.list")[before:]
    assert sorted(r.patient_id for r in rows) == sorted({e["patient_id"] for e in shown})


def test_a_list_that_shows_nobody_is_still_recorded_once(world: World) -> None:
    before = len(events("escalations.list"))
    assert world.other_clinician.get("/api/escalations").get_json()["escalations"] == []
    rows = events("escalations.list")[before:]
    assert [(r.patient_id, r.status) for r in rows] == [(None, 200)]


def test_calendar_reads_are_audited_without_the_secret(world: World) -> None:
    url = world.patient.post(f"/api/patients/{world.patient_id}/calendar-feed").get_json()["url"]
    path = urlsplit(url).path
    assert world.app.test_client().get(path).status_code == 200
    rows = events("calendar_feed.read")
    assert [(r.patient_id, r.actor_id, r.actor_role, r.status) for r in rows] == [
        (world.patient_id, None, "calendar_feed", 200)
    ]
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in rows[0].path


def test_activations_and_accepted_invites_are_audited(world: World) -> None:
    activations = events("accounts.activate")
    # the world's patient and caregiver logins were made by activation
    assert {(r.patient_id, r.actor_role) for r in activations} >= {
        (world.patient_id, "patient"),
        (world.patient_id, "caregiver"),
    }
    second = enrol_patient(world.clinician, "Pip")
    code = world.clinician.post(f"/api/patients/{second['id']}/caregiver-invites").get_json()
    world.caregiver.post("/api/caregiver-invites/accept", json={"code": code["code"]})
    accepted = events("caregiver.accept_invite")
    assert [(r.patient_id, r.actor_id, r.status) for r in accepted] == [
        (second["id"], world.caregiver.user["id"], 201)
    ]


def test_a_patient_lists_removes_and_cancels_caregivers_and_invites(world: World) -> None:
    base = f"/api/patients/{world.patient_id}"
    invite = world.patient.post(f"{base}/caregiver-invites").get_json()
    listed = world.patient.get(f"{base}/caregivers").get_json()
    assert [c["email"] for c in listed["caregivers"]] == ["sam@example.org"]
    assert len(listed["invites"]) == 1
    invite_id = listed["invites"][0]["id"]
    # cancel the invite: its code stops working
    assert world.patient.delete(f"{base}/caregiver-invites/{invite_id}").status_code == 204
    assert activate(world.app, invite["code"], "late@example.org").status_code == 422
    assert world.patient.get(f"{base}/caregivers").get_json()["invites"] == []
    assert world.patient.delete(f"{base}/caregiver-invites/{invite_id}").status_code == 404
    # remove the caregiver: their access ends at once, and what was queued for them
    sam = listed["caregivers"][0]["id"]
    queued = OutboxMessage(
        dedupe_key="dose-followup:test",
        kind="dose",
        recipient_user_id=sam,
        patient_id=world.patient_id,
        payload={},
        due_at=START,
        next_attempt_at=START,
        status="pending",
        created_at=START,
    )
    db.session.add(queued)
    db.session.commit()
    assert world.caregiver.get(base).status_code == 200
    assert world.patient.delete(f"{base}/caregivers/{sam}").status_code == 204
    assert world.caregiver.get(base).status_code == 404
    db.session.expire_all()
    assert db.session.get(OutboxMessage, queued.id).status == "cancelled"
    refused = world.caregiver.post(
        f"{base}/bowel-movements", json={"occurred_at": NOW, "bristol_type": 4}
    )
    assert refused.status_code == 404
    assert world.patient.get(f"{base}/caregivers").get_json()["caregivers"] == []
    assert world.patient.delete(f"{base}/caregivers/{sam}").status_code == 404
    trail = world.clinician.get(f"{base}/audit").get_json()["items"]
    assert ("caregivers.remove", 204) in {(e["action"], e["status"]) for e in trail}


def test_the_clinician_manages_caregivers_too_and_others_cannot(world: World) -> None:
    base = f"/api/patients/{world.patient_id}"
    assert world.clinician.get(f"{base}/caregivers").status_code == 200
    assert world.other_clinician.get(f"{base}/caregivers").status_code == 404
    assert world.caregiver.get(f"{base}/caregivers").status_code == 403
    sam = world.caregiver.user["id"]
    assert world.caregiver.delete(f"{base}/caregivers/{sam}").status_code == 403
    assert world.other_clinician.delete(f"{base}/caregivers/{sam}").status_code == 404
    assert world.clinician.delete(f"{base}/caregivers/{sam}").status_code == 204


def test_at_most_five_open_invites_per_patient(world: World) -> None:
    base = f"/api/patients/{world.patient_id}"
    statuses = [world.patient.post(f"{base}/caregiver-invites").status_code for _ in range(5)]
    assert statuses == [201] * 5
    sixth = world.clinician.post(f"{base}/caregiver-invites")
    assert sixth.status_code == 409
    assert sixth.get_json()["error"]["code"] == "too_many_invites"
    assert len(world.patient.get(f"{base}/caregivers").get_json()["invites"]) == 5
    first = world.patient.get(f"{base}/caregivers").get_json()["invites"][0]["id"]
    world.patient.delete(f"{base}/caregiver-invites/{first}")
    assert world.patient.post(f"{base}/caregiver-invites").status_code == 201


def test_an_idempotency_key_reused_for_another_patient_makes_that_patients_entry(
    world: World,
) -> None:
    second = enrol_patient(world.clinician, "Pip")
    code = world.clinician.post(f"/api/patients/{second['id']}/caregiver-invites").get_json()
    world.caregiver.post("/api/caregiver-invites/accept", json={"code": code["code"]})
    body = {"occurred_at": NOW, "bristol_type": 4}
    headers = {"Idempotency-Key": "same-key-1"}
    for patient_id in (world.patient_id, second["id"], second["id"]):
        response = world.caregiver.post(
            f"/api/patients/{patient_id}/bowel-movements", json=body, headers=headers
        )
        assert response.status_code == 201
    stored = db.session.scalars(select(BowelMovement.patient_id)).all()
    assert sorted(stored) == sorted([world.patient_id, second["id"]])
