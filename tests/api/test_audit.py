"""The audit trail: every read and write of patient data, append-only, for the care team."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from server.extensions import db
from server.models import AuditEvent, BowelMovement
from tests.support.world import World


def test_reads_and_writes_are_recorded_with_who_what_when_where(world: World) -> None:
    world.caregiver.get(f"/api/patients/{world.patient_id}")
    world.patient.post(f"/api/patients/{world.patient_id}/caregiver-invites")
    trail = world.clinician.get(f"/api/patients/{world.patient_id}/audit").get_json()["items"]
    actions = [(e["actor_role"], e["action"], e["method"], e["status"]) for e in trail]
    assert ("caregiver", "patient.read", "GET", 200) in actions
    assert ("patient", "caregiver.invite", "POST", 201) in actions
    assert ("clinician", "patients.enrol", "POST", 201) in actions
    assert all(e["address"] == "127.0.0.1" and e["at"] for e in trail)
    assert all(e["patient_id"] == world.patient_id for e in trail)


def test_refused_attempts_are_recorded_too(world: World) -> None:
    world.caregiver.get(f"/api/patients/{world.patient_id}/audit")  # 403: caregivers may not
    trail = world.clinician.get(f"/api/patients/{world.patient_id}/audit").get_json()["items"]
    assert any(e["actor_role"] == "caregiver" and e["status"] == 403 for e in trail)


def test_the_trail_is_only_for_the_patients_own_care_team(world: World) -> None:
    assert world.other_clinician.get(f"/api/patients/{world.patient_id}/audit").status_code == 404
    assert world.patient.get(f"/api/patients/{world.patient_id}/audit").status_code == 403


def test_the_trail_pages_backwards(world: World) -> None:
    for _ in range(5):
        world.caregiver.get(f"/api/patients/{world.patient_id}")
    first = world.clinician.get(f"/api/patients/{world.patient_id}/audit?limit=2").get_json()
    assert len(first["items"]) == 2
    older = world.clinician.get(
        f"/api/patients/{world.patient_id}/audit?limit=2&before_id={first['items'][-1]['id']}"
    ).get_json()
    assert older["items"][0]["id"] < first["items"][-1]["id"]


def test_audit_events_cannot_be_changed_or_deleted(world: World) -> None:
    event = db.session.query(AuditEvent).first()
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    # nor behind the ORM's back: the database refuses too
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.query(AuditEvent).filter(AuditEvent.action == "x").count() == 0


def _events(action: str) -> list[tuple[str, int | None]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()
    return [(e.method, e.status) for e in rows]


def test_a_logged_entry_and_its_audit_event_are_one_commit(world: World) -> None:
    transactions: list[tuple[set[str], list[str]]] = []  # per transaction: tables written, end

    def began(connection: object) -> None:
        transactions.append((set(), []))

    def ended(outcome: str):
        def listener(connection: object) -> None:
            transactions[-1][1].append(outcome)

        return listener

    def wrote(conn: object, cursor: object, statement: str, *args: object) -> None:
        words = statement.split()
        if words[0] in ("INSERT", "UPDATE", "DELETE") and transactions:
            transactions[-1][0].add(words[2] if words[0] != "UPDATE" else words[1])

    path = f"/api/patients/{world.patient_id}/bowel-movements"
    body = {"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4}
    db.session.rollback()  # the requests share the test's session: start them afresh
    listeners = [
        ("begin", began),
        ("commit", ended("commit")),
        ("rollback", ended("rollback")),
        ("before_cursor_execute", wrote),
    ]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        first = world.patient.post(path, json=body, headers={"Idempotency-Key": "one-commit"})
        replay = world.patient.post(path, json=body, headers={"Idempotency-Key": "one-commit"})
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)
    assert first.status_code == 201 and replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    # one writing commit per request: the entry with its audit event, then the replay's audit
    # event (the replay's own work ran and was rolled back when its key was found taken)
    written = [(tables, ends) for tables, ends in transactions if tables]
    assert written == [
        ({"bowel_movement", "patient_state", "idempotency_record", "audit_event"}, ["commit"]),
        ({"bowel_movement", "patient_state", "idempotency_record"}, ["rollback"]),
        ({"audit_event"}, ["commit"]),
    ]
    assert _events("bowel_movements.write") == [("POST", 201), ("POST", 201)]
    assert db.session.scalar(select(func.count()).select_from(BowelMovement)) == 1


def test_a_write_refused_inside_the_use_case_is_recorded_with_its_status(world: World) -> None:
    path = f"/api/patients/{world.patient_id}/bowel-movements"
    future = {"occurred_at": "2026-11-26T12:00:00+00:00", "bristol_type": 4}
    assert world.patient.post(path, json=future).status_code == 422
    taken = {"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4}
    assert world.patient.post(path, json=taken, headers={"Idempotency-Key": "k"}).status_code == 201
    other = {"occurred_at": "2026-11-25T09:00:00+00:00", "bristol_type": 5}
    assert world.patient.post(path, json=other, headers={"Idempotency-Key": "k"}).status_code == 409
    assert _events("bowel_movements.write") == [("POST", 422), ("POST", 201), ("POST", 409)]
    assert db.session.scalar(select(func.count()).select_from(BowelMovement)) == 1
