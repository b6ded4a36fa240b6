"""One dispatch cycle: everything the scheduler does each minute, at a given instant."""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, Engine, Select, event, or_, select
from sqlalchemy.orm import Session, scoped_session

from reminders.delivery import drain
from reminders.dispatch import Channels
from server.notify.webpush import WebPushSender
from server.services import alerts, heartbeat, medicines, outbox, reminders, time_rules
from server.services.content import Content

_PLANNED_FOR_VALUES: weakref.WeakSet[Engine] = weakref.WeakSet()


def plan_for_values(engine: Engine) -> None:
    """The worker's PostgreSQL connections plan each statement for its own values
    (plan_cache_mode=force_custom_plan): psycopg prepares a statement run five times, and the
    generic plan PostgreSQL then chose for the cycle's "due before $1" was a scan. Not for the
    web workers: their statements are mostly by key, and planning each one cost the
    authenticated POST a share of its throughput (docs/performance.md, Reminders)."""
    if engine.dialect.name != "postgresql" or engine in _PLANNED_FOR_VALUES:
        return
    _PLANNED_FOR_VALUES.add(engine)

    @event.listens_for(engine, "connect")
    def _custom_plans(dbapi_connection: Any, record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    engine.dispose()  # connections made before now are made again, with it


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


IDLE_COUNTS = (
    "time_rule_candidates",
    "escalations_opened",
    "doses_made_for",
    "queued",
    "renotified",
)


# The idle cycle's question assumes the dose cursor is at most this old (the cycle runs each
# minute); when it is older (a worker was down) the whole cycle runs and catches up.
IDLE_LOOKBACK = dt.timedelta(minutes=2)


def nothing_due(session: Session, now: dt.datetime, *, sending: bool) -> bool:
    """True when no step of the cycle has anything to do, asked in one statement of each
    step's own query (most minutes, for most of the day); the caller then moves the dose
    cursor on. With any answer yes, or a cursor older than IDLE_LOOKBACK, the whole cycle
    runs."""
    cursor_at, busy = session.execute(_question(sending), _question_params(now, sending)).one()
    return not busy and cursor_at is not None and cursor_at >= now - IDLE_LOOKBACK


def question(now: dt.datetime, *, sending: bool) -> Select:
    """The idle cycle's question with its values (to look at its plan)."""
    return _question(sending).params(_question_params(now, sending))


def _question_params(now: dt.datetime, sending: bool) -> dict[str, object]:
    return {
        **time_rules.candidates_params(now),
        **reminders.doses_ahead_params(now),
        # a longer range than the cursor's (it is at most IDLE_LOOKBACK old): nothing in
        # this one means nothing in that one
        **reminders.dose_moments_params(now - IDLE_LOOKBACK, now),
        **reminders.calendar_params(now),
        **medicines.due_params(now),
        **(outbox.due_params(now) if sending else {}),
    }


@functools.cache
def _question(sending: bool) -> Select:
    """The steps' own queries (their templates: built once, the values as parameters), each
    part of a union asked on its own (EXISTS over the union would build it first)."""
    queries: list[Select | CompoundSelect] = [
        time_rules.candidates_template(),
        reminders.doses_ahead_template(),
        reminders.calendar_template(),
        medicines.due_template(),
        alerts.renotify_query(),
    ]
    if sending:
        queries.append(outbox.due_template())
    parts = [part for query in queries for part in getattr(query, "selects", [query])]
    _, snoozed = reminders.dose_moments_template().selects  # the window: asked below
    asked = [part.exists() for part in [*parts, snoozed]]
    return select(
        reminders.cursor_at_query("doses").scalar_subquery(),
        or_(*asked, reminders.dose_window_probe()),
    )


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
    settled = now if settled_until is None else min(now, settled_until)
    worker_id = worker_id or worker_identity()
    report = CycleReport(at=now)
    # PostgreSQL: the question and the idle cycle's one write (the cursor and the heartbeat,
    # one statement) need no transaction around them, and so no BEGIN and COMMIT round trips
    own = session() if isinstance(session, scoped_session) else session  # Flask-SQLAlchemy's
    autocommit = own.get_bind().dialect.name == "postgresql" and not own.in_transaction()
    if autocommit:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    idle = nothing_due(session, now, sending=sender is not None)
    if idle:
        report.counts.update(dict.fromkeys(IDLE_COUNTS, 0))
        report.elapsed_ms = (time.perf_counter() - started) * 1000
        heartbeat.record_cycle(session, worker_id, settled, report.elapsed_ms, cursor="doses")
        return report
    if autocommit:
        session.commit()  # the steps below run in transactions of their own
    evaluation = time_rules.evaluate_all(session, now, content)
    report.counts["time_rule_candidates"] = evaluation.candidates
    report.counts["escalations_opened"] = len(evaluation.opened)
    report.counts["doses_made_for"] = reminders.make_doses_ahead(session, now)
    queued = reminders.enqueue_dose_reminders(session, now, settled)
    queued += reminders.enqueue_calendar_reminders(session, now)
    queued += reminders.enqueue_prompts(session, evaluation.prompts, now)
    queued += medicines.enqueue_reminders(session, now)
    report.counts["queued"] = queued
    report.counts["renotified"] = alerts.renotify_due(session, now)
    if sender is not None:
        for key, value in drain(session, sender, worker_id, now).items():
            report.counts[key] = value
    report.elapsed_ms = (time.perf_counter() - started) * 1000
    heartbeat.record_cycle(session, worker_id, settled, report.elapsed_ms)
    return report
