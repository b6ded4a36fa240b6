"""One dispatch cycle: everything the scheduler does each minute, at a given instant."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from reminders.dispatch import Channels, drain
from server.notify.webpush import WebPushSender
from server.services import alerts, heartbeat, reminders, time_rules
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
    session: Session,
    now: dt.datetime,
    content: Content,
    worker_id: str | None = None,
    sender: WebPushSender | Channels | None = None,
) -> CycleReport:
    """Run every step of the cycle at `now` and record the heartbeat: evaluate the time rules,
    make doses ahead, add what came due to the outbox, send it (when a sender is given)."""
    started = time.perf_counter()
    worker_id = worker_id or worker_identity()
    report = CycleReport(at=now)
    evaluation = time_rules.evaluate_all(session, now, content)
    report.counts["time_rule_candidates"] = evaluation.candidates
    report.counts["escalations_opened"] = len(evaluation.opened)
    report.counts["doses_made_for"] = reminders.make_doses_ahead(session, now)
    queued = reminders.enqueue_dose_reminders(session, now)
    queued += reminders.enqueue_calendar_reminders(session, now)
    queued += reminders.enqueue_prompts(session, evaluation.prompts, now)
    report.counts["queued"] = queued
    report.counts["renotified"] = alerts.renotify_due(session, now)
    if sender is not None:
        for key, value in drain(session, sender, worker_id, now).items():
            report.counts[key] = value
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    heartbeat.record_cycle(session, worker_id, now, report.elapsed_ms)
    return report
