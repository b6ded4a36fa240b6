"""Configuration: defaults per environment, read from the environment inside create_app only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from server.logs import log_settings


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value not in (None, "") else default


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def read_or_create_secret(path: Path, nbytes: int = 48) -> str:
    """Return the secret kept in `path`, creating it once (safe when workers start together)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(secrets.token_urlsafe(nbytes))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # fails if another process won the race; theirs is kept
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def from_environment(instance_path: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the app's configuration from environment variables (see README, Configuration)."""
    # an empty value counts as unset (compose.yaml passes `${NAME:-}` through as "")
    env = {name: value for name, value in (os.environ if env is None else env).items() if value}
    instance = Path(instance_path)
    environment = env.get("COMPANION_ENV", "development")
    dev = environment in {"development", "test"}
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'companion.sqlite3'}"
    secret_key = env.get("SECRET_KEY") or read_or_create_secret(instance / "secret_key")
    log_format, log_level = log_settings(env)
    return {
        "ENV_NAME": environment,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": _bool(env.get("COMPANION_SECURE_COOKIES"), not dev),
        "CLINICIAN_IDLE_MINUTES": _int(env.get("COMPANION_CLINICIAN_IDLE_MINUTES"), 30),
        "PATIENT_IDLE_MINUTES": _int(env.get("COMPANION_PATIENT_IDLE_MINUTES"), 60 * 24 * 30),
        # the absolute lifetime of a session, however active: then sign in again
        "CLINICIAN_SESSION_HOURS": _int(env.get("COMPANION_CLINICIAN_SESSION_HOURS"), 12),
        "PATIENT_SESSION_DAYS": _int(env.get("COMPANION_PATIENT_SESSION_DAYS"), 90),
        # shared by every web worker: the app's database unless Redis is named; memory:// counts
        # per process, so only for a single one
        "RATELIMIT_STORAGE_URI": env.get("COMPANION_RATELIMIT_STORAGE_URI", "companion-db://"),
        # keeps this deployment's counters apart in a Redis shared with others
        "RATELIMIT_KEY_PREFIX": env.get("COMPANION_RATELIMIT_KEY_PREFIX", ""),
        "VAPID_PRIVATE_KEY": env.get("COMPANION_VAPID_PRIVATE_KEY"),
        "VAPID_SUBJECT": env.get("COMPANION_VAPID_SUBJECT", "mailto:care-team@example.org"),
        "PUSH_ALLOW_HTTP": _bool(env.get("COMPANION_PUSH_ALLOW_HTTP")),
        "WEBHOOK_URL": env.get("COMPANION_WEBHOOK_URL"),
        "WEBHOOK_SECRET": env.get("COMPANION_WEBHOOK_SECRET"),
        # push endpoints: host names of the push services allowed (empty: the browsers' own,
        # server/notify/destinations.py); the webhook may be an internal receiver
        "PUSH_SERVICES": _list(env.get("COMPANION_PUSH_SERVICES")),
        "WEBHOOK_ALLOW_INTERNAL": _bool(env.get("COMPANION_WEBHOOK_ALLOW_INTERNAL")),
        "SMTP_URL": env.get("COMPANION_SMTP_URL"),
        "MAIL_FROM": env.get("COMPANION_MAIL_FROM", "companion@localhost"),
        "PUBLIC_URL": env.get("COMPANION_PUBLIC_URL", "http://127.0.0.1:5000"),
        # how many proxies in front of the app set X-Forwarded-For/-Proto/-Host/-Port: 0
        # trusts none of those headers (a server reached directly cannot be fooled by them)
        "TRUSTED_PROXIES": _int(env.get("COMPANION_TRUSTED_PROXIES"), 0),
        # /metrics: a bearer token, and/or addresses or networks allowed without one
        "METRICS_TOKEN": env.get("COMPANION_METRICS_TOKEN") or None,
        "METRICS_ALLOW": _list(env.get("COMPANION_METRICS_ALLOW")),
        # error reporting (sentry-sdk) when a DSN is set
        "SENTRY_DSN": env.get("COMPANION_SENTRY_DSN") or None,
        # the worker's logs (gunicorn.conf.py sets the web's from the same server.logs.log_settings)
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        # throttling of sign-in and activation per address (Flask-Limiter notation)
        "LOGIN_LIMIT_PER_ADDRESS": env.get("COMPANION_LOGIN_LIMIT_PER_ADDRESS", "30 per minute"),
        "ACTIVATION_LIMIT_PER_ADDRESS": env.get(
            "COMPANION_ACTIVATION_LIMIT_PER_ADDRESS", "10 per minute"
        ),
        # using an invite or reset code: per address, and per signed-in account
        "CODE_LIMIT_PER_ADDRESS": env.get("COMPANION_CODE_LIMIT_PER_ADDRESS", "10 per minute"),
    }


DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # PostgreSQL: a pooled connection unused for this long is tested before use (server/__init__)
    "DB_PING_AFTER_IDLE_SECONDS": 10,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "companion_session",
    # the cookie is signed and sent again only when the session changes; the idle timeout is
    # enforced on the server from the session's `seen`, which moves (and so re-sends the cookie
    # with a new expiry) at most every 30 s of use
    "SESSION_REFRESH_EACH_REQUEST": False,
    "JSON_SORT_KEYS": False,
    "RATELIMIT_HEADERS_ENABLED": True,
    "COMPRESS_REGISTER": False,
    "COMPRESS_ALGORITHM": ["gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["gzip"],
    # the kinds of answer worth compressing: public content (flask-compress) and the app's own
    # files (server/assets.py)
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ],
    "RATELIMIT_STRATEGY": "fixed-window",
    # wrong passwords for one account from one address: that source slows down (5 tries, then
    # one a minute...), the owner signing in from elsewhere is never locked out
    "LOGIN_FAILURES_PER_SOURCE_AND_ACCOUNT": "5 per 5 minutes;20 per hour;50 per day",
    # a clinic's password reset code is valid this long
    "RESET_CODE_HOURS": 72,
    "ACTIVATION_CODE_DAYS": 14,
    "PASSWORD_MIN_LENGTH": 10,
    # argon2id cost; tests lower it (the algorithm stays argon2id)
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    "API_TITLE": "Clozapine companion API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "CONTENT_DIR": None,  # defaults to <project>/content
    "STATIC_APP_DIR": None,  # defaults to <project>/pwa_static
}
