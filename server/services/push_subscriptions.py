"""Push subscriptions: one per browser, owned by the first user who registered it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import PushSubscription, User
from server.notify.channels import validate_endpoint, validate_subscription_keys
from server.notify.destinations import Destinations
from server.policy import Actor
from server.services.errors import Conflict, Invalid, NotFound


def subscribe(
    session: Session,
    *,
    actor: Actor,
    endpoint: str,
    p256dh: str,
    auth: str,
    destinations: Destinations,
    now: dt.datetime,
) -> PushSubscription:
    """Keep this browser's subscription for the user: an https endpoint on a known push
    service whose name resolves to public addresses (destinations.py). An endpoint another
    user registered stays theirs (409 `subscription_taken`): on a shared phone the app
    makes a new subscription for whoever signed in."""
    try:
        validate_endpoint(endpoint, allow_http=destinations.push_allow_http)
        destinations.check_push_endpoint(endpoint)
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
    elif row.user_id != actor.user_id:
        raise Conflict(
            "This browser's subscription belongs to another account: subscribe again.",
            code="subscription_taken",
        )
    row.p256dh = p256dh
    row.auth = auth
    user = session.get(User, actor.user_id)
    if user is not None:
        user.push_unreachable_since = None
    try:
        session.commit()
    except IntegrityError as exc:  # another account registered it at the same moment
        session.rollback()
        raise Conflict("This browser's subscription belongs to another account.") from exc
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
