"""Push subscriptions: one per browser, owned by the user who signed in on it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import PushSubscription, User
from server.notify.webpush import validate_endpoint, validate_subscription_keys
from server.policy import Actor
from server.services.errors import Invalid, NotFound


def subscribe(
    session: Session,
    *,
    actor: Actor,
    endpoint: str,
    p256dh: str,
    auth: str,
    allow_http: bool,
    now: dt.datetime,
) -> PushSubscription:
    """Keep this browser's subscription for the user (a shared phone moves to the new user)."""
    try:
        validate_endpoint(endpoint, allow_http=allow_http)
    except ValueError as exc:
        raise Invalid({"endpoint": [str(exc)]}) from exc
    try:
        validate_subscription_keys(p256dh, auth)
    except ValueError as exc:
        raise Invalid({"keys": [str(exc)]}) from exc
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, user_id=actor.user_id, created_at=now)
        session.add(row)
    row.user_id = actor.user_id
    row.p256dh = p256dh
    row.auth = auth
    user = session.get(User, actor.user_id)
    if user is not None:
        user.push_unreachable_since = None
    session.commit()
    return row


def unsubscribe(session: Session, *, actor: Actor, endpoint: str) -> None:
    row = session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.user_id == actor.user_id
        )
    )
    if row is None:
        raise NotFound("No such subscription for you.")
    session.delete(row)
    session.commit()
