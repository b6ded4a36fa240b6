"""What 40 open care-team tabs cost the server: the live pulse (issue 16, "measure it at 40 open
tabs").

Each open /care/ page asks `GET /api/escalations/pulse?since=<version>` every 3 seconds
(pwa_static/care/js/live.js) instead of holding a Server-Sent Events connection: gunicorn runs
sync workers, one request at a time each (README, Performance), so 40 held connections would
need 40 workers. This script measures what the polling costs instead.

How, per backend (SQLite, PostgreSQL): a fresh instance and database; `companion db upgrade`,
`companion init-instance`, a clinician (`companion create-user`); gunicorn as in production
(`--workers 2 --threads 1`, scripts/run.sh). Through the API the clinician enrols `--patients`
patients (40) and enters a blood count for each that opens escalations like the clinic of the
issue: every patient a mild count (`anc_mild`), every tenth also a moderate one
(`anc_moderate`), so 44 unresolved escalations. Then `--tabs` tabs (40), each its own signed-in
session in its own thread, poll every `--every` seconds (3) for `--seconds` (30), started spread
over one interval, as open pages would be. Printed: the requests answered, their latency (p50,
p99, max), any non-200, and the CPU the two gunicorn workers used during the run, as a share of
one core and per request; and, for scale, the most pulses a second the two workers answer when
asked back to back by 4 threads (`--burst` seconds), and the same for the full list the page
read before (`GET /api/escalations?status=unresolved`, every 30 s).

    flock /tmp/bench.lock .venv/bin/python -m benchmarks.care_pulse
        [--backend sqlite|postgresql|both] [--tabs 40] [--every 3] [--seconds 30]
        [--patients 40] [--burst 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from benchmarks.api import (
    CPUS,
    CpuSnapshot,
    CpuUse,
    recreate_pg_database,
    run_cli,
    start_gunicorn,
    stop_gunicorn,
    wait_for_workers,
)
from benchmarks.common import ROOT, code_version, free_port, hold_database_name, log, pg_url

PG_DATABASE = os.environ.get("BENCH_PULSE_DATABASE", "bench_care_pulse")
EMAIL = "pulse.clinician@example.org"
PASSWORD = secrets.token_urlsafe(18)
PULSE = "/api/escalations/pulse"
FULL_LIST = "/api/escalations?status=unresolved"


class Tab:
    """One open care-team page: its own session cookie and CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.csrf = ""

    def sign_in(self) -> None:
        answer = self.http.post(
            f"{self.base}/api/session", json={"email": EMAIL, "password": PASSWORD}, timeout=30
        )
        if answer.status_code != 200:
            raise SystemExit(f"sign-in: {answer.status_code} {answer.text[:300]}")
        self.csrf = answer.json()["csrf_token"]

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        answer = self.http.request(
            method, self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}, timeout=30
        )
        if answer.status_code != status:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()


def seed(base: str, patients: int) -> int:
    """A clinic like the issue's: `patients` patients, 44 unresolved escalations for 40."""
    nurse = Tab(base)
    nurse.sign_in()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    collected = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    for n in range(patients):
        created = nurse.call(
            "POST",
            "/api/patients",
            {
                "display_name": f"Patient {n:02d}",
                "timezone": "Europe/London",
                "clozapine_start_date": today,
                "benign_ethnic_neutropenia": False,
            },
            status=201,
        )
        for value in (1200, 800) if n % 10 == 0 else (1200,):
            nurse.call(
                "POST",
                f"/api/patients/{created['id']}/lab-results",
                {"test": "anc", "value": value, "unit": "cells/uL", "collected_at": collected},
                status=201,
            )
    return int(nurse.call("GET", PULSE)["unresolved"])


@dataclass
class Polling:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def poll(tab: Tab, every: float, delay: float, until: float, out: Polling) -> None:
    """What live.js does: ask with the last version every `every` seconds."""
    time.sleep(delay)
    version = None
    next_at = time.monotonic()
    while next_at < until:
        path = PULSE + (f"?since={version}" if version else "")
        started = time.monotonic()
        try:
            answer = tab.http.get(tab.base + path, timeout=30)
            took = time.monotonic() - started
            with out.lock:
                if answer.status_code == 200:
                    out.latencies.append(took)
                    version = answer.json()["version"]
                else:
                    out.failures.append(str(answer.status_code))
        except requests.RequestException as error:
            with out.lock:
                out.failures.append(type(error).__name__)
        next_at += every
        time.sleep(max(0.0, next_at - time.monotonic()))


def burst(tabs: list[Tab], path: str, seconds: float, threads: int = 4) -> float:
    """Requests a second the workers answer when asked back to back (the ceiling)."""
    done = [0] * threads
    until = time.monotonic() + seconds

    def run(index: int) -> None:
        tab = tabs[index]
        while time.monotonic() < until:
            if tab.http.get(tab.base + path, timeout=30).status_code == 200:
                done[index] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - started)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"\n== {backend} ==")
    instance = Path(tempfile.mkdtemp(prefix="bench-pulse-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(
        COMPANION_INSTANCE_PATH=str(instance),
        COMPANION_LOG_LEVEL="WARNING",
        COMPANION_LOGIN_LIMIT_PER_ADDRESS="6000 per minute",
    )
    holder = None
    process = None
    try:
        if backend == "postgresql":
            holder = hold_database_name(PG_DATABASE)
            recreate_pg_database(PG_DATABASE)
            env["DATABASE_URL"] = pg_url(PG_DATABASE).replace(
                "postgresql://", "postgresql+psycopg://"
            )
        run_cli(["db", "upgrade"], env)
        run_cli(["init-instance"], env)
        run_cli(
            ["create-user", "--role", "clinician", "--email", EMAIL, "--name", "Nurse Pulse",
             "--clinic", "Pulse clinic", "--password-stdin"],
            env,
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        port = free_port()
        process = start_gunicorn(
            port, env, instance / "gunicorn.log", "server:create_app()", threads=1
        )
        workers = wait_for_workers(process.pid)
        base = f"http://127.0.0.1:{port}"
        unresolved = seed(base, args.patients)
        log(f"  clinic: {args.patients} patients, {unresolved} unresolved escalations")
        tabs = [Tab(base) for _ in range(args.tabs)]
        for tab in tabs:
            tab.sign_in()

        out = Polling()
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=poll, args=(tab, args.every, i * args.every / len(tabs), until, out)
            )
            for i, tab in enumerate(tabs)
        ]
        before = CpuSnapshot.take(workers)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        used = CpuUse.between(before, CpuSnapshot.take(workers))
        answered = len(out.latencies)
        rate = answered / (args.seconds)
        worker_cores = sum(used.workers)
        result = {
            "backend": backend,
            "unresolved": unresolved,
            "answered": answered,
            "rate": rate,
            "p50_ms": 1000 * statistics.median(out.latencies),
            "p99_ms": 1000 * percentile(out.latencies, 0.99),
            "max_ms": 1000 * max(out.latencies),
            "failures": len(out.failures),
            "worker_cores": worker_cores,
            "cpu_ms_per_request": 1000 * worker_cores / rate if rate else float("nan"),
            "machine": used.machine,
        }
        log(
            f"  {args.tabs} tabs polling every {args.every:g} s for {args.seconds:g} s: "
            f"{answered} answered ({rate:.1f}/s), {len(out.failures)} failed "
            f"{sorted(set(out.failures))}"
        )
        log(
            f"  latency p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"max {result['max_ms']:.1f} ms"
        )
        log(
            f"  gunicorn workers: {worker_cores:.3f} of one core "
            f"({100 * worker_cores / CPUS:.1f}% of the machine's {CPUS}), "
            f"{result['cpu_ms_per_request']:.2f} ms CPU a pulse; {used.describe()}"
        )
        result["pulse_ceiling"] = burst(tabs, PULSE, args.burst)
        result["list_ceiling"] = burst(tabs, FULL_LIST, args.burst)
        log(
            f"  back to back (4 threads, {args.burst:g} s): pulse {result['pulse_ceiling']:.0f}/s,"
            f" the full list {result['list_ceiling']:.0f}/s"
        )
        return result
    finally:
        stop_gunicorn(process)
        shutil.rmtree(instance, ignore_errors=True)
        if holder is not None:
            holder.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tabs", type=int, default=40)
    parser.add_argument("--every", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--burst", type=float, default=5.0)
    args = parser.parse_args(argv)
    log(f"care pulse benchmark; {code_version()}; root {ROOT}")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [run_backend(backend, args) for backend in backends]
    log("\n| backend | pulses/s | p50 | p99 | failed | worker CPU (of 1 core) | CPU/pulse | "
        "pulse ceiling | full-list ceiling |")  # fmt: skip
    log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        log(
            f"| {r['backend']} | {r['rate']:.1f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
            f"{r['failures']} | {r['worker_cores']:.3f} | {r['cpu_ms_per_request']:.2f} ms | "
            f"{r['pulse_ceiling']:.0f}/s | {r['list_ceiling']:.0f}/s |"
        )
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
