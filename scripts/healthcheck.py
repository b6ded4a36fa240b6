"""A container's health check: exit 0 when /healthz answers ok (standard library only).

    python scripts/healthcheck.py [URL] [--scheduler]

URL defaults to http://127.0.0.1:${PORT:-8000}/healthz. With --scheduler, also require
`checks.scheduler` to be "ok" (a worker finished a cycle within 3 minutes): the worker's check.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def healthy(url: str, scheduler: bool) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own URL)
            answer = json.load(response)
    except (OSError, ValueError):
        return False
    if answer.get("status") != "ok":
        return False
    return not scheduler or answer.get("checks", {}).get("scheduler") == "ok"


def main(argv: list[str]) -> int:
    scheduler = "--scheduler" in argv
    urls = [arg for arg in argv if not arg.startswith("--")]
    url = urls[0] if urls else f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    return 0 if healthy(url, scheduler) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
