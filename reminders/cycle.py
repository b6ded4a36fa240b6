"""One dispatch cycle: everything the scheduler does each minute, at a given instant, as a list
of steps (server/services/steps/, one module each, in the order below)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from reminders.delivery import Outlet
from reminders.dispatch import Channels
from server import db as database
from server.notify.webpush import WebPushSender
from server.services import heartbeat
from server.services.content import Content
from server.services.steps.base import CycleRun, IdleQuestion, Step
from server.services.steps.calendar_reminders import CalendarReminders
from server.services.steps.dose_reminders import CURSOR, DoseReminders
from server.services.steps.doses_ahead import DosesAhead
from server.services.steps.medicine_reminders import MedicineReminders
from server.services.steps.prompts import Prompts
from server.services.steps.renotify import Renotify
from server.services.steps.sending import Sending
from server.services.steps.time_rules import TimeRules

# The cycle, in order: the time rules first (their prompts are queued by the prompts step),
# then what came due is queued, then escalations are sent again, then the outbox is sent
# (only with a sender: `tick` without one queues).
STEPS: tuple[Step, ...] = (
    TimeRules(),
    DosesAhead(),
    DoseReminders(),
    CalendarReminders(),
    Prompts(),
    MedicineReminders(),
    Renotify(),
    Sending(),
)
IDLE_COUNTS = tuple(dict.fromkeys(name for step in STEPS for name in step.counts))


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class CycleReport:
    at: dt.datetime
    elapsed_ms: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    # milliseconds each step took (an idle cycle: the question and the heartbeat)
    step_ms: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        parts = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"cycle at {self.at.isoformat()} took {self.elapsed_ms:.1f} ms {parts}".rstrip()


def steps_of(sending: bool) -> tuple[Step, ...]:
    return STEPS if sending else tuple(step for step in STEPS if not isinstance(step, Sending))


@functools.cache
def idle_question(sending: bool) -> IdleQuestion:
    """Whether any step has work, asked of every step in one statement (built once)."""
    return IdleQuestion(steps_of(sending))


def nothing_due(session: Session, now: dt.datetime, *, sending: bool) -> bool:
    """True when no step of the cycle has anything to do (most minutes, for most of the day);
    the caller then moves the dose cursor on."""
    return not idle_question(sending).ask(session, now)


def run_cycle(
    session: Session,
    now: dt.datetime,
    content: Content,
    worker_id: str | None = None,
    sender: WebPushSender | Channels | None = None,
    settled_until: dt.datetime | None = None,
) -> CycleReport:
    """Run every step of the cycle at `now` and record the heartbeat: evaluate the time rules,
    make doses ahead, add what came due to the outbox, send it (when a sender is given).

    `settled_until`: the latest instant the cycle may record as done (the dose cursor and the
    heartbeat). `tick --at` a future instant passes the real time, so that the worker's next
    cycles still look at every moment from then on (what the tick queued is not queued twice:
    each message has its unique key)."""
    started = time.perf_counter()
    begun = time.monotonic()
    settled = now if settled_until is None else min(now, settled_until)
    worker = worker_id or worker_identity()
    report = CycleReport(at=now)
    # PostgreSQL: the question and the idle cycle's one write (the cursor and the heartbeat,
    # one statement) need no transaction around them, and so no BEGIN and COMMIT round trips
    autocommit = database.outside_transaction(session)
    idle = nothing_due(session, now, sending=sender is not None)
    asked = time.perf_counter()
    report.step_ms["idle_question"] = (asked - started) * 1000
    if idle:
        report.counts.update(dict.fromkeys(IDLE_COUNTS, 0))
        report.elapsed_ms = (asked - started) * 1000
        heartbeat.record_cycle(session, worker, settled, report.elapsed_ms, cursor=CURSOR)
        report.step_ms["heartbeat"] = (time.perf_counter() - asked) * 1000
        return report
    if autocommit:
        session.commit()  # the steps below run in transactions of their own

    # `now` is the cycle's instant, taken at `begun`: the claims' leases run from when they
    # are taken, after the steps before (queueing a burst takes seconds)
    send = None if sender is None else Outlet(sender, worker, begun)
    cycle = CycleRun(session, now, settled, content, send, worker=worker)
    for step in steps_of(sender is not None):
        began = time.perf_counter()
        for key, value in step.run(cycle).items():
            report.counts[key] = report.counts.get(key, 0) + value
        report.step_ms[step.name] = (time.perf_counter() - began) * 1000
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    heartbeat.record_cycle(session, worker, settled, report.elapsed_ms)
    return report
