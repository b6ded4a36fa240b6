"""Signing in and out, idle timeout, CSRF, throttling and cookie flags."""

from __future__ import annotations

from flask import Flask

from tests.conftest import app_config
from tests.support.clock import FakeClock
from tests.support.world import PASSWORD, ApiClient, World, care_team_user


def test_sign_in_answers_the_user_and_a_csrf_token(world: World) -> None:
    response = world.anonymous.post(
        "/api/session", json={"email": "DR.North@example.org ", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["role"] == "clinician"
    assert body["user"]["email"] == "dr.north@example.org"
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # local development over http


def test_cookies_are_secure_outside_local_development(tmp_path, database_url) -> None:
    from server import create_app

    config = app_config(database_url, tmp_path)
    config["ENVIRON"] = {"COMPANION_ENV": "production", "SECRET_KEY": "x" * 40}
    config.pop("SECRET_KEY")
    app = create_app(config)
    with app.app_context():
        care_team_user(app, "dr@example.org", "C")
    response = app.test_client().post(
        "/api/session", json={"email": "dr@example.org", "password": PASSWORD}
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_wrong_email_and_wrong_password_get_the_same_answer(world: World) -> None:
    wrong_password = world.anonymous.post(
        "/api/session", json={"email": "dr.north@example.org", "password": "nope-nope-nope"}
    )
    wrong_email = world.anonymous.post(
        "/api/session", json={"email": "nobody@example.org", "password": "nope-nope-nope"}
    )
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert wrong_password.get_json() == wrong_email.get_json()


def test_sign_out_ends_the_session(world: World) -> None:
    assert world.clinician.get("/api/me").status_code == 200
    assert world.clinician.delete("/api/session").status_code == 204
    assert world.clinician.get("/api/me").status_code == 401


def test_me_gives_the_csrf_token_back_after_a_reload(world: World) -> None:
    body = world.patient.get("/api/me").get_json()
    assert body["csrf_token"] == world.patient.csrf
    assert body["user"]["patient_id"] == world.patient_id


def test_writes_without_the_csrf_token_are_refused_and_write_nothing(world: World) -> None:
    before = world.clinician.get("/api/patients").get_json()["items"]
    response = world.clinician.client.post(
        "/api/patients",
        json={"display_name": "X", "timezone": "UTC", "clozapine_start_date": "2026-11-01"},
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    response = world.clinician.client.post(
        "/api/patients",
        json={"display_name": "X", "timezone": "UTC", "clozapine_start_date": "2026-11-01"},
        headers={"X-CSRF-Token": "forged"},
    )
    assert response.status_code == 403
    assert world.clinician.get("/api/patients").get_json()["items"] == before


def test_clinicians_are_signed_out_after_30_idle_minutes(world: World, clock: FakeClock) -> None:
    clock.advance(minutes=29)
    assert world.clinician.get("/api/me").status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still in
    assert world.clinician.get("/api/me").status_code == 200
    clock.advance(minutes=30, seconds=1)
    response = world.clinician.get("/api/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_expired"
    # patients stay signed in much longer
    assert world.patient.get("/api/me").status_code == 200


def test_patients_are_signed_out_after_their_longer_idle_limit(
    world: World, clock: FakeClock
) -> None:
    idle = world.app.config["PATIENT_IDLE_MINUTES"]
    clock.advance(minutes=idle - 1)
    assert world.patient.get("/api/me").status_code == 200
    clock.advance(minutes=idle + 1)
    assert world.patient.get("/api/me").status_code == 401


def test_repeated_failures_on_one_account_are_throttled(world: World) -> None:
    statuses = [
        world.anonymous.post(
            "/api/session", json={"email": "dr.north@example.org", "password": "wrong-wrong"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    # even the right password waits now: the account is being guessed at
    response = world.anonymous.post(
        "/api/session", json={"email": "dr.north@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    # another account from the same address is not locked out by this one
    other = world.anonymous.post(
        "/api/session", json={"email": "dr.south@example.org", "password": PASSWORD}
    )
    assert other.status_code == 200


def test_a_guessing_source_never_locks_the_owner_out(world: World) -> None:
    """The throttle slows the address that guesses at an account, not the account: its owner,
    signing in from their own address meanwhile, gets in."""
    guesser = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(12):
        world.anonymous.client.post(
            "/api/session",
            json={"email": "dr.north@example.org", "password": "wrong-wrong"},
            environ_base=guesser,
        )
    blocked = world.anonymous.client.post(
        "/api/session",
        json={"email": "dr.north@example.org", "password": PASSWORD},
        environ_base=guesser,
    )
    assert blocked.status_code == 429
    owner = world.app.test_client().post(
        "/api/session",
        json={"email": "dr.north@example.org", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert owner.status_code == 200


def test_one_address_trying_many_accounts_is_throttled(app: Flask) -> None:
    client = ApiClient(app)
    statuses = [
        client.post(
            "/api/session", json={"email": f"user{i}@example.org", "password": "x-y-z-w"}
        ).status_code
        for i in range(31)
    ]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
