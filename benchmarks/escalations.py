"""From a symptom report to the care team: time to the webhook's 200 and to the clinician's push.

What it measures (issue 5, "Measured"): with the server and the scheduler running as in
production, the time from a patient's `POST /api/patients/{id}/symptoms` reporting a fever (a
red flag: the escalation and its outbox rows are written in the request's transaction) to

* the care-team webhook receiving `escalation.opened` for that escalation (signed with
  HMAC-SHA256: each signature is checked), and to
* the clinician's browser receiving the push (the loopback push service of the tests checks
  VAPID, decrypts the body and finds the tag `escalation-<id>`),

p50, p99 and max over `--reports` reports (default 1,000), on SQLite and on PostgreSQL. Target:
p99 under 2 seconds. The worker looks at the outbox every second (`--send-every 1`), so about
0.5 s is expected at the median, and up to a second plus the sending at the tail.

How, per backend:
1. A fresh instance directory and database (PostgreSQL `bench_escalations`, or SQLite in the
   instance), `companion db upgrade`, `companion init-instance` (the secret and VAPID keys,
   made once before the processes that share them start), and a clinician made with
   `companion create-user --role clinician ... --password-stdin`.
2. In one separate process (not sharing a GIL with the clients), the receivers: the webhook
   receiver of the tests (`tests/support/webhook_receiver.py`; the arrival of each delivery is
   stamped as the receiver stores it, just before it answers 200) and the push service
   (`tests/support/push_service.py`; `Received.at`).
3. gunicorn as in production (`gunicorn --bind 127.0.0.1:<port> --workers 2 --threads 4
   'server:create_app()'`) and the scheduler (`companion worker --send-every 1`), each in its
   own process group, with `COMPANION_INSTANCE_PATH`, `COMPANION_WEBHOOK_URL`,
   `COMPANION_WEBHOOK_SECRET`, `COMPANION_PUSH_ALLOW_HTTP=1`,
   `COMPANION_WEBHOOK_ALLOW_INTERNAL=1` (and `DATABASE_URL` for
   PostgreSQL).
4. Through the API: the clinician signs in and subscribes a push-service browser made with the
   server's VAPID public key (`POST /api/push/subscriptions`, session cookie and CSRF token);
   then enrols `--patients` patients (default 10, 60 days into treatment, each with a recent
   ANC entered by the clinician: without one a blood test is overdue and the scheduler would
   open that escalation too), each activating their login and signing in. Activation is
   limited to 10 a minute per address and sign-in to 30, so rather than one patient per
   report, each patient is reused: one patient and rule has one open escalation, so after both
   deliveries of a report arrived the clinician resolves it (`POST
   /api/escalations/{id}/resolve {note}`) and the patient's next report opens a new one. A 429
   is waited out (Retry-After) should more patients be asked for.
5. The patients report concurrently, one thread each: a random pause of 0-1 s (so that reports
   fall at every phase of the worker's one-second look, not locked to it), t0, the POST, then
   wait (at most 30 s) for both arrivals of each escalation id in the answer, then resolve. One
   warm-up report per patient is not counted.

Printed: p50, p99 and max of both latencies and of the POST itself; missing deliveries,
duplicates (an escalation opened twice at the webhook or pushed twice), bad signatures,
escalations that no report opened (by rule); the
outbox's status counts; the CPU used by gunicorn, the worker, the receivers and everything else
on the machine (other load disturbs the figures); any traceback in the server's or worker's log.
Every wait is bounded; the processes (their groups) are stopped, the database dropped and the
instance removed in `finally`. The commit measured is printed (and a warning if the code under
test changed during the run); on PostgreSQL a session advisory lock keeps a second run from
dropping the database under a first one.

    .venv/bin/python -m benchmarks.escalations [--reports 1000] [--patients 10]
        [--backend sqlite,postgresql] [--keep]

Exit status 1 when a delivery is missing or doubled, a signature is wrong, or the p99 of either
latency is over 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import math
import multiprocessing as mp
import os
import queue
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from benchmarks.common import (
    ROOT,
    code_version,
    free_port,
    hold_database_name,
    log,
    pg_admin,
    pg_url,
)

BIN = Path(sys.executable).parent
PG_DATABASE = "bench_escalations"
TARGET_P99 = 2.0  # seconds
HTTP_TIMEOUT = 30  # seconds, each request
START_TIMEOUT = 60  # seconds for gunicorn to answer /healthz
ARRIVAL_TIMEOUT = 30.0  # seconds a report waits for its deliveries
PASSWORD = secrets.token_urlsafe(18)
CLINICIAN_EMAIL = "bench.clinician@example.org"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SPAWN = mp.get_context("spawn")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


# --- CPU accounting ----------------------------------------------------------------------------


def tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and its descendants still alive (gunicorn's workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            children[parent].append(int(entry))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pid}/stat") as handle:
                values = handle.read().rsplit(")", 1)[1].split()
            total += (int(values[11]) + int(values[12])) / CLK_TCK
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> float:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


# --- the receivers, in their own process -------------------------------------------------------


def receivers_main(conn: Any, arrivals: Any, secret: str) -> None:
    """Child process: the webhook receiver and the push service of the tests. Each arrival goes
    to `arrivals` as (channel, what, escalation id, arrival time, signature ok)."""
    from tests.support.push_service import PushService
    from tests.support.webhook_receiver import WebhookReceiver

    class StampedDeliveries(list):  # type: ignore[type-arg]
        """The receiver appends each accepted delivery here, just before it answers 200."""

        def append(self, delivery: Any) -> None:
            at = time.time()
            super().append(delivery)
            expected = (
                "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
            )
            signed = hmac.compare_digest(
                delivery.headers.get("X-Companion-Signature", ""), expected
            )
            try:
                document = delivery.document
                event = str(document.get("event"))
                escalation_id = int(document["escalation"]["id"])
                rule = str(document["escalation"].get("rule"))
            except (ValueError, KeyError, TypeError):
                event, escalation_id, rule = "unreadable", 0, ""
            arrivals.put(("webhook", event, escalation_id, at, signed, rule))

    hook = WebhookReceiver()
    hook.deliveries = StampedDeliveries()
    hook.start()
    push = PushService()
    stop = threading.Event()

    def forward_pushes() -> None:
        seen = 0
        while not stop.is_set():
            try:
                received = push.wait_for(seen + 1, timeout=0.5)
            except TimeoutError:
                continue
            for message in received[seen:]:
                tag = str(message.payload.get("tag", ""))
                escalation_id = int(tag.rsplit("-", 1)[1]) if tag.startswith("escalation-") else 0
                arrivals.put(("push", tag, escalation_id, message.at.timestamp(), True, ""))
            seen = len(received)

    forwarder = threading.Thread(target=forward_pushes, daemon=True)
    forwarder.start()
    try:
        conn.send({"webhook_url": hook.url})
        while conn.poll(24 * 3600):
            command, argument = conn.recv()
            if command == "subscribe":
                conn.send(push.new_subscription(application_server_key=argument))
            elif command == "cpu":
                times = os.times()
                conn.send(times.user + times.system)
            elif command == "rejections":
                conn.send([(r.status, r.reason) for r in push.rejections()])
            else:  # "stop"
                break
    finally:
        stop.set()
        forwarder.join(timeout=2)
        push.close()
        hook.stop()


class Receivers:
    def __init__(self, secret: str) -> None:
        self.conn, child = SPAWN.Pipe()
        self.arrivals = SPAWN.Queue()
        self.process = SPAWN.Process(
            target=receivers_main, args=(child, self.arrivals, secret), name="receivers"
        )
        self.process.start()
        if not self.conn.poll(60):
            raise RuntimeError("the receivers did not start in 60 s")
        self.webhook_url: str = self.conn.recv()["webhook_url"]
        self.lock = threading.Condition()
        self.webhooks: dict[int, list[float]] = defaultdict(list)  # escalation.opened only
        self.pushes: dict[int, list[float]] = defaultdict(list)
        self.events: Counter[str] = Counter()
        self.rules: dict[int, str] = {}
        self.bad_signatures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                channel, what, escalation_id, at, signed, rule = self.arrivals.get(timeout=0.2)
            except queue.Empty:
                continue
            with self.lock:
                self.events[f"{channel} {what.rsplit('-', 1)[0]}"] += 1
                if not signed:
                    self.bad_signatures += 1
                if channel == "webhook" and what == "escalation.opened":
                    self.webhooks[escalation_id].append(at)
                    self.rules[escalation_id] = rule
                elif channel == "push" and escalation_id:
                    self.pushes[escalation_id].append(at)
                self.lock.notify_all()

    def wait_for(self, escalation_id: int, timeout: float) -> tuple[float | None, float | None]:
        """The first webhook and push arrival times of an escalation (None: not in time)."""
        with self.lock:
            self.lock.wait_for(
                lambda: bool(self.webhooks.get(escalation_id) and self.pushes.get(escalation_id)),
                timeout,
            )
            hooks, pushes = self.webhooks.get(escalation_id), self.pushes.get(escalation_id)
            return (min(hooks) if hooks else None, min(pushes) if pushes else None)

    def ask(self, command: str, argument: Any = None) -> Any:
        self.conn.send((command, argument))
        if not self.conn.poll(30):
            raise RuntimeError(f"the receivers did not answer {command!r}")
        return self.conn.recv()

    def reset(self) -> None:
        with self.lock:
            self.webhooks.clear()
            self.pushes.clear()
            self.events.clear()
            self.rules.clear()
            self.bad_signatures = 0

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(("stop", None))
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self._thread.join(timeout=2)


# --- the server and the worker -----------------------------------------------------------------


@dataclass
class Deployment:
    backend: str
    instance: Path
    env: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(BIN / "companion"), *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"companion {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, name: str, command: list[str]) -> None:
        path = self.instance / f"{name}.log"
        self.logs[name] = path
        with open(path, "wb") as out:
            self.processes[name] = subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        # gunicorn's workers are in its group: make sure none is left behind
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    def tracebacks(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            blocks = []
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("Traceback"):
                    end = i + 1
                    while end < len(lines) and (
                        lines[end].startswith((" ", "\t")) or not lines[end]
                    ):
                        end += 1
                    blocks.append("\n".join(lines[max(0, i - 1) : end + 1]))
            if blocks:
                found[name] = blocks
        return found


def outbox_counts(deployment: Deployment) -> dict[str, int]:
    statement = (
        "SELECT kind, channel, status, count(*) FROM outbox_message GROUP BY kind, channel, status"
    )
    if deployment.backend == "postgresql":
        with psycopg.connect(pg_url(PG_DATABASE), connect_timeout=10) as conn:
            rows = conn.execute(statement).fetchall()
    else:
        import sqlite3

        db = sqlite3.connect(deployment.instance / "companion.sqlite3", timeout=30)
        try:
            rows = db.execute(statement).fetchall()
        finally:
            db.close()
    return {f"{kind} {channel} {status}": count for kind, channel, status, count in rows}


# --- API clients -------------------------------------------------------------------------------


class Client:
    """A browser: a cookie session, the CSRF token on every write, 429 waited out."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.csrf = ""

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        deadline = time.monotonic() + 150
        while True:
            headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
            response = self.http.request(
                method, self.base + path, json=body, headers=headers, timeout=HTTP_TIMEOUT
            )
            if response.status_code == 429 and time.monotonic() < deadline:
                wait = float(response.headers.get("Retry-After") or 5)
                log(f"    429 on {path}: waiting {wait:.0f} s (rate limit per address)")
                time.sleep(min(wait, 65) + 0.5)
                continue
            if response.status_code != expect:
                raise RuntimeError(
                    f"{method} {path}: {response.status_code} {response.text[:500]} "
                    f"(expected {expect})"
                )
            return response.json() if response.content else None

    def sign_in(self, email: str) -> None:
        answer = self.call("POST", "/api/session", {"email": email, "password": PASSWORD})
        self.csrf = answer["csrf_token"]


def wait_healthy(deployment: Deployment) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in deployment.processes.items():
            if process.poll() is not None:
                text = deployment.logs[name].read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{text}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(deployment.base + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {START_TIMEOUT} s")


# --- the measurement ---------------------------------------------------------------------------


@dataclass
class Sample:
    escalation_id: int
    post_seconds: float
    webhook_seconds: float | None
    push_seconds: float | None


@dataclass
class Outcome:
    backend: str
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0
    bad_signatures: int = 0
    rejections: int = 0
    stats: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return sum(1 for s in self.samples if s.webhook_seconds is None or s.push_seconds is None)

    @property
    def ok(self) -> bool:
        over = any(v["p99"] >= TARGET_P99 for k, v in self.stats.items() if k != "POST")
        return not (
            self.errors
            or self.missing
            or self.duplicates
            or self.bad_signatures
            or self.rejections
            or over
        )


def report_once(
    patient: Client,
    patient_id: int,
    clinician: Client,
    clinician_lock: threading.Lock,
    receivers: Receivers,
) -> list[Sample]:
    """One fever report: POST, wait for both deliveries of each escalation, resolve it."""
    body = {"occurred_at": dt.datetime.now(dt.UTC).isoformat(), "symptoms": ["fever"]}
    t0 = time.time()
    answer = patient.call("POST", f"/api/patients/{patient_id}/symptoms", body, expect=201)
    posted = time.time() - t0
    ids = answer.get("escalation_ids") or []
    if not ids:
        raise RuntimeError(f"the report opened no escalation: {answer}")
    samples = []
    for escalation_id in ids:
        hook_at, push_at = receivers.wait_for(escalation_id, ARRIVAL_TIMEOUT)
        samples.append(
            Sample(
                escalation_id,
                posted,
                None if hook_at is None else hook_at - t0,
                None if push_at is None else push_at - t0,
            )
        )
    with clinician_lock:
        for escalation_id in ids:
            clinician.call(
                "POST", f"/api/escalations/{escalation_id}/resolve", {"note": "benchmark"}
            )
    return samples


def run_backend(
    backend: str, args: argparse.Namespace, receivers: Receivers, secret: str
) -> Outcome:
    log(f"\n=== {backend} ===")
    outcome = Outcome(backend)
    instance = Path(tempfile.mkdtemp(prefix=f"bench_escalations_{backend}_"))
    env = dict(
        os.environ,
        COMPANION_INSTANCE_PATH=str(instance),
        COMPANION_ENV="development",
        COMPANION_WEBHOOK_URL=receivers.webhook_url,
        COMPANION_WEBHOOK_SECRET=secret,
        COMPANION_PUSH_ALLOW_HTTP="1",
        COMPANION_WEBHOOK_ALLOW_INTERNAL="1",  # the receiver is on loopback
    )
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    if backend == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        env["DATABASE_URL"] = pg_url(PG_DATABASE).replace("postgresql://", "postgresql+psycopg://")
    deployment = Deployment(backend, instance, env, free_port())
    receivers.reset()
    try:
        deployment.run("db", "upgrade")
        deployment.run("init-instance")
        deployment.run(
            "create-user",
            "--role",
            "clinician",
            "--email",
            CLINICIAN_EMAIL,
            "--name",
            "Dr Bench",
            "--clinic",
            "Bench clinic",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        deployment.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{deployment.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "server:create_app()",
            ],
        )
        deployment.start("worker", [str(BIN / "companion"), "worker", "--send-every", "1"])
        wait_healthy(deployment)
        log(
            f"  gunicorn (2 workers x 4 threads) on {deployment.base}; companion worker "
            "--send-every 1; receivers in their own process"
        )

        clinician = Client(deployment.base)
        clinician.sign_in(CLINICIAN_EMAIL)
        key = clinician.call("GET", "/api/push/vapid-public-key")["key"]
        browser = receivers.ask("subscribe", key)
        clinician.call("POST", "/api/push/subscriptions", browser, expect=201)
        started = time.monotonic()
        patients: list[tuple[Client, int]] = []
        start_date = (dt.date.today() - dt.timedelta(days=60)).isoformat()
        for n in range(args.patients):
            enrolled = clinician.call(
                "POST",
                "/api/patients",
                {
                    "display_name": f"Patient {n}",
                    "timezone": "Europe/London",
                    "clozapine_start_date": start_date,
                },
                expect=201,
            )
            email = f"bench.patient{n}@example.org"
            Client(deployment.base).call(
                "POST",
                "/api/activate",
                {
                    "code": enrolled["activation_code"],
                    "email": email,
                    "password": PASSWORD,
                    "display_name": f"Patient {n}",
                },
                expect=201,
            )
            # a recent blood count: without one, a patient 60 days into treatment has a blood
            # test overdue, and the scheduler's time rules would open that escalation too
            clinician.call(
                "POST",
                f"/api/patients/{enrolled['id']}/lab-results",
                {
                    "test": "anc",
                    "value": 2500,
                    "unit": "cells/uL",
                    "collected_at": dt.datetime.now(dt.UTC).isoformat(),
                },
                expect=201,
            )
            client = Client(deployment.base)
            client.sign_in(email)
            patients.append((client, enrolled["id"]))
        log(
            f"  clinician subscribed; {len(patients)} patients enrolled, activated and signed "
            f"in ({time.monotonic() - started:.1f} s)"
        )

        lock = threading.Lock()
        for client, patient_id in patients:  # warm-up: one each, not counted
            report_once(client, patient_id, clinician, lock, receivers)
        receivers.reset()

        tickets = iter(range(args.reports))
        tickets_lock = threading.Lock()
        samples: list[Sample] = []
        deadline = time.monotonic() + args.max_seconds

        def patient_loop(client: Client, patient_id: int) -> None:
            rng = random.Random(patient_id)  # pacing only
            while time.monotonic() < deadline:
                with tickets_lock:
                    if next(tickets, None) is None:
                        return
                time.sleep(rng.uniform(0.0, 1.0))
                try:
                    got = report_once(client, patient_id, clinician, lock, receivers)
                except Exception as exc:
                    outcome.errors.append(f"patient {patient_id}: {exc}")
                    return
                with tickets_lock:
                    samples.extend(got)
                    done = len(samples)
                if done % 100 == 0:
                    log(f"    {done} reports")

        cpu0 = {name: tree_cpu_seconds(p.pid) for name, p in deployment.processes.items()}
        receivers_cpu0 = receivers.ask("cpu")
        busy0, self0 = machine_busy_seconds(), sum(os.times()[:2])
        began = time.monotonic()
        threads = [
            threading.Thread(target=patient_loop, args=(client, pid), daemon=True)
            for client, pid in patients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1, deadline - time.monotonic() + 60))
        elapsed = time.monotonic() - began
        cpu = {
            name: tree_cpu_seconds(p.pid) - cpu0[name] for name, p in deployment.processes.items()
        }
        receivers_cpu = receivers.ask("cpu") - receivers_cpu0
        own = sum(os.times()[:2]) - self0
        busy = machine_busy_seconds() - busy0
        time.sleep(2)  # let a late duplicate show up
        outcome.samples = samples
        with receivers.lock:
            outcome.duplicates = sum(len(v) - 1 for v in receivers.webhooks.values()) + sum(
                len(v) - 1 for v in receivers.pushes.values()
            )
            outcome.bad_signatures = receivers.bad_signatures
            events = dict(receivers.events)
            known = {s.escalation_id for s in samples}
            unexpected = Counter(receivers.rules[i] for i in set(receivers.webhooks) - known)
        outcome.rejections = len(receivers.ask("rejections"))
        print_outcome(outcome, elapsed, args)
        log(f"  arrivals: {events}; escalations no report opened (by rule): {dict(unexpected)}")
        log(f"  outbox: {outbox_counts(deployment)}")
        others = busy - sum(cpu.values()) - receivers_cpu - own
        log(
            f"  CPU over {elapsed:.0f} s (x 2 cores): gunicorn {cpu.get('gunicorn', 0):.1f} s, "
            f"worker {cpu.get('worker', 0):.1f} s, receivers {receivers_cpu:.1f} s, this "
            f"script {own:.1f} s, everything else on the machine {others:.1f} s "
            f"({100 * others / (2 * elapsed):.0f}% of the machine)"
        )
        for name, blocks in deployment.tracebacks().items():
            outcome.errors.append(f"{len(blocks)} traceback(s) in the {name} log")
            log(f"  {len(blocks)} traceback(s) in the {name} log; the first:")
            log("    " + blocks[0].replace("\n", "\n    "))
        for error in outcome.errors[:5]:
            log(f"  error: {error}")
        return outcome
    finally:
        deployment.stop()
        if args.keep:
            log(
                f"  kept {instance}"
                + (f" and database {PG_DATABASE}" if backend != "sqlite" else "")
            )
        else:
            shutil.rmtree(instance, ignore_errors=True)
            if backend == "postgresql":
                try:
                    pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
                except psycopg.Error as exc:
                    log(f"  could not drop {PG_DATABASE}: {exc}")


def print_outcome(outcome: Outcome, elapsed: float, args: argparse.Namespace) -> None:
    samples = outcome.samples
    log(
        f"  {len(samples)} reports in {elapsed:.0f} s by {args.patients} patients at once "
        f"({len(samples) / max(elapsed, 1e-9):.1f} a second)"
    )
    series = {
        "webhook 200": [s.webhook_seconds for s in samples if s.webhook_seconds is not None],
        "push arrived": [s.push_seconds for s in samples if s.push_seconds is not None],
        "POST": [s.post_seconds for s in samples],
    }
    for name, values in series.items():
        if not values:
            log(f"  {name:13s} no samples")
            continue
        outcome.stats[name] = {
            "p50": statistics.median(values),
            "p99": percentile(values, 0.99),
            "max": max(values),
            "min": min(values),
        }
        s = outcome.stats[name]
        verdict = ""
        if name != "POST":
            verdict = f"  (target p99 < {TARGET_P99:.0f} s: " + (
                "met)" if s["p99"] < TARGET_P99 else "MISSED)"
            )
        log(
            f"  {name:13s} p50 {s['p50']:.3f} s  p99 {s['p99']:.3f} s  max {s['max']:.3f} s  "
            f"min {s['min']:.3f} s{verdict}"
        )
    log(
        f"  missing deliveries {outcome.missing}; duplicates {outcome.duplicates}; bad "
        f"signatures {outcome.bad_signatures}; refused by the push service {outcome.rejections}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=10, help="reporting at once")
    parser.add_argument("--backend", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--max-seconds", type=float, default=1800, help="bound on the reports")
    parser.add_argument("--keep", action="store_true", help="keep instance and database")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    if any(b not in ("sqlite", "postgresql") for b in backends) or args.patients < 1:
        parser.error("--backend takes sqlite and/or postgresql; --patients at least 1")
    log(
        f"escalations benchmark: {args.reports} fever reports by {args.patients} patients; "
        f"backends {backends}; load average {os.getloadavg()[0]:.2f} at the start"
    )
    version = code_version()
    log(f"code measured: {version}")
    lock = hold_database_name(PG_DATABASE) if "postgresql" in backends else None
    secret = secrets.token_urlsafe(24)
    receivers = Receivers(secret)
    outcomes: list[Outcome] = []
    try:
        for backend in backends:
            outcomes.append(run_backend(backend, args, receivers, secret))
    finally:
        receivers.close()
        if lock is not None:
            lock.close()
    log("\nsummary (seconds from the POST)")
    log(
        f"  {'backend':11s} {'reports':>7s}  {'webhook p50/p99/max':>22s}  "
        f"{'push p50/p99/max':>22s}  {'POST p50/p99':>13s}  missing dupl."
    )
    for o in outcomes:
        cells = []
        for name in ("webhook 200", "push arrived"):
            s = o.stats.get(name)
            cells.append(f"{s['p50']:.3f}/{s['p99']:.3f}/{s['max']:.3f}" if s else "-")
        post = o.stats.get("POST")
        post_cell = f"{post['p50']:.3f}/{post['p99']:.3f}" if post else "-"
        log(
            f"  {o.backend:11s} {len(o.samples):7d}  {cells[0]:>22s}  {cells[1]:>22s}  "
            f"{post_cell:>13s}  {o.missing:7d} {o.duplicates:5d}"
        )
    log(f"  load average at the end {os.getloadavg()[0]:.2f}")
    now_version = code_version()
    if now_version.split("; ", 1)[-1] != version.split("; ", 1)[-1]:
        log(
            f"  WARNING: the code under test changed during the run: {version} at the "
            f"start, {now_version} now"
        )
    return 0 if outcomes and all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
