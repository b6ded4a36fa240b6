"""Push subscriptions through the API, checked against a real push service on loopback."""

from __future__ import annotations

import base64

import pytest

from server.extensions import db
from server.models import Clinic, PushSubscription
from server.notify.webpush import Outcome, PushMessage, Subscription, WebPushSender
from tests.support.push_service import PushService
from tests.support.world import World


@pytest.fixture
def push_service():
    with PushService() as service:
        yield service


def test_the_public_key_is_an_uncompressed_p256_point(app) -> None:
    key = app.test_client().get("/api/push/vapid-public-key").get_json()["key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4
    assert app.test_client().get("/api/push/vapid-public-key").get_json()["key"] == key


def test_a_subscription_is_kept_and_a_push_to_it_arrives_decrypted(
    world: World, push_service: PushService
) -> None:
    key = world.anonymous.get("/api/push/vapid-public-key").get_json()["key"]
    browser = push_service.new_subscription(application_server_key=key)
    body = {**browser, "expirationTime": None}
    assert world.patient.post("/api/push/subscriptions", json=body).status_code == 201
    # the same browser again updates, never duplicates
    assert world.patient.post("/api/push/subscriptions", json=body).status_code == 201
    row = db.session.query(PushSubscription).one()
    from server.api.push import vapid

    with world.app.test_request_context():
        sender = WebPushSender(
            vapid(), "mailto:test@example.org", allow_http=True, timeout_seconds=5
        )
    message = PushMessage(
        title="Time for your evening dose",
        body="Tap to mark it taken.",
        url="/#today",
        tag="dose-1",
        kind="dose",
        ttl_seconds=3600,
    )
    result = sender.send(Subscription(row.endpoint, row.p256dh, row.auth), message)
    sender.close()
    assert result.outcome is Outcome.DELIVERED
    received = push_service.wait_for(1)
    assert received[0].payload["kind"] == "dose"
    assert received[0].payload["title"] == "Time for your evening dose"


def test_a_subscription_stays_with_the_first_user_who_registered_it(
    world: World, push_service: PushService
) -> None:
    """Issue 17, finding 11: posting another user's endpoint took their reminders over."""
    browser = push_service.new_subscription()
    assert world.patient.post("/api/push/subscriptions", json=browser).status_code == 201
    stolen = {**browser, "keys": push_service.new_subscription()["keys"]}
    response = world.caregiver.post("/api/push/subscriptions", json=stolen)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "subscription_taken"
    row = db.session.query(PushSubscription).one()
    assert row.user_id == world.patient.user["id"]
    assert (row.p256dh, row.auth) == (browser["keys"]["p256dh"], browser["keys"]["auth"])
    # the owner may register it again (new keys after a browser update, say)
    assert world.patient.post("/api/push/subscriptions", json=browser).status_code == 201


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://push.attacker.example/wpush/v2/abc",  # not a known push service
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "http://10.0.0.5/push/abc",  # http elsewhere than loopback
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "https://127.0.0.1/push/abc",  # an address, not a push service
    ],
)
def test_endpoints_off_the_known_push_services_are_refused(
    world: World, push_service: PushService, endpoint: str
) -> None:
    """Issue 17, finding 7: any user could make the worker connect anywhere."""
    body = {**push_service.new_subscription(), "endpoint": endpoint}
    response = world.patient.post("/api/push/subscriptions", json=body)
    assert response.status_code == 422, response.get_json()
    assert "endpoint" in response.get_json()["error"]["fields"]
    assert db.session.query(PushSubscription).count() == 0


def test_a_push_service_name_that_resolves_inside_is_refused(
    world: World, push_service: PushService
) -> None:
    """The allow-list is configurable; a listed name that resolves to loopback (here the
    real resolver's "localhost") is still refused."""
    world.app.config["PUSH_SERVICES"] = ["localhost", "fcm.googleapis.com"]
    body = {**push_service.new_subscription(), "endpoint": "https://localhost/push/abc"}
    response = world.patient.post("/api/push/subscriptions", json=body)
    assert response.status_code == 422, response.get_json()
    assert "not a public one" in response.get_json()["error"]["fields"]["endpoint"][0]
    assert db.session.query(PushSubscription).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "ftp://push.example.org/abc"}, "endpoint"),
        ({"keys": {"p256dh": "A" * 87, "auth": "B" * 22}}, "keys"),
        ({"keys": {"p256dh": "x"}}, "keys"),
    ],
)
def test_bad_subscriptions_are_422_and_write_nothing(
    world: World, push_service: PushService, change: dict, field: str
) -> None:
    body = {**push_service.new_subscription(), **change}
    response = world.patient.post("/api/push/subscriptions", json=body)
    assert response.status_code == 422, response.get_json()
    assert any(name.startswith(field) for name in response.get_json()["error"]["fields"])
    assert db.session.query(PushSubscription).count() == 0


def test_http_endpoints_are_refused_unless_allowed_for_local_tests(
    world: World, push_service: PushService
) -> None:
    world.app.config["PUSH_ALLOW_HTTP"] = False
    response = world.patient.post("/api/push/subscriptions", json=push_service.new_subscription())
    assert response.status_code == 422


def test_unsubscribing_removes_only_your_own(world: World, push_service: PushService) -> None:
    browser = push_service.new_subscription()
    world.patient.post("/api/push/subscriptions", json=browser)
    endpoint = {"endpoint": browser["endpoint"]}
    assert world.caregiver.delete("/api/push/subscriptions", json=endpoint).status_code == 404
    assert world.patient.delete("/api/push/subscriptions", json=endpoint).status_code == 204
    assert db.session.query(PushSubscription).count() == 0
    assert world.anonymous.delete("/api/push/subscriptions", json=endpoint).status_code == 401


def test_the_patient_summary_says_whether_push_reaches_them(
    world: World, push_service: PushService
) -> None:
    path = f"/api/patients/{world.patient_id}"
    assert world.clinician.get(path).get_json()["status"]["push_reachable"] is False
    world.patient.post("/api/push/subscriptions", json=push_service.new_subscription())
    assert world.clinician.get(path).get_json()["status"]["push_reachable"] is True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
    ],
)
def test_a_clinic_webhook_on_an_internal_address_is_refused(world: World, url: str) -> None:
    """Issue 17, finding 7: clinic admins could point the webhook at internal addresses."""
    response = world.admin.put(
        "/api/clinic/settings", json={"webhook_url": url, "webhook_secret": "s" * 20}
    )
    assert response.status_code == 422, response.get_json()
    assert "webhook_url" in response.get_json()["error"]["fields"]
    assert "webhook_url" not in (db.session.get(Clinic, 1).settings or {})


def test_an_internal_webhook_receiver_when_the_server_allows_it(world: World) -> None:
    world.app.config["WEBHOOK_ALLOW_INTERNAL"] = True
    body = {"webhook_url": "http://127.0.0.1:8080/hook", "webhook_secret": "s" * 20}
    assert world.admin.put("/api/clinic/settings", json=body).status_code == 200
    metadata = {"webhook_url": "http://169.254.169.254/latest/meta-data/"}
    assert world.admin.put("/api/clinic/settings", json=metadata).status_code == 422
