"""Guidance pages and the catalogue of symptoms, Bristol types and advice."""

from __future__ import annotations

from marshmallow import fields, validate

from server.schemas.common import In, Out


class GuidanceQuery(In):
    audience = fields.String(validate=validate.OneOf(["patient", "clinician"]))


class CatalogueQuery(In):
    lang = fields.String(
        validate=validate.Length(max=35),
        metadata={
            "description": "The language wanted (a tag the app offers); else the signed-in "
            "person's, else Accept-Language's. The URL names the language, so a copy kept "
            "offline is the one of that language."
        },
    )


class GuidanceItemOut(Out):
    slug = fields.String()
    title = fields.String()
    summary = fields.String()
    topic = fields.String()
    audience = fields.String()
    reviewed = fields.String(
        allow_none=True,
        metadata={"description": "the last clinical review; null while a translation awaits one"},
    )
    language = fields.String(metadata={"description": "the language of this text (BCP 47)"})
    awaiting_review = fields.Boolean(
        metadata={"description": "a translation not yet reviewed by a fluent clinician"}
    )


class GuidanceListOut(Out):
    items = fields.List(fields.Nested(GuidanceItemOut))


class GuidancePageOut(GuidanceItemOut):
    sources = fields.List(fields.String())
    related = fields.List(fields.String())
    blocks = fields.List(fields.Dict())


class CatalogueOut(Out):
    symptoms = fields.List(fields.Dict())
    pairs = fields.List(fields.Dict())
    context = fields.Dict()
    bristol = fields.List(fields.Dict())
    advice = fields.Dict()
