"""Structured logs: one JSON object a line from the web (gunicorn) and the worker, each carrying
what it concerned: the request's id, the signed-in user's id and, once access to them was
allowed, the patient's id (a number: never a name, an email or a clinical value); the worker's
cycle id. `dict_config` is the one logging setup, used by `gunicorn.conf.py` and by
`companion worker` / `tick`."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, has_request_context, request, session
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-Id"
# an id a proxy made (nginx's $request_id is 32 hex digits) is kept, so one id follows the
# request through both logs; anything else is replaced by our own
_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_fields: ContextVar[dict[str, Any]] = ContextVar("companion_log_fields", default={})  # noqa: B039
requests_log = logging.getLogger("server.requests")


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add these fields to every log line written inside the block (e.g. a worker's cycle)."""
    token = _fields.set({**_fields.get(), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


def current_fields() -> dict[str, Any]:
    """The context of the line being written: the block's fields, and the request's."""
    fields = dict(_fields.get())
    if has_request_context():
        request_id = g.get("request_id")
        if request_id:
            fields["request_id"] = request_id
        if g.get("user") is not None:  # set once the session's user was checked
            fields["user_id"] = session.get("uid")
        if g.get("patient") is not None and request.view_args:  # set once access was allowed
            fields["patient_id"] = request.view_args.get("patient_id")
    return fields


class ContextFilter(logging.Filter):
    """Puts `current_fields()` on each record that passes through the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def log_settings(env: Mapping[str, str]) -> tuple[str, str]:
    """The log format (COMPANION_LOG_FORMAT: json, or text for a terminal) and level
    (COMPANION_LOG_LEVEL: INFO) that `env` asks for, an empty value counting as unset: read
    here for the worker (server.config) and for gunicorn (gunicorn.conf.py) alike."""
    return env.get("COMPANION_LOG_FORMAT") or "json", env.get("COMPANION_LOG_LEVEL") or "INFO"


def dict_config(log_format: str = "json", level: str = "INFO") -> dict[str, Any]:
    """The logging configuration (`logging.config.dictConfig`): everything to stderr, as JSON
    (or `text`, for a terminal); gunicorn's own loggers pass through the same handler."""
    if log_format not in ("json", "text"):
        raise ValueError("COMPANION_LOG_FORMAT must be json or text")
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "server.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "server.logs.json_formatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": log_format,
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # gunicorn's loggers: their own handlers replaced, their lines through ours
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level, "handlers": [], "propagate": True},
            "apscheduler": {"level": "WARNING"},  # not a line every second
        },
    }


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _log_request(response: Response) -> Response:
    """One line per request: the route's pattern (never the raw path, which can hold a secret
    calendar token), the status and the time taken; the request id goes back in a header."""
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    route = request.url_rule.rule if request.url_rule else None
    took = round((time.perf_counter() - started) * 1000, 2) if started else None
    requests_log.info(
        "%s %s %s %s ms",  # the line a person reads; the same as fields for machines
        request.method,
        route or "(no route)",
        response.status_code,
        took,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": took,
        },
    )
    return response


def init_app(app: Flask) -> None:
    """The request id first of all the request's hooks; the request's line after all others
    (after the audit, which may still turn an answer into a 500)."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request_funcs.setdefault(None, []).insert(0, _log_request)
