"""Sign-in limits hold across web workers: two app processes over one database count against
the same limit (the default store is the database; `memory://` counts per process)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.support.world import PASSWORD, care_team_user

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "dr.throttle@example.org"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def web_worker(database_url: str, instance: Path, storage: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.web_worker",
            database_url,
            str(instance),
            storage,
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sign_in(base: str, password: str) -> int:
    response = requests.post(
        f"{base}/api/session", json={"email": EMAIL, "password": password}, timeout=30
    )
    return response.status_code


@pytest.mark.parametrize(("storage", "sixth"), [("companion-db://", 429), ("memory://", 401)])
def test_failures_counted_by_one_worker_throttle_the_next(
    app: Flask, database_url: str, tmp_path: Path, storage: str, sixth: int
) -> None:
    """Five wrong passwords from one address on worker A; the sixth, on worker B, is throttled
    when the workers share the store. With memory:// (the old default) B had counted nothing,
    which is why it is only for a single process."""
    care_team_user(app, EMAIL, "Throttle clinic")
    with (
        web_worker(database_url, tmp_path / "a", storage) as first,
        web_worker(database_url, tmp_path / "b", storage) as second,
    ):
        assert [_sign_in(first, "wrong-guess") for _ in range(5)] == [401] * 5
        assert _sign_in(second, "wrong-guess") == sixth
        if sixth == 429:
            assert _sign_in(second, PASSWORD) == 429  # this source waits, even when right


def test_the_default_store_is_the_database(tmp_path: Path) -> None:
    from server.config import from_environment

    assert from_environment(str(tmp_path), {})["RATELIMIT_STORAGE_URI"] == "companion-db://"
