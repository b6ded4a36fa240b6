"""A patient's audit trail."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import MAX_ROW_ID, In, Instant, Out


class AuditEventOut(Out):
    id = fields.Integer()
    at = Instant()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    patient_id = fields.Integer(allow_none=True)
    action = fields.String()
    method = fields.String()
    path = fields.String()
    address = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True)


class AuditListOut(Out):
    items = fields.List(fields.Nested(AuditEventOut))


class AuditQuery(In):
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    kind = fields.String(
        load_default="all",
        validate=validate.OneOf(["all", "changes", "reads"]),
        metadata={"description": "`changes`: writes only (not GET); `reads`: GET only."},
    )
    hide_own_reads = fields.Boolean(
        load_default=False,
        metadata={"description": "Leave out the caller's own reads (their page views)."},
    )
