"""`companion tick` and `companion worker` (registered through the flask.commands entry point)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import logging.config
import signal
import uuid
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from reminders.cycle import run_cycle, worker_identity
from reminders.delivery import LANES, Delivery, Lane
from reminders.dispatch import Channels
from server.db import plan_for_values
from server.extensions import db
from server.logs import dict_config, log_context
from server.notify.destinations import Destinations
from server.notify.email import SmtpSettings
from server.notify.vapid import vapid_for
from server.notify.webhook import WebhookSender
from server.notify.webpush import WebPushSender

log = logging.getLogger("reminders")

# each request's total deadline (resolve, connect, send, read the reply)
PUSH_DEADLINE_SECONDS = 10.0
WEBHOOK_DEADLINE_SECONDS = 10.0


def _parse_instant(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601 with an offset, e.g. 2026-03-08T12:00:00Z") from exc
    if instant.tzinfo is None:
        raise click.BadParameter("the instant needs an offset (Z or +01:00)")
    return instant.astimezone(dt.UTC)


def _cycle_id(job: str) -> str:
    """An id for one run of a job, on each of its log lines (and error reports)."""
    return f"{job}-{uuid.uuid4().hex[:12]}"


def make_sender(app: Any) -> Channels:
    """This process's ways out: push with the deployment's VAPID key, the webhook, email;
    each request within its deadline, only where the destination rules allow."""
    vapid = vapid_for(app.config.get("VAPID_PRIVATE_KEY"), app.instance_path)
    smtp_url = app.config.get("SMTP_URL")
    destinations = Destinations.from_config(app.config)
    return Channels(
        push=WebPushSender(
            vapid,
            app.config["VAPID_SUBJECT"],
            destinations=destinations,
            timeout_seconds=PUSH_DEADLINE_SECONDS,
        ),
        webhook=WebhookSender(WEBHOOK_DEADLINE_SECONDS, destinations),
        webhook_url=app.config.get("WEBHOOK_URL"),
        webhook_secret=app.config.get("WEBHOOK_SECRET"),
        smtp=SmtpSettings.from_url(smtp_url) if smtp_url else None,
        mail_from=app.config.get("MAIL_FROM", "companion@localhost"),
        content=app.extensions["companion.content"],
    )


@click.command("tick")
@click.option("--at", "at", metavar="ISO8601", help="The instant to run the cycle at.")
@with_appcontext
def tick(at: str | None) -> None:
    """Run one dispatch cycle at that instant (default now). A future instant is looked at,
    but the worker's cursor and heartbeat move no further than the real time."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    plan_for_values(db.engine)
    sender = make_sender(app)
    try:
        report = run_cycle(
            db.session,
            _parse_instant(at),
            app.extensions["companion.content"],
            sender=sender,
            settled_until=dt.datetime.now(dt.UTC),
        )
    finally:
        sender.close()
    click.echo(report.line())


@click.command("worker")
@click.option("--interval", default=60, show_default=True, help="Seconds between cycles.")
@click.option(
    "--send-every",
    default=1.0,
    show_default=True,
    help="Seconds between looks at the outbox, so alerts leave within seconds of being raised.",
)
@with_appcontext
def worker(interval: int, send_every: float) -> None:
    """The long-running scheduler: the dispatch cycle each minute, and the outbox sent as soon
    as something is in it (APScheduler)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # one JSON line per event, each with its cycle's id (COMPANION_LOG_FORMAT=text for people)
    logging.config.dictConfig(dict_config(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"]))
    plan_for_values(db.engine)
    identity = worker_identity()
    sender = make_sender(app)

    def cycle() -> None:
        with app.app_context(), log_context(worker_id=identity, cycle_id=_cycle_id("dispatch")):
            try:
                # what came due is queued here; the lanes' own jobs send it
                report = run_cycle(
                    db.session,
                    dt.datetime.now(dt.UTC),
                    app.extensions["companion.content"],
                    identity,
                )
                log.info(report.line(), extra={"counts": report.counts})
            except Exception:
                db.session.rollback()
                log.exception("dispatch cycle failed; the next one retries")
            finally:
                db.session.remove()

    def send(lane: Lane) -> None:
        """One lane's look at the outbox: everything of its kinds due now is sent."""
        with app.app_context(), log_context(worker_id=identity, cycle_id=_cycle_id(lane.name)):
            try:
                delivery = Delivery(db.session, sender, identity, lane, dt.datetime.now(dt.UTC))
                counts = delivery.run()
                if counts:
                    log.info("%s sent %s", lane.name, counts, extra={"counts": counts})
            except Exception:
                db.session.rollback()
                log.exception("sending failed; the next look retries")
            finally:
                db.session.remove()

    scheduler = BlockingScheduler(timezone=dt.UTC)
    for lane in LANES:  # each lane its own job (its own thread): alerts never wait on reminders
        scheduler.add_job(
            send,
            "interval",
            args=[lane],
            seconds=send_every,
            id=f"send-{lane.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(send_every * 5)),
        )
    scheduler.add_job(
        cycle,
        "interval",
        seconds=interval,
        id="dispatch",
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
    )

    def stop(*_: Any) -> None:
        # only unwinds the scheduler's loop, as Ctrl-C does: the signal interrupts the main
        # thread wherever it is, and shutting down here waited for ever when that was inside
        # the thread pool's lock (submitting a job), which shutdown takes too
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    log.info(
        "worker %s: dispatch cycle every %s s; Ctrl-C stops",
        identity,
        interval,
        extra={"worker_id": identity},
    )
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        log.info("worker %s stopped", identity, extra={"worker_id": identity})
