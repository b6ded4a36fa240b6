"""One dispatch cycle: everything the scheduler does each minute, at a given instant."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.services import heartbeat, time_rules
from server.services.content import Content


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class CycleReport:
    at: dt.datetime
    elapsed_ms: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        parts = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"cycle at {self.at.isoformat()} took {self.elapsed_ms:.1f} ms {parts}".rstrip()


def run_cycle(
    session: Session, now: dt.datetime, content: Content, worker_id: str | None = None
) -> CycleReport:
    """Run every step of the cycle at `now` and record the heartbeat."""
    started = time.perf_counter()
    report = CycleReport(at=now)
    evaluation = time_rules.evaluate_all(session, now, content)
    report.counts["time_rule_candidates"] = evaluation.candidates
    report.counts["escalations_opened"] = len(evaluation.opened)
    report.counts["prompts"] = len(evaluation.prompts)
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    heartbeat.record_cycle(session, worker_id or worker_identity(), now, report.elapsed_ms)
    return report
