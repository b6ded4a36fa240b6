"""Error reporting with sentry-sdk, on when `COMPANION_SENTRY_DSN` is set (web and worker).

An error report leaves the clinic's network, so it carries no health data: no request body,
cookies, headers or query string, no local variables of the failing code; its tags are the log
context (request id, user id, worker cycle id), never the patient's id."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context
from flask import request as current_request

from server import logs

# what a report may say of the request that failed
_REQUEST_KEYS = ("method",)


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """before_send: keep the request's method and route only; tag with the log context."""
    request = event.get("request")
    if isinstance(request, dict):
        kept = {key: request[key] for key in _REQUEST_KEYS if key in request}
        kept.pop("url", None)  # a path can hold a secret (the calendar feed's token)
        if has_request_context() and current_request.url_rule is not None:
            kept["url"] = current_request.url_rule.rule  # the route's pattern instead
        event["request"] = kept
    event.pop("user", None)
    tags = event.setdefault("tags", {})
    for name, value in logs.current_fields().items():
        if name != "patient_id" and value is not None:
            tags[name] = str(value)
    return event


def init_app(app: Flask) -> None:
    """Start the reporter once for this process when a DSN is configured."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    client = sentry_sdk.get_client()
    if client.is_active() and client.dsn == dsn:
        return  # this process already reports (the CLI builds the app more than once)
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("ENV_NAME", "production"),
        integrations=[FlaskIntegration()],
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=0.0,
        before_send=scrub,  # type: ignore[arg-type]  # the last word on what a report says
    )
