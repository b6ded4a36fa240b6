"""Dose reminders drained to a real push service: throughput, duplicates, losses; the idle cycle.

What it measures (issue 4, "Measured"): N dose reminders (default 100,000) due at 08:00 UTC
today are made and delivered by the real dispatch cycle (`reminders.cycle.run_cycle`: time
rules, doses ahead, `enqueue_dose_reminders`, then `drain` -> `send_batch` -> `WebPushSender`,
RFC 8291 aes128gcm encryption and an RFC 8292 VAPID token) to the loopback push service of the
tests (`tests/support/push_service.py`), which checks VAPID and the Web Push headers and
decrypts every body. With 1 and with 3 workers, on SQLite and on PostgreSQL. Target: 100,000
delivered in under 2 minutes on this 2-core machine. Then the idle cycle: `run_cycle` with
nothing due, 200 times at successive minutes, on the database still holding the 100,000
patients (every reminder sent, today's doses taken, tomorrow's pending); p50 and p99 ms,
target under 5 ms, with the time of each step of the cycle.

How, per run (backend x workers):
1. A fresh database (PostgreSQL `bench_reminders`, or a SQLite file in a fresh instance
   directory) migrated with `companion db upgrade` (env `COMPANION_INSTANCE_PATH`, and
   `DATABASE_URL` for PostgreSQL).
2. A bulk load bypassing the ORM (PostgreSQL `COPY`, SQLite `executemany`): a clinic and its
   clinician; N patients, each with a patient login, a `patient_state` (tracking for 60 days,
   a bowel movement yesterday, yesterday's dose taken, doses made ahead, the next blood test in
   8 days: no time rule fires), a one-step `dose_plan` at 08:00, a pending `dose` at 08:00
   UTC today and another tomorrow (made ahead, as the cycle does), and one push
   subscription. Every subscription is a distinct browser of the push service
   (`PushService.new_subscription()`, made once per invocation: the time it takes is
   printed), so each message goes to exactly one subscription.
3. The measured part. The push service runs in its own OS process (it does not share a GIL with
   a worker). Each worker is a separate OS process (multiprocessing, spawn) that builds its own
   app with `server.create_app({...})` on the same database and its own `WebPushSender` with
   the app's VAPID key (`vapid_for(None, instance_path)`, `allow_http=True`), connects, and
   waits; all start together at `now = 08:00:30 UTC today` and each runs `run_cycle(session,
   now, content, worker_id, sender)` again and again until no outbox row is pending (a cycle
   that raises is rolled back and retried, as `companion worker` does; its traceback is
   printed). Printed: time from the start to the last delivery (the push service's own arrival
   time), messages/s, received, distinct dose ids, duplicates (received - distinct), losses
   (N - distinct), misrouted (a dose's reminder at another patient's browser), the push
   service's refusals, the outbox's final status counts and `push_delivery` rows, and where the
   CPU went during the run (each worker, the push service, this run's PostgreSQL backends, and
   everything else on the machine, which shows when other load disturbed the run), and the
   seconds each worker spent in each step of the cycle (the step objects' `run`, the idle
   question and the heartbeat are wrapped with a timer).
4. After the last run of each backend: today's doses are marked taken (PostgreSQL: then
   `VACUUM ANALYZE` of `dose` and `outbox_message`, as autovacuum soon would after the
   burst), then the idle cycle (5 warm-up cycles, then 200 measured) in a fresh worker
   process: p50/p99/max, each step's median and p99 with its SQL statements and commits per
   cycle, and the plans of the idle cycle's one question and of each step's part of it
   (PostgreSQL: EXPLAIN ANALYZE).

`--profile` adds a run profiled with cProfile: one worker, `--profile-messages` reminders, with
`send_many` made sequential so that the sends are on the profiled thread; CPU per message by
component (encryption, HTTP client, DB, ...), the SQL statements per message before and after
the send, how many batches were sent with a database transaction open (on SQLite: the write
lock held across the network), and the top functions are printed.

The commit and a fingerprint of server/, reminders/ and migrations/ are printed at the start
and checked at the end (a warning when the code under test changed during the run). On
PostgreSQL a session advisory lock keeps a second run from dropping the database under a
first one.

    .venv/bin/python -m benchmarks.reminders [--messages 100000] [--workers 1,3]
        [--backend sqlite,postgresql] [--idle-cycles 200] [--max-seconds 1800]
        [--profile] [--profile-messages 5000] [--keep]
        [--crash [--crash-after 0.3] [--crash-lease 10]]

`--crash` runs instead, per backend, 3 workers of which worker 0 is killed (SIGKILL) once
`--crash-after` of the reminders have arrived; the others run at the real time's pace with
claims of `--crash-lease` seconds (90 s in production: only the wait changes), so that they
take the killed worker's claims over. Printed: lost (must be 0) and duplicates, which must not
exceed the killed worker's in-flight bound (`reminders.delivery.REMINDERS.in_flight`).

Exit status 1 when any run has a duplicate, a loss, a misrouted message, a refusal or a
failed cycle.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import math
import multiprocessing as mp
import os
import pstats
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import (
    ROOT,
    code_version,
    hold_database_name,
    log,
    pg_admin,
    pg_url,
)

BIN = Path(sys.executable).parent
PG_DATABASE = "bench_reminders"
TARGET_SECONDS = 120.0
TARGET_IDLE_MS = 5.0
MAX_FAILED_CYCLES = 20  # per worker: then it gives up
STALL_SECONDS = 60
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2htYXJr$bm90LWEtcmVhbC1oYXNo"
PLAN_STEPS = json.dumps([{"day": 1, "doses_mg": [300]}])
CLK_TCK = os.sysconf("SC_CLK_TCK")
SPAWN = mp.get_context("spawn")
COLUMNS = {
    "clinic": "id, name, monitoring_profile, settings, created_at",
    "patient": (
        "id, clinic_id, display_name, timezone, clozapine_start_date, "
        "benign_ethnic_neutropenia, created_at, created_by_id"
    ),
    "user_account": (
        "id, email, display_name, role, password_hash, clinic_id, patient_id, session_version, "
        "created_at"
    ),
    "patient_state": (
        "patient_id, treatment_status, tracking_since, last_bowel_movement_at, "
        "third_last_bowel_movement_at, last_dose_taken_at, doses_due_since, doses_made_until, "
        "doses_make_at, next_blood_reminder_at, anc_band, anc_band_since, last_anc_at, "
        "next_blood_test_due, updated_at"
    ),
    "dose_plan": (
        "id, patient_id, version, start_date, times, steps, kind, target_mg_per_day, warnings, "
        "created_by_id, created_at"
    ),
    "dose": "id, patient_id, plan_id, local_date, local_time, scheduled_at, mg, status",
    "push_subscription": "id, user_id, endpoint, p256dh, auth, created_at",
}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# --- CPU accounting ----------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), or 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields_ = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields_[11]) + int(fields_[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (all cores) since boot, idle and iowait excluded."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


def self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# --- the push service, in its own process ------------------------------------------------------


def push_service_main(conn: Any, count: int) -> None:
    """Child process: a PushService with `count` browsers named u1..uN; answers commands."""
    from tests.support.push_service import PushService

    service = PushService()
    try:
        started = time.perf_counter()
        browsers = []
        for n in range(1, count + 1):
            sub = service.new_subscription(f"u{n}")
            browsers.append((sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"]))
        made = time.perf_counter() - started
        conn.send({"url": service.url, "browsers": browsers, "seconds": made})
        while True:
            if not conn.poll(3600):
                break
            command = conn.recv()
            if command == "count":
                conn.send((len(service.received()), len(service.rejections())))
            elif command == "cpu":
                conn.send(self_cpu_seconds())
            elif command == "collect":
                conn.send(
                    {
                        "received": [
                            (
                                r.subscription_id,
                                r.payload.get("dose_id"),
                                r.payload.get("kind"),
                                r.at.timestamp(),
                            )
                            for r in service.received()
                        ],
                        "rejections": [
                            (r.subscription_id, r.status, r.reason) for r in service.rejections()
                        ],
                        "attempts": service.attempts(),
                    }
                )
            elif command == "clear":
                service.clear()
                conn.send("ok")
            else:  # "stop"
                break
    finally:
        service.close()


class PushServiceProcess:
    def __init__(self, count: int) -> None:
        self.conn, child = SPAWN.Pipe()
        self.process = SPAWN.Process(
            target=push_service_main, args=(child, count), name="push-service", daemon=True
        )
        self.process.start()
        if not self.conn.poll(600):
            raise RuntimeError("the push service did not make its subscriptions in 10 minutes")
        hello = self.conn.recv()
        self.url: str = hello["url"]
        self.browsers: list[tuple[str, str, str]] = hello["browsers"]
        self.setup_seconds: float = hello["seconds"]

    def ask(self, command: str, timeout: float = 120) -> Any:
        self.conn.send(command)
        if not self.conn.poll(timeout):
            raise RuntimeError(f"the push service did not answer {command!r} in {timeout} s")
        return self.conn.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send("stop")
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


# --- the database ------------------------------------------------------------------------------


@dataclass
class Moments:
    today: dt.date
    dose_at: dt.datetime  # 08:00 UTC today
    now: dt.datetime  # 08:00:30, when the workers start

    @classmethod
    def for_today(cls) -> Moments:
        today = dt.datetime.now(dt.UTC).date()
        dose_at = dt.datetime.combine(today, dt.time(8, 0), dt.UTC)
        return cls(today, dose_at, dose_at + dt.timedelta(seconds=30))


def rows_for(
    table: str, n: int, moments: Moments, browsers: list[tuple[str, str, str]], ts: Callable
) -> Iterator[tuple[Any, ...]]:
    """The rows of one table, in the column order of COLUMNS; `ts` formats an instant."""
    day = moments.today
    now = moments.now
    start = day - dt.timedelta(days=60)
    created = ts(now - dt.timedelta(days=61))
    if table == "clinic":
        yield (1, "Bench clinic", "guideline", "{}", created)
    elif table == "patient":
        for pid in range(1, n + 1):
            yield (pid, 1, f"Patient {pid}", "UTC", start.isoformat(), False, created, 1)
    elif table == "user_account":
        yield (
            1,
            "clinician@bench.invalid",
            "Clinician",
            "clinician",
            FAKE_HASH,
            1,
            None,
            1,
            created,
        )
        for pid in range(1, n + 1):
            yield (
                pid + 1,
                f"patient{pid}@bench.invalid",
                f"Patient {pid}",
                "patient",
                FAKE_HASH,
                None,
                pid,
                1,
                created,
            )
    elif table == "patient_state":
        row = (
            "stable",
            ts(now - dt.timedelta(days=60)),  # tracking since
            ts(now - dt.timedelta(hours=20)),  # last bowel movement
            ts(now - dt.timedelta(days=3)),  # the third last
            ts(moments.dose_at - dt.timedelta(days=1, minutes=-5)),  # yesterday's dose taken
            ts(dt.datetime.combine(start, dt.time(8, 0), dt.UTC)),  # doses due since
            (day + dt.timedelta(days=2)).isoformat(),  # doses made until
            # the next day is made at the midnight that starts the last day made
            ts(dt.datetime.combine(day + dt.timedelta(days=2), dt.time(0, 0), dt.UTC)),
            ts(moments.dose_at + dt.timedelta(days=7, hours=1)),  # next blood reminder
            "normal",
            start.isoformat(),
            ts(now - dt.timedelta(days=20)),
            (day + dt.timedelta(days=8)).isoformat(),  # next blood test due
            ts(now - dt.timedelta(hours=20)),
        )
        for pid in range(1, n + 1):
            yield (pid, *row)
    elif table == "dose_plan":
        for pid in range(1, n + 1):
            yield (
                pid,
                pid,
                1,
                start.isoformat(),
                '["08:00"]',
                PLAN_STEPS,
                "maintenance",
                300.0,
                "[]",
                1,
                created,
            )
    elif table == "dose":
        scheduled = ts(moments.dose_at)
        for pid in range(1, n + 1):
            yield (pid, pid, pid, day.isoformat(), "08:00", scheduled, 300.0, "pending")
        # tomorrow's doses, made ahead as the cycle makes them: pending, not yet due
        tomorrow = day + dt.timedelta(days=1)
        scheduled = ts(moments.dose_at + dt.timedelta(days=1))
        for pid in range(1, n + 1):
            yield (n + pid, pid, pid, tomorrow.isoformat(), "08:00", scheduled, 300.0, "pending")
    elif table == "push_subscription":
        for pid in range(1, n + 1):
            endpoint, p256dh, auth = browsers[pid - 1]
            yield (pid, pid + 1, endpoint, p256dh, auth, created)


def sqlite_ts(value: dt.datetime) -> str:
    """As SQLAlchemy stores a UTC instant in SQLite (naive, microseconds)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def pg_ts(value: dt.datetime) -> dt.datetime:
    return value


def bulk_load(
    backend: str, target: str, n: int, moments: Moments, browsers: list[tuple[str, str, str]]
) -> dict[str, float]:
    """Load every table; returns seconds per table."""
    seconds: dict[str, float] = {}
    if backend == "postgresql":
        with psycopg.connect(target, connect_timeout=10) as conn:
            conn.execute("SET session_replication_role = replica")  # no FK triggers: consistent
            for table, columns in COLUMNS.items():
                started = time.perf_counter()
                with conn.cursor() as cursor:
                    statement = f"COPY {table} ({columns}) FROM STDIN"
                    with cursor.copy(statement) as copy:  # type: ignore[arg-type]
                        for row in rows_for(table, n, moments, browsers, pg_ts):
                            copy.write_row(row)
                conn.commit()
                seconds[table] = time.perf_counter() - started
            for table in COLUMNS:
                if table != "patient_state":
                    conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"  # type: ignore[arg-type]
                    )
            conn.commit()
            conn.autocommit = True
            started = time.perf_counter()
            conn.execute("VACUUM (ANALYZE)")
            seconds["vacuum analyze"] = time.perf_counter() - started
    else:
        conn = sqlite3.connect(target, isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            for table, columns in COLUMNS.items():
                started = time.perf_counter()
                marks = ",".join("?" * len(columns.split(",")))
                conn.execute("BEGIN")
                conn.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                    rows_for(table, n, moments, browsers, sqlite_ts),
                )
                conn.execute("COMMIT")
                seconds[table] = time.perf_counter() - started
            started = time.perf_counter()
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            seconds["analyze"] = time.perf_counter() - started
        finally:
            conn.close()
    return seconds


@dataclass
class Database:
    backend: str
    instance: Path
    url: str  # SQLAlchemy URL
    raw: str  # psycopg conninfo or the SQLite path

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        if self.backend == "postgresql":
            with psycopg.connect(self.raw, connect_timeout=10) as conn:
                return list(conn.execute(statement).fetchall())  # type: ignore[arg-type]
        conn = sqlite3.connect(self.raw, timeout=30)
        try:
            return list(conn.execute(statement).fetchall())
        finally:
            conn.close()

    def execute(self, statement: str) -> None:
        if self.backend == "postgresql":
            with psycopg.connect(self.raw, autocommit=True, connect_timeout=10) as conn:
                conn.execute(statement)  # type: ignore[arg-type]
            return
        conn = sqlite3.connect(self.raw, isolation_level=None, timeout=30)
        try:
            conn.execute(statement)
        finally:
            conn.close()


def fresh_database(backend: str) -> Database:
    instance = Path(tempfile.mkdtemp(prefix=f"bench_reminders_{backend}_"))
    env = dict(os.environ, COMPANION_INSTANCE_PATH=str(instance), COMPANION_ENV="development")
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        raw = pg_url(PG_DATABASE)
        url = raw.replace("postgresql://", "postgresql+psycopg://")
        env["DATABASE_URL"] = url
    else:
        raw = str(instance / "companion.sqlite3")
        url = f"sqlite:///{raw}"
    database = Database(backend, instance, url, raw)
    upgrade = subprocess.run(
        [str(BIN / "companion"), "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if upgrade.returncode != 0:
        drop_database(database)
        raise SystemExit(f"companion db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}")
    return database


def drop_database(database: Database) -> None:
    shutil.rmtree(database.instance, ignore_errors=True)
    if database.backend == "postgresql":
        try:
            pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        except psycopg.Error as exc:
            log(f"  could not drop {PG_DATABASE}: {exc}")


# --- a worker process --------------------------------------------------------------------------


def build_app(url: str, instance: str) -> Any:
    from server import create_app

    return create_app(
        {
            "INSTANCE_PATH": instance,
            "ENVIRON": {},  # nothing from this shell's environment
            "SQLALCHEMY_DATABASE_URI": url,
            "PUSH_ALLOW_HTTP": True,
        }
    )


def new_sender(app: Any) -> Any:
    from server.notify.vapid import vapid_for
    from server.notify.webpush import WebPushSender

    vapid = vapid_for(None, app.instance_path)
    return WebPushSender(vapid, app.config["VAPID_SUBJECT"], allow_http=True, timeout_seconds=10)


def backend_pid(session: Any) -> int | None:
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    session.commit()
    return int(pid)


def pending_count(session: Any) -> int:
    """Messages still to send: those pending, and one for each scan cursor a worker holds (a
    window of reminders it is still queueing, chunk by chunk: the rest are not pending yet)."""
    from sqlalchemy import func, select

    from server.models import DispatchCursor, OutboxMessage

    count = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    held = session.scalar(
        select(func.count()).select_from(DispatchCursor).where(DispatchCursor.held_by.is_not(None))
    )
    session.commit()
    return int(count or 0) + int(held or 0)


def worker_main(
    index: int,
    url: str,
    instance: str,
    now_iso: str,
    go: Any,
    release: Any,
    results: Any,
    max_seconds: float,
    profile: bool,
    lease_seconds: float | None = None,
) -> None:
    """Child process: its own app and sender; run_cycle at `now` until nothing is pending.
    With `lease_seconds` (the crash run): claims last that long, and `now` moves on with the
    real time, so that the claims of a worker killed mid-burst expire and are taken over."""
    worker_id = f"bench-worker-{index}"
    report: dict[str, Any] = {"index": index, "errors": [], "counts": Counter(), "cycles": 0}
    try:
        timings: dict[str, list[float]] = {name: [] for name in step_names()}
        time_steps(timings)
        from reminders import cycle as cycle_module
        from server.db import plan_for_values
        from server.extensions import db

        app = build_app(url, instance)
        now = dt.datetime.fromisoformat(now_iso)
        if lease_seconds is not None:
            from server.services import outbox

            outbox.LEASE = dt.timedelta(seconds=lease_seconds)
        with app.app_context():
            plan_for_values(db.engine)  # as `companion worker` does
            sender = new_sender(app)
            census: Counter[str] = Counter()
            if profile:
                watch_statements(db, sender, census)
            session = db.session
            content = app.extensions["companion.content"]
            report["backend_pid"] = backend_pid(session)
            pending_count(session)  # connected, mapped, warmed
            results.put(("ready", index, None))
            if not go.wait(300):
                raise RuntimeError("never told to start")
            cpu0, started = self_cpu_seconds(), time.time()
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            try:
                last_pending, progress_at = -1, time.time()
                while time.time() - started < max_seconds:
                    at = now
                    if lease_seconds is not None:
                        at = now + dt.timedelta(seconds=time.time() - started)
                    try:
                        cycle = cycle_module.run_cycle(session, at, content, worker_id, sender)
                    except Exception:
                        session.rollback()
                        report["errors"].append(traceback.format_exc())
                        if len(report["errors"]) >= MAX_FAILED_CYCLES:
                            break
                        time.sleep(0.05)
                        continue
                    report["cycles"] += 1
                    report["counts"].update(cycle.counts)
                    pending = pending_count(session)
                    if pending == 0:
                        break
                    if pending != last_pending:
                        last_pending, progress_at = pending, time.time()
                    elif time.time() - progress_at > STALL_SECONDS:
                        report["errors"].append(
                            f"stalled: {pending} messages pending and none recorded for "
                            f"{STALL_SECONDS} s (claimed by a cycle that failed: at a fixed "
                            "`now` their lease never expires)"
                        )
                        break
                    if not cycle.counts.get("claimed"):
                        time.sleep(0.1)  # the rest is claimed by another worker, in flight
                else:
                    report["errors"].append(f"stopped after {max_seconds} s with work pending")
            finally:
                if profiler is not None:
                    profiler.disable()
            report["finished"] = time.time()
            report["cpu"] = self_cpu_seconds() - cpu0
            report["wall"] = report["finished"] - started
            report["steps"] = {name: sum(values) / 1000 for name, values in timings.items()}
            if profiler is not None:
                report["profile"] = profile_summary(profiler)
                report["profile"]["census"] = dict(census)
            sender.close()
            results.put(("done", index, report))
            release.wait(120)  # so that the parent can read this backend's CPU first
            db.session.remove()
            db.engine.dispose()
    except Exception:
        report["errors"].append(traceback.format_exc())
        results.put(("done", index, report))


def watch_statements(db: Any, sender: Any, census: Counter[str]) -> None:
    """For the profiled run: the sends on this thread (where cProfile sees them), and a count
    of SQL statements before and after each send, and of sends entered with a transaction
    open (on SQLite a transaction holds the database's write lock: BEGIN IMMEDIATE)."""
    from sqlalchemy import event

    phase = ["before the send"]

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        census[f"{phase[0]}: {statement.split(None, 1)[0].upper()}"] += 1

    @event.listens_for(db.engine, "begin")
    def _begin(conn: Any) -> None:
        census[f"{phase[0]}: transactions begun"] += 1

    def send_many(items: list[tuple[Any, Any]]) -> list[Any]:
        census["batches"] += 1
        if db.session().in_transaction():
            census["batches sent with a transaction open"] += 1
        phase[0] = "during the send"
        try:
            return [sender.send(sub, message) for sub, message in items]
        finally:
            phase[0] = "after the send"

    sender.send_many = send_many
    from server.services import outbox

    claim = outbox.claim

    def claim_and_mark(*args: Any, **kwargs: Any) -> Any:
        phase[0] = "before the send"
        return claim(*args, **kwargs)

    outbox.claim = claim_and_mark  # send_batch calls it as outbox.claim


CATEGORIES = (
    ("http_ece", "encryption (http_ece, cryptography)"),
    ("cryptography", "encryption (http_ece, cryptography)"),
    ("py_vapid", "encryption (http_ece, cryptography)"),
    ("pywebpush", "pywebpush (payload, headers)"),
    ("requests", "HTTP client (requests, urllib3, http.client)"),
    ("urllib3", "HTTP client (requests, urllib3, http.client)"),
    ("http/client", "HTTP client (requests, urllib3, http.client)"),
    ("socket", "socket I/O (send, wait for the answer)"),
    ("ssl", "HTTP client (requests, urllib3, http.client)"),
    ("sqlalchemy", "database (SQLAlchemy, driver)"),
    ("psycopg", "database (SQLAlchemy, driver)"),
    ("sqlite3", "database (SQLAlchemy, driver)"),
    ("server/notify/webpush", "WebPushSender (validation, classify)"),
    ("server/", "app services (outbox, reminders, messages)"),
    ("reminders/", "app services (outbox, reminders, messages)"),
    ("email", "HTTP client (requests, urllib3, http.client)"),
    ("json", "json"),
)


def profile_summary(profiler: cProfile.Profile) -> dict[str, Any]:
    """Own time per component, and the top functions by own and cumulative time."""
    stats = pstats.Stats(profiler)
    by_category: Counter[str] = Counter()
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        where = f"{filename}:{name}"
        if filename == "~":  # built-ins: attribute by name
            where = name
        category = "other (Python built-ins, stdlib)"
        if "method 'recv_into'" in where or "method 'sendall'" in where or "poll" in where:
            category = "socket I/O (send, wait for the answer)"
        elif "_hashlib" in where or "openssl" in where.lower():
            category = "encryption (http_ece, cryptography)"
        else:
            for needle, label in CATEGORIES:
                if needle in filename:
                    category = label
                    break
        by_category[category] += tottime
    out: dict[str, Any] = {"total": sum(by_category.values()), "by_category": dict(by_category)}
    for key in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(25)
        out[key] = text.getvalue()
    return out


# --- the idle cycle ----------------------------------------------------------------------------


def step_names() -> list[str]:
    """The names timed: the idle question, each step of the cycle (reminders.cycle.STEPS, in
    order) and the heartbeat."""
    from reminders.cycle import STEPS

    return ["idle_question", *(step.name for step in STEPS), "heartbeat"]


def time_steps(timings: dict[str, list[float]]) -> list[str]:
    """Wrap what run_cycle calls (the idle question, each step object's `run`, the heartbeat)
    to time each step, in ms (a few microseconds each); returns a one-item list holding the
    step now running."""
    from reminders import cycle
    from server.services import heartbeat

    current = ["other"]

    def timed(name: str, function: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            current[0] = name
            try:
                return function(*args, **kwargs)
            finally:
                current[0] = "other"
                timings[name].append((time.perf_counter() - started) * 1000)

        return wrapper

    cycle.nothing_due = timed("idle_question", cycle.nothing_due)  # type: ignore[assignment]
    for step in cycle.STEPS:
        step.run = timed(step.name, step.run)  # type: ignore[method-assign]
    heartbeat.record_cycle = timed("heartbeat", heartbeat.record_cycle)
    return current


def idle_main(url: str, instance: str, start_iso: str, cycles: int, results: Any) -> None:
    """Child process: warm-up, then `cycles` run_cycle calls at successive minutes; each step
    of the cycle timed by wrapping the module function run_cycle calls (a few us each)."""
    out: dict[str, Any] = {"errors": []}
    try:
        from sqlalchemy import event

        from reminders import cycle as cycle_module
        from server.db import plan_for_values
        from server.extensions import db

        timings: dict[str, list[float]] = {name: [] for name in step_names()}
        census: Counter[tuple[str, str]] = Counter()
        current = time_steps(timings)
        app = build_app(url, instance)
        start = dt.datetime.fromisoformat(start_iso)
        with app.app_context():
            plan_for_values(db.engine)  # as `companion worker` does

            @event.listens_for(db.engine, "before_cursor_execute")
            def _statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                verb = statement.split(None, 1)[0].upper()
                census[(current[0], "statements")] += verb not in ("BEGIN", "COMMIT")

            @event.listens_for(db.engine, "commit")
            def _commit(conn: Any) -> None:
                census[(current[0], "commits")] += 1

            sender = new_sender(app)
            content = app.extensions["companion.content"]
            totals: Counter[str] = Counter()
            warm = []
            for k in range(5):
                began = time.perf_counter()
                cycle_module.run_cycle(
                    db.session, start + dt.timedelta(minutes=k), content, "idle", sender
                )
                warm.append((time.perf_counter() - began) * 1000)
            for values in timings.values():
                values.clear()
            census.clear()
            measured = []
            for k in range(5, 5 + cycles):
                began = time.perf_counter()
                report = cycle_module.run_cycle(
                    db.session, start + dt.timedelta(minutes=k), content, "idle", sender
                )
                measured.append((time.perf_counter() - began) * 1000)
                totals.update(report.counts)
            out.update(
                warm=warm,
                measured=measured,
                steps={name: values for name, values in timings.items()},
                census={f"{step}|{what}": count / cycles for (step, what), count in census.items()},
                counts=dict(totals),
                end=(start + dt.timedelta(minutes=4 + cycles)).isoformat(),
            )
            out["explain"] = explain_scans(db.session, start + dt.timedelta(minutes=5))
            sender.close()
            db.session.remove()
            db.engine.dispose()
    except Exception:
        out["errors"].append(traceback.format_exc())
    results.put(out)


def explain(session: Any, query: Any) -> str:
    from sqlalchemy import text

    dialect = session.get_bind().dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    if dialect.name == "postgresql":
        rows = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).all()
    else:
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    session.rollback()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def explain_scans(session: Any, now: dt.datetime) -> dict[str, str]:
    """The plans of the idle cycle's one question (`nothing_due`) and of each step's part of
    it (its own index ranges, asked alone: each should be index ranges only)."""
    from reminders.cycle import STEPS, idle_question

    plans = {
        f"{step.name}'s part of the question": explain(session, step.question(now))
        for step in STEPS
        if step.due()
    }
    plans["the idle cycle's one question (nothing_due)"] = explain(
        session, idle_question(True).with_values(now)
    )
    return plans


# --- one run -----------------------------------------------------------------------------------


@dataclass
class RunResult:
    backend: str
    workers: int
    messages: int
    seconds: float = 0.0
    rate: float = 0.0
    received: int = 0
    distinct: int = 0
    duplicates: int = 0
    losses: int = 0
    misrouted: int = 0
    refused: int = 0
    failed_cycles: int = 0
    outbox: dict[str, int] = field(default_factory=dict)
    idle: dict[str, float] | None = None
    profile: dict[str, Any] | None = None
    killed_at: int | None = None  # the crash run: deliveries seen when a worker was killed
    in_flight_bound: int = 0

    @property
    def ok(self) -> bool:
        allowed = self.in_flight_bound if self.killed_at is not None else 0
        return not (
            self.duplicates > allowed
            or self.losses
            or self.misrouted
            or self.refused
            or self.failed_cycles
        )


def pg_backend_cpu(pids: Iterable[int | None]) -> float:
    return sum(proc_cpu_seconds(pid) for pid in pids if pid)


def run_once(
    backend: str,
    workers: int,
    n: int,
    push: PushServiceProcess,
    args: argparse.Namespace,
    *,
    idle: bool,
    profile: bool = False,
    crash: bool = False,
) -> RunResult:
    title = f"{backend}, {workers} worker{'s' if workers > 1 else ''}, {n:,} reminders"
    suffix = " (profiled)" if profile else ""
    if crash:
        suffix = f" (kill -9 of worker 0 at {args.crash_after:.0%} delivered)"
    log(f"\n=== {title}{suffix} ===")
    result = RunResult(backend, workers, n)
    moments = Moments.for_today()
    database = fresh_database(backend)
    processes: list[Any] = []
    release = SPAWN.Event()
    try:
        push.ask("clear")
        started = time.perf_counter()
        loaded = bulk_load(backend, database.raw, n, moments, push.browsers[:n])
        log(
            f"  bulk load {time.perf_counter() - started:.1f} s ("
            + ", ".join(f"{k} {v:.1f}" for k, v in loaded.items())
            + ")"
        )
        go = SPAWN.Event()
        results = SPAWN.Queue()
        for index in range(workers):
            process = SPAWN.Process(
                target=worker_main,
                args=(
                    index,
                    database.url,
                    str(database.instance),
                    moments.now.isoformat(),
                    go,
                    release,
                    results,
                    args.max_seconds,
                    profile,
                    args.crash_lease if crash else None,
                ),
                name=f"bench-worker-{index}",
            )
            process.start()
            processes.append(process)
        ready = 0
        deadline = time.monotonic() + 300
        while ready < workers:
            kind, index, report = results.get(timeout=max(1, deadline - time.monotonic()))
            if kind == "done":  # failed before it was ready
                raise RuntimeError(
                    f"worker {index} failed to start:\n" + "\n".join(report["errors"])
                )
            ready += 1
        log(
            f"  {workers} worker process(es) ready (own app, sender, connection); now = "
            f"{moments.now.isoformat()}"
        )
        push_cpu0 = push.ask("cpu")
        busy0 = machine_busy_seconds()
        self0 = self_cpu_seconds()
        t0 = time.time()
        go.set()
        reports: dict[int, dict[str, Any]] = {}
        last_note = time.monotonic()
        while len(reports) < workers:
            try:
                kind, index, report = results.get(timeout=0.02 if crash else 1)
            except Exception:  # queue.Empty
                kind = None
            if kind == "done":
                reports[index] = report
            if crash and result.killed_at is None:
                got, _ = push.ask("count")
                if got >= args.crash_after * n:
                    os.kill(processes[0].pid, signal.SIGKILL)
                    result.killed_at = got
                    log(f"    {time.time() - t0:6.1f} s: kill -9 of worker 0 at {got:,} delivered")
                    reports[0] = {"errors": [], "counts": Counter(), "cycles": 0, "killed": True}
            if time.monotonic() - last_note >= 10:
                got, refused = push.ask("count")
                elapsed = time.time() - t0
                log(
                    f"    {elapsed:6.1f} s: {got:,} delivered ({got / elapsed:,.0f}/s), "
                    f"{refused} refused"
                )
                last_note = time.monotonic()
            if time.time() - t0 > args.max_seconds + 120:
                raise RuntimeError("the workers did not finish in time")
        pg_cpu = pg_backend_cpu(r.get("backend_pid") for r in reports.values())
        busy = machine_busy_seconds() - busy0
        push_cpu = push.ask("cpu") - push_cpu0
        own = self_cpu_seconds() - self0
        release.set()
        collected = push.ask("collect", timeout=300)
        received = collected["received"]
        rejections = collected["rejections"]
        last = max((at for _, _, _, at in received), default=t0)
        first = min((at for _, _, _, at in received), default=t0)
        result.seconds = last - t0
        result.received = len(received)
        dose_ids = [dose_id for _, dose_id, _, _ in received]
        result.distinct = len(set(dose_ids))
        result.duplicates = result.received - result.distinct
        result.losses = n - len(set(dose_ids) & set(range(1, n + 1)))
        # dose i belongs to patient i, whose only browser is u<i>
        result.misrouted = sum(1 for sub, dose_id, _, _ in received if sub != f"u{dose_id}")
        result.refused = len(rejections)
        result.rate = result.distinct / result.seconds if result.seconds > 0 else 0.0
        result.outbox = dict(
            database.query("SELECT status, count(*) FROM outbox_message GROUP BY status")
        )
        deliveries = database.query("SELECT count(*) FROM push_delivery")[0][0]
        errors = [e for r in reports.values() for e in r["errors"]]
        result.failed_cycles = len(errors)
        if crash:
            from reminders.delivery import REMINDERS

            result.in_flight_bound = REMINDERS.in_flight

        log(
            f"  total time, start to the last delivery: {result.seconds:.1f} s "
            f"(target {TARGET_SECONDS:.0f} s: {verdict(result.seconds < TARGET_SECONDS)})"
        )
        log(
            f"  messages/s: {result.rate:,.0f}; the first delivery at {first - t0:.1f} s, then "
            f"{result.distinct / max(last - first, 1e-9):,.0f}/s from the first to the last"
        )
        log(
            f"  received {result.received:,}; distinct dose ids {result.distinct:,}; "
            f"duplicates {result.duplicates}; losses {result.losses}; misrouted "
            f"{result.misrouted}; refused by the push service {result.refused}; "
            f"POSTs seen {collected['attempts']:,}"
        )
        log(
            f"  outbox: {json.dumps(result.outbox, sort_keys=True)}; push_delivery rows "
            f"{deliveries:,}"
        )
        if crash:
            log(
                f"  crash: worker 0 killed at {result.killed_at:,} delivered; lost "
                f"{result.losses}, duplicates {result.duplicates} (bound: the in-flight sends "
                f"of the killed worker, {result.in_flight_bound}): "
                f"{verdict(result.losses == 0 and result.duplicates <= result.in_flight_bound)}"
            )
        for index in sorted(reports):
            r = reports[index]
            counts = r["counts"]
            log(
                f"  worker {index}: {r['cycles']} cycles, claimed {counts.get('claimed', 0):,}, "
                f"sent {counts.get('sent', 0):,}, queued {counts.get('queued', 0):,}, "
                f"finished at {r.get('finished', t0) - t0:.1f} s, CPU {r.get('cpu', 0):.1f} s, "
                f"failed cycles {len(r['errors'])}"
            )
            steps = r.get("steps") or {}
            log(
                "    seconds in each step: "
                + ", ".join(f"{k} {v:.1f}" for k, v in steps.items() if v >= 0.05)
            )
        workers_cpu = sum(r.get("cpu", 0) for r in reports.values())
        others = busy - workers_cpu - push_cpu - pg_cpu - own
        log(
            f"  CPU during the run ({result.seconds:.1f} s x 2 cores = "
            f"{2 * result.seconds:.0f} core-s): workers {workers_cpu:.1f} s "
            f"({1000 * workers_cpu / max(1, result.distinct):.2f} ms/message), push service "
            f"{push_cpu:.1f} s ({1000 * push_cpu / max(1, result.distinct):.2f} ms/message), "
            + (f"PostgreSQL backends {pg_cpu:.1f} s, " if backend == "postgresql" else "")
            + f"this script {own:.1f} s, everything else on the machine {others:.1f} s"
        )
        if rejections:
            log(f"  first refusals: {rejections[:5]}")
        kinds: dict[str, list[str]] = {}
        for error in errors:
            ending = [x for x in error.strip().splitlines() if x and not x.startswith(("(", "["))]
            kinds.setdefault(ending[-1] if ending else error, []).append(error)
        for last, same in kinds.items():
            log(f"  {len(same)} failed cycle(s) ending in: {last}")
            log("    traceback from the worker (frames of site-packages left out):")
            log("      " + short_traceback(same[0]).replace("\n", "\n      "))
        if profile:
            result.profile = next(iter(reports.values())).get("profile")
            print_profile(result.profile, n)
        if idle and args.idle_cycles > 0:  # --idle-cycles 0: the delivery run alone
            result.idle = run_idle(database, moments, args.idle_cycles)
        return result
    finally:
        release.set()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        if args.keep:
            log(
                f"  kept {database.instance}"
                + (f" and database {PG_DATABASE}" if backend == "postgresql" else "")
            )
        else:
            drop_database(database)


def short_traceback(text: str) -> str:
    """A traceback without the frames inside site-packages (the app's frames and the errors)."""
    lines = text.strip().splitlines()
    kept: list[str] = []
    skip_code = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("File "):
            skip_code = "site-packages" in stripped
            if not skip_code:
                kept.append(line)
        elif line.startswith("    ") and not stripped.startswith(("[SQL", "[parameters", "(")):
            if not skip_code and not set(stripped) <= set("^~ "):
                kept.append(line)
        elif stripped:
            kept.append(line)
    return "\n".join(kept)


def print_profile(summary: dict[str, Any] | None, messages: int) -> None:
    if not summary:
        log("  (no profile)")
        return
    total = summary["total"]
    log(
        f"  profile (one worker, sends sequential on the profiled thread): {total:.1f} s of "
        f"own time, {1000 * total / messages:.3f} ms per message"
    )
    for category, seconds in sorted(summary["by_category"].items(), key=lambda kv: -kv[1]):
        log(
            f"    {category:48s} {seconds:7.2f} s {100 * seconds / total:5.1f}% "
            f"{1000 * seconds / messages:.3f} ms/message"
        )
    census = summary.get("census") or {}
    batches = census.get("batches", 0)
    if batches:
        log(
            f"  {batches} batches; sent with a transaction open (SQLite: the write lock held "
            f"across the network): {census.get('batches sent with a transaction open', 0)}"
        )
        log("  SQL statements per message:")
        for key, value in sorted(census.items()):
            if ":" in key:
                log(f"    {key:45s} {value / messages:6.2f}")
    for key in ("tottime", "cumulative"):
        log(f"  top functions by {key}:")
        lines = [line for line in summary[key].splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        for line in lines[start : start + 26]:
            log("    " + line[:150])


def run_idle(database: Database, moments: Moments, cycles: int) -> dict[str, float]:
    """Every dose of today taken (so no nag is due; tomorrow's stay pending); then the idle
    cycle in a fresh process."""
    taken = sqlite_ts(moments.now) if database.backend == "sqlite" else moments.now.isoformat()
    database.execute(
        f"UPDATE dose SET status = 'taken', status_at = '{taken}' "  # noqa: S608
        f"WHERE local_date = '{moments.today.isoformat()}'"
    )
    database.execute(f"UPDATE patient_state SET last_dose_taken_at = '{taken}'")  # noqa: S608
    if database.backend == "postgresql":
        # as autovacuum would before long: the burst left 100,000 dead versions of outbox rows
        # in the index the idle question reads (the first idle cycles after it take 20 ms)
        database.execute("VACUUM ANALYZE dose")
        database.execute("VACUUM ANALYZE outbox_message")
    start = moments.now.replace(second=0) + dt.timedelta(minutes=1)
    results = SPAWN.Queue()
    process = SPAWN.Process(
        target=idle_main,
        args=(database.url, str(database.instance), start.isoformat(), cycles, results),
        name="bench-idle",
    )
    process.start()
    try:
        out = results.get(timeout=600)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
    if out["errors"]:
        log("  idle cycle failed:\n" + "\n".join(out["errors"]))
        return {}
    measured = out["measured"]
    p50, p99 = statistics.median(measured), percentile(measured, 0.99)
    log(
        f"\n  idle cycle, {cycles} cycles at successive minutes from "
        f"{(start + dt.timedelta(minutes=5)).isoformat()} over {len(measured)} cycles: "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(measured):.2f} ms "
        f"(target {TARGET_IDLE_MS:.0f} ms: {verdict(p99 < TARGET_IDLE_MS)}); "
        f"warm-up cycles {', '.join(f'{w:.1f}' for w in out['warm'])} ms"
    )
    log(
        f"  counts over the measured cycles (all must be 0 but time_rule_candidates): "
        f"{json.dumps(out['counts'], sort_keys=True)}"
    )
    census = out["census"]
    log("  per step: median ms, p99 ms, SQL statements and commits per cycle:")
    for name, values in out["steps"].items():
        if values:
            statements = census.get(f"{name}|statements", 0)
            commits = census.get(f"{name}|commits", 0)
            log(
                f"    {name:20s} {statistics.median(values):8.2f} {percentile(values, 0.99):8.2f}"
                f" {statements:6.1f} {commits:5.1f}"
            )
    total_statements = sum(v for k, v in census.items() if k.endswith("|statements"))
    total_commits = sum(v for k, v in census.items() if k.endswith("|commits"))
    whole = f"{total_statements:6.1f} {total_commits:5.1f}"
    log(f"    {'whole cycle':20s} {p50:8.2f} {p99:8.2f} {whole}")
    for name, plan in out["explain"].items():
        log(f"  plan of {name}:")
        log("    " + plan.replace("\n", "\n    "))
    return {"p50": p50, "p99": p99, "max": max(measured)}


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", default="1,3", help="comma-separated worker counts")
    parser.add_argument("--backend", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--idle-cycles", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="bound on one run")
    parser.add_argument("--profile", action="store_true", help="add a profiled 1-worker run")
    parser.add_argument("--profile-messages", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases (debugging)")
    parser.add_argument(
        "--crash",
        action="store_true",
        help="instead: 3 workers, worker 0 killed (SIGKILL) mid-burst; lost and duplicates",
    )
    parser.add_argument("--crash-after", type=float, default=0.3, help="fraction delivered")
    parser.add_argument("--crash-lease", type=float, default=10.0, help="claim lease, seconds")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if any(b not in ("sqlite", "postgresql") for b in backends) or not worker_counts:
        parser.error("--backend takes sqlite and/or postgresql; --workers e.g. 1,3")
    if args.keep and "postgresql" in backends and len(backends) * len(worker_counts) > 1:
        parser.error("--keep with PostgreSQL: one run at a time (one database name)")

    log(
        f"reminders benchmark: {args.messages:,} dose reminders at 08:00 UTC today; workers "
        f"{worker_counts}; backends {backends}; {os.cpu_count()} CPUs; load average "
        f"{os.getloadavg()[0]:.2f} at the start"
    )
    version = code_version()
    log(f"code measured: {version}")
    lock = hold_database_name(PG_DATABASE) if "postgresql" in backends else None
    count = max(args.messages, args.profile_messages if args.profile else 0)
    push = PushServiceProcess(count)
    log(
        f"push service at {push.url} (own process); {count:,} browser subscriptions (key pair "
        f"and auth secret each) made in {push.setup_seconds:.1f} s"
    )
    results: list[RunResult] = []
    try:
        for backend in backends if args.crash else []:
            results.append(run_once(backend, 3, args.messages, push, args, idle=False, crash=True))
        for backend in [] if args.crash else backends:
            for k, workers in enumerate(worker_counts):
                last = k == len(worker_counts) - 1
                results.append(run_once(backend, workers, args.messages, push, args, idle=last))
        if args.profile:
            results.append(
                run_once(
                    backends[0], 1, args.profile_messages, push, args, idle=False, profile=True
                )
            )
    finally:
        push.close()
        if lock is not None:
            lock.close()

    log("\nsummary")
    log(
        f"  {'backend':11s} {'workers':>7s} {'messages':>9s} {'seconds':>8s} {'msg/s':>7s} "
        f"{'dupl.':>5s} {'lost':>5s} {'failed':>6s}  idle p50/p99 ms"
    )
    for r in results:
        idle = f"{r.idle['p50']:.2f} / {r.idle['p99']:.2f}" if r.idle else "-"
        log(
            f"  {r.backend:11s} {r.workers:7d} {r.messages:9,d} {r.seconds:8.1f} {r.rate:7,.0f} "
            f"{r.duplicates:5d} {r.losses:5d} {r.failed_cycles:6d}  {idle}"
            + ("  (profiled)" if r.profile is not None else "")
            + (f"  (crash: killed at {r.killed_at:,})" if r.killed_at is not None else "")
        )
    log(f"  load average at the end {os.getloadavg()[0]:.2f}")
    now_version = code_version()
    if now_version.split("; ", 1)[-1] != version.split("; ", 1)[-1]:
        log(
            f"  WARNING: the code under test changed during the run: {version} at the "
            f"start, {now_version} now"
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
