"""The lock files, generated from pyproject.toml with uv (`make lock`), and their check.

- `requirements.lock`: what the image installs (the app, the `redis` extra, the build
  backend), every version pinned with its hashes.
- `requirements-dev.lock`: the same versions plus the `dev` extra; `make install` installs it.

`python scripts/lock.py` writes both (keeping the versions already pinned where pyproject.toml
still allows them; `--upgrade` moves everything to the newest allowed). `--check` exits 1
when pyproject.toml's dependencies changed since the files were made (`make test` runs it);
it needs no network. Each file's first line records a digest of those inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME = ROOT / "requirements.lock"
DEV = ROOT / "requirements-dev.lock"
PYTHON = "3.11"  # the oldest Python the project supports (requires-python), and the image's
STAMP = "# inputs: sha256:"


def inputs_digest(pyproject: Path = PYPROJECT) -> str:
    """A digest of what the locks are made from: the dependencies, the extras, the Python
    range and the build backend (not the rest of pyproject.toml, so editing ruff's settings
    does not call for a new lock)."""
    data = tomllib.loads(pyproject.read_text())
    project = data["project"]
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            name: sorted(deps) for name, deps in project.get("optional-dependencies", {}).items()
        },
        "build-system": sorted(data.get("build-system", {}).get("requires", [])),
        "python": PYTHON,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def header(digest: str, what: str) -> str:
    return (
        f"{STAMP}{digest}\n"
        f"# {what}\n"
        "# Generated from pyproject.toml by `make lock` (uv pip compile); do not edit by hand.\n"
    )


def stamped_digest(lock: Path) -> str | None:
    if not lock.exists():
        return None
    first = lock.read_text().split("\n", 1)[0]
    return first[len(STAMP) :].strip() if first.startswith(STAMP) else None


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        sys.exit("uv is not installed: run `make install` first")
    return found


def _compile(output: Path, extras: list[str], constraint: Path | None, upgrade: bool) -> None:
    build = tomllib.loads(PYPROJECT.read_text()).get("build-system", {}).get("requires", [])
    with tempfile.TemporaryDirectory() as folder:
        build_file = Path(folder) / "build-backend.in"
        build_file.write_text("\n".join(build) + "\n")
        body = Path(folder) / "out.txt"
        if output.exists():  # uv keeps the versions already pinned there
            body.write_text(output.read_text())
        command = [
            _uv(),
            "pip",
            "compile",
            "--quiet",
            "--universal",
            "--python-version",
            PYTHON,
            "--generate-hashes",
            "--no-header",
            "--no-annotate",
            "--output-file",
            str(body),
            str(PYPROJECT.relative_to(ROOT)),
            str(build_file),
        ]
        for extra in extras:
            command += ["--extra", extra]
        if constraint is not None:
            command += ["--constraint", str(constraint)]
        if upgrade:
            command.append("--upgrade")
        subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 (our own uv, fixed arguments)
        text = body.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    what = "the image's dependencies" if output == RUNTIME else "the developers' (and tests')"
    output.write_text(header(inputs_digest(), what) + "\n".join(lines).strip() + "\n")


def write(upgrade: bool) -> None:
    # the developers' set first; the image's is resolved within it, so the two agree
    _compile(DEV, ["dev", "redis"], None, upgrade)
    _compile(RUNTIME, ["redis"], DEV, upgrade=False)
    print(f"wrote {RUNTIME.name} and {DEV.name}")


def check() -> int:
    digest = inputs_digest()
    stale = [lock.name for lock in (RUNTIME, DEV) if stamped_digest(lock) != digest]
    if stale:
        print(
            f"{', '.join(stale)} out of date with pyproject.toml's dependencies: run `make lock`"
            " and commit the result",
            file=sys.stderr,
        )
        return 1
    print("lock files match pyproject.toml")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check (no network)")
    parser.add_argument("--upgrade", action="store_true", help="newest allowed versions")
    args = parser.parse_args()
    if args.check:
        return check()
    write(args.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
