"""Web push: the server's public key and the browsers' subscriptions."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, now, signed_in_actor
from server.api.common import blueprint
from server.extensions import db
from server.notify.destinations import Destinations
from server.notify.vapid import application_server_key, vapid_for
from server.schemas.push import PushSubscriptionIn, PushSubscriptionOut, UnsubscribeIn, VapidKeyOut
from server.services import push_subscriptions

blp = blueprint("push", "Web push")


def vapid() -> Any:
    """The VAPID key: from the environment in production, else instance/ (made once)."""
    cached = current_app.extensions.get("companion.vapid")
    if cached is None:
        pem = current_app.config.get("VAPID_PRIVATE_KEY")
        cached = vapid_for(pem, current_app.instance_path)
        current_app.extensions["companion.vapid"] = cached
    return cached


@blp.route("/push/vapid-public-key", methods=["GET"])
@access(policy.public("push.key"))
@blp.response(200, VapidKeyOut)
def vapid_public_key() -> ResponseReturnValue:
    """The application server key for `pushManager.subscribe` (URL-safe base64, P-256)."""
    return {"key": application_server_key(vapid())}


@blp.route("/push/subscriptions", methods=["POST"])
@access(policy.signed_in("push.subscribe"))
@blp.arguments(PushSubscriptionIn)
@blp.response(201, PushSubscriptionOut)
def subscribe(args: dict[str, Any]) -> ResponseReturnValue:
    """Register this browser's `PushSubscription.toJSON()` for the signed-in user. The
    endpoint must be https on a known push service (COMPANION_PUSH_SERVICES) resolving to
    public addresses (422 otherwise); one registered by another account answers 409
    `subscription_taken` (the app then subscribes again, which gives a new endpoint)."""
    row = push_subscriptions.subscribe(
        db.session,
        actor=signed_in_actor(),
        endpoint=args["endpoint"],
        p256dh=args["keys"]["p256dh"],
        auth=args["keys"]["auth"],
        destinations=Destinations.from_config(current_app.config),
        now=now(),
    )
    return row


@blp.route("/push/subscriptions", methods=["DELETE"])
@access(policy.signed_in("push.unsubscribe"))
@blp.arguments(UnsubscribeIn)
@blp.response(204)
def unsubscribe(args: dict[str, Any]) -> ResponseReturnValue:
    """Forget this browser's subscription (when the user turns notifications off)."""
    push_subscriptions.unsubscribe(db.session, actor=signed_in_actor(), endpoint=args["endpoint"])
    return None
