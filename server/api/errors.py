"""The one error shape: {"error": {"code", "message", "fields"?}} for every failure."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from server.extensions import db
from server.services.errors import ServiceError

log = logging.getLogger(__name__)

CODES = {
    400: ("bad_request", "The request could not be read. Send a JSON object."),
    401: ("unauthenticated", "Please sign in."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "This conflicts with what is already recorded."),
    413: ("payload_too_large", "The request is too large (1 MiB at most)."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    422: ("validation_failed", "Some values are not valid."),
    429: ("rate_limited", "Too many attempts. Please wait a little and try again."),
    500: ("internal_error", "Something went wrong on our side. Nothing was saved."),
}


def error_response(
    status: int,
    code: str | None = None,
    message: str | None = None,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, default_message = CODES.get(status, ("error", "The request failed."))
    body: dict[str, Any] = {"code": code or default_code, "message": message or default_message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"a.b[0].c": ["why"]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _http_error(error: HTTPException) -> Response:
    db.session.rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 429:
        retry = getattr(error, "retry_after", None)
        if retry:
            headers.setdefault("Retry-After", str(int(retry)))
    if status == 400 and messages:
        return error_response(400, message="The body is not valid JSON.", headers=headers)
    if status == 422 and messages:
        # webargs nests by location ({"json": {...}}, {"query": {...}}); the field name is enough
        fields: dict[str, list[str]] = {}
        for location_messages in messages.values():
            fields.update(_flatten(location_messages))
        return error_response(422, fields=fields, headers=headers)
    custom = data.get("message")
    code = data.get("code")
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return error_response(status, code=code, message=custom, headers=headers)


def _service_error(error: ServiceError) -> Response:
    db.session.rollback()
    return error_response(error.status, code=error.code, message=error.message, fields=error.fields)


def _validation_error(error: ValidationError) -> Response:
    db.session.rollback()
    return error_response(422, fields=_flatten(error.messages))


def _unexpected(error: Exception) -> Response:
    db.session.rollback()
    log.exception("unhandled error", exc_info=error)
    return error_response(500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(Exception, _unexpected)
