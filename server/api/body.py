"""Reading a JSON body safely: any body answers 400 or 422 in the contract's shape, never 500.

Refused as malformed (400): bodies nested deeper than `MAX_DEPTH`, integers longer than any
column holds (Python refuses to read 5,000 digits at all), NaN and infinities. Refused as an
invalid value (422, named by field): text with a NUL character or a lone surrogate, which
neither PostgreSQL nor UTF-8 can store.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from server.services.errors import Invalid, ServiceError

MAX_DEPTH = 32
MAX_INT_DIGITS = 19  # a 64-bit integer; columns hold less, and the schemas' ranges say so


class MalformedBody(ValueError):
    """Not a body the API reads (400)."""


class UnstorableText(ValueError):
    """A string the database cannot store (422)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path or "_schema"


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise MalformedBody("A number in the body has too many digits.")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedBody("A number in the body is too large.")
    return value


def _parse_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not a JSON number.")


def _check(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MalformedBody(f"The body is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        if "\x00" in value:
            raise UnstorableText(path)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate
            raise UnstorableText(path) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, path, depth + 1)
            _check(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1)


def load(data: str | bytes) -> Any:
    """The body's JSON value, or MalformedBody / UnstorableText (both ValueErrors)."""
    try:
        value = json.loads(
            data,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError as exc:
        raise MalformedBody(f"The body is nested more than {MAX_DEPTH} levels deep.") from exc
    _check(value, "", 0)
    return value


def refusal(error: ValueError) -> ServiceError:
    """The contract's error for a body `load` refused."""
    if isinstance(error, UnstorableText):
        return Invalid(
            {error.path: ["Contains a character that cannot be stored (NUL or a lone surrogate)."]}
        )
    message = str(error) if isinstance(error, MalformedBody) else "The body is not valid JSON."
    return ServiceError(message)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading bodies with `load` (request.get_json)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load(s)


class CompanionRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is not None:
            raise refusal(e)
        return super().on_json_loading_failed(e)


class BodyParser(FlaskParser):
    """webargs' parser for the views' schemas, reading bodies with `load`."""

    def _raw_load_json(self, req: Request) -> Any:
        """The body as `request.get_json` reads it (with `load`; a refusal from
        `CompanionRequest`): read once per request, the Idempotency-Key's fingerprint reads
        the same value again from the request's cache."""
        if not is_json_request(req):
            return core.missing
        if not req.get_data(cache=True):
            return core.missing
        return req.get_json(force=True)


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.request_class = CompanionRequest
