"""compose.yaml's sequence run for real, as its containers would run it, against a database
and Redis on this machine: the migrations on an empty database, gunicorn with its config, the
worker; the health checks compose uses pass; logs are JSON lines with their ids; /metrics shows
the worker's heartbeat; the sign-in limit counts in Redis per client behind the proxy.
(The install from the lock is checked in test_dependencies.py: this environment is it.)"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, sqlalchemy_url
from tests.deploy import compose
from tests.deploy.compose import ROOT

BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "metrics-token-for-the-test"
CLIENT = "203.0.113.77"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, of the kind compose.yaml runs: a new PostgreSQL schema
    (so the other tests' tables are left alone); a new SQLite file where the suite has no
    PostgreSQL (TEST_DATABASE_URL unset). Starting three processes takes a while, so the
    sequence runs once, on the deployment's own kind of database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'companion.sqlite3'}"
        return
    schema = f"deploy_{uuid.uuid4().hex[:10]}"
    engine = create_engine(sqlalchemy_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{sqlalchemy_url(PG_URL)}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


class Process:
    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def stop(self) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            code = self.popen.wait(timeout=5)
        self._out.close()
        return code


def until(check, seconds: float, what: str, *processes: Process) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes:
            assert process.popen.poll() is None, "\n".join(process.lines()[-30:])
        time.sleep(0.3)
    logs = "\n".join("\n".join(p.lines()[-30:]) for p in processes)
    raise AssertionError(f"{what} within {seconds} s\n{logs}")


def run_check(command: list[str], env: dict[str, str]) -> bool:
    return (
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False).returncode == 0
    )


def json_lines(process: Process) -> list[dict]:
    return [json.loads(line) for line in process.lines() if line.startswith("{")]


def test_compose_sequence_runs_for_real(empty_database: str, tmp_path: Path) -> None:
    port = free_port()
    prefix = uuid.uuid4().hex
    # the web service's environment as compose gives it, pointed at this machine's services
    env = {
        **os.environ,
        **compose.environment(
            "web", {"POSTGRES_PASSWORD": "unused", "COMPANION_TRUSTED_PROXIES": "1"}
        ),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": empty_database,
        "COMPANION_RATELIMIT_STORAGE_URI": REDIS_URL,
        "COMPANION_RATELIMIT_KEY_PREFIX": prefix,
        "COMPANION_INSTANCE_PATH": str(tmp_path / "instance"),
        "COMPANION_METRICS_TOKEN": TOKEN,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    for name in ("COMPANION_LOG_FORMAT", "TEST_DATABASE_URL"):
        env.pop(name, None)
    healthz = f"http://127.0.0.1:{port}/healthz"

    migrate = subprocess.run(
        compose.command("migrate"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    # as compose starts them: the worker once the web has started
    web = Process(compose.command("web"), env, tmp_path / "web.log")
    worker = Process(compose.command("worker"), env, tmp_path / "worker.log")
    store = redis.Redis.from_url(REDIS_URL)
    try:
        web_check = [*compose.healthcheck("web")[:2], healthz]
        until(lambda: run_check(web_check, env), 90, "the web's health check did not pass", web)
        worker_check = [*compose.healthcheck("worker")[:2], healthz, "--scheduler"]
        until(
            lambda: run_check(worker_check, env),
            60,
            "the worker's health check (a recent cycle) did not pass",
            web,
            worker,
        )

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            exposition = response.read().decode()
        [age] = [
            float(line.split()[-1])
            for line in exposition.splitlines()
            if line.startswith("companion_worker_heartbeat_age_seconds ")
        ]
        assert 0 <= age < 60

        # a failed sign-in from a client behind one trusted proxy: counted in Redis, per client
        sign_in = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/session",
            data=json.dumps({"email": "nobody@example.org", "password": "not-it"}).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": CLIENT,
                "X-Request-Id": "req-from-the-proxy-0001",
            },
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(sign_in, timeout=10)
        assert refused.value.code == 401
        assert refused.value.headers["X-Request-Id"] == "req-from-the-proxy-0001"
        keys = [key.decode() for key in store.scan_iter(f"*{prefix}*")]
        assert any(CLIENT in key for key in keys), keys

        until(
            lambda: any(r.get("route") == "/api/session" for r in json_lines(web)),
            10,
            "the request's log line was not written",
            web,
        )
    finally:
        codes = {"web": web.stop(), "worker": worker.stop()}
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
    assert codes == {"web": 0, "worker": 0}

    # every line of both is JSON, with the ids that say what it concerned
    for process in (web, worker):
        for line in process.lines():
            assert line.startswith("{"), line
    [session_line] = [r for r in json_lines(web) if r.get("route") == "/api/session"]
    assert session_line["request_id"] == "req-from-the-proxy-0001"
    assert session_line["status"] == 401 and session_line["level"] == "INFO"
    cycles = [r for r in json_lines(worker) if str(r.get("cycle_id", "")).startswith("dispatch-")]
    assert cycles and all(r["worker_id"] for r in cycles)
