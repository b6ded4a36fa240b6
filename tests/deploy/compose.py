"""Reading the deployment files as the container runtime would (there is none on this machine):
compose.yaml with its `${NAME:-default}` values filled in, the Dockerfile's instructions, the
Procfile's processes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """`${NAME}`, `${NAME:-default}` and `${NAME:?message}` as compose fills them."""

    def fill(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name} must be set: {arg}")
        return arg or ""

    return INTERPOLATION.sub(fill, value)


def variables_named(text: str) -> set[str]:
    return {match["name"] for match in INTERPOLATION.finditer(text)}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def environment(name: str, env: dict[str, str]) -> dict[str, str]:
    """A service's environment as its container would get it, given the `.env` values."""
    values = service(name).get("environment") or {}
    return {key: interpolate(str(value), env) for key, value in values.items()}


def command(name: str) -> list[str]:
    value = service(name)["command"]
    return list(value) if isinstance(value, list) else shlex.split(value)


def healthcheck(name: str) -> list[str]:
    test = service(name)["healthcheck"]["test"]
    assert test[0] == "CMD", test
    return list(test[1:])


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuations joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            steps.append((instruction.upper(), " ".join(rest.split())))
    return steps


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip():
            name, _, line_command = line.partition(":")
            processes[name.strip()] = shlex.split(line_command)
    return processes
