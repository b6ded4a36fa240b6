"""The treatment course: the clinician's actions and the course's events."""

from __future__ import annotations

from marshmallow import fields, validate

from server.domain.treatment import ClinicianAction, Rechallenge
from server.schemas.common import In, Instant, Out
from server.schemas.patients import PatientStatusOut


class TreatmentEventIn(In):
    action = fields.String(
        required=True, validate=validate.OneOf([a.value for a in ClinicianAction])
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    rechallenge = fields.String(
        validate=validate.OneOf([r.value for r in Rechallenge]),
        metadata={"description": "Required with stop: whether a later restart is advised."},
    )


class TreatmentEventOut(Out):
    """A course.CourseEvent: the TreatmentEvent row's columns, its warning, who acted."""

    id = fields.Integer(attribute="event.id")
    at = Instant(attribute="event.at")
    action = fields.String(allow_none=True, attribute="event.action")
    cause = fields.String(attribute="event.cause")
    from_state = fields.String(attribute="event.from_state")
    to_state = fields.String(attribute="event.to_state")
    reason = fields.String(allow_none=True, attribute="event.reason")
    rechallenge = fields.String(allow_none=True, attribute="event.rechallenge")
    warning = fields.String(
        allow_none=True,
        metadata={"description": "gap_over_48h: resumed after more than 48 h without a dose"},
    )
    by = fields.String(allow_none=True)


class TreatmentEventCreatedOut(TreatmentEventOut):
    status = fields.Nested(PatientStatusOut)


class TreatmentEventListOut(Out):
    items = fields.List(fields.Nested(TreatmentEventOut))
