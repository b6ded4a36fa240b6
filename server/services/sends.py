"""A claimed batch addressed (what its sends need, read once), and what their outcomes add up to.

A claimed message is addressed: a push message to each subscription of its recipient not
reached yet, a webhook message to its clinic's webhook, an email to its addresses. Everything
the sends need is read here, once per batch, and their words made (services/messages.py),
before any network I/O; the delivery runtime (reminders/delivery.py) has the channels route
and send them (server/notify/channels.py), and records the outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Clinic, Dose, Escalation, Patient, PushDelivery, PushSubscription, User
from server.notify.channels import Outcome, SendResult, Subscription, WebhookTarget
from server.services import medicines, outbox
from server.services.alerts import settings_of
from server.services.content import Content, project_content
from server.services.messages import email_message, push_message, spoken


@dataclass
class Underway:
    """A claimed message whose sends are not all done."""

    message_id: int
    channel: str
    left: int
    reached_before: bool  # a subscription was reached by an earlier attempt
    retries_refusals: bool = False  # the channel's: a REJECTED send is tried again later
    nowhere: str = "nowhere to send"  # the channel's reason when there was no send to make
    outcomes: list[tuple[int | None, SendResult]] = field(default_factory=list)


# (subscription id, to whom, the words: made once a send has somewhere to go)
Recipients = list[tuple[int | None, Any, Callable[[], Any]]]


@dataclass
class Addressed:
    """A claimed message with its recipients addressed, each with its words (made once the
    channel has found somewhere to send them)."""

    underway: Underway
    to: Recipients


@dataclass
class Batch:
    finished: list[outbox.Result]  # decided without sending (cancelled, skipped, ...)
    addressed: list[Addressed]


def prepare(
    session: Session, content: Content | None, claimed: list[outbox.Claimed], now: dt.datetime
) -> Batch:
    """The claimed messages addressed, everything read from the database first. Where each
    goes, and by which channel, is the delivery runtime's (its registry routes them)."""
    batch = Batch([], [])
    cancelled = _cancelled(session, claimed, now)
    batch.finished.extend(
        outbox.Result(message_id, "cancelled", error="dose already marked")
        for message_id in sorted(cancelled)
    )
    live = [m for m in claimed if m.id not in cancelled]
    reads = _Reads.of(session, live, content or project_content())
    for message in live:
        underway = Underway(message.id, message.channel, 0, False)
        to = _ADDRESSED[message.channel](message, reads, underway)
        batch.addressed.append(Addressed(underway, to))
    return batch


def _push(message: outbox.Claimed, reads: _Reads, underway: Underway) -> Recipients:
    """A push to each of the recipient's subscriptions not reached yet, in their language."""
    subs = reads.subscriptions.get(message.recipient_user_id or 0, [])
    language = spoken(subs[0].language if subs else None)
    note = push_message(message, reads.names.get(message.patient_id or 0), language)
    underway.reached_before = any((message.id, sub.id) in reads.already for sub in subs)
    return [
        (sub.id, Subscription(sub.endpoint, sub.p256dh, sub.auth), lambda: note)
        for sub in subs
        if (message.id, sub.id) not in reads.already
    ]


def _webhook(message: outbox.Claimed, reads: _Reads, underway: Underway) -> Recipients:
    """The escalation's clinic's webhook (else the channel's default), the payload as it is."""
    settings = reads.settings.get(message.escalation_id or 0, {})
    to = WebhookTarget(settings.get("webhook_url"), settings.get("webhook_secret"))
    return [(None, to, lambda: dict(message.payload))]


def _email(message: outbox.Claimed, reads: _Reads, underway: Underway) -> Recipients:
    """The payload's addresses; the words made from its codes."""
    payload = dict(message.payload)
    return [(None, payload.get("to"), lambda: email_message(reads.content, payload))]


_ADDRESSED: dict[str, Callable[[outbox.Claimed, _Reads, Underway], Recipients]] = {
    "push": _push,
    "webhook": _webhook,
    "email": _email,
}


def conclude(message: Underway) -> outbox.Result:
    """A message's outcome once every send of it is done: retried when a send is to be tried
    again, sent when one reached its recipient (now or by an earlier attempt), else failed, or
    skipped when there was no send to make."""
    outcomes = [result for _, result in message.outcomes]
    retry = [
        r
        for r in outcomes
        if r.outcome is Outcome.RETRY
        or (r.outcome is Outcome.REJECTED and message.retries_refusals)
    ]
    if retry:
        wait = max((r.retry_after_seconds or 0 for r in retry), default=0)
        return outbox.Result(
            message.message_id,
            "retry",
            retry_after=dt.timedelta(seconds=wait) if wait else None,
            error=retry[0].detail,
        )
    delivered = any(r.outcome is Outcome.DELIVERED for r in outcomes)
    if delivered or message.reached_before:
        return outbox.Result(message.message_id, "sent")
    if outcomes:
        return outbox.Result(message.message_id, "failed", error=outcomes[0].detail)
    return outbox.Result(message.message_id, "skipped", error=message.nowhere)


@dataclass
class _Reads:
    """What a batch's sends need, read once: the patients' names, the recipients' push
    subscriptions (with their language), the subscriptions reached by earlier attempts, the
    escalations' clinic settings (their webhook)."""

    names: dict[int, str]
    subscriptions: dict[int, list[Any]]
    already: set[tuple[int, int]]
    settings: dict[int, dict[str, Any]]
    content: Content

    @classmethod
    def of(cls, session: Session, messages: Sequence[outbox.Claimed], content: Content) -> _Reads:
        push = [m for m in messages if m.channel == "push"]
        patient_ids = sorted({m.patient_id for m in push if m.patient_id})
        names: dict[int, str] = {}
        if patient_ids:
            names = dict(
                session.execute(
                    select(Patient.id, Patient.display_name).where(Patient.id.in_(patient_ids))
                ).all()
            )
        escalation_ids = sorted(
            {m.escalation_id for m in messages if m.channel == "webhook" and m.escalation_id}
        )
        settings: dict[int, dict[str, Any]] = {}
        if escalation_ids:
            for escalation_id, clinic in session.execute(
                select(Escalation.id, Clinic)
                .join(Clinic, Clinic.id == Escalation.clinic_id)
                .where(Escalation.id.in_(escalation_ids))
            ):
                settings[escalation_id] = settings_of(clinic)
        return cls(
            names,
            subscriptions_of(session, [m.recipient_user_id or 0 for m in push]),
            delivered(session, [m.id for m in push]),
            settings,
            content,
        )


def delivered(session: Session, message_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(message, subscription) pairs already delivered: a retry skips them."""
    if not message_ids:
        return set()
    rows = session.execute(
        select(PushDelivery.message_id, PushDelivery.subscription_id).where(
            PushDelivery.message_id.in_(message_ids)
        )
    )
    return {(m, s) for m, s in rows}


def subscriptions_of(session: Session, user_ids: Sequence[int]) -> dict[int, list[Any]]:
    """user id -> rows of (id, user_id, endpoint, p256dh, auth, language): plain rows, not ORM
    objects, since a batch reads hundreds of them to send and changes none. `language` is the
    user's, read with the subscription for the words of their pushes. One IN list, as
    `delivered`'s: a batch is one claim (reminders/delivery.py, CLAIM_SIZE)."""
    ids = sorted(set(user_ids))
    found: dict[int, list[Any]] = {uid: [] for uid in ids}
    if not ids:
        return found
    s = PushSubscription
    for row in session.execute(
        select(s.id, s.user_id, s.endpoint, s.p256dh, s.auth, User.language)
        .join(User, User.id == s.user_id)
        .where(s.user_id.in_(ids))
    ):
        found[row.user_id].append(row)
    return found


def _cancelled(session: Session, messages: list[outbox.Claimed], now: dt.datetime) -> set[int]:
    """Dose reminders for doses marked in the meantime (or snoozed) are not sent, nor those of
    other medicines marked meanwhile."""
    if not any(m.kind in ("dose", "medicine") for m in messages):
        return set()  # nothing here a mark can cancel (an alerts batch)
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
