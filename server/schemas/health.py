"""The health check."""

from __future__ import annotations

from marshmallow import fields

from server.schemas.common import Out


class HealthOut(Out):
    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())
