"""Web push subscriptions."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import In, Out


class VapidKeyOut(Out):
    key = fields.String()


class SubscriptionKeysIn(In):
    p256dh = fields.String(required=True, validate=validate.Length(min=20, max=200))
    auth = fields.String(required=True, validate=validate.Length(min=10, max=100))


class PushSubscriptionIn(In):
    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2048))
    keys = fields.Nested(SubscriptionKeysIn, required=True)
    expirationTime = fields.Raw(allow_none=True)


class PushSubscriptionOut(Out):
    id = fields.Integer()
    endpoint = fields.String()


class UnsubscribeIn(In):
    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2048))
