"""Enrolment, one-time activation codes, caregiver invites and password rules."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select, text

from server.extensions import db
from server.models import ActivationCode, CaregiverLink, User
from tests.support.clock import FakeClock
from tests.support.world import PASSWORD, ApiClient, World, activate, enrol_patient


def users(app: Flask) -> int:
    return db.session.query(User).count()


def test_enrolment_code_makes_the_patients_login(world: World) -> None:
    created = enrol_patient(world.clinician, "Jo", timezone="America/New_York")
    assert created["timezone"] == "America/New_York"
    code = created["activation_code"]
    response = activate(world.app, code, "jo@example.org", "Jo")
    assert response.status_code == 201
    assert response.get_json()["role"] == "patient"
    assert response.get_json()["patient_id"] == created["id"]
    jo = ApiClient(world.app, "jo@example.org")
    assert [p["id"] for p in jo.get("/api/patients").get_json()["items"]] == [created["id"]]


def test_codes_are_single_use_and_stored_only_as_a_hash(world: World) -> None:
    created = enrol_patient(world.clinician, "Kim")
    code = created["activation_code"]
    stored = db.session.execute(text("SELECT code_hash FROM activation_code")).scalars().all()
    assert all(code.replace("-", "") not in value for value in stored)
    assert all(len(value) == 64 for value in stored)
    assert activate(world.app, code, "kim@example.org").status_code == 201
    again = activate(world.app, code, "kim2@example.org")
    assert again.status_code == 422
    assert "code" in again.get_json()["error"]["fields"]


def test_codes_are_accepted_in_lower_case_and_without_dashes(world: World) -> None:
    code = enrol_patient(world.clinician, "Lee")["activation_code"]
    assert activate(world.app, code.replace("-", " ").lower(), "lee@example.org").status_code == 201


def test_expired_codes_are_refused_and_write_nothing(world: World, clock: FakeClock) -> None:
    code = enrol_patient(world.clinician, "Max")["activation_code"]
    clock.advance(days=world.app.config["ACTIVATION_CODE_DAYS"], seconds=1)
    before = users(world.app)
    response = activate(world.app, code, "max@example.org")
    assert response.status_code == 422
    assert users(world.app) == before


def test_weak_passwords_are_refused_and_write_nothing(world: World) -> None:
    code = enrol_patient(world.clinician, "Noa")["activation_code"]
    before = users(world.app)
    for weak in ("short", "password123", "aaaaaaaaaaaa", "noa@example.org"):
        response = world.anonymous.post(
            "/api/activate",
            json={"code": code, "email": "noa@example.org", "password": weak, "display_name": "N"},
        )
        assert response.status_code == 422, weak
        assert "password" in response.get_json()["error"]["fields"]
    assert users(world.app) == before
    # the code was not used up by the refusals
    assert activate(world.app, code, "noa@example.org").status_code == 201


def test_passwords_are_hashed_with_argon2id(world: World) -> None:
    stored = db.session.scalar(select(User.password_hash).where(User.email == "alex@example.org"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_an_email_in_use_gets_the_same_answer_and_makes_nothing(world: World) -> None:
    """No oracle: whether an email has an account cannot be learnt from activation."""
    taken = enrol_patient(world.clinician, "Ola")
    free = enrol_patient(world.clinician, "Oli")
    before = users(world.app)
    in_use = activate(world.app, taken["activation_code"], "alex@example.org")
    assert users(world.app) == before
    made = activate(world.app, free["activation_code"], "oli@example.org")
    assert in_use.status_code == made.status_code == 201
    assert set(in_use.get_json()) == set(made.get_json()) == {"role", "email", "patient_id"}
    assert in_use.get_json()["patient_id"] == taken["id"]
    # nothing was made and the code is still good for the patient's own new email
    assert (
        ApiClient(world.app)
        .post("/api/session", json={"email": "alex@example.org", "password": PASSWORD})
        .get_json()["user"]["patient_id"]
        == world.patient_id
    )
    assert activate(world.app, taken["activation_code"], "ola@example.org").status_code == 201


def test_caregivers_see_only_their_linked_patients(world: World) -> None:
    patients = world.caregiver.get("/api/patients").get_json()["items"]
    assert [p["id"] for p in patients] == [world.patient_id]
    assert world.caregiver.get(f"/api/patients/{world.patient_id}").status_code == 200
    assert world.caregiver.get(f"/api/patients/{world.other_patient_id}").status_code == 404


def test_a_caregiver_can_care_for_several_patients(world: World) -> None:
    second = enrol_patient(world.clinician, "Pip")
    invite = world.clinician.post(f"/api/patients/{second['id']}/caregiver-invites")
    assert invite.status_code == 201
    # Sam already has an account: signed in, Sam accepts the invite for Pip too
    response = world.caregiver.post(
        "/api/caregiver-invites/accept", json={"code": invite.get_json()["code"]}
    )
    assert response.status_code == 201, response.get_json()
    assert sorted(response.get_json()["caregiver_of"]) == sorted([world.patient_id, second["id"]])
    links = db.session.scalars(select(CaregiverLink.patient_id)).all()
    assert sorted(links) == sorted([world.patient_id, second["id"]])
    assert world.caregiver.get(f"/api/patients/{second['id']}").status_code == 200
    # the code was used up
    again = world.caregiver.post(
        "/api/caregiver-invites/accept", json={"code": invite.get_json()["code"]}
    )
    assert again.status_code == 422


def test_only_a_caregiver_account_accepts_an_invite(world: World) -> None:
    invite = world.clinician.post(f"/api/patients/{world.patient_id}/caregiver-invites")
    code = invite.get_json()["code"]
    assert (
        world.other_patient.post("/api/caregiver-invites/accept", json={"code": code}).status_code
        == 403
    )
    assert (
        world.anonymous.post("/api/caregiver-invites/accept", json={"code": code}).status_code
        == 401
    )
    assert (
        world.clinician.post(
            "/api/caregiver-invites/accept", json={"code": "ABCD-EFGH-JKMN"}
        ).status_code
        == 403
    )


def test_activate_is_not_a_password_oracle(world: World) -> None:
    """With an invite code from their own patient, nobody can test a caregiver's password
    through activation, nor link that caregiver to their patient by guessing it right."""
    mallory = world.other_patient
    answers = []
    for password in ("not-sams-password", PASSWORD):  # a wrong guess, then the right one
        code = mallory.post(f"/api/patients/{world.other_patient_id}/caregiver-invites")
        response = world.anonymous.post(
            "/api/activate",
            json={
                "code": code.get_json()["code"],
                "email": "sam@example.org",
                "password": password,
                "display_name": "Mallory",
            },
        )
        answers.append((response.status_code, response.get_json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 201
    links = db.session.scalars(
        select(CaregiverLink.caregiver_id).where(CaregiverLink.patient_id == world.other_patient_id)
    ).all()
    assert links == []
    assert world.caregiver.get(f"/api/patients/{world.other_patient_id}").status_code == 404


def test_only_the_patient_and_their_care_team_can_invite(world: World) -> None:
    assert (
        world.caregiver.post(f"/api/patients/{world.patient_id}/caregiver-invites").status_code
        == 403
    )
    assert (
        world.other_clinician.post(
            f"/api/patients/{world.patient_id}/caregiver-invites"
        ).status_code
        == 404
    )


def test_invite_codes_expire(world: World, clock: FakeClock) -> None:
    invite = world.patient.post(f"/api/patients/{world.patient_id}/caregiver-invites").get_json()
    expires = dt.datetime.fromisoformat(invite["expires_at"])
    assert expires - clock.now == dt.timedelta(days=world.app.config["ACTIVATION_CODE_DAYS"])
    stored = db.session.scalars(select(ActivationCode).where(ActivationCode.purpose == "caregiver"))
    assert all(row.expires_at > clock.now for row in stored)
