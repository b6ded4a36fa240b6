"""Reproducible installs: the lock files come from pyproject.toml and are current, the venv
holds exactly what the lock pins, every package the code imports is declared, the time zone
database comes with the app, and Redis is needed only where it is configured."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FIRST_PARTY = {"server", "reminders", "tests", "benchmarks", "migrations", "scripts"}
sys.path.insert(0, str(ROOT / "scripts"))
import lock  # noqa: E402  (scripts/lock.py: the one place that makes and checks the locks)


def declared(*groups: str) -> set[str]:
    project = PYPROJECT["project"]
    names = [Requirement(r).name for r in project["dependencies"]]
    for group in groups:
        names += [Requirement(r).name for r in project["optional-dependencies"][group]]
    return {canonicalize_name(n) for n in names} - {"clozapine-companion"}


def imported(*folders: str) -> set[str]:
    """Top-level names imported anywhere in these folders (absolute imports only)."""
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - FIRST_PARTY - {"__future__", "lock"}


def undeclared(modules: set[str], allowed: set[str]) -> dict[str, list[str]]:
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for module in sorted(modules):
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & allowed:
            missing[module] = sorted(dists) or ["(not installed)"]
    return missing


def test_every_package_the_app_imports_is_a_declared_dependency() -> None:
    assert undeclared(imported("server", "reminders", "migrations"), declared()) == {}


def test_every_package_the_tests_and_tools_import_is_declared() -> None:
    modules = imported("tests", "benchmarks", "scripts")
    assert undeclared(modules, declared("dev", "redis")) == {}


def test_the_time_zone_database_comes_with_the_app() -> None:
    assert "tzdata" in declared()
    # no system zone files at all (as in a slim container): zoneinfo falls back on tzdata
    probe = "import zoneinfo; print(zoneinfo.ZoneInfo('Europe/London').key)"
    env = {**os.environ, "PYTHONTZPATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Europe/London"


def test_redis_is_needed_only_when_the_limiter_is_configured_to_use_it(tmp_path: Path) -> None:
    assert "redis" not in declared() and "redis" in declared("redis")
    script = f"""
import sys
sys.modules["redis"] = None  # as if the package were not installed
from server import create_app
config = {{"TESTING": True, "ENVIRON": {{}}, "INSTANCE_PATH": {str(tmp_path)!r},
          "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}}
app = create_app(config)
assert app.test_client().get("/api/version").status_code == 200
try:
    create_app({{**config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}})
except RuntimeError as error:
    print(error)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "redis extra" in result.stdout


def test_the_lock_files_are_current_with_pyproject() -> None:
    assert lock.check() == 0


def test_the_check_notices_a_changed_dependency(tmp_path: Path) -> None:
    changed = tmp_path / "pyproject.toml"
    changed.write_text(
        (ROOT / "pyproject.toml").read_text().replace('"flask>=3.1,<4"', '"flask>=3.1,<5"')
    )
    assert lock.inputs_digest(changed) != lock.stamped_digest(lock.RUNTIME)
    assert lock.inputs_digest() == lock.stamped_digest(lock.RUNTIME)


def pins(path: Path) -> dict[str, str]:
    """name -> version of every requirement in a lock whose marker holds here."""
    found = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is None or requirement.marker.evaluate():
            found[canonicalize_name(requirement.name)] = str(requirement.specifier)[2:]
    return found


def test_the_image_lock_is_the_developers_lock_less_the_dev_tools() -> None:
    image, dev = pins(lock.RUNTIME), pins(lock.DEV)
    assert {name: dev.get(name) for name in image} == image
    assert "pytest" in dev and "pytest" not in image
    assert {"redis", "gunicorn", "tzdata", "setuptools"} <= set(image)


def test_the_environment_holds_exactly_what_the_lock_pins() -> None:
    """`make install` installs requirements-dev.lock: every pinned version is the one here."""
    wrong = {}
    for name, version in pins(lock.DEV).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert wrong == {}


@pytest.mark.slow
def test_the_image_lock_installs(tmp_path: Path) -> None:
    """What the Dockerfile runs, resolved by pip against the index with every hash checked
    (a dry run: the packages are the ones this environment already installed)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--no-deps",
            "--require-hashes",
            "--quiet",
            "--report",
            str(tmp_path / "report.json"),
            "-r",
            str(lock.RUNTIME),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    would_install = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }
    assert would_install == pins(lock.RUNTIME)
