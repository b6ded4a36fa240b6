"""What the benchmark scripts share: the PostgreSQL admin connection, free ports, logging and
the version of the code under test."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def log(message: str = "") -> None:
    print(message, flush=True)


def pg_url(database: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"


def pg_admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hold_database_name(database: str) -> psycopg.Connection[Any]:
    """One run at a time per database name: a session advisory lock, held by this connection
    for the whole run, so that a second run does not drop the database under the first."""
    conn = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10)
    locked = conn.execute(
        "SELECT pg_try_advisory_lock(hashtext(%s))", (f"companion-benchmark:{database}",)
    ).fetchone()
    if not locked or not locked[0]:
        conn.close()
        raise SystemExit(
            f"another run is using the database {database} (advisory lock held): not "
            "dropping it under that run; try again when it has finished"
        )
    return conn


def code_version() -> str:
    """The commit, and a fingerprint of the code under test (the trees of server/, reminders/
    and migrations/ at HEAD, and any uncommitted change there): it can change while a long
    run goes on, so it is printed at the start and compared at the end."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        trees = git("rev-parse", "HEAD:server", "HEAD:reminders", "HEAD:migrations")
        dirty = git("status", "--porcelain", "--", "server", "reminders", "migrations")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    fingerprint = "/".join(tree[:9] for tree in trees.split())
    changed = " + uncommitted changes" if dirty else ""
    return f"commit {head}; server/reminders/migrations trees {fingerprint}{changed}"
