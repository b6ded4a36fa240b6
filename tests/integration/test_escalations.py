"""Every red flag reaches a human: webhook (signature verified), push (decrypted) and email
(a real SMTP server) for each rule of the contract; receivers down lose nothing; the ladder
climbs until someone acknowledges."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from reminders.cycle import run_cycle
from reminders.dispatch import Channels
from server.api.push import vapid
from server.extensions import db
from server.models import Escalation, OutboxMessage, PatientState
from server.notify.channels import Registry, Send, recording_registry
from server.notify.email import SmtpSettings
from server.notify.webpush import WebPushSender
from server.services.content import project_content
from server.services.messages import email_text
from tests.support.channels import loopback_channels
from tests.support.clock import FakeClock
from tests.support.push_service import PushService
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.world import ApiClient, World, add_anc, start_plan

SECRET = "webhook-secret-for-tests"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


@pytest.fixture
def push() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture
def channels(app: Flask, receiver: WebhookReceiver, mailbox) -> Iterator[Channels]:
    with app.test_request_context():
        key = vapid()
    out = loopback_channels(
        push=WebPushSender(key, "mailto:care@example.org", allow_http=True, timeout_seconds=2),
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        smtp=SmtpSettings("127.0.0.1", mailbox[1]),
    )
    yield out
    out.close()


@pytest.fixture
def clinic(world: World, push: PushService) -> World:
    """Alex's clinic with an email list and an on-call contact; its clinician subscribed."""
    response = world.admin.put(
        "/api/clinic/settings",
        json={
            "email_recipients": ["team@north.example"],
            "on_call": {"name": "On call", "email": "oncall@north.example"},
        },
    )
    assert response.status_code == 200, response.get_json()
    world.clinician_browser = push.new_subscription()  # type: ignore[attr-defined]
    assert (
        world.clinician.post("/api/push/subscriptions", json=world.clinician_browser).status_code
        == 201
    )
    # a recent count and bowel movement: only the rule under test fires
    add_anc(world.clinician, world.patient_id, 2000, "2026-11-25T09:00:00+00:00")
    world.patient.post(
        f"/api/patients/{world.patient_id}/bowel-movements",
        json={"occurred_at": "2026-11-25T11:00:00+00:00", "bristol_type": 4},
    )
    return world


def read_mail(raw: str) -> tuple[str, str]:
    """The subject and the text of a message the SMTP server received."""
    message = email.message_from_bytes(raw.encode(), policy=email.policy.default)
    return str(message["Subject"]), message.get_content()  # type: ignore[attr-defined]


def tick(app: Flask, channels: Registry, when: dt.datetime) -> dict:
    return run_cycle(db.session, when, app.extensions["companion.content"], "w1", channels).counts


def verified(receiver: WebhookReceiver) -> list[dict]:
    documents = []
    for delivery in receiver.deliveries:
        expected = "sha256=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(delivery.headers["X-Companion-Signature"], expected)
        documents.append(delivery.document)
    return documents


def escalation_pushes(push: PushService, browser: dict) -> list:
    sub = browser["endpoint"].rsplit("/", 1)[1]
    return [
        r for r in push.received() if r.subscription_id == sub and r.payload["kind"] == "escalation"
    ]


def alex_escalations() -> list[Escalation]:
    return db.session.query(Escalation).filter_by(patient_id=1).all()


@pytest.mark.parametrize(
    ("how", "rule"),
    [
        ({"symptoms": ["fever"]}, "fever"),
        ({"symptoms": ["sore_throat"]}, "sore_throat"),
        ({"symptoms": ["chest_pain"]}, "chest_pain"),
        ({"anc": 1200}, "anc_mild"),
        ({"anc": 700}, "anc_moderate"),
        ({"anc": 300}, "anc_severe"),
    ],
)
def test_each_red_flag_opens_one_escalation_delivered_on_every_channel(
    clinic: World,
    channels: Channels,
    receiver: WebhookReceiver,
    mailbox,
    push: PushService,
    how: dict,
    rule: str,
) -> None:
    for _ in range(2):  # a repeat adds to the open escalation, it opens nothing new
        if "symptoms" in how:
            response = clinic.patient.post(
                f"/api/patients/{clinic.patient_id}/symptoms",
                json={"occurred_at": "2026-11-25T11:30:00+00:00", **how},
            )
        else:
            response = add_anc(
                clinic.clinician, clinic.patient_id, how["anc"], "2026-11-25T11:30:00+00:00"
            )
        assert response.status_code == 201
    [escalation] = [e for e in alex_escalations() if e.rule == rule]
    tick(clinic.app, channels, NOW)
    opened = [d for d in verified(receiver) if d["event"] == "escalation.opened"]
    assert [d["escalation"]["id"] for d in opened if d["escalation"]["rule"] == rule] == [
        escalation.id
    ]
    assert opened[0]["escalation"]["patient_id"] == clinic.patient_id
    assert len(escalation_pushes(push, clinic.clinician_browser)) == 1
    box, _ = mailbox
    assert len(box.messages) == 1 and box.messages[0][0] == ["team@north.example"]
    # a second cycle sends nothing again
    tick(clinic.app, channels, NOW + dt.timedelta(seconds=30))
    alex = [d for d in verified(receiver) if d["escalation"]["patient_id"] == clinic.patient_id]
    assert len(alex) == 1 and len(box.messages) == 1


@pytest.mark.parametrize(
    "rule", ["no_bowel_movement_72h", "missed_doses_48h", "blood_test_overdue"]
)
def test_time_based_red_flags_are_delivered_too(
    clinic: World, channels: Channels, receiver: WebhookReceiver, clock: FakeClock, rule: str
) -> None:
    state = db.session.get(PatientState, clinic.patient_id)
    when = NOW + dt.timedelta(days=1)
    if rule == "no_bowel_movement_72h":
        when = NOW + dt.timedelta(hours=73)
    elif rule == "missed_doses_48h":
        start_plan(clinic, start="2026-11-25")
        state.last_bowel_movement_at = NOW + dt.timedelta(hours=40)
        when = NOW + dt.timedelta(hours=58)  # the 21:00 dose on day 1 was due; none taken
    else:
        # the count of 2026-11-25 is due again a week later: overdue the day after
        when = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
        state.last_bowel_movement_at = when - dt.timedelta(hours=1)
    db.session.commit()
    tick(clinic.app, channels, when)
    rules = [
        d["escalation"]["rule"] for d in verified(receiver) if d["escalation"]["patient_id"] == 1
    ]
    assert rules.count(rule) == 1


def test_a_receiver_down_for_an_hour_loses_nothing(
    clinic: World, channels: Channels, receiver: WebhookReceiver
) -> None:
    receiver.stop()
    clinic.patient.post(
        f"/api/patients/{clinic.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
    )
    for minutes in range(0, 60, 5):
        tick(clinic.app, channels, NOW + dt.timedelta(minutes=minutes))
    receiver.start()
    for minutes in range(60, 130, 5):
        tick(clinic.app, channels, NOW + dt.timedelta(minutes=minutes))
    opened = [
        d
        for d in verified(receiver)
        if d["event"] == "escalation.opened" and d["escalation"]["patient_id"] == clinic.patient_id
    ]
    assert len(opened) == 1
    row = db.session.query(OutboxMessage).filter_by(channel="webhook", patient_id=1).one()
    assert row.status == "sent" and row.attempts > 1


def test_the_ladder_climbs_until_acknowledged(
    clinic: World,
    channels: Channels,
    push: PushService,
    mailbox,
    clock: FakeClock,
    receiver: WebhookReceiver,
) -> None:
    clinic.patient.post(
        f"/api/patients/{clinic.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["chest_pain"]},
    )
    box, _ = mailbox
    tick(clinic.app, channels, NOW)  # opened: the care team is told
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=4, seconds=59))
    assert len(escalation_pushes(push, clinic.clinician_browser)) == 1
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=5))  # emergency window: again
    assert len(escalation_pushes(push, clinic.clinician_browser)) == 2
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=10))  # then the on-call contact
    assert box.messages[-1][0] == ["oncall@north.example"]
    sent_before = len(box.messages)
    clock.set(NOW + dt.timedelta(minutes=11))
    clinician = ApiClient(clinic.app, "dr.north@example.org")
    escalation_id = alex_escalations()[0].id
    assert clinician.post(f"/api/escalations/{escalation_id}/acknowledge").status_code == 200
    for minutes in (15, 20, 30, 60):
        tick(clinic.app, channels, NOW + dt.timedelta(minutes=minutes))
    assert len(box.messages) == sent_before
    assert len(escalation_pushes(push, clinic.clinician_browser)) == 2
    assert "escalation.acknowledged" in receiver.events()


def test_the_windows_are_the_clinics_settings(clinic: World) -> None:
    # the ladder's windows are the point, not the receivers: the channels record what they
    # are asked to send
    recorded = recording_registry()
    assert (
        clinic.clinician.put(
            "/api/clinic/settings", json={"escalation_windows_minutes": {"urgent": 10}}
        ).status_code
        == 403
    )
    assert (
        clinic.admin.put(
            "/api/clinic/settings", json={"escalation_windows_minutes": {"urgent": 10}}
        ).status_code
        == 200
    )
    clinic.patient.post(
        f"/api/patients/{clinic.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
    )

    def told() -> list[Send]:
        endpoint = clinic.clinician_browser["endpoint"]  # type: ignore[attr-defined]
        return [s for s in recorded["push"].sent if s.to.endpoint == endpoint]  # type: ignore[attr-defined]

    tick(clinic.app, recorded, NOW)
    tick(clinic.app, recorded, NOW + dt.timedelta(minutes=9))
    assert [s.body.code for s in told()] == ["escalation_urgent"]
    assert told()[0].body.params == (("summary", "Fever"),)
    tick(clinic.app, recorded, NOW + dt.timedelta(minutes=10))
    assert len(told()) == 2
    subjects = [s.body.subject for s in recorded["email"].sent]  # type: ignore[attr-defined]
    assert subjects[-1] == "[Clozapine companion] Urgent: Fever"


def test_linked_caregivers_are_told_and_the_resolution_reaches_the_webhook(
    clinic: World, channels: Channels, push: PushService, receiver: WebhookReceiver
) -> None:
    caregiver_browser = push.new_subscription()
    clinic.caregiver.post("/api/push/subscriptions", json=caregiver_browser)
    body = clinic.patient.post(
        f"/api/patients/{clinic.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["chest_pain"]},
    ).get_json()
    tick(clinic.app, channels, NOW)
    assert len(escalation_pushes(push, caregiver_browser)) == 1
    escalation_id = body["escalation_ids"][0]
    clinic.clinician.post(f"/api/escalations/{escalation_id}/resolve", json={"note": "Seen in A&E"})
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=1))
    alex = [d["event"] for d in verified(receiver) if d["escalation"]["patient_id"] == 1]
    assert alex == ["escalation.opened", "escalation.resolved"]


def test_another_clinic_sees_nothing(clinic: World, channels: Channels) -> None:
    clinic.patient.post(
        f"/api/patients/{clinic.patient_id}/symptoms",
        json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["fever"]},
    )
    assert clinic.other_clinician.get("/api/escalations").get_json()["escalations"] == []
    escalation_id = alex_escalations()[0].id
    assert (
        clinic.other_clinician.post(f"/api/escalations/{escalation_id}/acknowledge").status_code
        == 404
    )


def test_the_on_call_contact_must_belong_to_the_clinic(clinic: World) -> None:
    from server.models import User

    outsider = db.session.query(User).filter_by(email="dr.south@example.org").one()
    insider = db.session.query(User).filter_by(email="dr.north@example.org").one()
    refused = clinic.admin.put("/api/clinic/settings", json={"on_call": {"user_id": outsider.id}})
    assert refused.status_code == 422
    assert "on_call.user_id" in refused.get_json()["error"]["fields"]
    patient = db.session.query(User).filter_by(email="alex@example.org").one()
    assert (
        clinic.admin.put(
            "/api/clinic/settings", json={"on_call": {"user_id": patient.id}}
        ).status_code
        == 422
    )
    assert (
        clinic.admin.put(
            "/api/clinic/settings", json={"on_call": {"user_id": insider.id}}
        ).status_code
        == 200
    )


def test_a_repeat_emergency_on_an_acknowledged_escalation_alerts_again_once_per_report(
    clinic: World,
    channels: Channels,
    push: PushService,
    mailbox,
    receiver: WebhookReceiver,
) -> None:
    """Issue 14 defect: a repeat chest pain on an acknowledged (not resolved) escalation
    reached nobody (RULES.md 7 "Repeat emergencies"; guideline L309)."""
    path = f"/api/patients/{clinic.patient_id}/symptoms"
    first = clinic.patient.post(
        path, json={"occurred_at": "2026-11-25T11:30:00+00:00", "symptoms": ["chest_pain"]}
    ).get_json()
    tick(clinic.app, channels, NOW)
    escalation_id = first["escalation_ids"][0]
    assert clinic.clinician.post(f"/api/escalations/{escalation_id}/acknowledge").status_code == 200
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=1))
    box, _ = mailbox
    pushes, mails = len(escalation_pushes(push, clinic.clinician_browser)), len(box.messages)
    # a new report of chest pain, twice with the same Idempotency-Key: one new report
    for _ in range(2):
        again = clinic.patient.post(
            path,
            json={"occurred_at": "2026-11-25T11:50:00+00:00", "symptoms": ["chest_pain"]},
            headers={"Idempotency-Key": "repeat-chest-pain"},
        )
        assert again.get_json()["escalation_ids"] == [escalation_id]
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=15))
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=16))
    updated = [d for d in verified(receiver) if d["event"] == "escalation.updated"]
    assert [d["escalation"]["id"] for d in updated] == [escalation_id]
    assert updated[0]["escalation"]["status"] == "acknowledged"
    assert len(escalation_pushes(push, clinic.clinician_browser)) == pushes + 1
    assert len(box.messages) == mails + 1
    # an urgent repeat (fever) on its own acknowledged escalation does not alert again
    fever = clinic.patient.post(
        path, json={"occurred_at": "2026-11-25T11:52:00+00:00", "symptoms": ["fever"]}
    ).get_json()
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=20))
    clinic.clinician.post(f"/api/escalations/{fever['escalation_ids'][0]}/acknowledge")
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=21))
    before = len(verified(receiver))
    clinic.patient.post(
        path, json={"occurred_at": "2026-11-25T11:55:00+00:00", "symptoms": ["fever"]}
    )
    tick(clinic.app, channels, NOW + dt.timedelta(minutes=25))
    assert [d["event"] for d in verified(receiver)[before:]] == []


def test_the_escalation_email_says_when_in_the_clinics_time_written_by_cldr(
    clinic: World, clock, channels: Channels, mailbox
) -> None:
    """The care team's email (English, from content/documents.toml) gives the time the
    escalation opened in the clinic's zone as CLDR writes it; a new report on an acknowledged
    emergency says so."""
    clock.set(dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC))  # summer: BST in London
    path = f"/api/patients/{clinic.patient_id}/symptoms"
    first = clinic.patient.post(
        path, json={"occurred_at": "2026-07-01T13:00:00+00:00", "symptoms": ["chest_pain"]}
    ).get_json()
    tick(clinic.app, channels, clock.now)
    box, _ = mailbox
    [(to, raw)] = box.messages
    subject, text = read_mail(raw)
    assert to == ["team@north.example"]
    assert subject == "[Clozapine companion] Emergency: Chest pain"
    lines = text.splitlines()
    assert lines[0].startswith("Chest pain")
    assert "Severity: Emergency" in lines
    assert "Opened: Jul 1, 2026, 2:05\u202fPM BST" in lines
    assert "Acknowledge it in the care-team app (/care/)." in lines

    escalation_id = first["escalation_ids"][0]
    assert clinic.clinician.post(f"/api/escalations/{escalation_id}/acknowledge").status_code == 200
    clock.set(dt.datetime(2026, 7, 1, 13, 20, tzinfo=dt.UTC))
    clinic.patient.post(
        path, json={"occurred_at": "2026-07-01T13:15:00+00:00", "symptoms": ["chest_pain"]}
    )
    tick(clinic.app, channels, clock.now)
    subject, text = read_mail(box.messages[-1][1])
    assert subject == "[Clozapine companion] Emergency again: Chest pain"
    assert "A new report came in on an alert the team had acknowledged." in text


def test_an_email_is_written_in_its_payloads_language_and_old_messages_as_queued() -> None:
    content = project_content()
    payload = {
        "to": ["equipo@example.org"],
        "severity": "urgent",
        "summary": "Fever: reported by the patient",
        "opened_at": "2026-11-25T08:30:00+00:00",
        "timezone": "Europe/Madrid",
        "again": False,
        "language": "es",
    }
    subject, text = email_text(content, payload)
    assert subject == "[Clozapine companion] Urgente: Fever"
    assert "Abierta: 25 nov 2026, 9:30 CET" in text.splitlines()
    english = email_text(content, {**payload, "language": "xx", "timezone": "America/New_York"})
    assert "Opened: Nov 25, 2026, 3:30\u202fAM EST" in english[1].splitlines()
    queued = {"to": ["a@example.org"], "subject": "Written before", "text": "As it was."}
    assert email_text(content, queued) == ("Written before", "As it was.")
