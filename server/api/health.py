"""Liveness: the database answers; the scheduler's last cycle is recent."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from sqlalchemy import text

from server import policy
from server.api.access import access, now
from server.api.common import blueprint
from server.extensions import db
from server.schemas import HealthOut
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
