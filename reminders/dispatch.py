"""Sending what the outbox holds: claim a batch, send it concurrently, record each outcome."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Dose, OutboxMessage, Patient
from server.notify.webpush import Outcome, PushMessage, SendResult, Subscription, WebPushSender
from server.services import outbox
from server.services.messages import push_message

MAX_BATCHES = 400  # a bound on one cycle's sending (400 x 500 messages)


def _cancelled(session: Session, messages: list[OutboxMessage], now: dt.datetime) -> set[int]:
    """Dose reminders for doses marked in the meantime (or snoozed) are not sent."""
    dose_ids = {m.dose_id for m in messages if m.kind == "dose" and m.dose_id}
    if not dose_ids:
        return set()
    doses = {d.id: d for d in session.scalars(select(Dose).where(Dose.id.in_(dose_ids)))}
    cancelled = set()
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
    sender: WebPushSender,
    worker_id: str,
    now: dt.datetime,
    limit: int = 500,
    *,
    after_claim: Callable[[list[OutboxMessage]], None] | None = None,
) -> dict[str, int]:
    """One claimed batch, sent and recorded. Empty dict when nothing was due."""
    messages = [m for m in outbox.claim(session, worker_id, now, limit) if m.channel == "push"]
    if not messages:
        return {}
    if after_claim is not None:  # a test stands in for a worker dying here
        after_claim(messages)
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
    session.commit()  # nothing held open while we wait on the network

    work: list[tuple[OutboxMessage, int, Subscription, PushMessage]] = []
    for message in live:
        note = push_message(message, names.get(message.patient_id or 0))
        for sub in subscriptions.get(message.recipient_user_id or 0, []):
            if (message.id, sub.id) not in already:
                work.append(
                    (message, sub.id, Subscription(sub.endpoint, sub.p256dh, sub.auth), note)
                )
    sent = sender.send_many([(sub, note) for _, _, sub, note in work])

    per_message: dict[int, list[tuple[int, SendResult]]] = defaultdict(list)
    for (message, sub_id, _, _), result in zip(work, sent, strict=True):
        per_message[message.id].append((sub_id, result))
    results: list[outbox.Result] = []
    gone: list[int] = []
    for message in messages:
        if message.id in cancelled:
            results.append(outbox.Result(message.id, "cancelled", error="dose already marked"))
            continue
        outcomes = per_message.get(message.id, [])
        delivered = tuple((s, r.status or 0) for s, r in outcomes if r.outcome is Outcome.DELIVERED)
        gone.extend(s for s, r in outcomes if r.outcome is Outcome.GONE)
        retry = [r for _, r in outcomes if r.outcome is Outcome.RETRY]
        earlier = any(
            (message.id, s.id) in already
            for s in subscriptions.get(message.recipient_user_id or 0, [])
        )
        if retry:
            wait = max((r.retry_after_seconds or 0 for r in retry), default=0)
            results.append(
                outbox.Result(
                    message.id,
                    "retry",
                    retry_after=dt.timedelta(seconds=wait) if wait else None,
                    error=retry[0].detail,
                    delivered_to=delivered,
                )
            )
        elif delivered or earlier:
            results.append(outbox.Result(message.id, "sent", delivered_to=delivered))
        elif outcomes:
            results.append(outbox.Result(message.id, "failed", error=outcomes[0][1].detail))
        else:
            results.append(outbox.Result(message.id, "skipped", error="no push subscription"))
    counts = outbox.record(session, worker_id, results, now)
    outbox.forget_subscriptions(session, gone, now)
    counts["claimed"] = len(messages)
    return counts


def drain(
    session: Session, sender: WebPushSender, worker_id: str, now: dt.datetime, limit: int = 500
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
