"""The clozapine companion's web app. `create_app()` is the only place an app is built."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# an execution option: this connection's statements are single reads, outside any transaction
READ_WITHOUT_LOCK = "companion_read_without_lock"


class RowId(IntegerConverter):
    """`<int:...>` in a path: an id a row can have (PostgreSQL's integer), so that a larger
    number is an unknown path (404), not an overflow in the database (500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _reading_who_asks() -> bool:
    """A request's reads before its view runs (who is signed in, which patient)."""
    return has_request_context() and bool(g.get("read_phase", False))


def _sqlite_single_writer(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, and every transaction that may write takes the write lock at
    its first statement (BEGIN IMMEDIATE), so concurrent writers queue instead of failing
    mid-transaction (a plain BEGIN that later writes fails at once if another writer committed
    in between). A request's reads before its view runs are the exception: they run outside a
    database transaction (each is one statement, read from one snapshot) and take no lock, and
    the view's first statement, in the same session transaction, takes it. A connection with
    the `READ_WITHOUT_LOCK` execution option only reads (the limiter's counters, read while
    the request holds the lock) and takes none either."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _write_lock_first(connection: Any, *args: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if (
            not dbapi_connection.in_transaction
            and connection.in_transaction()
            and not _reading_who_asks()
            and not connection.get_execution_options().get(READ_WITHOUT_LOCK)
        ):
            dbapi_connection.execute("BEGIN IMMEDIATE")


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """PostgreSQL: test a pooled connection before use only when it has sat unused for
    `seconds` (a server restart or a dropped link is found there), not before every request
    (a round trip each: docs/performance.md, API throughput). One that fails the test is replaced
    before the request uses it. A connection in constant use that the server dropped fails
    its request once, and the pool then replaces all of its connections."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["companion.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("companion.idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its test") from exc


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
    from server import error_reports, logs, policy
    from server.api import access as access_hooks
    from server.api import body, build_api
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
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
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
        if db.engine.dialect.name == "sqlite":
            _sqlite_single_writer(db.engine)
        else:
            _ping_after_idle(db.engine, float(app.config["DB_PING_AFTER_IDLE_SECONDS"]))
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
