"""Email over SMTP (a plain relay: smtp://host:port, or smtps:// / starttls with credentials)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from server.notify.channels import Email, Outcome, Send, SendResult, send_each


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """smtp://[user:pass@]host:port[?starttls=1] or smtps://..."""
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise ValueError("use smtp://host:port or smtps://host:port")
        return cls(
            host=parsed.hostname,
            port=parsed.port or (465 if parsed.scheme == "smtps" else 25),
            ssl=parsed.scheme == "smtps",
            starttls="starttls=1" in (parsed.query or ""),
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
        )


def send_email(
    settings: SmtpSettings,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    timeout: float = 10.0,
) -> SendResult:
    """Send one message; a refusal or no connection is retried later."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(text)
    try:
        client: smtplib.SMTP
        if settings.ssl:
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            if settings.starttls:
                client.starttls()
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(Outcome.RETRY, None, None, f"email not sent: {type(exc).__name__}")
    return SendResult(Outcome.DELIVERED, 250, None, "sent")


class EmailChannel:
    """Email as a channel (server/notify/channels.py): to the mail server, when there is one,
    one message at a time."""

    name = "email"
    in_order = True
    retries_refusals = True
    nowhere = "no email configured"

    def __init__(self, smtp: SmtpSettings | None, sender: str = "companion@localhost") -> None:
        self.smtp = smtp
        self.sender = sender

    def route(self, to: Sequence[str] | None) -> tuple[list[str], str] | None:
        if self.smtp is None or not to:
            return None
        return list(to), f"smtp {self.smtp.host}:{self.smtp.port}"

    def send(self, send: Send) -> SendResult:
        assert self.smtp is not None  # routed
        email: Email = send.body
        return send_email(self.smtp, self.sender, send.to, email.subject, email.text)

    def send_many(self, sends: Sequence[Send]) -> list[SendResult]:
        return send_each(self, sends)

    def close(self) -> None:
        pass
