"""A small cast of users, made through the real services and API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.extensions import db
from server.services.accounts import create_care_team_user

PASSWORD = "correct-horse-battery-staple"


class ApiClient:
    """A test client signed in as one user; sends the CSRF token on every write."""

    def __init__(self, app: Flask, email: str | None = None, password: str = PASSWORD) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = ""
        self.user: dict[str, Any] = {}
        if email is not None:
            response = self.client.post("/api/session", json={"email": email, "password": password})
            assert response.status_code == 200, response.get_json()
            self.csrf = response.get_json()["csrf_token"]
            self.user = response.get_json()["user"]

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.post(path, json=json, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.put(path, json=json, headers=self._headers(headers), **kw)

    def delete(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw):
        return self.client.delete(path, json=json, headers=self._headers(headers), **kw)

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.open(path, method=method, headers=headers, **kwargs)


def care_team_user(app: Flask, email: str, clinic: str, role: str = "clinician") -> None:
    create_care_team_user(
        db.session,
        role=role,
        email=email,
        name=email.split("@")[0],
        clinic_name=clinic,
        password=PASSWORD,
        policy=app.extensions["companion.passwords"],
        now=app.extensions["companion.clock"](),
    )


def enrol_patient(
    clinician: ApiClient,
    name: str = "Pat",
    *,
    timezone: str = "Europe/London",
    start: dt.date = dt.date(2026, 11, 1),
    ben: bool = False,
) -> dict[str, Any]:
    response = clinician.post(
        "/api/patients",
        json={
            "display_name": name,
            "timezone": timezone,
            "clozapine_start_date": start.isoformat(),
            "benign_ethnic_neutropenia": ben,
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def activate(app: Flask, code: str, email: str, name: str = "Someone") -> TestResponse:
    return app.test_client().post(
        "/api/activate",
        json={"code": code, "email": email, "password": PASSWORD, "display_name": name},
    )


@dataclass
class World:
    app: Flask
    clinician: ApiClient
    other_clinician: ApiClient
    admin: ApiClient
    patient: ApiClient
    other_patient: ApiClient
    caregiver: ApiClient
    patient_id: int
    other_patient_id: int
    anonymous: ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.anonymous = ApiClient(self.app)

    @classmethod
    def build(cls, app: Flask) -> World:
        care_team_user(app, "dr.north@example.org", "North clinic")
        care_team_user(app, "dr.south@example.org", "South clinic")
        care_team_user(app, "admin.north@example.org", "North clinic", role="admin")
        clinician = ApiClient(app, "dr.north@example.org")
        other_clinician = ApiClient(app, "dr.south@example.org")
        mine = enrol_patient(clinician, "Alex")
        theirs = enrol_patient(other_clinician, "Blake")
        assert activate(app, mine["activation_code"], "alex@example.org").status_code == 201
        assert activate(app, theirs["activation_code"], "blake@example.org").status_code == 201
        patient = ApiClient(app, "alex@example.org")
        invite = patient.post(f"/api/patients/{mine['id']}/caregiver-invites")
        assert invite.status_code == 201
        assert activate(app, invite.get_json()["code"], "sam@example.org").status_code == 201
        return cls(
            app=app,
            clinician=clinician,
            other_clinician=other_clinician,
            admin=ApiClient(app, "admin.north@example.org"),
            patient=patient,
            other_patient=ApiClient(app, "blake@example.org"),
            caregiver=ApiClient(app, "sam@example.org"),
            patient_id=mine["id"],
            other_patient_id=theirs["id"],
        )


def add_anc(client: ApiClient, patient_id: int, value: float, at: str, unit: str = "cells/uL"):
    return client.post(
        f"/api/patients/{patient_id}/lab-results",
        json={"test": "anc", "value": value, "unit": unit, "collected_at": at},
    )


def start_plan(
    world: World,
    patient_id: int | None = None,
    *,
    start: str,
    times: tuple[str, ...] = ("08:00", "21:00"),
    target: float = 300,
    baseline_at: str | None = None,
) -> dict[str, Any]:
    """A baseline ANC of 2000 and a standard plan, as a clinician would set them up."""
    patient_id = patient_id or world.patient_id
    baseline = add_anc(world.clinician, patient_id, 2000, baseline_at or f"{start}T00:00:00+00:00")
    assert baseline.status_code == 201, baseline.get_json()
    response = world.clinician.put(
        f"/api/patients/{patient_id}/dose-plan",
        json={
            "start_date": start,
            "times": list(times),
            "titration": "standard",
            "target_mg_per_day": target,
        },
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def worker_makes_doses(until: dt.datetime, since: dt.datetime | None = None) -> None:
    """The doses the worker's cycle would have made by `until` (a day ahead, each patient at
    their own midnight), running its step a day at a time from `since`."""
    from server.services.steps.doses_ahead import make_doses_ahead

    moment = since or until
    while moment < until:
        make_doses_ahead(db.session, moment)
        moment += dt.timedelta(days=1)
    make_doses_ahead(db.session, until)


def give_browser(user_id: int, push: Any, endpoint: str | None = None) -> None:
    """A push subscription of a new browser of `push` (a PushService) for a user, stored
    directly (the tests that use it are not about registering); its endpoint may be put
    elsewhere."""
    from server.models import PushSubscription

    browser = push.new_subscription()
    db.session.add(
        PushSubscription(
            user_id=user_id,
            endpoint=endpoint or browser["endpoint"],
            p256dh=browser["keys"]["p256dh"],
            auth=browser["keys"]["auth"],
            created_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        )
    )
