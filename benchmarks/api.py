"""Throughput of the web tier: a bare endpoint against an authenticated log-entry POST.

What it measures (issue 2, "Measured"): for SQLite and for PostgreSQL, gunicorn started as in
production (`--workers 2 --threads 1 'server:create_app()'`, as scripts/run.sh) is driven by
`wrk` on

* `GET /api/version`: no session, no database (the ceiling of the stack: gunicorn, Flask, the
  access hook, security headers, JSON);
* `POST /api/patients/{id}/bowel-movements`: signed in as a patient (session cookie and
  `X-CSRF-Token`), a unique `Idempotency-Key` per request, the JSON body validated, the diary
  row, the patient's summary, the idempotency record and the audit event written and committed;
* `POST /rows` of `benchmarks/minimal_app.py`, the floor of the stack: the same body validated
  by marshmallow and one row inserted through Flask-SQLAlchemy, on the same database and under
  the same gunicorn command, after the product's server is stopped.

It prints requests/s, p50 and p99 latency of each, the ratio POST/bare (target: at least 25%),
the ratio of the product's POST to the minimal one (target: at least 75%),
the CPU used during each run (by the gunicorn workers, by wrk, and by everything else, which
shows when other load on the machine disturbed a run), the rows actually inserted, and a
summary table. Any non-2xx answer or socket error, a run with no answer at all, or fewer rows
than POSTs answered makes it exit 1.

How: a fresh instance directory and database per backend; `companion db upgrade`; a clinician
made with `companion create-user`; then through the real API the clinician signs in and enrols
a patient, the patient activates their login and signs in. `wrk` (installed with apt-get when
missing) runs a warm-up and then `--repeat` measured runs per endpoint, and the median run (by
requests/s) is reported. A Lua script numbers each request per wrk thread for the
Idempotency-Key and prints wrk's own summary as JSON. Every step is bounded in time; gunicorn
(its process group) is stopped, the database dropped and the instance removed in `finally`.

    .venv/bin/python -m benchmarks.api [--backend sqlite|postgresql|both] [--duration 10]
        [--warmup 3] [--repeat 3] [--threads 2] [--connections 16] [--server-threads 1]
        [--keepalive] [--keep] [--app 'server:create_app()']

Load: `-t2 -c16`, each request on a new connection (`Connection: close`). 2 workers x 1 thread
serve 2 requests at a time; 16 connections keep both workers busy with requests queued behind
them (`--server-threads` measures other thread counts: with 4 threads per worker, 16
connections kept every thread busy with one request queued behind it); more connections only
add queueing. New connections per request, as from a proxy that does not keep upstream
connections alive (nginx's default), because with keep-alive wrk's 16 long-lived connections
are often all accepted by one gthread worker while the other idles; `--keepalive` measures that
way anyway. Why these choices, in figures: docs/performance.md, API throughput. `--app module:app`
runs another WSGI app under the same gunicorn command, to try a change before making it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import runpy
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from benchmarks.common import ROOT, free_port, log, pg_admin, pg_url

BIN = Path(sys.executable).parent
PG_DATABASE = os.environ.get("BENCH_API_DATABASE", "bench_api")
CLINICIAN_EMAIL = "bench.clinician@example.org"
PATIENT_EMAIL = "bench.patient@example.org"
PASSWORD = secrets.token_urlsafe(18)  # fresh accounts on every run
TARGET_RATIO = 0.25  # the authenticated POST against the bare GET
TARGET_FLOOR_RATIO = 0.75  # the authenticated POST against the stack's floor (minimal_app)
MINIMAL_APP = "benchmarks.minimal_app:create_app()"
# gunicorn threads per worker: production's (gunicorn.conf.py, which scripts/run.sh starts with)
SERVER_THREADS = int(runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"])
HTTP_TIMEOUT = 30  # seconds, each setup request
START_TIMEOUT = 40  # seconds for gunicorn to answer /healthz
CLK_TCK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1

WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

# %-formatted by Python (hence %%); values go into Lua long strings.
WRK_POST = r"""
-- POST one bowel movement per request, each with its own Idempotency-Key (the minimal app
-- reads neither the key nor the session: the same request, the same bytes on the wire).
local label = "run"
local counter = 0
local threads = 0
-- the session cookie as a browser keeps it: the sign-in's, then each answer's Set-Cookie (the
-- server signs the session again when its last-seen time is over 30 s old; a client that sent
-- the sign-in's cookie for ever would have every request after that signed again)
local cookies = {}
local cookie = [==[%(cookie)s]==]

local function keep(pair)
  local name, value = string.match(pair, "^%%s*([^=;]+)=([^;]*)")
  if name then cookies[name] = value end
end

local function joined()
  local parts = {}
  for name, value in pairs(cookies) do
    parts[#parts + 1] = name .. "=" .. value
  end
  return table.concat(parts, "; ")
end

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  label = args[1] or "run"
  for pair in string.gmatch(cookie, "[^;]+") do
    keep(pair)
  end
end

function response(status, headers, body)
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set then
    keep(set)
    cookie = joined()
  end
end

function request()
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do  -- the -H headers (Connection: close)
    headers[name] = value
  end
  headers["Content-Type"] = "application/json"
  if cookie ~= "" then
    headers["Cookie"] = cookie
  end
  headers["X-CSRF-Token"] = [==[%(csrf)s]==]
  headers["Idempotency-Key"] = string.format("bench-%%s-t%%d-%%d", label, tid, counter)
  return wrk.format("POST", [==[%(path)s]==], headers, [==[%(body)s]==])
end
"""


# --- CPU accounting ------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == master:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(pids)


@dataclass
class CpuSnapshot:
    at: float
    machine_busy: int  # ticks, all CPUs
    workers: dict[int, int]  # ticks per worker
    children: float  # CPU seconds of waited-for children (wrk)

    @classmethod
    def take(cls, workers: list[int]) -> CpuSnapshot:
        with open("/proc/stat") as stat:
            values = [int(x) for x in stat.readline().split()[1:9]]
        busy = sum(values) - values[3] - values[4]  # less idle and iowait
        ticks = {}
        for pid in workers:
            fields = _stat_fields(pid)
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(time.monotonic(), busy, ticks, usage.ru_utime + usage.ru_stime)


@dataclass(frozen=True)
class CpuUse:
    """Cores used on average during a run."""

    machine: float
    workers: tuple[float, ...]
    wrk: float

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot) -> CpuUse:
        seconds = after.at - before.at
        return cls(
            machine=(after.machine_busy - before.machine_busy) / CLK_TCK / seconds,
            workers=tuple(
                (after.workers[pid] - before.workers[pid]) / CLK_TCK / seconds
                for pid in sorted(after.workers)
            ),
            wrk=(after.children - before.children) / seconds,
        )

    @property
    def rest(self) -> float:
        return max(0.0, self.machine - sum(self.workers) - self.wrk)

    def describe(self) -> str:
        workers = " + ".join(f"{c:.2f}" for c in self.workers)
        return (
            f"CPU (cores of {CPUS}): {self.machine:.2f} busy = gunicorn workers {workers}, "
            f"wrk {self.wrk:.2f}, the rest {self.rest:.2f} (postgres, kernel, other load)"
        )


def background_load(seconds: float = 1.0) -> float:
    """Cores busy while this benchmark does nothing (other people's work on the machine)."""
    before = CpuSnapshot.take([])
    time.sleep(seconds)
    return CpuUse.between(before, CpuSnapshot.take([])).machine


# --- wrk -----------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    cpu: CpuUse

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def describe(self, name: str) -> str:
        return (
            f"  {name:<26}{self.rps:>8.1f} req/s  p50 {self.p50_ms:>7.2f} ms  "
            f"p99 {self.p99_ms:>7.2f} ms  max {self.max_ms:>7.1f} ms  ({self.requests} requests, "
            f"non-2xx {self.status_errors}, socket errors {self.socket_errors})\n"
            f"  {'':<26}{self.cpu.describe()}"
        )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        log("wrk not found: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, timeout=600)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is still missing after apt-get install")
    return found


def run_wrk(
    wrk: str,
    url: str,
    script: Path,
    label: str,
    seconds: int,
    args: argparse.Namespace,
    workers: list[int],
) -> WrkResult:
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    if not args.keepalive:
        command += ["-H", "Connection: close"]
    command += ["--timeout", "10s", "--latency", "-s", str(script), url, "--", label]
    before = CpuSnapshot.take(workers)
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu = CpuUse.between(before, CpuSnapshot.take(workers))
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stderr}")
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise SystemExit(f"no summary from wrk:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        status_errors=data["status_errors"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        cpu=cpu,
    )


# --- the server and its database -----------------------------------------------------------------


def recreate_pg_database(name: str) -> None:
    if name == "test":
        raise SystemExit("refusing to touch the database named 'test' (the test suite owns it)")
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"')


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    completed = subprocess.run(
        [str(BIN / "companion"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"companion {' '.join(args)} failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout.strip()


def start_gunicorn(
    port: int, env: dict[str, str], logfile: Path, app: str, threads: int
) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        str(threads),
        app,
    ]
    log(f"  $ {' '.join(command[:-1])} '{command[-1]}'")
    with logfile.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited early:\n{logfile.read_text()[-4000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_gunicorn(process)
    raise SystemExit(f"gunicorn did not answer /healthz within {START_TIMEOUT} s")


def stop_gunicorn(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_for_workers(master: int, expected: int = 2, timeout: float = 30) -> list[int]:
    """Both workers up and serving (each has loaded the app) before any measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(master)
        if len(pids) == expected:
            return pids
        time.sleep(0.2)
    raise SystemExit(f"expected {expected} gunicorn workers, found {worker_pids(master)}")


def count_rows(backend: str, instance: Path, patient_id: int) -> int:
    query = "SELECT count(*) FROM bowel_movement WHERE patient_id = %s"
    if backend == "sqlite":
        with sqlite3.connect(instance / "companion.sqlite3", timeout=30) as conn:
            return int(conn.execute(query.replace("%s", "?"), (patient_id,)).fetchone()[0])
    with psycopg.connect(pg_url(PG_DATABASE), connect_timeout=10) as conn:
        row = conn.execute(query, (patient_id,)).fetchone()
        assert row is not None
        return int(row[0])


# --- the API -------------------------------------------------------------------------------------


def expect(response: requests.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {response.status_code}: {response.text}")
    return response.json()


@dataclass
class PatientLogin:
    patient_id: int
    cookie: str
    csrf: str


def prepare_patient(base: str) -> PatientLogin:
    """The clinician signs in and enrols a patient; the patient activates and signs in."""
    clinician = requests.Session()
    signed_in = expect(
        clinician.post(
            f"{base}/api/session",
            json={"email": CLINICIAN_EMAIL, "password": PASSWORD},
            timeout=HTTP_TIMEOUT,
        ),
        200,
        "clinician sign-in",
    )
    enrolled = expect(
        clinician.post(
            f"{base}/api/patients",
            json={
                "display_name": "Bench Patient",
                "timezone": "Europe/London",
                "clozapine_start_date": "2026-11-01",
            },
            headers={"X-CSRF-Token": signed_in["csrf_token"]},
            timeout=HTTP_TIMEOUT,
        ),
        201,
        "enrol patient",
    )
    expect(
        requests.post(
            f"{base}/api/activate",
            json={
                "code": enrolled["activation_code"],
                "email": PATIENT_EMAIL,
                "password": PASSWORD,
                "display_name": "Bench Patient",
            },
            timeout=HTTP_TIMEOUT,
        ),
        201,
        "activate patient login",
    )
    patient = requests.Session()
    session = expect(
        patient.post(
            f"{base}/api/session",
            json={"email": PATIENT_EMAIL, "password": PASSWORD},
            timeout=HTTP_TIMEOUT,
        ),
        200,
        "patient sign-in",
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in patient.cookies)
    return PatientLogin(int(enrolled["id"]), cookie, session["csrf_token"])


# --- one backend ---------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    bare: WrkResult
    post: WrkResult
    floor: WrkResult
    rows_inserted: int
    posts_answered: int
    floor_rows: int
    floor_posts_answered: int
    server_tracebacks: int

    @property
    def ratio(self) -> float:
        return self.post.rps / self.bare.rps if self.bare.rps else 0.0

    @property
    def floor_ratio(self) -> float:
        return self.post.rps / self.floor.rps if self.floor.rps else 0.0


def measure(
    wrk: str,
    title: str,
    url: str,
    script: Path,
    args: argparse.Namespace,
    workers: list[int],
    logfile: Path,
) -> tuple[WrkResult, int]:
    """Warm-up, then `--repeat` runs: the median run, and every answer counted (warm-up too)."""
    phases = [("warm", args.warmup)] if args.warmup > 0 else []
    phases += [(f"run{i + 1}", args.duration) for i in range(args.repeat)]
    runs = []
    answered = 0
    for phase, seconds in phases:
        result = run_wrk(wrk, url, script, phase, seconds, args, workers)
        answered += result.requests
        if result.status_errors or result.socket_errors or result.requests == 0:
            log(result.describe(f"{title} ({phase}) FAILED"))
            raise SystemExit(
                f"{title} {phase}: {result.requests} answers, {result.status_errors} "
                f"non-2xx, {result.socket_errors} socket errors\n"
                f"--- gunicorn log tail ---\n{logfile.read_text()[-4000:]}"
            )
        if phase != "warm":
            runs.append(result)
            if args.repeat > 1:
                log(result.describe(f"{title} ({phase})"))
    median = statistics.median_low([r.rps for r in runs])
    return next(r for r in runs if r.rps == median), answered


def minimal_app_python(env: dict[str, str], statement: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", f"from benchmarks import minimal_app; print({statement})"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"minimal_app.{statement} failed:\n{completed.stderr}")
    return completed.stdout.strip()


def bench_floor(
    wrk: str, env: dict[str, str], instance: Path, body: str, args: argparse.Namespace
) -> tuple[WrkResult, int, int]:
    """The same POST body to `minimal_app` under the same gunicorn command, same database."""
    minimal_app_python(env, "minimal_app.create_table()")
    logfile = instance / "gunicorn-minimal.log"
    port = free_port()
    server = start_gunicorn(port, env, logfile, MINIMAL_APP, args.server_threads)
    try:
        workers = wait_for_workers(server.pid)
        script = instance / "floor.lua"
        values = {"cookie": "", "csrf": "", "path": "/rows", "body": body}
        script.write_text(WRK_POST % values + WRK_DONE)
        floor, answered = measure(
            wrk,
            "POST /rows (minimal app)",
            f"http://127.0.0.1:{port}/rows",
            script,
            args,
            workers,
            logfile,
        )
    finally:
        stop_gunicorn(server)
    rows = int(minimal_app_python(env, "minimal_app.count_rows()"))
    return floor, answered, rows


def bench_backend(backend: str, wrk: str, args: argparse.Namespace) -> BackendResult:
    log(f"\n=== {backend} ===")
    instance = Path(tempfile.mkdtemp(prefix=f"bench_api_{backend}_"))
    logfile = instance / "gunicorn.log"
    env = dict(os.environ)
    env.update(COMPANION_INSTANCE_PATH=str(instance), COMPANION_ENV="development")
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        recreate_pg_database(PG_DATABASE)
        env["DATABASE_URL"] = pg_url(PG_DATABASE).replace("postgresql://", "postgresql+psycopg://")
    server: subprocess.Popen[bytes] | None = None
    try:
        run_cli(["db", "upgrade"], env)
        created = run_cli(
            [
                "create-user",
                "--role",
                "clinician",
                "--email",
                CLINICIAN_EMAIL,
                "--name",
                "Bench Clinician",
                "--clinic",
                "Bench clinic",
                "--password-stdin",
            ],
            env,
            stdin=PASSWORD + "\n",
        )
        log(f"  {created}")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(port, env, logfile, args.app, args.server_threads)
        workers = wait_for_workers(server.pid)
        login = prepare_patient(base)
        log(f"  patient {login.patient_id} enrolled, activated and signed in")

        post_path = f"/api/patients/{login.patient_id}/bowel-movements"
        occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).replace(microsecond=0)
        body = json.dumps({"occurred_at": occurred.isoformat(), "bristol_type": 4})
        probe = requests.post(
            base + post_path,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Cookie": login.cookie,
                "X-CSRF-Token": login.csrf,
                "Idempotency-Key": "bench-probe",
            },
            timeout=HTTP_TIMEOUT,
        )
        expect(probe, 201, "probe POST")
        post_script = instance / "post.lua"
        values = {"cookie": login.cookie, "csrf": login.csrf, "path": post_path, "body": body}
        post_script.write_text(WRK_POST % values + WRK_DONE)
        bare_script = instance / "bare.lua"
        bare_script.write_text(WRK_DONE)
        log(f"  machine load before the runs: {background_load():.2f} cores busy")

        bare, _ = measure(
            wrk, "GET  /api/version", f"{base}/api/version", bare_script, args, workers, logfile
        )
        post, answered = measure(
            wrk, "POST .../bowel-movements", base + post_path, post_script, args, workers, logfile
        )
        rows_inserted = count_rows(backend, instance, login.patient_id)
        stop_gunicorn(server)
        floor, floor_answered, floor_rows = bench_floor(wrk, env, instance, body, args)

        outcome = BackendResult(
            backend=backend,
            bare=bare,
            post=post,
            floor=floor,
            rows_inserted=rows_inserted,
            posts_answered=answered + 1,  # and the probe
            floor_rows=floor_rows,
            floor_posts_answered=floor_answered,
            server_tracebacks=logfile.read_text().count("Traceback"),
        )
        which = f"median of {args.repeat} runs" if args.repeat > 1 else "one run"
        log(f"  -- {backend}, {which} of {args.duration} s each:")
        log(outcome.bare.describe("GET  /api/version"))
        log(outcome.post.describe("POST .../bowel-movements"))
        log(outcome.floor.describe("POST /rows (minimal app)"))
        verdict = "meets" if outcome.ratio >= TARGET_RATIO else "MISSES"
        log(f"  ratio POST/bare: {outcome.ratio:.1%} ({verdict} the {TARGET_RATIO:.0%} target)")
        verdict = "meets" if outcome.floor_ratio >= TARGET_FLOOR_RATIO else "MISSES"
        log(
            f"  ratio POST/minimal POST: {outcome.floor_ratio:.1%} "
            f"({verdict} the {TARGET_FLOOR_RATIO:.0%} target)"
        )
        log(
            f"  bowel_movement rows in the database: {outcome.rows_inserted} "
            f"(POSTs answered by wrk, warm-up and probe included: {outcome.posts_answered})"
        )
        if outcome.server_tracebacks:
            log(f"  WARNING: {outcome.server_tracebacks} tracebacks in the gunicorn log:")
            log(logfile.read_text()[-4000:])
        return outcome
    finally:
        stop_gunicorn(server)
        if backend == "postgresql":
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            except psycopg.Error as exc:
                log(f"  could not drop {PG_DATABASE}: {exc}")
        if args.keep:
            log(f"  kept {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Bare endpoint against authenticated POST, gunicorn 2 workers, wrk."
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--keepalive",
        action="store_true",
        help="reuse connections (default: Connection: close, as behind a proxy)",
    )
    parser.add_argument(
        "--server-threads",
        type=int,
        default=SERVER_THREADS,
        help="gunicorn threads per worker (default: production's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the instance dirs (logs)")
    parser.add_argument(
        "--app",
        default="server:create_app()",
        help="gunicorn's app (default: production's); another module to try a change",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 300 or not 0 <= args.warmup <= 60 or not 1 <= args.repeat <= 10:
        parser.error("keep --duration 1-300, --warmup 0-60 and --repeat 1-10")

    wrk = ensure_wrk()
    version = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
    log(f"{(version.stdout or version.stderr).splitlines()[0]}; {CPUS} CPUs")
    mode = "keep-alive connections" if args.keepalive else "'Connection: close' on each request"
    log(
        f"gunicorn --workers 2 --threads {args.server_threads}; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s x {args.repeat} "
        f"after a {args.warmup} s warm-up, per endpoint; {mode}"
    )
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    outcomes = [bench_backend(backend, wrk, args) for backend in backends]

    log("\n=== summary ===")
    log(
        f"{'backend':<12}{'endpoint':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'POST/bare':>11}{'POST/floor':>12}{'rows':>8}"
    )
    failed = False
    for outcome in outcomes:
        bare, post = outcome.bare, outcome.post
        log(
            f"{outcome.backend:<12}{'GET /api/version':<24}{bare.rps:>9.1f}"
            f"{bare.p50_ms:>9.2f}{bare.p99_ms:>9.2f}"
        )
        floor = outcome.floor
        log(
            f"{'':<12}{'POST /rows (minimal)':<24}{floor.rps:>9.1f}{floor.p50_ms:>9.2f}"
            f"{floor.p99_ms:>9.2f}{'':>11}{'':>12}{outcome.floor_rows:>8}"
        )
        mark = "" if outcome.ratio >= TARGET_RATIO else " !"
        floor_mark = "" if outcome.floor_ratio >= TARGET_FLOOR_RATIO else " !"
        log(
            f"{'':<12}{'POST bowel-movements':<24}{post.rps:>9.1f}{post.p50_ms:>9.2f}"
            f"{post.p99_ms:>9.2f}{outcome.ratio:>10.1%}{mark or ' '}"
            f"{outcome.floor_ratio:>11.1%}{floor_mark or ' '}{outcome.rows_inserted:>8}"
        )
        if outcome.rows_inserted < outcome.posts_answered:
            log(f"  {outcome.backend}: fewer rows than POSTs answered 201: the POSTs did not write")
            failed = True
        if outcome.floor_rows < outcome.floor_posts_answered:
            log(f"  {outcome.backend}: the minimal app answered more POSTs than it stored rows")
            failed = True
    log(
        f"targets: the POST at >= {TARGET_RATIO:.0%} of the bare endpoint's requests/s and at >= "
        f"{TARGET_FLOOR_RATIO:.0%} of the minimal app's POST (! = missed)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
