"""Guidance pages and the labels the apps need (symptoms, Bristol types, advice)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access
from server.api.common import blueprint, reader_content
from server.extensions import compress
from server.schemas import guidance as schema
from server.services.guidance import catalogue, page

blp = blueprint("guidance", "Plain-language guidance")


@blp.route("/guidance", methods=["GET"])
@access(policy.public("guidance.list"))
@compress.compressed()
@blp.arguments(schema.GuidanceQuery, location="query")
@blp.response(200, schema.GuidanceListOut)
def list_guidance(args: dict[str, Any]) -> ResponseReturnValue:
    """The guidance library; `audience=patient` (plain words) or `clinician`. In the language
    of Accept-Language where translated (a translation awaiting clinical review says so)."""
    content = reader_content()
    audience = args.get("audience")
    items = [
        p.listing()
        for p in content.pages.values()
        if audience is None or p.meta.get("audience") == audience
    ]
    return {"items": items}


@blp.route("/guidance/<slug>", methods=["GET"])
@access(policy.public("guidance.read"))
@compress.compressed()
@blp.response(200, schema.GuidancePageOut)
def get_guidance(slug: str) -> ResponseReturnValue:
    """One page as blocks (headings, paragraphs with bold spans, lists) with its sources."""
    return page(reader_content(), slug)


@blp.route("/catalogue", methods=["GET"])
@access(policy.public("catalogue.read"))
@compress.compressed()
@blp.arguments(schema.CatalogueQuery, location="query")
@blp.response(200, schema.CatalogueOut)
def get_catalogue(args: dict[str, Any]) -> ResponseReturnValue:
    """Symptom labels and how the domain reads a report (each symptom's flags alone, the pairs
    that raise more, the rules that read the clinic's band and the bowel diary), Bristol types
    and advice texts, for the apps to keep offline; in the language `lang` names."""
    return catalogue(reader_content(chosen=args.get("lang")))
