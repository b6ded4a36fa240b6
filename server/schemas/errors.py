"""The one error shape every refusal answers with (CONTRACT.md)."""

from __future__ import annotations

from marshmallow import fields

from server.schemas.common import Out


class ErrorBody(Out):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorOut(Out):
    error = fields.Nested(ErrorBody, required=True)
