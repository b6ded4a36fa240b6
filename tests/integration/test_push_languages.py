"""Pushes in each reader's own language (issue 19): the payload carries a message code, its
parameters and the recipient's language, and the words of that language's catalogue; a
caregiver reads Spanish while the patient reads English. Sent through the real cycle to the
loopback push service, which checks VAPID and decrypts each message."""

from __future__ import annotations

import json
import re
from pathlib import Path

from server.notify.webpush import WebPushSender
from server.services.messages import CODES
from tests.integration.test_reminders import at, dose_pushes, push, sender, subscribe, tick
from tests.support.push_service import PushService
from tests.support.world import World, start_plan

__all__ = ["push", "sender"]  # fixtures, shared with the reminders' tests

I18N = Path(__file__).resolve().parents[2] / "pwa_static" / "i18n"
ENGLISH = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
SPANISH = json.loads((I18N / "es.json").read_text(encoding="utf-8"))
# lock-screen safe in every language: no drug name, no dose, no lab value
UNSAFE = re.compile(r"clozapin|clozaril|\bmg\b|\banc\b|neutr[oó]fil|10\^?9|cells/u", re.I)


def test_every_push_code_has_its_words_and_they_are_lock_screen_safe() -> None:
    for code in CODES:
        for catalogue in (ENGLISH, SPANISH):
            for part in ("title", "body"):
                text = catalogue[f"push.{code}.{part}"]
                assert text and not UNSAFE.search(text), (code, part, text)


def test_a_caregiver_reads_spanish_while_the_patient_reads_english(
    world: World, push: PushService, sender: WebPushSender
) -> None:
    assert world.caregiver.put("/api/me/language", json={"language": "es"}).status_code == 200
    assert world.patient.put("/api/me/language", json={"language": "en"}).status_code == 200
    start_plan(world, start="2026-11-25")
    patient_browser = subscribe(world.patient, push)
    caregiver_browser = subscribe(world.caregiver, push)
    for minute in ("20:30", "21:00", "21:15", "21:30", "21:45", "22:00"):
        tick(world.app, sender, at(f"2026-11-25T{minute}:00+00:00"))

    reminder = dose_pushes(push, patient_browser)[0].payload
    assert reminder["lang"] == "en" and reminder["code"] == "dose" and reminder["params"] == {}
    assert reminder["title"] == ENGLISH["push.dose.title"] == "Time for your medicine"
    assert [a["title"] for a in reminder["actions"]] == ["Taken", "Remind me in 30 minutes"]

    [follow_up] = dose_pushes(push, caregiver_browser)
    told = follow_up.payload
    assert told["lang"] == "es" and told["code"] == "dose_follow_up"
    assert told["params"] == {"name": "Alex"}
    assert told["title"] == "Alex: hay una dosis sin marcar"
    assert told["body"] == SPANISH["push.dose_follow_up.body"]
    assert {"title", "body", "url", "tag", "kind"} <= set(told)  # the contract's fields
    for message in push.received():
        assert not UNSAFE.search(message.payload["title"] + " " + message.payload["body"])


def test_a_language_without_a_catalogue_is_sent_in_english(
    world: World, push: PushService, sender: WebPushSender
) -> None:
    """A stored language the app no longer has a catalogue for (or none stored yet)."""
    from server.extensions import db
    from server.models import User

    db.session.get(User, world.patient.user["id"]).language = "xx"  # type: ignore[union-attr]
    db.session.commit()
    start_plan(world, start="2026-11-25")
    browser = subscribe(world.patient, push)
    tick(world.app, sender, at("2026-11-25T21:00:00+00:00"))
    [reminder] = dose_pushes(push, browser)
    assert reminder.payload["lang"] == "en"
    assert reminder.payload["title"] == "Time for your medicine"
