"""Sending what the outbox holds: claim a batch, send it concurrently, record each outcome."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Clinic, Dose, Escalation, Patient
from server.notify.email import SmtpSettings, send_email
from server.notify.webhook import WebhookSender
from server.notify.webpush import Outcome, PushMessage, SendResult, Subscription, WebPushSender
from server.services import medicines, outbox
from server.services.alerts import settings_of
from server.services.messages import push_message

MAX_BATCHES = 400  # a bound on one cycle's sending (400 x 500 messages)


@dataclass
class Channels:
    """The ways out: web push, the care-team webhook and email (each optional but push)."""

    push: WebPushSender
    webhook: WebhookSender = field(default_factory=lambda: WebhookSender(timeout_seconds=5))
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp: SmtpSettings | None = None
    mail_from: str = "companion@localhost"

    def close(self) -> None:
        self.push.close()
        self.webhook.close()


def channels_of(sender: WebPushSender | Channels) -> Channels:
    return sender if isinstance(sender, Channels) else Channels(push=sender)


@dataclass(frozen=True)
class _Errand:
    """A webhook or email delivery, read from the database before any network I/O."""

    message_id: int
    channel: str
    url: str | None
    secret: str | None
    payload: dict[str, Any]


def _prepare_other(
    session: Session, channels: Channels, messages: list[outbox.Claimed]
) -> tuple[list[_Errand], list[outbox.Result]]:
    """What each webhook and email message needs (the clinic's targets, else the defaults);
    those with nowhere to go are skipped, recorded with the reason."""
    errands: list[_Errand] = []
    skipped: list[outbox.Result] = []
    clinics: dict[int, dict[str, Any]] = {}
    for message in messages:
        escalation = session.get(Escalation, message.escalation_id or 0)
        clinic_id = escalation.clinic_id if escalation else 0
        if clinic_id not in clinics:
            clinic = session.get(Clinic, clinic_id)
            clinics[clinic_id] = settings_of(clinic) if clinic else {}
        settings = clinics[clinic_id]
        if message.channel == "webhook":
            url = settings.get("webhook_url") or channels.webhook_url
            secret = settings.get("webhook_secret") or channels.webhook_secret
            if not url or not secret:
                skipped.append(outbox.Result(message.id, "skipped", error="no webhook configured"))
                continue
            errands.append(_Errand(message.id, "webhook", url, secret, dict(message.payload)))
        elif channels.smtp is None or not message.payload.get("to"):
            skipped.append(outbox.Result(message.id, "skipped", error="no email configured"))
        else:
            errands.append(_Errand(message.id, "email", None, None, dict(message.payload)))
    return errands, skipped


def _send_other(channels: Channels, errands: list[_Errand]) -> list[outbox.Result]:
    """Webhook and email deliveries: one request each, retried until accepted."""
    results = []
    for errand in errands:
        if errand.channel == "webhook":
            assert errand.url is not None and errand.secret is not None
            sent = channels.webhook.send(
                errand.url, errand.secret, errand.payload, message_id=f"msg_{errand.message_id}"
            )
        else:
            assert channels.smtp is not None
            sent = send_email(
                channels.smtp,
                channels.mail_from,
                list(errand.payload["to"]),
                str(errand.payload.get("subject", "")),
                str(errand.payload.get("text", "")),
            )
        if sent.outcome is Outcome.DELIVERED:
            results.append(outbox.Result(errand.message_id, "sent"))
        else:
            wait = sent.retry_after_seconds
            results.append(
                outbox.Result(
                    errand.message_id,
                    "retry",
                    retry_after=dt.timedelta(seconds=wait) if wait else None,
                    error=sent.detail,
                )
            )
    return results


def _cancelled(session: Session, messages: list[outbox.Claimed], now: dt.datetime) -> set[int]:
    """Dose reminders for doses marked in the meantime (or snoozed) are not sent, nor those of
    other medicines marked meanwhile."""
    cancelled = medicines.already_marked(session, messages)
    dose_ids = {m.dose_id for m in messages if m.kind == "dose" and m.dose_id}
    if not dose_ids:
        return cancelled
    doses = {
        d.id: d
        for d in session.execute(
            select(Dose.id, Dose.status, Dose.snoozed_until).where(Dose.id.in_(dose_ids))
        )
    }
    for message in messages:
        dose = doses.get(message.dose_id or -1)
        if message.kind != "dose" or dose is None:
            continue
        snoozed = (
            dose.snoozed_until is not None
            and dose.snoozed_until > now
            and ":snooze:" not in message.dedupe_key
        )
        if dose.status != "pending" or snoozed:
            cancelled.add(message.id)
    return cancelled


def send_batch(
    session: Session,
    sender: WebPushSender | Channels,
    worker_id: str,
    now: dt.datetime,
    limit: int = 500,
    *,
    after_claim: Callable[[list[outbox.Claimed]], None] | None = None,
) -> dict[str, int]:
    """One claimed batch, sent and recorded. Empty dict when nothing was due.

    Everything the sends need is read first and the transaction ended before any network
    I/O, so no lock (SQLite's write lock above all) is held while waiting on receivers."""
    channels = channels_of(sender)
    claimed = outbox.claim(session, worker_id, now, limit)
    if not claimed:
        return {}
    if after_claim is not None:  # a test stands in for a worker dying here
        after_claim(claimed)
    claimed_count = len(claimed)
    errands, other_results = _prepare_other(
        session, channels, [m for m in claimed if m.channel != "push"]
    )
    messages = [m for m in claimed if m.channel == "push"]
    cancelled = _cancelled(session, messages, now)
    live = [m for m in messages if m.id not in cancelled]
    names = dict(
        session.execute(
            select(Patient.id, Patient.display_name).where(
                Patient.id.in_({m.patient_id for m in live if m.patient_id})
            )
        ).all()
    )
    subscriptions = outbox.subscriptions_of(session, (m.recipient_user_id or 0 for m in live))
    already = outbox.delivered(session, [m.id for m in live])
    # (message id, subscription ids it already reached, the sends still to make)
    plan: list[tuple[int, bool, list[tuple[int, Subscription, PushMessage]]]] = []
    for message in live:
        note = push_message(message, names.get(message.patient_id or 0))
        subs = subscriptions.get(message.recipient_user_id or 0, [])
        earlier = any((message.id, sub.id) in already for sub in subs)
        todo = [
            (sub.id, Subscription(sub.endpoint, sub.p256dh, sub.auth), note)
            for sub in subs
            if (message.id, sub.id) not in already
        ]
        plan.append((message.id, earlier, todo))
    results: list[outbox.Result] = [
        outbox.Result(message_id, "cancelled", error="dose already marked")
        for message_id in sorted(cancelled)
    ]
    session.commit()  # nothing held open while we wait on the network

    work = [
        (message_id, sub_id, sub, note)
        for message_id, _, todo in plan
        for sub_id, sub, note in todo
    ]
    sent = channels.push.send_many([(sub, note) for _, _, sub, note in work])
    other_results += _send_other(channels, errands)

    per_message: dict[int, list[tuple[int, SendResult]]] = defaultdict(list)
    for (message_id, sub_id, _, _), result in zip(work, sent, strict=True):
        per_message[message_id].append((sub_id, result))
    gone: list[int] = []
    for message_id, earlier, _ in plan:
        outcomes = per_message.get(message_id, [])
        delivered = tuple((s, r.status or 0) for s, r in outcomes if r.outcome is Outcome.DELIVERED)
        gone.extend(s for s, r in outcomes if r.outcome is Outcome.GONE)
        retry = [r for _, r in outcomes if r.outcome is Outcome.RETRY]
        if retry:
            wait = max((r.retry_after_seconds or 0 for r in retry), default=0)
            results.append(
                outbox.Result(
                    message_id,
                    "retry",
                    retry_after=dt.timedelta(seconds=wait) if wait else None,
                    error=retry[0].detail,
                    delivered_to=delivered,
                )
            )
        elif delivered or earlier:
            results.append(outbox.Result(message_id, "sent", delivered_to=delivered))
        elif outcomes:
            results.append(outbox.Result(message_id, "failed", error=outcomes[0][1].detail))
        else:
            results.append(outbox.Result(message_id, "skipped", error="no push subscription"))
    counts = outbox.record(session, worker_id, [*results, *other_results], now)
    outbox.forget_subscriptions(session, gone, now)
    counts["claimed"] = claimed_count
    return counts


def drain(
    session: Session,
    sender: WebPushSender | Channels,
    worker_id: str,
    now: dt.datetime,
    limit: int = 500,
) -> dict[str, int]:
    """Send everything due now, batch after batch (bounded)."""
    totals: dict[str, int] = defaultdict(int)
    for _ in range(MAX_BATCHES):
        counts = send_batch(session, sender, worker_id, now, limit)
        if not counts:
            break
        for key, value in counts.items():
            totals[key] += value
    return dict(totals)
