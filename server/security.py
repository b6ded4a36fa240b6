"""Security headers on every answer, with a strict Content-Security-Policy."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# every answer's headers, and those of every answer but a subresource (see _subresource); a
# header the view set itself is kept
EVERY_ANSWER = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
DOCUMENT = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)
HSTS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def _headers(response: Response, secure: bool) -> Response:
    headers = response.headers
    wanted = EVERY_ANSWER if _subresource(response) else EVERY_ANSWER + DOCUMENT
    if secure:
        wanted += HSTS
    # one pass over the answer's headers (each Headers lookup is a pass of its own)
    present = {name.lower() for name, _value in headers.items()}
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    if request.path.startswith("/api/") or request.path == "/healthz":
        # health data stays off every disk cache
        headers["Cache-Control"] = "no-store"
    return response


def _subresource(response: Response) -> bool:
    """A module, stylesheet, word file or icon of the app: a browser applies the policies of
    the page that loads it (CSP, framing, opener, permissions), never the file's own, so
    they are left off the 16 files of the first load. Pages, the service worker (a worker
    obeys its own CSP) and the API keep them all."""
    return request.path.startswith("/static/") and response.mimetype != "text/html"


def init_security_headers(app: Flask) -> None:
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.after_request(lambda response: _headers(response, secure))
