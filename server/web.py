"""Serves the progressive web app from pwa_static/ (sw.js at the root so its scope is `/`)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, send_from_directory, session
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access
from server.extensions import compress

web = Blueprint("web", __name__)


def _static_dir() -> Path:
    return Path(current_app.config["STATIC_APP_DIR"])


def _send(path: str, *, max_age: int = 0) -> Response:
    response = send_from_directory(_static_dir(), path, max_age=max_age)
    if max_age == 0:
        response.headers["Cache-Control"] = "no-cache"
    return response


@web.route("/", methods=["GET"])
@access(policy.public("web.app"))
@compress.compressed()
def app_shell() -> ResponseReturnValue:
    response = _send("index.html")
    if session.get("uid") is not None:
        # a signed-in phone will show Today first: fetch its code with the page (a signed-out
        # first visit does not pay for it)
        response.headers["Link"] = "</static/js/views/today.js>; rel=modulepreload"
    return response


@web.route("/care/", methods=["GET"])
@access(policy.public("web.care_app"))
@compress.compressed()
def care_shell() -> ResponseReturnValue:
    return _send("care/index.html")


@web.route("/sw.js", methods=["GET"])
@access(policy.public("web.service_worker"))
@compress.compressed()
def service_worker() -> ResponseReturnValue:
    response = _send("sw.js")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@web.route("/manifest.webmanifest", methods=["GET"])
@access(policy.public("web.manifest"))
@compress.compressed()
def manifest() -> ResponseReturnValue:
    response = _send("manifest.webmanifest")
    response.mimetype = "application/manifest+json"
    return response


@web.route("/static/<path:filename>", methods=["GET"])
@access(policy.public("web.static"))
@compress.compressed()
def static_file(filename: str) -> ResponseReturnValue:
    return _send(filename)


def register_web(app: Flask) -> None:
    app.register_blueprint(web)
