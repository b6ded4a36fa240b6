"""What a push says. Lock-screen safe: no drug names, doses or lab values, only what to do."""

from __future__ import annotations

from server.notify.webpush import PushMessage
from server.services.outbox import Claimed

# How long a push service should keep trying to reach the phone (never 0).
TTL = {"dose": 2 * 3600, "blood_test": 12 * 3600, "check_in": 6 * 3600, "escalation": 3600}
PROMPTS = {
    "bowel_check_48h": (
        "Time for a quick check",
        "No bowel movement logged for 2 days. Take your laxatives as prescribed and log it.",
    ),
    "bowel_fewer_than_3_in_7d": (
        "Time for a quick check",
        "Fewer than 3 bowel movements this week. Tell your team if you are constipated.",
    ),
}


def push_message(message: Claimed, patient_name: str | None) -> PushMessage:
    """The notification for one outbox message."""
    payload = message.payload or {}
    kind = message.kind
    if kind == "dose":
        if payload.get("follow_up"):
            who = patient_name or "Someone you care for"
            return PushMessage(
                title=f"{who}: a dose is not marked yet",
                body="It was due an hour ago. Check in with them if you can.",
                url=f"/#today?patient={message.patient_id}",
                tag=f"dose-follow-up-{message.dose_id}",
                kind="dose",
                ttl_seconds=TTL["dose"],
                urgency="high",
            )
        return PushMessage(
            title="Time for your medicine",
            body="Tap Taken once you have had it.",
            url="/#today",
            tag=f"dose-{message.dose_id}",
            kind="dose",
            ttl_seconds=TTL["dose"],
            urgency="high",
            actions=(
                {"action": "taken", "title": "Taken"},
                {"action": "snooze", "title": "Snooze 30 min"},
            ),
            refs=(
                ("dose_id", int(message.dose_id or 0)),
                ("patient_id", int(message.patient_id or 0)),
            ),
        )
    if kind in ("medicine", "refill"):
        return medicine_message(message)
    if kind == "blood_test" and payload.get("prompt") == "anc_repeat_within_24h":
        return PushMessage(
            title="A repeat blood test",
            body="Your team needs another blood test within a day. Tap for details.",
            url="/#today",
            tag=f"blood-repeat-{message.patient_id}",
            kind="blood_test",
            ttl_seconds=TTL["blood_test"],
            urgency="high",
        )
    if kind == "blood_test":
        when = "today" if payload.get("stage") == "day" else "tomorrow"
        return PushMessage(
            title=f"Blood test {when}",
            body="Your blood test keeps your medicine safe. Tap for details.",
            url="/#today",
            tag=f"blood-{message.patient_id}",
            kind="blood_test",
            ttl_seconds=TTL["blood_test"],
        )
    if kind == "check_in":
        title, body = PROMPTS.get(
            str(payload.get("prompt")),
            ("How are you today?", "A quick check-in: tap to tell us how you feel."),
        )
        return PushMessage(
            title=title,
            body=body,
            url="/#symptom" if "prompt" not in payload else "/#bowel",
            tag=f"check-in-{message.patient_id}",
            kind="check_in",
            ttl_seconds=TTL["check_in"],
        )
    return PushMessage(
        title=str(payload.get("title", "A patient needs the care team")),
        body=str(payload.get("body", "Open the care-team app to see and acknowledge it.")),
        url=str(payload.get("url", "/care/")),
        tag=f"escalation-{message.escalation_id}",
        kind="escalation",
        ttl_seconds=TTL["escalation"],
        urgency="high",
    )


def medicine_message(message: Claimed) -> PushMessage:
    """A dose of another medicine, or a stock running low (a week before it runs out; for
    clozapine, whether the blood result the next supply needs is in). Sent as kind "dose" (the
    contract's kinds); no medicine's name on the lock screen."""
    payload = message.payload or {}
    if message.kind == "medicine":
        return PushMessage(
            title="Time for your other medicine",
            body="Tap to see which one, then mark it taken.",
            url="/#today",
            tag=f"medicine-{payload.get('medicine_id')}-{payload.get('slot', '')}"[:120],
            kind="dose",
            ttl_seconds=TTL["dose"],
            urgency="high",
        )
    body = "One of your medicines runs out in about a week. Order more now."
    if payload.get("clozapine"):
        body = {
            "in": "Your medicine runs out in about a week. Your blood result for the next "
            "supply is in: order more now.",
            "needed": "Your medicine runs out in about a week. The next supply needs a new "
            "blood test first: book it now.",
        }.get(str(payload.get("blood")), body)
    return PushMessage(
        title="Time to get more medicine",
        body=body,
        url="/#today",
        tag=f"refill-{payload.get('medicine_id')}",
        kind="dose",
        ttl_seconds=TTL["blood_test"],
    )
