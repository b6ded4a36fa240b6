"""Lighthouse on the patient app's Today screen, mobile emulation, with Debian's Chromium.

    .venv/bin/python -m benchmarks.lighthouse                  # starts its own server
    .venv/bin/python -m benchmarks.lighthouse --url http://127.0.0.1:5000 \\
        --email patient@example.org --password-stdin           # against a running server

Prints the performance score, Largest Contentful Paint, total bytes and the accessibility score
(the issue's targets: performance >= 95, accessibility 100, LCP under 1.5 s, under 100 KiB).
Uses `npx --yes lighthouse@12.2.3` and CHROME_PATH=/usr/bin/chromium; the signed-in session is
passed to Lighthouse as a Cookie header.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
TARGETS = {"performance": 95, "accessibility": 100, "lcp_ms": 1500, "bytes": 100 * 1024}


def session_cookie(base: str, email: str, password: str) -> str:
    """Sign in and return the Cookie header that carries the session."""
    http = requests.Session()
    response = http.post(
        f"{base}/api/session", json={"email": email, "password": password}, timeout=30
    )
    response.raise_for_status()
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def run_lighthouse(url: str, cookie: str, workdir: Path) -> dict:
    headers = workdir / "headers.json"
    headers.write_text(json.dumps({"Cookie": cookie}))
    report = workdir / "report.json"
    command = [
        "npx",
        "--yes",
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=performance,accessibility",
        "--form-factor=mobile",
        f"--extra-headers={headers}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
    ]
    env = {**os.environ, "CHROME_PATH": CHROME}
    subprocess.run(command, check=True, env=env, timeout=600)
    return json.loads(report.read_text())


def summarise(report: dict) -> dict:
    audits = report["audits"]
    categories = report["categories"]
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "bytes": round(audits["total-byte-weight"]["numericValue"]),
        "accessibility": round(categories["accessibility"]["score"] * 100),
    }


def print_summary(figures: dict) -> None:
    print(f"performance score   {figures['performance']:>7}   (target >= {TARGETS['performance']})")
    print(f"LCP                 {figures['lcp_ms'] / 1000:>6.2f}s   (target < 1.5 s)")
    print(f"total bytes         {figures['bytes'] / 1024:>6.1f}K   (target < 100 KiB)")
    print(
        f"accessibility score {figures['accessibility']:>7}   (target {TARGETS['accessibility']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server; without it, one is started")
    parser.add_argument("--email", help="a patient's email (with --url)")
    parser.add_argument("--password-stdin", action="store_true", help="read the password")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--report", type=Path, help="also keep Lighthouse's full JSON report here")
    args = parser.parse_args(argv)
    if not shutil.which("npx"):
        parser.error("npx (Node.js) is needed to run Lighthouse")
    if not Path(CHROME).exists():
        parser.error(f"{CHROME} is missing: run `make browser-deps`")

    server = None
    with tempfile.TemporaryDirectory(prefix="companion-lighthouse-") as tmp:
        workdir = Path(tmp)
        try:
            if args.url:
                if not (args.email and args.password_stdin):
                    parser.error("--url needs --email and --password-stdin")
                base = args.url.rstrip("/")
                email, password = args.email, sys.stdin.readline().rstrip("\r\n")
            else:
                from tests.browser import live_server

                (workdir / "instance").mkdir()
                server = live_server.start(workdir / "instance")
                person = server.enrol_patient("Lighthouse")
                base, email, password = server.url, person.email, person.password
            report = run_lighthouse(
                f"{base}/#/today", session_cookie(base, email, password), workdir
            )
        finally:
            if server is not None:
                live_server.stop(server.process)
    if args.report:
        args.report.write_text(json.dumps(report, indent=1))
    figures = summarise(report)
    print_summary(figures)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
