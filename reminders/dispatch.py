"""What claimed messages need sending, as sends to make, and what their outcomes add up to.

A claimed message becomes one `Send` per request: a push message one per subscription of its
recipient not reached yet, a webhook or email message one. Reading what the sends need
happens here, before any network I/O; the delivery runtime (reminders/delivery.py) makes the
sends and records them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Clinic, Dose, Escalation, Patient
from server.notify.email import SmtpSettings, send_email
from server.notify.webhook import WebhookSender
from server.notify.webpush import (
    Outcome,
    PushMessage,
    SendResult,
    Subscription,
    WebPushSender,
    origin_of,
)
from server.services import medicines, outbox
from server.services.alerts import email_text, settings_of
from server.services.content import Content, project_content
from server.services.messages import push_message, spoken


@dataclass
class Channels:
    """The ways out: web push, the care-team webhook and email (each optional but push)."""

    push: WebPushSender
    webhook: WebhookSender = field(default_factory=lambda: WebhookSender(timeout_seconds=5))
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp: SmtpSettings | None = None
    mail_from: str = "companion@localhost"
    # the words of what is written as it is sent (email): the app's content/
    content: Content = field(default_factory=project_content)

    def close(self) -> None:
        self.push.close()
        self.webhook.close()


def channels_of(sender: WebPushSender | Channels) -> Channels:
    return sender if isinstance(sender, Channels) else Channels(push=sender)


@dataclass(frozen=True)
class Send:
    """One request to make for a message: to a push subscription, the webhook or the mail
    server. `origin` is where it goes (sends are bounded per origin); `go` makes it. Sends
    to an `in_order` origin go one at a time, in the order claimed (a webhook receiver sees
    an escalation opened before it is resolved)."""

    message_id: int
    origin: str
    subscription_id: int | None
    go: Callable[[], SendResult]
    in_order: bool = False


@dataclass
class Underway:
    """A claimed message whose sends are not all done."""

    message_id: int
    channel: str
    left: int
    reached_before: bool  # a subscription was reached by an earlier attempt
    outcomes: list[tuple[int | None, SendResult]] = field(default_factory=list)


@dataclass
class Plan:
    finished: list[outbox.Result]  # decided without sending (cancelled, skipped, ...)
    underway: list[Underway]
    sends: list[Send]


def plan(
    session: Session, channels: Channels, claimed: list[outbox.Claimed], now: dt.datetime
) -> Plan:
    """The sends the claimed messages need, everything read from the database first."""
    result = Plan([], [], [])
    _plan_other(session, channels, [m for m in claimed if m.channel != "push"], result)
    _plan_push(session, channels, [m for m in claimed if m.channel == "push"], now, result)
    return result


def conclude(message: Underway) -> outbox.Result:
    """A message's outcome once every send of it is done."""
    outcomes = message.outcomes
    delivered = any(r.outcome is Outcome.DELIVERED for _, r in outcomes)
    if message.channel != "push":
        result = outcomes[0][1]
        if delivered:
            return outbox.Result(message.message_id, "sent")
        return outbox.Result(
            message.message_id, "retry", retry_after=_wait(result), error=result.detail
        )
    retry = [r for _, r in outcomes if r.outcome is Outcome.RETRY]
    if retry:
        wait = max((r.retry_after_seconds or 0 for r in retry), default=0)
        return outbox.Result(
            message.message_id,
            "retry",
            retry_after=dt.timedelta(seconds=wait) if wait else None,
            error=retry[0].detail,
        )
    if delivered or message.reached_before:
        return outbox.Result(message.message_id, "sent")
    if outcomes:
        return outbox.Result(message.message_id, "failed", error=outcomes[0][1].detail)
    return outbox.Result(message.message_id, "skipped", error="no push subscription")


def _wait(result: SendResult) -> dt.timedelta | None:
    return dt.timedelta(seconds=result.retry_after_seconds) if result.retry_after_seconds else None


def _plan_other(
    session: Session, channels: Channels, messages: list[outbox.Claimed], plan: Plan
) -> None:
    """Webhook and email messages: the clinic's targets, else the defaults; those with
    nowhere to go are skipped, recorded with the reason."""
    clinics: dict[int, dict[str, Any]] = {}
    for message in messages:
        escalation = session.get(Escalation, message.escalation_id or 0)
        clinic_id = escalation.clinic_id if escalation else 0
        if clinic_id not in clinics:
            clinic = session.get(Clinic, clinic_id)
            clinics[clinic_id] = settings_of(clinic) if clinic else {}
        settings = clinics[clinic_id]
        payload = dict(message.payload)
        if message.channel == "webhook":
            url = settings.get("webhook_url") or channels.webhook_url
            secret = settings.get("webhook_secret") or channels.webhook_secret
            if not url or not secret:
                plan.finished.append(
                    outbox.Result(message.id, "skipped", error="no webhook configured")
                )
                continue
            go = _webhook_send(channels.webhook, url, secret, payload, message.id)
            origin = "webhook " + origin_of(url)
        elif channels.smtp is None or not payload.get("to"):
            plan.finished.append(outbox.Result(message.id, "skipped", error="no email configured"))
            continue
        else:
            go = _email_send(channels, payload)
            origin = f"smtp {channels.smtp.host}:{channels.smtp.port}"
        plan.underway.append(Underway(message.id, message.channel, 1, False))
        plan.sends.append(Send(message.id, origin, None, go, in_order=True))


def _webhook_send(
    webhook: WebhookSender, url: str, secret: str, payload: dict[str, Any], message_id: int
) -> Callable[[], SendResult]:
    return lambda: webhook.send(url, secret, payload, message_id=f"msg_{message_id}")


def _email_send(channels: Channels, payload: dict[str, Any]) -> Callable[[], SendResult]:
    smtp = channels.smtp
    assert smtp is not None
    subject, text = email_text(channels.content, payload)  # written here, before any I/O
    return lambda: send_email(smtp, channels.mail_from, list(payload["to"]), subject, text)


def _push_send(
    push: WebPushSender, subscription: Subscription, note: PushMessage
) -> Callable[[], SendResult]:
    return lambda: push.send(subscription, note)


def _plan_push(
    session: Session,
    channels: Channels,
    messages: list[outbox.Claimed],
    now: dt.datetime,
    plan: Plan,
) -> None:
    cancelled = _cancelled(session, messages, now)
    plan.finished.extend(
        outbox.Result(message_id, "cancelled", error="dose already marked")
        for message_id in sorted(cancelled)
    )
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
    for message in live:
        subs = subscriptions.get(message.recipient_user_id or 0, [])
        # in the recipient's language (read with their subscriptions)
        language = spoken(subs[0].language if subs else None)
        note = push_message(message, names.get(message.patient_id or 0), language)
        reached_before = any((message.id, sub.id) in already for sub in subs)
        todo = [sub for sub in subs if (message.id, sub.id) not in already]
        underway = Underway(message.id, "push", len(todo), reached_before)
        if not todo:
            plan.finished.append(conclude(underway))
            continue
        plan.underway.append(underway)
        for sub in todo:
            subscription = Subscription(sub.endpoint, sub.p256dh, sub.auth)
            plan.sends.append(
                Send(
                    message.id,
                    origin_of(sub.endpoint),
                    sub.id,
                    _push_send(channels.push, subscription, note),
                )
            )


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
