"""How long one evaluation of every time-based rule takes for every patient.

What it measures (issue 3, "Measured"): `server.services.steps.time_rules.evaluate_all(session, now,
content)` -- the step the scheduler runs each minute: no bowel movement for 72 h (and the 48 h
prompt, fewer than 3 in 7 days), doses missed for over 48 h, blood test overdue -- over
100,000 patients with a year of diaries, on SQLite and on PostgreSQL. Target: under 200 ms per
evaluation.

How:
1. A fresh database (PostgreSQL `bench_rules`, or a SQLite file in a temporary instance), the
   schema from `companion db upgrade`.
2. Data loaded in bulk, bypassing the ORM: PostgreSQL `COPY` (psycopg `cursor.copy`, foreign-key
   triggers off for the load session), SQLite `executemany` in large transactions with
   `PRAGMA synchronous=OFF`; the secondary indexes of the two big tables are dropped during the
   load and rebuilt from their own definitions afterwards, then ANALYZE. Tables: clinic,
   user_account (a clinician per clinic, a login per patient), patient, patient_state,
   dose_plan (one per patient), bowel_movement, lab_result (an ANC every 28 days) and
   escalation (some resolved ones from the past months). Patients: most have a bowel movement
   every day or two (last one within 36 h); about 2% have had none for 2-4 days; about 1% stopped
   taking doses 50-70 h ago; about 1% are past their next blood test; tracking began a year ago
   for all. `patient_state` holds exactly the summaries of the rows loaded (checked after the
   load). Every patient's diary covers the full `--days`, unless `--diary-patients` (or the disk,
   or `--load-budget` seconds) limits the full year to fewer: the others then get their last 7
   days (at least 3 movements), which is all the summaries are made of. What was loaded is
   printed, table by table.
3. In a fresh process holding only the app (as the scheduler's), inside an app context
   (`create_app` pointed at that database): one evaluation (it opens escalations for the
   flagged patients), then 5 evaluations at the same `now` (nothing new to open) and 5 at
   `now + 1 minute`; min, median and max ms over those 10, the candidates, the candidates query
   alone, and its plan (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS); SQLite: EXPLAIN QUERY PLAN).
   When the median misses the target, one more evaluation is profiled (cProfile).

    .venv/bin/python -m benchmarks.time_rules [--patients 100000] [--days 365]
        [--backend sqlite|postgresql|both] [--diary-patients N] [--load-budget 300] [--keep]
    .venv/bin/python -m benchmarks.time_rules --backend sqlite|postgresql \
        --evaluate-only DATABASE_URL --now ISO8601   # again, on a database kept with --keep
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from benchmarks.common import ROOT, log, pg_admin, pg_url
from server.domain.anc import interpret_anc
from server.domain.monitoring_profile import DEFAULT_PROFILE, load_profile
from server.domain.red_flags import BOWEL_PROMPT_AFTER
from server.domain.schedule import anc_phase_interval_days
from server.domain.titration import RETITRATION_AFTER

BIN = Path(sys.executable).parent
PG_DATABASE = os.environ.get("BENCH_RULES_DATABASE", "bench_rules")
TARGET_MS = 200.0
DAY = 1440  # minutes
HOUR = 60
PATIENTS_PER_CLINIC = 2000
# The generator's patients sit where the rules' thresholds put them (read from the domain, not
# copied): a long-established patient tested every ANC_EVERY_DAYS; 2% past the bowel prompt
# (48-96 h), 1% past re-titration's missed-dose clock.
ANC_EVERY_DAYS = anc_phase_interval_days(
    dt.date(2000, 1, 1), dt.date(2010, 1, 1), load_profile(DEFAULT_PROFILE)
)
BOWEL_PROMPT_M = int(BOWEL_PROMPT_AFTER.total_seconds()) // 60
MISSED_DOSES_M = int(RETITRATION_AFTER.total_seconds()) // 60
# what a clinic count in the normal band reads as (every generated count is 2.0-6.0 x10^9/L)
_NORMAL = interpret_anc(2000, ben=False, profile=load_profile(DEFAULT_PROFILE))
NORMAL_COUNT = {
    "band": _NORMAL.band,
    "action": _NORMAL.action,
    "monitoring": _NORMAL.monitoring,
    "next_test_in_days": ANC_EVERY_DAYS,
    "confirm_within_24h": _NORMAL.confirm_within_24h,
}
BIG_TABLES = ("bowel_movement", "lab_result")  # secondary indexes dropped during the load
BYTES_PER_DIARY_ROW = 220  # heap + 3 indexes + WAL headroom, measured on PostgreSQL 15
ZONES = (
    ("Europe/London", 0.80),
    ("Europe/Dublin", 0.05),
    ("America/New_York", 0.05),
    ("Asia/Kolkata", 0.04),
    ("Australia/Sydney", 0.03),
    ("Pacific/Auckland", 0.03),
)
BRISTOL = (4, 4, 4, 4, 3, 3, 5, 5, 2, 6)
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2htYXJr$bm90LWEtcmVhbC1oYXNo"
PLAN_STEPS = json.dumps(
    [
        {"day": 1, "doses_mg": [0, 12.5]},
        {"day": 2, "doses_mg": [12.5, 12.5]},
        {"day": 3, "doses_mg": [12.5, 25]},
        {"day": 5, "doses_mg": [25, 50]},
        {"day": 7, "doses_mg": [25, 75]},
        {"day": 9, "doses_mg": [50, 100]},
        {"day": 11, "doses_mg": [75, 125]},
        {"day": 13, "doses_mg": [100, 150]},
        {"day": 15, "doses_mg": [125, 175]},
        {"day": 17, "doses_mg": [150, 200]},
    ]
)


# --- the synthetic population ------------------------------------------------------------------


@dataclass(slots=True)
class Facts:
    """One patient, as the generator decides it. Instants are minute numbers (see Clock)."""

    pid: int
    clinic_id: int
    clinician_id: int
    user_id: int
    timezone: str
    start_date: dt.date
    ben: bool
    tracking_m: int
    last_bm_m: int
    last_dose_m: int
    anc_minutes: list[int]
    constipated: bool
    stopped_doses: bool
    blood_overdue: bool
    past_escalation: tuple[int, str] | None
    full_diary: bool = True
    third_bm_m: int | None = None
    next_blood_due: dt.date | None = None


class Clock:
    """Minute numbers from midnight UTC a few days before tracking began, and their text in the
    backend's own storage format (SQLite: naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`, as
    SQLAlchemy writes it; PostgreSQL: timestamptz with +00)."""

    def __init__(self, now: dt.datetime, days: int) -> None:
        self.base = dt.datetime.combine(
            (now - dt.timedelta(days=days + 3)).date(), dt.time(), tzinfo=dt.UTC
        )
        self.now = now
        self.now_m = int((now - self.base).total_seconds() // 60)
        self._text: dict[str, list[str]] = {}

    def instant(self, minute: int) -> dt.datetime:
        return self.base + dt.timedelta(minutes=minute)

    def texts(self, backend: str) -> list[str]:
        if backend not in self._text:
            suffix = ":00.000000" if backend == "sqlite" else ":00+00"
            hm = [f" {h:02d}:{m:02d}{suffix}" for h in range(24) for m in range(60)]
            out: list[str] = []
            for day in range(self.now_m // DAY + 2):
                prefix = (self.base.date() + dt.timedelta(days=day)).isoformat()
                out.extend(prefix + x for x in hm)
            self._text[backend] = out
        return self._text[backend]


class Population:
    """Deterministic patients: every patient has its own random streams, so the summaries
    (first pass) and the diary rows (second pass) agree."""

    def __init__(self, patients: int, days: int, now: dt.datetime, seed: int) -> None:
        self.count = patients
        self.days = days
        self.clock = Clock(now, days)
        self.seed = seed
        self.clinics = max(1, -(-patients // PATIENTS_PER_CLINIC))
        self.zones = {name: ZoneInfo(name) for name, _ in ZONES}
        self.facts: list[Facts] = [self._facts(pid) for pid in range(1, patients + 1)]

    def rng(self, pid: int, stream: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + pid * 4 + stream)

    def local_date(self, minute: int, zone: str) -> dt.date:
        return self.clock.instant(minute).astimezone(self.zones[zone]).date()

    def _facts(self, pid: int) -> Facts:
        rng = self.rng(pid, 0)
        now_m = self.clock.now_m
        zone = rng.choices([z for z, _ in ZONES], weights=[w for _, w in ZONES])[0]
        tracking_m = now_m - self.days * DAY - int(rng.random() * 12 * HOUR)
        constipated = rng.random() < 0.02
        stopped = rng.random() < 0.01
        overdue = rng.random() < 0.01
        if constipated:  # none for 2-4 days
            last_bm = now_m - BOWEL_PROMPT_M - int(rng.random() * BOWEL_PROMPT_M)
        else:  # within the last 36 h
            last_bm = now_m - 10 - int(rng.random() * 36 * HOUR)
        if stopped:
            last_dose = now_m - MISSED_DOSES_M - 2 * HOUR - int(rng.random() * 20 * HOUR)
        else:
            last_dose = now_m - 30 - int(rng.random() * 13 * HOUR)
        # an ANC every ANC_EVERY_DAYS; the last one within that, or 2-12 days past it if overdue
        if overdue:
            last_anc = now_m - (ANC_EVERY_DAYS + 2) * DAY - int(rng.random() * 10 * DAY)
        else:
            last_anc = now_m - HOUR - int(rng.random() * (ANC_EVERY_DAYS - 1) * DAY)
        anc = [last_anc]  # the last count may predate tracking (an overdue patient, short diary)
        at = last_anc - ANC_EVERY_DAYS * DAY
        while at >= tracking_m:
            anc.append(at)
            at -= ANC_EVERY_DAYS * DAY
        anc.reverse()
        past = None
        if rng.random() < 0.05 and self.days > 40:
            opened = tracking_m + int(rng.random() * (self.days - 35) * DAY)
            past = (opened, rng.choice(["no_bowel_movement_72h", "blood_test_overdue"]))
        clinic = (pid - 1) // PATIENTS_PER_CLINIC + 1
        start = self.clock.instant(tracking_m).date() - dt.timedelta(days=rng.randint(0, 900))
        facts = Facts(
            pid=pid,
            clinic_id=clinic,
            clinician_id=clinic,
            user_id=self.clinics + pid,
            timezone=zone,
            start_date=start,
            ben=rng.random() < 0.02,
            tracking_m=tracking_m,
            last_bm_m=last_bm,
            last_dose_m=last_dose,
            anc_minutes=anc,
            constipated=constipated,
            stopped_doses=stopped,
            blood_overdue=overdue,
            past_escalation=past,
        )
        recent = list(islice(self.bowel_minutes(facts), 3))
        facts.third_bm_m = recent[2] if len(recent) == 3 else None
        facts.next_blood_due = self.local_date(anc[-1], zone) + dt.timedelta(days=ANC_EVERY_DAYS)
        return facts

    def bowel_minutes(self, facts: Facts) -> Iterator[int]:
        """The patient's bowel movements, newest first: every day (70%), every two days (20%)
        or twice a day (10%), a few hours either way; back to the start of tracking, or for a
        patient without a full diary over the last 7 days and at least 3 movements."""
        rng = self.rng(facts.pid, 1)
        rnd = rng.random
        minute = facts.last_bm_m
        stop = facts.tracking_m if facts.full_diary else self.clock.now_m - 7 * DAY
        count = 0
        while minute >= facts.tracking_m and (minute >= stop or count < 3):
            yield minute
            count += 1
            r = rnd()
            if r < 0.7:
                minute -= DAY - 4 * HOUR + int(rnd() * 8 * HOUR)
            elif r < 0.9:
                minute -= 2 * DAY - 4 * HOUR + int(rnd() * 8 * HOUR)
            else:
                minute -= DAY // 2 - 2 * HOUR + int(rnd() * 4 * HOUR)


# --- rows, the same for both backends (instants as text in the backend's format) ----------------


@dataclass
class Tables:
    population: Population
    ts: list[str]  # minute number -> text
    counters: dict[str, int] = field(default_factory=dict)
    diary_cutoff: Callable[[], bool] = lambda: False  # True: no more full diaries

    def clinic(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts[0]
        for cid in range(1, self.population.clinics + 1):
            yield (cid, f"Bench clinic {cid}", "guideline", "{}", created)

    def user_account(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts[0]
        for cid in range(1, self.population.clinics + 1):
            email = f"clinician{cid}@bench.invalid"
            yield (cid, email, f"Clinician {cid}", "clinician", FAKE_HASH, cid, None, 1, created)
        for f in self.population.facts:
            yield (
                f.user_id,
                f"patient{f.pid}@bench.invalid",
                f"Patient {f.pid}",
                "patient",
                FAKE_HASH,
                None,
                f.pid,
                1,
                self.ts[f.tracking_m],
            )

    def patient(self) -> Iterator[tuple[Any, ...]]:
        for f in self.population.facts:
            yield (
                f.pid,
                f.clinic_id,
                f"Patient {f.pid}",
                f.timezone,
                f.start_date.isoformat(),
                f.ben,
                self.ts[f.tracking_m - DAY],
                f.clinician_id,
            )

    def patient_state(self) -> Iterator[tuple[Any, ...]]:
        ts, now_m = self.ts, self.population.clock.now_m
        for f in self.population.facts:
            first_anc = self.population.local_date(f.anc_minutes[0], f.timezone)
            yield (
                f.pid,
                "stable",
                ts[f.tracking_m],
                ts[f.last_bm_m],
                None if f.third_bm_m is None else ts[f.third_bm_m],
                ts[f.last_dose_m],
                ts[f.tracking_m],  # doses due since the plan's first dose, a year ago
                "normal",
                first_anc.isoformat(),
                ts[f.anc_minutes[-1]],
                f.next_blood_due.isoformat() if f.next_blood_due else None,
                ts[max(f.last_bm_m, f.last_dose_m, now_m - 30)],
            )

    def dose_plan(self) -> Iterator[tuple[Any, ...]]:
        times = json.dumps(["08:00", "21:00"])
        for f in self.population.facts:
            yield (
                f.pid,
                f.pid,
                1,
                f.start_date.isoformat(),
                times,
                PLAN_STEPS,
                "initiation",
                350.0,
                "[]",
                f.clinician_id,
                self.ts[f.tracking_m - DAY],
                None,
            )

    def bowel_movement(self) -> Iterator[tuple[Any, ...]]:
        ts, now_m = self.ts, self.population.clock.now_m
        row_id = 0
        full = 0
        for f in self.population.facts:
            if f.full_diary and self.diary_cutoff():
                f.full_diary = False
            full += f.full_diary
            rng = self.population.rng(f.pid, 2)
            rnd = rng.random
            user = f.user_id
            for minute in self.population.bowel_minutes(f):
                row_id += 1
                recorded = min(minute + int(rnd() * 90), now_m)
                yield (
                    row_id,
                    f.pid,
                    ts[minute],
                    BRISTOL[int(rnd() * 10)],
                    None,
                    user,
                    ts[recorded],
                )
        self.counters["full_diaries"] = full

    def lab_result(self) -> Iterator[tuple[Any, ...]]:
        ts, row_id = self.ts, 0
        for f in self.population.facts:
            rng = self.population.rng(f.pid, 3)
            for i, minute in enumerate(f.anc_minutes):
                row_id += 1
                value = round(2.0 + rng.random() * 4.0, 1)
                if i + 1 < len(f.anc_minutes):
                    due = self.population.local_date(f.anc_minutes[i + 1], f.timezone)
                else:
                    due = f.next_blood_due or dt.date.today()
                interpretation = json.dumps({**NORMAL_COUNT, "next_test_due": due.isoformat()})
                yield (
                    row_id,
                    f.pid,
                    "anc",
                    value,
                    "10^9/L",
                    value * 1000,
                    None,
                    ts[minute],
                    "clinic",
                    interpretation,
                    f.clinician_id,
                    ts[minute + 5 * HOUR],
                )

    def escalation(self) -> Iterator[tuple[Any, ...]]:
        ts, row_id = self.ts, 0
        for f in self.population.facts:
            if f.past_escalation is None:
                continue
            opened, rule = f.past_escalation
            row_id += 1
            yield (
                row_id,
                f.pid,
                f.clinic_id,
                rule,
                "urgent",
                "resolved",
                "A past red flag",
                "[]",
                ts[opened],
                ts[opened + 3 * HOUR],
                f.clinician_id,
                ts[opened + DAY],
                f.clinician_id,
                "Called the patient; all well.",
                ts[opened],
                0,
            )


COLUMNS = {
    "clinic": "id, name, monitoring_profile, settings, created_at",
    "user_account": (
        "id, email, display_name, role, password_hash, clinic_id, patient_id, session_version, "
        "created_at"
    ),
    "patient": (
        "id, clinic_id, display_name, timezone, clozapine_start_date, benign_ethnic_neutropenia, "
        "created_at, created_by_id"
    ),
    "patient_state": (
        "patient_id, treatment_status, tracking_since, last_bowel_movement_at, "
        "third_last_bowel_movement_at, last_dose_taken_at, doses_due_since, anc_band, "
        "anc_band_since, last_anc_at, next_blood_test_due, updated_at"
    ),
    "dose_plan": (
        "id, patient_id, version, start_date, times, steps, kind, target_mg_per_day, warnings, "
        "created_by_id, created_at, superseded_at"
    ),
    "bowel_movement": (
        "id, patient_id, occurred_at, bristol_type, notes, recorded_by_id, recorded_at"
    ),
    "lab_result": (
        "id, patient_id, test, value, unit, normalised_value, wbc_10e9_l, collected_at, source, "
        "interpretation, recorded_by_id, recorded_at"
    ),
    "escalation": (
        "id, patient_id, clinic_id, rule, severity, status, summary, evidence, opened_at, "
        "acknowledged_at, acknowledged_by_id, resolved_at, resolved_by_id, resolution_note, "
        "last_notified_at, notify_level"
    ),
}
LOAD_ORDER = tuple(COLUMNS)


# --- loading -----------------------------------------------------------------------------------


class Loader:
    backend: str

    def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def load(self, table: str, rows: Iterable[tuple[Any, ...]]) -> int:
        raise NotImplementedError

    def execute(self, statement: str) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def scalar(self, statement: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PgLoader(Loader):
    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, connect_timeout=10)
        # bulk load: no foreign-key triggers in this session (the data is consistent by
        # construction; the app's own sessions are untouched)
        self.conn.execute("SET session_replication_role = replica")
        self.conn.execute("SET maintenance_work_mem = '512MB'")

    def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        rows = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(tables),),
        ).fetchall()
        for name, _ in rows:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.commit()
        return [definition for _, definition in rows]

    def load(self, table: str, rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        self.conn.commit()
        return count

    def execute(self, statement: str) -> None:
        self.conn.execute(statement)
        self.conn.commit()

    def finish(self) -> None:
        for table in LOAD_ORDER:
            if table != "patient_state":
                statement = (
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (constant names)
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
                self.conn.execute(statement)
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM (ANALYZE)")
        self.conn.autocommit = False

    def scalar(self, statement: str) -> Any:
        row = self.conn.execute(statement).fetchone()
        self.conn.commit()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()


class SqliteLoader(Loader):
    backend = "sqlite"
    BATCH = 1_000_000  # rows per transaction

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")  # as the app runs it
        self.conn.execute("PRAGMA synchronous=OFF")  # during the load only
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")  # 256 MiB

    def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        marks = ",".join("?" * len(tables))
        rows = self.conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks})",
            tuple(tables),
        ).fetchall()
        for name, _ in rows:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in rows]

    def load(self, table: str, rows: Iterable[tuple[Any, ...]]) -> int:
        columns = COLUMNS[table]
        marks = ",".join("?" * len(columns.split(",")))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        iterator = iter(rows)
        count = 0
        while True:
            taken = 0

            def batch() -> Iterator[tuple[Any, ...]]:
                nonlocal taken
                for row in islice(iterator, self.BATCH):
                    taken += 1
                    yield row

            self.conn.execute("BEGIN")
            self.conn.executemany(statement, batch())
            self.conn.execute("COMMIT")
            count += taken
            if taken < self.BATCH:
                return count

    def execute(self, statement: str) -> None:
        self.conn.execute(statement)

    def finish(self) -> None:
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def scalar(self, statement: str) -> Any:
        row = self.conn.execute(statement).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()


def check_schema(url: str) -> None:
    """Fail before the long load when the migrations do not give the tables the models use
    (a model changed without its migration, as happens while someone is mid-change)."""
    from sqlalchemy import create_engine, inspect

    from server.models import Base

    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        missing = []
        for table in Base.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                missing.append(table.name)
                continue
            present = {column["name"] for column in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in present]
    finally:
        engine.dispose()
    if missing:
        raise SystemExit(
            "the migrated schema lacks what server/models.py declares (a migration missing?): "
            + ", ".join(missing)
        )


def disk_free() -> int:
    return shutil.disk_usage(Path(tempfile.gettempdir())).free


def load_all(loader: Loader, population: Population, args: argparse.Namespace) -> dict[str, int]:
    """Bulk-load every table; returns rows per table."""
    tables = Tables(population, population.clock.texts(loader.backend))
    started = time.monotonic()
    budget_from: list[float] = []

    def over_budget() -> bool:
        if not budget_from:
            budget_from.append(time.monotonic())
        return time.monotonic() - budget_from[0] > args.load_budget

    tables.diary_cutoff = over_budget
    for f in population.facts[args.diary_patients :]:
        f.full_diary = False

    definitions = loader.drop_indexes(BIG_TABLES)
    counts: dict[str, int] = {}
    for table in LOAD_ORDER:
        t0 = time.monotonic()
        counts[table] = loader.load(table, getattr(tables, table)())
        log(f"    {table:<16}{counts[table]:>12,} rows  {time.monotonic() - t0:7.1f} s")
    t0 = time.monotonic()
    for definition in definitions:
        loader.execute(definition)
    log(
        f"    rebuilt {len(definitions)} indexes of {', '.join(BIG_TABLES)} "
        f"in {time.monotonic() - t0:.1f} s"
    )
    t0 = time.monotonic()
    loader.finish()
    log(
        f"    sequences, ANALYZE{'' if loader.backend == 'sqlite' else ' (VACUUM)'} "
        f"in {time.monotonic() - t0:.1f} s; load total {time.monotonic() - started:.1f} s"
    )
    counts["full_diaries"] = tables.counters.get("full_diaries", 0)
    return counts


def check_consistency(loader: Loader) -> None:
    """patient_state's bowel summaries equal the newest and third-newest rows loaded."""
    differs = "IS NOT" if loader.backend == "sqlite" else "IS DISTINCT FROM"
    bad = loader.scalar(
        "SELECT count(*) FROM patient_state s WHERE "  # noqa: S608 (no outside input)
        f"s.last_bowel_movement_at {differs} (SELECT b.occurred_at FROM bowel_movement b "
        "WHERE b.patient_id = s.patient_id ORDER BY b.occurred_at DESC LIMIT 1) OR "
        f"s.third_last_bowel_movement_at {differs} (SELECT b.occurred_at FROM bowel_movement b "
        "WHERE b.patient_id = s.patient_id ORDER BY b.occurred_at DESC LIMIT 1 OFFSET 2)"
    )
    bad_anc = loader.scalar(
        f"SELECT count(*) FROM patient_state s WHERE s.last_anc_at {differs} "  # noqa: S608
        "(SELECT max(l.collected_at) FROM lab_result l WHERE l.patient_id = s.patient_id)"
    )
    if bad or bad_anc:
        raise SystemExit(f"summaries disagree with the rows: bowel {bad}, anc {bad_anc}")
    log("    check: every patient_state summary equals its newest rows (bowel movements, ANC)")


# --- evaluating ----------------------------------------------------------------------------------


@dataclass
class Run:
    wall_ms: float
    cpu_ms: float  # of this process (PostgreSQL's own work is not in it)
    candidates: int
    opened: list[int]


@dataclass
class Timing:
    label: str
    runs: list[Run]

    def line(self) -> str:
        wall = [r.wall_ms for r in self.runs]
        cpu = [r.cpu_ms for r in self.runs]
        return (
            f"  {self.label:<22} wall ms: min {min(wall):6.1f} "
            f"median {statistics.median(wall):6.1f} max {max(wall):6.1f}   "
            f"cpu ms: median {statistics.median(cpu):6.1f}   "
            f"candidates {sorted({r.candidates for r in self.runs})}, "
            f"opened {sum(len(r.opened) for r in self.runs)}"
        )


def explain(session: Any, backend: str, now: dt.datetime) -> str:
    from sqlalchemy import text

    from server.services.steps.time_rules import candidates_query

    dialect = postgresql.dialect() if backend == "postgresql" else sqlite_dialect.dialect()
    sql = str(
        candidates_query(now).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    )
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = session.execute(text(prefix + sql)).all()
    session.rollback()
    if backend == "postgresql":
        return "\n".join(f"    {row[0]}" for row in rows)
    depth: dict[int, int] = {0: 0}
    lines = []
    for node, parent, _, detail in rows:  # SQLite: id, parent, notused, detail
        depth[node] = depth.get(parent, 0) + 1
        lines.append(f"    {'  ' * (depth[node] - 1)}{detail}")
    return "\n".join(lines)


def evaluate(backend: str, url: str, instance: Path, now: dt.datetime) -> dict[str, Any]:
    from server import create_app
    from server.extensions import db
    from server.models import Escalation
    from server.services.steps.time_rules import candidates_query, evaluate_all

    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "ENVIRON": {"COMPANION_ENV": "development"},
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    results: dict[str, Any] = {}
    with app.app_context():
        session = db.session
        content = app.extensions["companion.content"]

        def once(at: dt.datetime) -> Run:
            started, cpu = time.perf_counter(), time.process_time()
            evaluation = evaluate_all(session(), at, content)
            run = Run(
                (time.perf_counter() - started) * 1000,
                (time.process_time() - cpu) * 1000,
                evaluation.candidates,
                list(evaluation.opened),
            )
            session.remove()
            return run

        def opened_by_rule(ids: list[int]) -> str:
            counts: dict[str, int] = {}
            for start in range(0, len(ids), 1000):
                for rule, n in session.execute(
                    select(Escalation.rule, func.count())
                    .where(Escalation.id.in_(ids[start : start + 1000]))
                    .group_by(Escalation.rule)
                ):
                    counts[rule] = counts.get(rule, 0) + n
            session.remove()
            return ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())) or "none"

        session.execute(select(func.count()).select_from(Escalation)).scalar()  # connect
        session.remove()
        gc.collect()
        first = once(now)
        log(
            f"  first evaluation: {first.wall_ms:.1f} ms (cpu {first.cpu_ms:.1f}), "
            f"{first.candidates} candidates, opened {len(first.opened)} escalations: "
            + opened_by_rule(first.opened)
        )
        timings = []
        for label, at in (
            ("same now (x5)", now),
            ("now + 1 minute (x5)", now + dt.timedelta(minutes=1)),
        ):
            timing = Timing(label, [once(at) for _ in range(5)])
            timings.append(timing)
            log(timing.line())
            for run in timing.runs:
                if run.opened:
                    log(f"    opened at {at.isoformat()}: {opened_by_rule(run.opened)}")
        query_ms = []
        for _ in range(5):
            started = time.perf_counter()
            rows = session.execute(candidates_query(now)).all()
            query_ms.append((time.perf_counter() - started) * 1000)
            session.remove()
        log(
            f"  candidates_query alone (ORM rows, {len(rows)} candidates): median "
            f"{statistics.median(query_ms):.1f} ms "
            f"(min {min(query_ms):.1f}, max {max(query_ms):.1f})"
        )
        log("  plan of candidates_query(now):")
        log(explain(session, backend, now))
        wall = [r.wall_ms for t in timings for r in t.runs]
        cpu = [r.cpu_ms for t in timings for r in t.runs]
        median = statistics.median(wall)
        results.update(
            first_ms=first.wall_ms,
            first_candidates=first.candidates,
            opened=len(first.opened),
            min_ms=min(wall),
            median_ms=median,
            max_ms=max(wall),
            cpu_median_ms=statistics.median(cpu),
            candidates=timings[0].runs[0].candidates,
            query_ms=statistics.median(query_ms),
        )
        if median >= TARGET_MS:
            log(
                f"  median {median:.1f} ms misses the {TARGET_MS:.0f} ms target: cProfile of one "
                "evaluation (top 25 by cumulative time)"
            )
            profiler = cProfile.Profile()
            profiler.enable()
            evaluate_all(session(), now, content)
            profiler.disable()
            session.remove()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            log("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))
    return results


def evaluate_in_child(backend: str, url: str, instance: Path, now: dt.datetime) -> dict[str, Any]:
    """Time the evaluations in a fresh process holding only the app, as the scheduler does: this
    process holds the generated population, whose objects the garbage collector would walk
    during the timings."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.time_rules",
        "--backend",
        backend,
        "--evaluate-only",
        url,
        "--instance",
        str(instance),
        "--now",
        now.isoformat(),
    ]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    result = None
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            result = json.loads(line.removeprefix("RESULT_JSON "))
        else:
            log(line)
    if completed.returncode != 0 or result is None:
        raise SystemExit(f"the evaluation failed ({completed.returncode}):\n{completed.stderr}")
    return result


# --- one backend ---------------------------------------------------------------------------------


def run_backend(backend: str, population: Population, args: argparse.Namespace) -> dict[str, Any]:
    log(f"\n=== {backend} ===")
    instance = Path(tempfile.mkdtemp(prefix=f"bench_rules_{backend}_"))
    env = dict(os.environ, COMPANION_INSTANCE_PATH=str(instance), COMPANION_ENV="development")
    env.pop("DATABASE_URL", None)
    if backend == "postgresql":
        if PG_DATABASE == "test":
            raise SystemExit("refusing to touch the database named 'test' (the test suite owns it)")
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        url = pg_url(PG_DATABASE).replace("postgresql://", "postgresql+psycopg://")
        env["DATABASE_URL"] = url
    else:
        url = f"sqlite:///{instance / 'companion.sqlite3'}"
    loader: Loader | None = None
    try:
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
            raise SystemExit(f"companion db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}")
        check_schema(url)
        free_before = disk_free()
        log(f"  free disk before the load: {free_before / 2**30:.1f} GiB")
        loader = (
            PgLoader(pg_url(PG_DATABASE))
            if backend == "postgresql"
            else SqliteLoader(instance / "companion.sqlite3")
        )
        counts = load_all(loader, population, args)
        check_consistency(loader)
        loader.close()
        loader = None
        used = free_before - disk_free()
        full = counts.pop("full_diaries")
        log(
            f"  loaded: {population.count:,} patients in {population.clinics} clinics; "
            f"{full:,} with a diary of {population.days} days, "
            f"{population.count - full:,} with their last 7 days; about {used / 2**30:.1f} GiB"
        )
        result = evaluate_in_child(backend, url, instance, population.clock.now)
        result.update(rows=counts, full_diaries=full)
        return result
    finally:
        if loader is not None:
            loader.close()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time one evaluation of every time rule.")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365, help="diary length")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--diary-patients",
        type=int,
        default=None,
        help="patients with the full diary (default: all); the others get their last 7 days",
    )
    parser.add_argument(
        "--load-budget",
        type=float,
        default=300,
        help="seconds of diary loading after which the remaining patients get 7 days only",
    )
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--evaluate-only",
        metavar="DATABASE_URL",
        help="only time the evaluations on a database already loaded (kept with --keep)",
    )
    parser.add_argument("--instance", help="with --evaluate-only: an instance directory")
    parser.add_argument("--now", help="with --evaluate-only: the instant the data was made for")
    args = parser.parse_args(argv)
    if args.evaluate_only:
        if args.backend == "both" or not args.now:
            parser.error("--evaluate-only needs --backend sqlite|postgresql and --now")
        with tempfile.TemporaryDirectory(prefix="bench_rules_eval_") as scratch:
            result = evaluate(
                args.backend,
                args.evaluate_only,
                Path(args.instance or scratch),
                dt.datetime.fromisoformat(args.now),
            )
        print("RESULT_JSON " + json.dumps(result), flush=True)
        return 0
    if not 1 <= args.patients <= 1_000_000 or not 30 <= args.days <= 366:
        parser.error("keep --patients within 1-1,000,000 and --days within 30-366")
    if args.diary_patients is None:
        args.diary_patients = args.patients
    args.diary_patients = min(args.diary_patients, args.patients)

    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    started = time.monotonic()
    population = Population(args.patients, args.days, now, args.seed)
    facts = population.facts
    week_ago = population.clock.now_m - 7 * DAY
    few = sum(f.third_bm_m is None or f.third_bm_m < week_ago for f in facts)
    log(
        f"now = {now.isoformat()}; {args.patients:,} patients generated in "
        f"{time.monotonic() - started:.1f} s: {sum(f.constipated for f in facts):,} without a "
        f"bowel movement for 2-4 days, {sum(f.stopped_doses for f in facts):,} who stopped "
        f"their doses 50-70 h ago, {sum(f.blood_overdue for f in facts):,} past their blood "
        f"test, {few:,} with fewer than 3 movements in 7 days"
    )
    estimate = args.diary_patients * args.days * 0.87 * BYTES_PER_DIARY_ROW
    if estimate > disk_free() - 5 * 2**30:
        fit = max(0, int((disk_free() - 5 * 2**30) / (args.days * 0.87 * BYTES_PER_DIARY_ROW)))
        log(f"not enough disk for {args.diary_patients:,} full diaries: {fit:,} instead")
        args.diary_patients = fit
    log(
        f"full diaries for {args.diary_patients:,} patients (about "
        f"{estimate / 2**30:.1f} GiB per backend); load budget {args.load_budget:.0f} s"
    )

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {backend: run_backend(backend, population, args) for backend in backends}

    log("\n=== summary: one evaluate_all over every patient ===")
    log(
        f"{'backend':<12}{'patients':>10}{'diary rows':>12}{'candidates':>12}{'first ms':>10}"
        f"{'min ms':>9}{'median ms':>11}{'max ms':>9}{'cpu ms':>8}{'query ms':>10}"
    )
    for backend, r in results.items():
        mark = "" if r["median_ms"] < TARGET_MS else " !"
        log(
            f"{backend:<12}{args.patients:>10,}{r['rows']['bowel_movement']:>12,}"
            f"{r['candidates']:>12,}{r['first_ms']:>10.1f}{r['min_ms']:>9.1f}"
            f"{r['median_ms']:>11.1f}{r['max_ms']:>9.1f}{r['cpu_median_ms']:>8.1f}"
            f"{r['query_ms']:>10.1f}{mark}"
        )
    log(
        f"target: under {TARGET_MS:.0f} ms per evaluation (! = missed); min/median/max wall "
        "time and median CPU time of the evaluating process over the 10 evaluations after "
        "the first; query ms: candidates_query alone, ORM rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
