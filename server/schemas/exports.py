"""marshmallow schemas of the export routes (the report range, feed and deletion bodies)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from server.schemas.common import BoundedDate, In, Out

MAX_RANGE_DAYS = 731  # two years, a leap day included


class CalendarQuery(In):
    """The feed's query; parameters a calendar app adds of its own are ignored."""

    class Meta:
        unknown = EXCLUDE

    lang = fields.String(
        validate=validate.Length(max=35),
        metadata={
            "description": "The language of the feed's words (the one it was made in); "
            "Accept-Language when absent or not one the product has"
        },
    )


class ReportQuery(In):
    from_ = BoundedDate(data_key="from", metadata={"description": "First local date"})
    to = BoundedDate(metadata={"description": "Last local date (default: today)"})

    @validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        if start is not None and end is not None:
            if end < start:
                raise ValidationError("The end is before the start.", "to")
            if (end - start).days >= MAX_RANGE_DAYS:
                raise ValidationError("A report covers at most 2 years.", "to")


class CalendarFeedOut(Out):
    url = fields.String(required=True)


class DeletionRequestIn(In):
    reason = fields.String(load_default=None, validate=validate.Length(max=1000), allow_none=True)


class DeletionRequestOut(Out):
    id = fields.Integer(required=True)
    patient_id = fields.Integer(required=True)
    requested_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True)
