"""The clozapine companion's web app. `create_app()` is the only place an app is built."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RowId(IntegerConverter):
    """`<int:...>` in a path: an id a row can have (PostgreSQL's integer), so that a larger
    number is an unknown path (404), not an overflow in the database (500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` proxies, take the client's address, scheme, host and port from the
    X-Forwarded-* headers they set (the rightmost `hops` values, the ones our proxies wrote):
    the sign-in limits count per client, the audit records the client, and external URLs
    (the calendar feed) come out as the client saw them (https). With 0, the headers are
    ignored, so a client talking to the server directly cannot pretend to be someone else."""
    if hops < 0:
        raise ValueError("COMPANION_TRUSTED_PROXIES must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def check_limiter_storage(uri: str) -> None:
    """Redis is an optional extra: say so plainly when it is configured but not installed."""
    if uri.startswith(("redis", "rediss")) and importlib.util.find_spec("redis") is None:
        raise RuntimeError(
            "COMPANION_RATELIMIT_STORAGE_URI is a Redis URL but the redis package is not "
            "installed: install the app with its redis extra (pip install "
            "'clozapine-companion[redis]'; the image and requirements.lock have it)"
        )


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, security headers, error shape."""
    from server import config as defaults
    from server import db as database
    from server import error_reports, logs, policy
    from server.api import access as access_hooks
    from server.api import body, build_api, request_context
    from server.cli import register_commands
    from server.extensions import compress, db, limiter, migrate
    from server.security import init_security_headers
    from server.services.accounts import PasswordPolicy
    from server.services.content import Content
    from server.services.passwords import make_hasher
    from server.web import register_web

    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get(
        "COMPANION_INSTANCE_PATH", str(PROJECT_ROOT / "instance")
    )
    app = Flask(__name__, instance_path=instance_path, static_folder=None)
    app.url_map.converters["int"] = RowId  # before any route is added
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(defaults.DEFAULTS)
    env = config.pop("ENVIRON", None)
    app.config.update(defaults.from_environment(app.instance_path, env))
    app.config.update(config)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", dt.timedelta(days=31))
    app.config["CONTENT_DIR"] = app.config.get("CONTENT_DIR") or str(PROJECT_ROOT / "content")
    app.config["STATIC_APP_DIR"] = app.config.get("STATIC_APP_DIR") or str(
        PROJECT_ROOT / "pwa_static"
    )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": database.sqlite_connect_args()}
    app.extensions["companion.clock"] = app.config.get("CLOCK") or _utc_now
    app.extensions["companion.content"] = Content(app.config["CONTENT_DIR"])
    app.extensions["companion.passwords"] = PasswordPolicy(
        hasher=make_hasher(
            app.config["ARGON2_TIME_COST"],
            app.config["ARGON2_MEMORY_COST"],
            app.config["ARGON2_PARALLELISM"],
        ),
        min_length=int(app.config["PASSWORD_MIN_LENGTH"]),
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    check_limiter_storage(str(app.config["RATELIMIT_STORAGE_URI"]))
    limiter.init_app(app)
    compress.init_app(app)
    app.extensions["companion.api"] = build_api(app)
    with app.app_context():
        database.init_engine(
            db.engine,
            ping_after_idle_seconds=float(app.config["DB_PING_AFTER_IDLE_SECONDS"]),
            reads_without_lock=request_context.in_read_phase,
        )
    access_hooks.init_app(app)
    body.init_app(app)
    # flask-smorest's own route serving the OpenAPI document is public
    openapi_view = "api-docs.openapi_json"
    app.view_functions[openapi_view] = access_hooks.access(policy.public("openapi.read"))(
        app.view_functions[openapi_view]
    )
    register_web(app)
    register_commands(app)
    init_security_headers(app)
    logs.init_app(app)
    error_reports.init_app(app)
    trust_proxies(app, int(app.config["TRUSTED_PROXIES"]))
    return app
