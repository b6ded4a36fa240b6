"""Liveness: the database answers; the scheduler's last cycle is recent. And `/metrics`."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from server import metrics, policy
from server.api.access import access, now
from server.api.common import blueprint
from server.extensions import db
from server.schemas.health import HealthOut
from server.services import operations
from server.services.errors import Forbidden, NotFound
from server.services.heartbeat import scheduler_state

blp = blueprint("health", "Health checks", url_prefix="")


@blp.route("/healthz", methods=["GET"])
@access(policy.public("health.read"))
@blp.response(200, HealthOut)
def healthz() -> ResponseReturnValue:
    """`status` is ok when the database answers; `checks.scheduler` tells if reminders run."""
    db.session.execute(text("SELECT 1"))
    scheduler = scheduler_state(db.session, now())
    db.session.rollback()
    return {"status": "ok", "checks": {"database": "ok", "scheduler": scheduler}}


@blp.route("/api/version", methods=["GET"])
@access(policy.public("version.read"))
@blp.response(200, HealthOut)
def version() -> ResponseReturnValue:
    """The API's name and version: a bare answer with no database work."""
    return {"status": "ok", "checks": {"api": "clozapine-companion", "version": "1"}}


@blp.route("/metrics", methods=["GET"])
@access(policy.public("metrics.read"))
@blp.doc(
    responses={
        "200": {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        "403": {"description": "Neither the token nor an allowed address"},
        "404": {"description": "Metrics are not configured"},
    }
)
def prometheus_metrics() -> ResponseReturnValue:
    """Prometheus text format: the outbox's backlog and outcomes, escalation acknowledgement
    times, the worker's heartbeat age. Needs `Authorization: Bearer <COMPANION_METRICS_TOKEN>`
    or an address in `COMPANION_METRICS_ALLOW`; absent (404) when neither is configured."""
    token = current_app.config.get("METRICS_TOKEN")
    allow = current_app.config.get("METRICS_ALLOW") or []
    if not metrics.enabled(token, allow):
        raise NotFound("Not found.")
    if not metrics.may_scrape(
        token, allow, request.headers.get("Authorization"), request.remote_addr
    ):
        raise Forbidden("A metrics token or an allowed address is needed.")
    figures = operations.snapshot(db.session, now())
    db.session.rollback()
    return Response(metrics.render(figures), mimetype=metrics.CONTENT_TYPE)
