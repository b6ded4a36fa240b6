"""`companion worker` stops on SIGTERM (a deploy's stop, docker stop, systemd): it leaves its
scheduler's loop and shuts the scheduler down, with exit status 0, while its jobs run as
often as they can (a send lane every 10 ms)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(
        COMPANION_INSTANCE_PATH=str(instance),
        COMPANION_ENV="development",
        COMPANION_LOG_FORMAT="text",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_the_worker_stops_on_sigterm_while_its_jobs_run(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    subprocess.run(
        [str(BIN / "companion"), "db", "upgrade"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    for attempt in range(3):
        log = tmp_path / f"worker-{attempt}.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [str(BIN / "companion"), "worker", "--send-every", "0.01"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 60
                while "dispatch cycle every" not in log.read_text(errors="replace"):
                    assert worker.poll() is None, log.read_text(errors="replace")
                    assert time.monotonic() < deadline, "the worker did not start"
                    time.sleep(0.05)
                time.sleep(0.3 + attempt * 0.137)  # its lanes have run many times by now
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=20) == 0, log.read_text(errors="replace")
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        assert "stopped" in log.read_text(errors="replace").splitlines()[-1]
