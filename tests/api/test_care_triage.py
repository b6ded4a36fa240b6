"""What the care-team app polls and filters with (issue 16): the escalation pulse, the recently
resolved escalations with their notes, the audit trail's filters, and the alert contacts a
clinician may set."""

from __future__ import annotations

from typing import Any

from server.extensions import db
from server.models import AuditEvent, Clinic
from tests.support.clock import FakeClock
from tests.support.world import World

PULSE = "/api/escalations/pulse"


def report(world: World, symptoms: list[str], at: str = "2026-03-02T10:00:00+00:00") -> Any:
    answer = world.patient.post(
        f"/api/patients/{world.patient_id}/symptoms",
        json={"occurred_at": at, "symptoms": symptoms},
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_pulse_moves_when_an_escalation_opens_changes_or_closes(world: World) -> None:
    empty = world.clinician.get(PULSE).get_json()
    assert empty["unresolved"] == 0 and empty["new"] == []
    assert empty["waiting"] == {"emergency": 0, "urgent": 0, "routine": 0}
    same = world.clinician.get(f"{PULSE}?since={empty['version']}").get_json()
    assert same["changed"] is False and same["version"] == empty["version"]

    opened = report(world, ["seizure"])
    [escalation_id] = opened["escalation_ids"]
    after = world.clinician.get(f"{PULSE}?since={empty['version']}").get_json()
    assert after["changed"] is True
    assert after["waiting"]["emergency"] == 1
    [new] = after["new"]
    assert new["id"] == escalation_id
    assert new["patient_name"] == "Alex"
    assert new["severity"] == "emergency"
    assert new["title"] == "Seizure"

    # new evidence on the same escalation moves the version, and adds nothing to the counts
    report(world, ["seizure"], at="2026-03-02T10:05:00+00:00")
    again = world.clinician.get(f"{PULSE}?since={after['version']}").get_json()
    assert again["changed"] is True and again["unresolved"] == 1

    acknowledged = world.clinician.post(f"/api/escalations/{escalation_id}/acknowledge")
    assert acknowledged.status_code == 200
    seen = world.clinician.get(f"{PULSE}?since={again['version']}").get_json()
    assert seen["changed"] is True and seen["new"] == [] and seen["unresolved"] == 1
    assert seen["waiting"]["emergency"] == 0

    world.clinician.post(f"/api/escalations/{escalation_id}/resolve", json={"note": "Seen in A&E"})
    closed = world.clinician.get(f"{PULSE}?since={seen['version']}").get_json()
    assert closed["changed"] is True and closed["unresolved"] == 0


def test_the_pulse_is_the_clinics_own_and_the_care_teams_only(world: World) -> None:
    report(world, ["chest_pain"])
    assert world.other_clinician.get(PULSE).get_json()["unresolved"] == 0
    assert world.admin.get(PULSE).get_json()["unresolved"] == 1
    assert world.patient.get(PULSE).status_code == 403
    assert world.anonymous.get(PULSE).status_code == 401
    too_long = world.clinician.get(f"{PULSE}?since={'x' * 65}")
    assert too_long.status_code == 422
    assert "since" in too_long.get_json()["error"]["fields"]


def test_the_pulse_reads_no_patient_record(world: World) -> None:
    """Polled every few seconds by every open page: it must not fill the audit trail."""
    report(world, ["fever"])
    before = db.session.query(AuditEvent).count()
    for _ in range(3):
        assert world.clinician.get(PULSE).status_code == 200
    db.session.expire_all()
    assert db.session.query(AuditEvent).count() == before


def test_recently_resolved_escalations_carry_their_note_and_who(
    world: World, clock: FakeClock
) -> None:
    [first] = report(world, ["fever"])["escalation_ids"]
    world.clinician.post(f"/api/escalations/{first}/acknowledge")
    world.clinician.post(f"/api/escalations/{first}/resolve", json={"note": "ANC normal, phoned"})
    clock.advance(minutes=10)
    [second] = report(world, ["sore_throat"])["escalation_ids"]
    world.clinician.post(f"/api/escalations/{second}/resolve", json={"note": "Swab taken"})
    report(world, ["chest_pain"])  # still open: not listed
    answer = world.clinician.get(
        "/api/escalations?resolved_since=2026-03-01T00:00:00%2B00:00"
    ).get_json()["escalations"]
    assert [e["id"] for e in answer] == [second, first]  # the latest resolution first
    assert answer[1]["resolution_note"] == "ANC normal, phoned"
    assert answer[1]["resolved_by"] and answer[1]["acknowledged_by_id"]
    later = world.clinician.get("/api/escalations?resolved_since=2099-01-01T00:00:00%2B00:00")
    assert later.get_json()["escalations"] == []
    naive = world.clinician.get("/api/escalations?resolved_since=2026-03-01T00:00:00")
    assert naive.status_code == 422


def test_the_audit_trail_hides_the_readers_own_page_views_on_request(world: World) -> None:
    path = f"/api/patients/{world.patient_id}"
    for _ in range(3):
        world.clinician.get(path)
    world.caregiver.get(path)
    world.clinician.post(f"{path}/caregiver-invites")
    everything = world.clinician.get(f"{path}/audit").get_json()["items"]
    assert sum(e["actor_role"] == "clinician" and e["method"] == "GET" for e in everything) >= 3
    quiet = world.clinician.get(f"{path}/audit?hide_own_reads=true").get_json()["items"]
    assert not [e for e in quiet if e["actor_role"] == "clinician" and e["method"] == "GET"]
    assert any(e["actor_role"] == "caregiver" and e["method"] == "GET" for e in quiet)
    assert any(e["action"] == "caregiver.invite" for e in quiet)
    changes = world.clinician.get(f"{path}/audit?kind=changes").get_json()["items"]
    assert changes and all(e["method"] != "GET" for e in changes)
    reads = world.clinician.get(f"{path}/audit?kind=reads").get_json()["items"]
    assert reads and all(e["method"] == "GET" for e in reads)
    wrong = world.clinician.get(f"{path}/audit?kind=everything")
    assert wrong.status_code == 422 and "kind" in wrong.get_json()["error"]["fields"]


def test_a_clinician_sets_who_is_told_but_not_the_rest(world: World) -> None:
    before = world.clinician.get("/api/clinic/settings").get_json()
    body = {
        "email_recipients": ["ward7@clinic.example", "duty@clinic.example"],
        "on_call": {"name": "Duty nurse", "phone": "+44 20 7946 0000", "email": None},
    }
    answer = world.clinician.put("/api/clinic/alert-contacts", json=body)
    assert answer.status_code == 200, answer.get_json()
    after = answer.get_json()
    assert after["email_recipients"] == body["email_recipients"]
    assert after["on_call"]["name"] == "Duty nurse"
    assert after["escalation_windows_minutes"] == before["escalation_windows_minutes"]
    # the rest of the settings stay the administrator's
    refused = world.clinician.put("/api/clinic/alert-contacts", json={"webhook_url": None})
    assert refused.status_code == 422
    assert "webhook_url" in refused.get_json()["error"]["fields"]
    assert world.clinician.put("/api/clinic/settings", json={}).status_code == 403
    # the other clinic is untouched
    other = world.other_clinician.get("/api/clinic/settings").get_json()
    assert other["email_recipients"] == []


def test_bad_alert_contacts_are_refused_field_by_field_and_write_nothing(world: World) -> None:
    before = dict(db.session.query(Clinic).filter_by(name="North clinic").one().settings or {})
    answer = world.clinician.put(
        "/api/clinic/alert-contacts",
        json={
            "email_recipients": ["ok@clinic.example", "not an address"],
            "on_call": {"email": "x"},
        },
    )
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["fields"]
    assert any(key.startswith("email_recipients") for key in fields)
    assert any(key.startswith("on_call") for key in fields)
    db.session.expire_all()
    after = dict(db.session.query(Clinic).filter_by(name="North clinic").one().settings or {})
    assert after == before
    assert world.patient.put("/api/clinic/alert-contacts", json={}).status_code == 403
    assert world.caregiver.put("/api/clinic/alert-contacts", json={}).status_code == 403
