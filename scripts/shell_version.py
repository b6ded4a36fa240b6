"""The service worker's cache version is a fingerprint of the app shell it caches.

`VERSION` in pwa_static/sw.js names the shell cache; a phone keeps serving the old shell until
that name changes. Here the name is the first 12 hex digits of a SHA-256 over every file in
`SHELL` (their paths and bytes), so a changed shell file means a new cache, and the test in
tests/browser/test_static_rules.py fails until this script has written it:

    .venv/bin/python scripts/shell_version.py          # print the version the shell needs
    .venv/bin/python scripts/shell_version.py --write  # write it into pwa_static/sw.js
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "pwa_static"
SW = APP / "sw.js"
_VERSION = re.compile(r"^const VERSION = '([^']*)';$", re.MULTILINE)
_SHELL = re.compile(r"^const SHELL = \[(.*?)\];$", re.MULTILINE | re.DOTALL)


def shell_paths(sw_source: str) -> list[str]:
    """The URLs of the SHELL list in sw.js."""
    found = _SHELL.search(sw_source)
    if found is None:
        raise ValueError("pwa_static/sw.js has no `const SHELL = [...]` list")
    return re.findall(r"'([^']+)'", found.group(1))


def shell_file(url: str, app: Path = APP) -> Path:
    """The file behind a shell URL ("/" is the app's page)."""
    if url == "/":
        return app / "index.html"
    return app / url.removeprefix("/").removeprefix("static/")


def shell_version(sw_source: str, app: Path = APP) -> str:
    digest = hashlib.sha256()
    for url in shell_paths(sw_source):
        digest.update(url.encode() + b"\0" + shell_file(url, app).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def current_version(sw_source: str) -> str:
    found = _VERSION.search(sw_source)
    if found is None:
        raise ValueError("pwa_static/sw.js has no `const VERSION = '...';` line")
    return found.group(1)


def main(argv: list[str]) -> int:
    source = SW.read_text(encoding="utf-8")
    needed = shell_version(source)
    if "--write" in argv:
        SW.write_text(_VERSION.sub(f"const VERSION = '{needed}';", source, count=1), "utf-8")
        print(f"sw.js VERSION = {needed}")
    else:
        print(needed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
