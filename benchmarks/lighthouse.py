"""Lighthouse on the patient app's Today screen, mobile emulation, with Debian's Chromium.

    .venv/bin/python -m benchmarks.lighthouse                  # starts its own server
    .venv/bin/python -m benchmarks.lighthouse --url http://127.0.0.1:5000 \\
        --email patient@example.org --password-stdin           # against a running server

Prints the performance score, Largest Contentful Paint, total bytes and the accessibility score
(the issue's targets: performance >= 95, accessibility 100, LCP under 1.5 s, under 100 KiB) of
the median of `--runs` first visits (5, as Lighthouse's own guidance on variability advises),
each in a new browser with nothing cached, and every run's LCP. Before the runs the server is
asked once for the signed-in page and each file it names, as a server that has been running
has been: a web worker's first answer of a file also compresses it (server/assets.py), and a
freshly started server would otherwise be measured instead of the page.
Uses `npx --yes lighthouse@12.2.3` with Debian's Chromium, started here with a remote debugging
port: the signed-in session goes into that browser's own cookie jar (as on a phone that signed in
before), and Lighthouse drives the browser through the port. A Cookie header given to Lighthouse
instead (`--extra-headers`) is replaced by the jar's cookies as soon as the app sets one of its
own, so the app's API calls were refused and it fell back to the sign-in screen.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

LIGHTHOUSE = "lighthouse@12.2.3"
CHROME = "/usr/bin/chromium"
TARGETS = {"performance": 95, "accessibility": 100, "lcp_ms": 1500, "bytes": 100 * 1024}


def signed_in(base: str, email: str, password: str) -> requests.Session:
    """An HTTP session signed in as `email`."""
    http = requests.Session()
    response = http.post(
        f"{base}/api/session", json={"email": email, "password": password}, timeout=30
    )
    response.raise_for_status()
    return http


def session_cookies(base: str, http: requests.Session) -> list[dict]:
    """The signed-in session's cookies, as the browser would have kept them."""
    return [{"name": c.name, "value": c.value, "url": base} for c in http.cookies]


def warm(base: str, http: requests.Session, rounds: int = 4) -> None:
    """Ask for the signed-in page and every file it names a few times (each web worker's first
    answer of a file reads and compresses it), as a server that has been running has done."""
    page = http.get(f"{base}/", timeout=30).text
    names = set(re.findall(r'(?:href|src)="(/[^"]+)"', page)) | {"/manifest.webmanifest"}
    for _ in range(rounds):
        for name in sorted(names):
            requests.get(f"{base}{name}", headers={"Accept-Encoding": "gzip, br"}, timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def chromium_with_cookies(cookies: list[dict], workdir: Path) -> Iterator[int]:
    """A headless Chromium with a fresh profile holding `cookies`; yields its debugging port."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    process = subprocess.Popen(
        [
            CHROME,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={workdir / 'profile'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/json/version", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium did not open its debugging port") from None
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            browser.contexts[0].add_cookies(cookies)  # the default profile's jar
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def run_lighthouse(url: str, port: int, workdir: Path, attempts: int = 2) -> dict:
    """One Lighthouse run; a run that Lighthouse itself fails (now and then it exits 1 on this
    machine) is made again, up to `attempts` in all."""
    for attempt in range(1, attempts + 1):
        try:
            return _lighthouse_once(url, port, workdir)
        except subprocess.CalledProcessError:
            if attempt == attempts:
                raise
            print(f"Lighthouse failed (attempt {attempt}); once more", file=sys.stderr)
    raise AssertionError("unreachable")


def _lighthouse_once(url: str, port: int, workdir: Path) -> dict:
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
        f"--port={port}",
    ]
    subprocess.run(command, check=True, timeout=600)
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
    parser.add_argument("--report", type=Path, help="also keep the median run's full JSON report")
    parser.add_argument(
        "--runs", type=int, default=5, help="first visits measured; the median is reported (5)"
    )
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
            http = signed_in(base, email, password)
            cookies = session_cookies(base, http)
            warm(base, http)
            reports = []
            for run in range(max(1, args.runs)):
                # each run a new browser, with nothing cached: a first visit
                (workdir / f"run-{run}").mkdir()
                with chromium_with_cookies(cookies, workdir / f"run-{run}") as port:
                    reports.append(run_lighthouse(f"{base}/#/today", port, workdir / f"run-{run}"))
        finally:
            if server is not None:
                live_server.stop(server.process)
    runs = sorted(range(len(reports)), key=lambda n: summarise(reports[n])["lcp_ms"])
    middle = runs[len(runs) // 2]
    figures = summarise(reports[middle])
    if args.report:
        args.report.write_text(json.dumps(reports[middle], indent=1))
    each = [summarise(reports[n])["lcp_ms"] / 1000 for n in runs]
    listed = ", ".join(f"{lcp:.2f}" for lcp in each)
    print(f"{len(runs)} runs, LCP {listed} s; the median run:")
    print_summary(figures)
    if args.json:
        print(json.dumps({**figures, "lcp_ms_each": [round(lcp * 1000) for lcp in each]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
