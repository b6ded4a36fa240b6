"""Sessions that end everywhere, password change and the clinic's reset codes (issue 17)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import ResetCode
from tests.support.clock import FakeClock
from tests.support.world import PASSWORD, ApiClient, World

COOKIE = "companion_session"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def copy_of(app: Flask, signed_in: ApiClient) -> ApiClient:
    """Another browser holding a copy of this one's cookie (and its CSRF token)."""
    copy = ApiClient(app)
    cookie = signed_in.client.get_cookie(COOKIE)
    assert cookie is not None
    copy.client.set_cookie(COOKIE, cookie.value)
    copy.csrf = signed_in.csrf
    return copy


def sign_in(app: Flask, email: str, password: str = PASSWORD) -> int:
    return (
        app.test_client()
        .post("/api/session", json={"email": email, "password": password})
        .status_code
    )


def test_signing_out_ends_every_copy_of_the_cookie(world: World) -> None:
    stolen = copy_of(world.app, world.patient)
    assert stolen.get("/api/me").status_code == 200
    assert world.patient.delete("/api/session").status_code == 204
    assert stolen.get("/api/me").status_code == 401
    write = stolen.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": "2026-11-25T08:00:00+00:00", "bristol_type": 4},
    )
    assert write.status_code == 401
    # the other people signed in are untouched
    assert world.caregiver.get("/api/me").status_code == 200


def test_sign_out_everywhere_ends_every_browser_of_the_account(world: World) -> None:
    phone = ApiClient(world.app, "alex@example.org")
    copy = copy_of(world.app, phone)
    assert world.patient.delete("/api/sessions").status_code == 204
    for client in (world.patient, phone, copy):
        assert client.get("/api/me").status_code == 401
    assert world.caregiver.get("/api/me").status_code == 200
    assert sign_in(world.app, "alex@example.org") == 200


def test_changing_the_password_signs_out_the_other_browsers(world: World) -> None:
    other_browser = ApiClient(world.app, "alex@example.org")
    response = world.patient.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204
    assert world.patient.get("/api/me").status_code == 200  # this browser stays in
    assert other_browser.get("/api/me").status_code == 401
    assert sign_in(world.app, "alex@example.org") == 401
    assert sign_in(world.app, "alex@example.org", NEW_PASSWORD) == 200


def test_a_password_change_needs_the_current_password_and_a_good_new_one(world: World) -> None:
    wrong = world.patient.post(
        "/api/me/password", json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.get_json()["error"]["fields"]
    weak = world.patient.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": "password123"}
    )
    assert weak.status_code == 422
    assert "password" in weak.get_json()["error"]["fields"]
    assert sign_in(world.app, "alex@example.org") == 200  # unchanged


def test_a_session_ends_at_its_absolute_lifetime_however_active(
    world: World, clock: FakeClock
) -> None:
    hours = world.app.config["CLINICIAN_SESSION_HOURS"]
    for _ in range(hours * 4 - 1):  # active every 15 minutes
        clock.advance(minutes=15)
        assert world.clinician.get("/api/me").status_code == 200
    clock.advance(minutes=15)
    response = world.clinician.get("/api/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_expired"
    days = world.app.config["PATIENT_SESSION_DAYS"]
    assert world.app.config["PATIENT_IDLE_MINUTES"] < days * 24 * 60


def _reset_code(world: World, user_id: int, by: ApiClient | None = None):
    return (by or world.clinician).post(
        f"/api/patients/{world.patient_id}/reset-codes", json={"user_id": user_id}
    )


def test_the_clinic_issues_a_reset_code_and_the_patient_sets_a_new_password(
    world: World,
) -> None:
    patient_user = world.patient.user["id"]
    issued = _reset_code(world, patient_user)
    assert issued.status_code == 201, issued.get_json()
    body = issued.get_json()
    assert body["email"] == "alex@example.org" and body["user_id"] == patient_user
    stored = db.session.scalars(select(ResetCode.code_hash)).all()
    assert all(body["code"].replace("-", "") not in value for value in stored)
    reset = world.anonymous.post(
        "/api/password-reset",
        json={"email": "alex@example.org", "code": body["code"], "password": NEW_PASSWORD},
    )
    assert reset.status_code == 204, reset.get_json()
    assert world.patient.get("/api/me").status_code == 401  # every session ended
    assert sign_in(world.app, "alex@example.org") == 401
    assert sign_in(world.app, "alex@example.org", NEW_PASSWORD) == 200
    again = world.anonymous.post(
        "/api/password-reset",
        json={"email": "alex@example.org", "code": body["code"], "password": PASSWORD + "x"},
    )
    assert again.status_code == 422  # single use
    trail = world.clinician.get(f"/api/patients/{world.patient_id}/audit").get_json()["items"]
    actions = {(e["action"], e["status"]) for e in trail}
    assert ("account.reset_code", 201) in actions
    assert ("accounts.reset_password", 204) in actions


def test_a_reset_code_is_bound_to_its_login_and_expires(world: World, clock: FakeClock) -> None:
    code = _reset_code(world, world.caregiver.user["id"]).get_json()["code"]
    wrong_email = world.anonymous.post(
        "/api/password-reset",
        json={"email": "alex@example.org", "code": code, "password": NEW_PASSWORD},
    )
    unknown = world.anonymous.post(
        "/api/password-reset",
        json={"email": "alex@example.org", "code": "ABCD-EFGH-JKMN", "password": NEW_PASSWORD},
    )
    assert wrong_email.status_code == unknown.status_code == 422
    assert wrong_email.get_json() == unknown.get_json()
    clock.advance(hours=world.app.config["RESET_CODE_HOURS"], seconds=1)
    late = world.anonymous.post(
        "/api/password-reset",
        json={"email": "sam@example.org", "code": code, "password": NEW_PASSWORD},
    )
    assert late.status_code == 422
    assert sign_in(world.app, "sam@example.org") == 200


def test_only_the_patients_care_team_issues_reset_codes_for_its_people(world: World) -> None:
    assert _reset_code(world, world.patient.user["id"], by=world.patient).status_code == 403
    assert _reset_code(world, world.patient.user["id"], by=world.caregiver).status_code == 403
    assert _reset_code(world, world.patient.user["id"], by=world.other_clinician).status_code == 404
    # not a login of this patient: the other clinic's patient, a clinician
    assert _reset_code(world, world.other_patient.user["id"]).status_code == 404
    assert _reset_code(world, world.clinician.user["id"]).status_code == 404
    assert db.session.scalars(select(ResetCode)).all() == []


def test_a_new_reset_code_ends_the_earlier_one(world: World) -> None:
    first = _reset_code(world, world.patient.user["id"]).get_json()["code"]
    _reset_code(world, world.patient.user["id"])
    response = world.anonymous.post(
        "/api/password-reset",
        json={"email": "alex@example.org", "code": first, "password": NEW_PASSWORD},
    )
    assert response.status_code == 422
