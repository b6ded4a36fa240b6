"""With Redis as the limiter's storage, sign-in throttling holds across web workers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import redis

from server import create_app
from server.extensions import db
from tests.conftest import app_config
from tests.support.world import PASSWORD, care_team_user

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def worker_app(database_url: str, instance: Path, prefix: str):
    config = app_config(database_url, instance)
    config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    return create_app(config)


def test_failures_counted_by_one_worker_throttle_the_next(
    database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex
    prefix = f"companion-test-{run}"
    email = f"dr-{run}@example.org"  # the limiter is one per process: keys must not repeat
    first = worker_app(database_url, tmp_path / "a", prefix)
    with first.app_context():
        care_team_user(first, email, "Clinic")
        client = first.test_client()
        for _ in range(5):
            response = client.post("/api/session", json={"email": email, "password": "wrong-guess"})
            assert response.status_code == 401
        db.session.remove()
    second = worker_app(database_url, tmp_path / "b", prefix)  # another gunicorn worker
    try:
        with second.app_context():
            response = second.test_client().post(
                "/api/session", json={"email": email, "password": PASSWORD}
            )
            assert response.status_code == 429
            assert response.get_json()["error"]["code"] == "rate_limited"
            db.session.remove()
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter("LIMITS:*companion-test-*"):
            store.delete(key)
