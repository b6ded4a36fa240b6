"""What a message says, worded at send time from the codes and values its outbox row carries:
the one place the words of a push or an email are made.

A push: a message code and its parameters, for the service worker to word in the recipient's
language from the app's catalogue (pwa_static/i18n, keys `push.<code>.title` and
`push.<code>.body`). The same catalogue words the payload's `title` and `body` once at send
time, in the recipient's language, for the contract's shape and a service worker that predates
codes. Lock-screen safe: no drug names, doses or lab values, only what to do.

An escalation email: content/documents.toml, [documents.email]."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server.notify.channels import Email, PushMessage
from server.services.content import Content, fill
from server.services.formats import Formats
from server.services.outbox import Claimed

CATALOGUES = Path(__file__).resolve().parents[2] / "pwa_static" / "i18n"
ENGLISH = "en"
# How long a push service should keep trying to reach the phone (never 0).
TTL = {"dose": 2 * 3600, "blood_test": 12 * 3600, "check_in": 6 * 3600, "escalation": 3600}
SEVERITIES = ("emergency", "urgent", "routine")
# every code a push can carry (a test checks each has its words in every catalogue)
CODES = (
    *("dose", "dose_follow_up", "dose_follow_up_unnamed", "medicine"),
    *("refill", "refill_blood_in", "refill_blood_needed"),
    *("blood_repeat", "blood_today", "blood_tomorrow"),
    *("check_in", "bowel_check_48h", "bowel_fewer_than_3_in_7d"),
    *("escalation", "escalation_caregiver"),
    *(f"escalation_{severity}" for severity in SEVERITIES),
    *(f"escalation_again_{severity}" for severity in SEVERITIES),
)
CHECK_IN_PROMPTS = ("bowel_check_48h", "bowel_fewer_than_3_in_7d")


@functools.cache
def push_words(language: str) -> Mapping[str, str]:
    """The `push.` words of a catalogue over English's, read once per process."""

    def read(code: str) -> dict[str, str]:
        path = CATALOGUES / f"{code}.json"
        if not path.is_file():
            return {}
        words = json.loads(path.read_text(encoding="utf-8"))
        return {key: text for key, text in words.items() if key.startswith("push.")}

    english = read(ENGLISH)
    return english if language == ENGLISH else {**english, **read(language)}


@functools.cache
def catalogue_languages() -> frozenset[str]:
    """The languages the app has a catalogue in."""
    return frozenset(path.stem for path in CATALOGUES.glob("*.json")) - {"languages"}


def spoken(language: str | None) -> str:
    """`language` when the app has a catalogue in it, else English."""
    if language is not None and language in catalogue_languages():
        return language
    return ENGLISH


def word(language: str, key: str, params: Mapping[str, str]) -> str:
    """A catalogue entry with its {name} placeholders filled."""
    return fill(push_words(language).get(key, key), **params)


def worded(code: str, params: dict[str, str], language: str, **rest: Any) -> PushMessage:
    """A push of `code`, with its words in `language` (already `spoken`)."""
    return PushMessage(
        title=word(language, f"push.{code}.title", params),
        body=word(language, f"push.{code}.body", params),
        code=code,
        params=tuple(params.items()),
        language=language,
        **rest,
    )


def push_message(
    message: Claimed, patient_name: str | None, language: str = ENGLISH
) -> PushMessage:
    """The notification for one outbox message, for a recipient reading `language` (one
    `spoken` gives)."""
    payload = message.payload or {}
    kind = message.kind
    if kind == "dose":
        if payload.get("follow_up"):
            return worded(
                "dose_follow_up" if patient_name else "dose_follow_up_unnamed",
                {"name": patient_name} if patient_name else {},
                language,
                url=f"/#today?patient={message.patient_id}",
                tag=f"dose-follow-up-{message.dose_id}",
                kind="dose",
                ttl_seconds=TTL["dose"],
                urgency="high",
            )
        return worded(
            "dose",
            {},
            language,
            url="/#today",
            tag=f"dose-{message.dose_id}",
            kind="dose",
            ttl_seconds=TTL["dose"],
            urgency="high",
            actions=(
                {"action": "taken", "title": word(language, "push.actionTaken", {})},
                {"action": "snooze", "title": word(language, "push.actionSnooze", {})},
            ),
            refs=(
                ("dose_id", int(message.dose_id or 0)),
                ("patient_id", int(message.patient_id or 0)),
            ),
        )
    if kind in ("medicine", "refill"):
        return medicine_message(message, language)
    if kind == "blood_test":
        if payload.get("prompt") == "anc_repeat_within_24h":
            code, tag, urgency = "blood_repeat", "blood-repeat", "high"
        else:
            stage = "today" if payload.get("stage") == "day" else "tomorrow"
            code, tag, urgency = f"blood_{stage}", "blood", "normal"
        return worded(
            code,
            {},
            language,
            url="/#today",
            tag=f"{tag}-{message.patient_id}",
            kind="blood_test",
            ttl_seconds=TTL["blood_test"],
            urgency=urgency,
        )
    if kind == "check_in":
        prompt = str(payload.get("prompt"))
        return worded(
            prompt if prompt in CHECK_IN_PROMPTS else "check_in",
            {},
            language,
            url="/#symptom" if "prompt" not in payload else "/#bowel",
            tag=f"check-in-{message.patient_id}",
            kind="check_in",
            ttl_seconds=TTL["check_in"],
        )
    code = str(payload.get("code", "escalation"))
    params = payload.get("params")  # as queued before the words were made here
    if "summary" in payload:
        params = {"summary": headline(str(payload["summary"]))}
    return worded(
        code if code in CODES else "escalation",
        {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {},
        language,
        url=str(payload.get("url", "/care/")),
        tag=f"escalation-{message.escalation_id}",
        kind="escalation",
        ttl_seconds=TTL["escalation"],
        urgency="high",
    )


def medicine_message(message: Claimed, language: str = ENGLISH) -> PushMessage:
    """A dose of another medicine, or a stock running low (a week before it runs out; for
    clozapine, whether the blood result the next supply needs is in). Sent as kind "dose" (the
    contract's kinds); no medicine's name on the lock screen."""
    payload = message.payload or {}
    if message.kind == "medicine":
        return worded(
            "medicine",
            {},
            language,
            url="/#today",
            tag=f"medicine-{payload.get('medicine_id')}-{payload.get('slot', '')}"[:120],
            kind="dose",
            ttl_seconds=TTL["dose"],
            urgency="high",
        )
    code = "refill"
    if payload.get("clozapine") and payload.get("blood") in ("in", "needed"):
        code = f"refill_blood_{payload['blood']}"
    return worded(
        code,
        {},
        language,
        url="/#today",
        tag=f"refill-{payload.get('medicine_id')}",
        kind="dose",
        ttl_seconds=TTL["blood_test"],
    )


def headline(summary: str) -> str:
    """An escalation's summary up to its first colon ("Fever: reported by the patient" ->
    "Fever"): what a notification and an email's subject name."""
    return summary.split(":")[0]


def email_message(content: Content, payload: dict[str, Any]) -> Email:
    """An escalation email from its outbox payload (email_text)."""
    subject, text = email_text(content, payload)
    return Email(subject, text)


def email_text(content: Content, payload: dict[str, Any]) -> tuple[str, str]:
    """The subject and text of an escalation email from its payload, in the payload's language
    (content/documents.toml, [documents.email]), the time it opened written by CLDR in the
    clinic's zone. A message queued before payloads carried codes is sent as it was written."""
    if "subject" in payload:
        return str(payload["subject"]), str(payload.get("text", ""))
    language = str(payload.get("language") or ENGLISH)
    if language not in content.languages:
        language = ENGLISH
    words = content.in_language(language).words("email")
    severity = words.get(f"severity_{payload['severity']}", str(payload["severity"]))
    summary = str(payload["summary"])
    opened = dt.datetime.fromisoformat(str(payload["opened_at"]))
    if opened.tzinfo is None:  # stored instants are UTC
        opened = opened.replace(tzinfo=dt.UTC)
    zone = str(payload.get("timezone") or "UTC")
    subject = words["subject_again" if payload.get("again") else "subject"]
    lines = [summary, ""]
    if payload.get("again"):
        lines += [words["again"], ""]
    lines += [
        fill(words["severity"], severity=severity),
        fill(words["opened"], when=Formats(language).moment(opened, zone)),
        words["acknowledge"],
    ]
    title = fill(subject, severity=severity, title=headline(summary))
    return title, "\n".join(lines) + "\n"
