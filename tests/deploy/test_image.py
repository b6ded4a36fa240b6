"""No container runtime runs here, so the image and compose files are checked against the
project: every file they copy or run exists, every command they start exists and loads, every
variable they set is one the app reads, and the order (migrations once, then web and worker)
holds. `test_sequence.py` then runs the same commands for real."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy import compose
from tests.deploy.compose import ROOT

BIN = Path(sys.executable).parent
APP_SERVICES = ("migrate", "web", "worker")
# the variables each of our processes reads, wherever it reads them
READERS = [
    ROOT / "server" / "config.py",
    ROOT / "server" / "__init__.py",
    ROOT / "gunicorn.conf.py",
    ROOT / "scripts" / "healthcheck.py",
]
PYTHON_RUNTIME = re.compile(r"^(PYTHON[A-Z]*|PIP_[A-Z_]+)$")


def read_by_the_app() -> set[str]:
    names: set[str] = set()
    for path in READERS:
        names |= set(re.findall(r"[\"'{$]([A-Z][A-Z0-9_]{2,})", path.read_text()))
    return names


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    ]
    return any(fnmatch.fnmatch(path, p) or path.split("/")[0] == p for p in patterns)


def runs(command: list[str]) -> bool:
    """The program exists where the image has it: the lock's console scripts, or python."""
    return (BIN / command[0]).exists()


def test_the_image_is_a_slim_python_matching_the_lock() -> None:
    steps = compose.dockerfile()
    base = [args for instruction, args in steps if instruction == "FROM"]
    assert len(base) == 1
    match = re.fullmatch(r"python:(\d+\.\d+)-slim(-\w+)?", base[0])
    assert match, base
    sys.path.insert(0, str(ROOT / "scripts"))
    import lock

    assert match[1] == lock.PYTHON  # the lock was resolved for the image's Python
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={lock.PYTHON}"


def test_the_image_installs_from_the_lock_with_hashes_and_runs_as_a_user() -> None:
    steps = compose.dockerfile()
    runs_ = [args for instruction, args in steps if instruction == "RUN"]
    assert any("pip install --require-hashes -r requirements.lock" in r for r in runs_)
    # the app itself adds nothing that the lock did not pin
    assert any("pip install --no-deps --no-build-isolation -e ." in r for r in runs_)
    users = [(i, args) for i, (instruction, args) in enumerate(steps) if instruction == "USER"]
    assert users and users[-1][1] not in ("root", "0")
    cmd_at = max(i for i, (instruction, _) in enumerate(steps) if instruction == "CMD")
    assert users[-1][0] < cmd_at


def test_everything_the_image_copies_exists_and_is_not_ignored() -> None:
    copied = []
    for instruction, args in compose.dockerfile():
        if instruction == "COPY":
            *sources, _target = args.split()
            copied += sources
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), source
    for needed in (
        "content",
        "pwa_static",
        "migrations",
        "server",
        "reminders",
        "gunicorn.conf.py",
    ):
        assert needed in copied, needed


def test_the_images_variables_are_read_by_the_app() -> None:
    names = set()
    for instruction, args in compose.dockerfile():
        if instruction == "ENV":
            names |= {pair.split("=", 1)[0] for pair in shlex.split(args)}
    unknown = {n for n in names if not PYTHON_RUNTIME.match(n)} - read_by_the_app()
    assert unknown == set()
    assert {"COMPANION_INSTANCE_PATH", "PORT"} <= names


def test_the_images_commands_exist_and_name_copied_files() -> None:
    steps = compose.dockerfile()
    copied = " ".join(args for instruction, args in steps if instruction == "COPY")
    for instruction, args in steps:
        if instruction in ("CMD", "HEALTHCHECK"):
            command = json.loads(args[args.index("[") :])
            assert runs(command), command
            for word in command[1:]:
                if word.endswith(".py"):
                    assert (ROOT / word).exists() and word in copied, word


def test_compose_has_the_services_and_builds_the_image() -> None:
    services = compose.compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker"}
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["web"]["image"]


def test_migrations_run_once_before_the_web_app_and_the_worker() -> None:
    migrate = compose.service("migrate")
    assert compose.command("migrate") == ["companion", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        condition = compose.service(name)["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
    assert compose.service("web")["depends_on"]["redis"]["condition"] == "service_healthy"


def test_health_checks_ask_healthz(app) -> None:
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/healthz" in routes
    for name in ("web", "worker"):
        check = compose.healthcheck(name)
        assert runs(check) and (ROOT / check[1]).exists(), check
        assert check[2].endswith("/healthz")
    assert "--scheduler" in compose.healthcheck("worker")
    for name in ("postgres", "redis"):
        assert compose.service(name)["healthcheck"]["test"][0] == "CMD"


def test_every_variable_compose_sets_is_read_by_the_app_and_documented() -> None:
    known = read_by_the_app()
    for name in APP_SERVICES:
        unknown = set(compose.service(name)["environment"]) - known
        assert unknown == set(), (name, unknown)
    text = (ROOT / "compose.yaml").read_text()
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for variable in compose.variables_named(text):
        assert f"{variable}=" in example and f"`{variable}`" in readme, variable


def test_compose_points_the_app_at_its_own_database_and_redis() -> None:
    env = compose.environment("web", {"POSTGRES_PASSWORD": "pw"})
    assert env["DATABASE_URL"] == "postgresql+psycopg://companion:pw@postgres:5432/companion"
    assert env["COMPANION_RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert env["COMPANION_TRUSTED_PROXIES"] == "0"  # until the clinic says a proxy is there
    postgres = compose.environment("postgres", {"POSTGRES_PASSWORD": "pw"})
    assert postgres["POSTGRES_PASSWORD"] == "pw" and postgres["POSTGRES_DB"] == "companion"
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        compose.environment("web", {})


def test_the_procfile_runs_what_compose_runs() -> None:
    processes = compose.procfile()
    assert processes["release"] == compose.command("migrate")
    assert processes["web"] == compose.command("web")
    assert processes["worker"] == compose.command("worker")


def test_each_services_command_exists() -> None:
    """(test_sequence.py runs each of them for real.)"""
    for service in APP_SERVICES:
        assert runs(compose.command(service)), service
    assert (ROOT / compose.command("web")[2]).exists()  # gunicorn --config gunicorn.conf.py
