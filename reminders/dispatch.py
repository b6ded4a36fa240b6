"""The worker's ways out, as configured: web push, the care-team webhook and email, each a
channel in the registry the delivery runtime looks a message's channel up in
(server/notify/channels.py). Addressing a claimed batch is server/services/sends.py's;
routing each message by its channel, sending and recording, reminders/delivery.py's.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.notify.channels import Channel, Registry
from server.notify.email import EmailChannel, SmtpSettings
from server.notify.webhook import WebhookChannel, WebhookSender
from server.notify.webpush import PushChannel, WebPushSender
from server.services.content import Content, project_content


class Channels(Registry):
    """Web push, the webhook (to a clinic's own URL, else `webhook_url`) and email (when there
    is a mail server); `content` holds the words emails are written in (the app's content/)."""

    def __init__(
        self,
        push: WebPushSender,
        webhook: WebhookSender | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        smtp: SmtpSettings | None = None,
        mail_from: str = "companion@localhost",
        content: Content | None = None,
    ) -> None:
        super().__init__(
            [
                PushChannel(push),
                WebhookChannel(
                    webhook or WebhookSender(timeout_seconds=5), webhook_url, webhook_secret
                ),
                EmailChannel(smtp, mail_from),
            ],
            content=content or project_content(),
        )
        self.push = push


def channels_of(sender: WebPushSender | Registry | Iterable[Channel]) -> Registry:
    """The registry to send by: as given, or web push alone."""
    if isinstance(sender, Registry):
        return sender
    if isinstance(sender, WebPushSender):
        return Channels(push=sender)
    return Registry(sender)
