"""The real server for the browser tests, started the way `make run` starts it (scripts/run.sh:
gunicorn and the reminder worker) on a free port with a fresh SQLite instance, and the API calls
that enrol and activate patients in it."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PASSWORD = "correct horse battery staple 42"
CLINICIAN_EMAIL = "clinician@browser.test"
STANDARD_PLAN = {"times": ["08:00", "21:00"], "titration": "standard", "target_mg_per_day": 300}
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def afternoon_zone(now: dt.datetime, hour: int = 14) -> str:
    """A fixed-offset zone where it is about 14:00 now (or `hour`), so that today's 21:00 dose
    is still to come, and near enough (the server accepts "taken" from 12 hours before),
    whatever the hour the tests run."""
    offset = ((hour - now.astimezone(dt.UTC).hour + 12) % 24) - 12
    if offset == 0:
        return "Etc/GMT"
    # Etc/GMT-3 is three hours ahead of UTC (the sign is inverted by POSIX convention)
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


class Api:
    """A signed-in API client (cookie session plus the CSRF header)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        # gunicorn closes a kept-alive connection after 2 idle seconds; a GET sent on it just as
        # it closes is reset, and is safe to send again (writes are never resent)
        retry = Retry(
            total=2,
            connect=2,
            read=2,
            status=0,
            allowed_methods={"GET"},
            respect_retry_after_header=False,  # a 429 is waited out by call()
        )
        self.http.mount("http://", HTTPAdapter(max_retries=retry))
        self.csrf = ""

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        answer = self.call("POST", "/api/session", json={"email": email, "password": password})
        self.csrf = answer["csrf_token"]
        return answer

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        response = self.raw(method, path, **kwargs)
        for _ in range(8):
            # sign-in and activation are rate limited per address, and every test comes from
            # 127.0.0.1: wait as the server asks, then try again
            if response.status_code != 429:
                break
            time.sleep(min(float(response.headers.get("Retry-After", "5") or 5), 30) + 0.5)
            response = self.raw(method, path, **kwargs)
        if (expect is not None and response.status_code != expect) or response.status_code >= 400:
            raise AssertionError(
                f"{method} {path} -> {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    def lab_result(
        self,
        patient_id: int,
        value: float,
        collected_at: dt.datetime,
        *,
        test: str = "anc",
        unit: str = "cells/uL",
    ) -> Any:
        """Record a lab result for the patient, as this person."""
        return self.call(
            "POST",
            f"/api/patients/{patient_id}/lab-results",
            json={
                "test": test,
                "value": value,
                "unit": unit,
                "collected_at": collected_at.isoformat(),
            },
        )


@dataclass
class Person:
    email: str
    password: str
    patient_id: int
    display_name: str
    timezone: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LiveServer:
    url: str
    instance: Path
    process: subprocess.Popen[bytes]
    clinician: Api

    def new_api(self) -> Api:
        return Api(self.url)

    def tick(self, at: dt.datetime) -> None:
        """One dispatch cycle at `at` on this server's instance (`companion tick --at`): the way
        to reach a time rule's moment (missed doses over 48 h) without waiting for it."""
        run_command(["tick", "--at", at.isoformat()], instance_environment(self.instance))

    def enrol_patient(
        self,
        name: str | None = None,
        *,
        dose_plan: bool = True,
        hour: int = 14,
        plan: dict[str, Any] | None = None,
        activate: bool = True,
    ) -> Person:
        """A patient of the clinician's clinic with their own login and today's dose plan (the
        standard one unless `plan` is given), in a zone where it is about `hour` o'clock.
        Without `activate`, the login is left for the patient to make with the activation code
        (in `extra["activation_code"]`) and the email and password given."""
        number = next(_numbers)
        name = name or f"Patient {number}"
        now = dt.datetime.now(dt.UTC)
        zone = afternoon_zone(now, hour)
        today = now.astimezone(ZoneInfo(zone)).date().isoformat()
        created = self.clinician.call(
            "POST",
            "/api/patients",
            json={
                "display_name": name,
                "timezone": zone,
                "clozapine_start_date": today,
                "benign_ethnic_neutropenia": False,
            },
        )
        email = f"patient{number}-{os.getpid()}@browser.test"
        if activate:
            self.new_api().call(
                "POST",
                "/api/activate",
                json={
                    "code": created["activation_code"],
                    "email": email,
                    "password": PASSWORD,
                    "display_name": name,
                },
            )
        person = Person(email, PASSWORD, created["id"], name, zone)
        person.extra["activation_code"] = created["activation_code"]
        if dose_plan:
            # the server asks for a baseline blood count before clozapine can start
            self.clinician.lab_result(
                created["id"], 4.2, now - dt.timedelta(hours=2), unit="10^9/L"
            )
            person.extra["plan"] = self.clinician.call(
                "PUT",
                f"/api/patients/{created['id']}/dose-plan",
                json={"start_date": today, **(plan or STANDARD_PLAN)},
            )
        return person

    def add_caregiver(self, patient: Person, email: str | None = None) -> Person:
        """A caregiver account made with an invite code from the patient; given the email of
        an existing caregiver, that caregiver accepts the invite signed in."""
        api = self.new_api()
        api.sign_in(patient.email, patient.password)
        code = api.call("POST", f"/api/patients/{patient.patient_id}/caregiver-invites")["code"]
        if email is not None:
            carer = self.new_api()
            carer.sign_in(email, PASSWORD)
            carer.call("POST", "/api/caregiver-invites/accept", json={"code": code})
            return Person(email, PASSWORD, patient.patient_id, "Carer", patient.timezone)
        email = f"carer{next(_numbers)}-{os.getpid()}@browser.test"
        self.new_api().call(
            "POST",
            "/api/activate",
            json={"code": code, "email": email, "password": PASSWORD, "display_name": "Carer"},
        )
        return Person(email, PASSWORD, patient.patient_id, "Carer", patient.timezone)


def run_command(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run(
        [str(BIN / "companion"), *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"companion {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def instance_environment(instance: Path) -> dict[str, str]:
    """The environment of the server and of the `companion` commands run on its instance."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(
        COMPANION_INSTANCE_PATH=str(instance),
        COMPANION_PUSH_ALLOW_HTTP="1",
        COMPANION_ENV="development",
        # every test signs in from 127.0.0.1: the per-address throttle is tested elsewhere
        COMPANION_LOGIN_LIMIT_PER_ADDRESS="600 per minute",
        COMPANION_ACTIVATION_LIMIT_PER_ADDRESS="600 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


def start(instance: Path) -> LiveServer:
    """Migrate a fresh instance, create the clinician, start scripts/run.sh, wait for /healthz."""
    port = free_port()
    env = instance_environment(instance)
    env["PORT"] = str(port)
    run_command(["db", "upgrade"], env)
    run_command(["init-instance"], env)
    run_command(
        [
            "create-user",
            "--role",
            "clinician",
            "--email",
            CLINICIAN_EMAIL,
            "--name",
            "Dr Browser",
            "--clinic",
            "Browser test clinic",
            "--password-stdin",
        ],
        env,
        stdin=PASSWORD + "\n",
    )
    log = (instance / "server.log").open("wb")
    process = subprocess.Popen(
        ["./scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so that stop() ends all of it
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{(instance / 'server.log').read_text()}")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"no /healthz after 60 s:\n{(instance / 'server.log').read_text()}")
        time.sleep(0.3)
    clinician = Api(url)
    clinician.sign_in(CLINICIAN_EMAIL, PASSWORD)
    return LiveServer(url, instance, process, clinician)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's process group (gunicorn, its workers and the reminder worker)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
