"""`companion worker` stops on SIGTERM (a deploy's stop, docker stop, systemd): it leaves its
scheduler's loop and shuts the scheduler down, with exit status 0, while its jobs run as
often as they can (a send lane every 10 ms)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.browser.live_server import BIN, ROOT, instance_environment, run_command


def test_the_worker_stops_on_sigterm_while_its_jobs_run(tmp_path: Path) -> None:
    env = {**instance_environment(tmp_path), "COMPANION_LOG_FORMAT": "text"}
    run_command(["db", "upgrade"], env)
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
