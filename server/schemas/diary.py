"""The diaries: bowel movements, symptom reports (with red flags), weights."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from server.domain import SYMPTOM_CODES
from server.schemas.common import In, Instant, Out


class BowelMovementIn(In):
    occurred_at = Instant(required=True)
    bristol_type = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=7))
    notes = fields.String(validate=validate.Length(max=1000))


class BowelMovementOut(Out):
    """A BowelMovement row, or a diary.LoggedBowelMovement just inserted."""

    id = fields.Integer()
    occurred_at = Instant()
    bristol_type = fields.Integer()
    notes = fields.String(allow_none=True)
    recorded_at = Instant()


class BowelMovementListOut(Out):
    items = fields.List(fields.Nested(BowelMovementOut))


class SymptomIn(In):
    occurred_at = Instant(required=True)
    symptoms = fields.List(
        fields.String(
            validate=validate.OneOf(sorted(SYMPTOM_CODES), error="Unknown symptom code.")
        ),
        required=True,
        validate=validate.Length(max=30),
        metadata={"description": "May be empty when temperature_c is given."},
    )
    # The plausible range (30-45 C) is checked by the service: a temperature outside it is
    # refused on its own field while the symptoms of the report are still recorded.
    temperature_c = fields.Float(
        allow_none=True,
        allow_nan=False,
        metadata={
            "description": "Body temperature in C, 30-45. Outside that range it is not saved: "
            "the report is recorded without it and the answer's refused_fields says why (with "
            "no symptom ticked, the report is refused: 422 on temperature_c)."
        },
    )
    notes = fields.String(validate=validate.Length(max=2000))

    @validates_schema
    def _something_to_report(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("symptoms") and data.get("temperature_c") is None:
            raise ValidationError("Tick a symptom or give a temperature.", "symptoms")


class RedFlagOut(Out):
    """A diary.RedFlagAdvice."""

    rule = fields.String()
    severity = fields.String()
    advice = fields.String(metadata={"description": "What the patient should do now."})
    advice_code = fields.String()
    caregiver_advice = fields.String(allow_none=True)
    title = fields.String()
    call_now = fields.Boolean()
    guidance = fields.String(allow_none=True)


class SymptomListItemOut(Out):
    """A diary.ReadSymptoms: its report's columns, its red flags with their advice."""

    id = fields.Integer(attribute="report.id")
    occurred_at = Instant(attribute="report.occurred_at")
    symptoms = fields.List(fields.String(), attribute="report.symptoms")
    temperature_c = fields.Float(allow_none=True, attribute="report.temperature_c")
    notes = fields.String(allow_none=True, attribute="report.notes")
    red_flags = fields.List(fields.Nested(RedFlagOut))
    recorded_at = Instant(attribute="report.recorded_at")


class SymptomOut(SymptomListItemOut):
    """A diary.ReadSymptoms just reported: also the escalations it opened and (only when
    there are some) the fields not saved."""

    escalation_ids = fields.List(fields.Integer())
    refused_fields = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Fields of the report that were not saved, with why (the rest of "
            "the report was recorded), e.g. an implausible temperature_c."
        },
    )

    @post_dump
    def _refused_only_when_some(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not data.get("refused_fields"):
            data.pop("refused_fields", None)
        return data


class SymptomListOut(Out):
    items = fields.List(fields.Nested(SymptomListItemOut))


class WeightIn(In):
    measured_at = Instant(required=True)
    kg = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=20, max=400))


class WeightOut(Out):
    """A Weight row."""

    id = fields.Integer()
    measured_at = Instant()
    kg = fields.Float()
    recorded_at = Instant()


class WeightListOut(Out):
    items = fields.List(fields.Nested(WeightOut))
