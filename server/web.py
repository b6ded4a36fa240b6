"""Serves the progressive web app from pwa_static/ (sw.js at the root so its scope is `/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, send_from_directory, session
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from server import policy
from server.api.access import access, current_actor, current_user, now
from server.api.session import user_view
from server.extensions import compress, db
from server.models import Patient
from server.schemas import DayDosesOut, MeOut, PatientDetailOut
from server.services import audit, doses, patients

web = Blueprint("web", __name__)


def _static_dir() -> Path:
    return Path(current_app.config["STATIC_APP_DIR"])


def _send(path: str, *, max_age: int = 0) -> Response:
    response = send_from_directory(_static_dir(), path, max_age=max_age)
    if max_age == 0:
        response.headers["Cache-Control"] = "no-cache"
    return response


def _rule(endpoint: str) -> policy.Access:
    """The access rule of an API route, so that the page is allowed no more than the route."""
    return current_app.view_functions[endpoint].__access__  # type: ignore[no-any-return]


def _today_answers(actor: policy.Actor) -> dict[str, Any]:
    """What the Today screen would ask the API for first, keyed by the path it would ask at.

    Only for someone with exactly one patient to show (a patient, or a caregiver of one): a
    caregiver's choice among several is kept on their phone, which the server cannot see. Each
    read is decided by the API route's own rule and leaves the audit event that route leaves."""
    mine = [actor.patient_id] if actor.role == "patient" else sorted(actor.caregiver_of)
    if len(mine) != 1 or mine[0] is None:
        return {}
    patient = db.session.get(Patient, mine[0])
    if patient is None:
        return {}
    target = policy.PatientRef(patient.id, patient.clinic_id)
    instant = now()
    content = current_app.extensions["companion.content"]
    reads = [
        (
            "patients.get_patient",
            f"/api/patients/{patient.id}",
            lambda: PatientDetailOut().dump(
                patients.summary(db.session, patient, instant, content)
            ),
        ),
        (
            "clinical.get_doses",
            f"/api/patients/{patient.id}/doses",
            lambda: DayDosesOut().dump(doses.doses_of_day(db.session, patient, None, instant)),
        ),
    ]
    answers: dict[str, Any] = {}
    for endpoint, path, read in reads:
        rule = _rule(endpoint)
        if policy.decide(rule, actor, target) is not policy.Decision.ALLOW:
            continue
        answers[path] = read()
        event = audit.audit_event(
            actor_id=actor.user_id,
            actor_role=actor.role,
            patient_id=patient.id,
            action=rule.action,
            method=request.method,
            path=request.path,
            address=get_remote_address(),
            now=instant,
            status=200,
        )
        audit.write(db.session, event)
    return answers


def _boot_block() -> str | None:
    """For a signed-in visit: the session and Today's first answers, as a JSON data block.

    The page's scripts read it instead of asking /api/me and the Today answers after they have
    loaded, so the first screen paints one round trip after the page, not three. A JSON block is
    data, never run: the Content-Security-Policy (script-src 'self') still allows no inline
    script. `<`, `>` and `&` are escaped so that no value can end the block."""
    user, actor = current_user(), current_actor()
    if user is None or actor is None:
        return None
    boot = {
        "me": MeOut().dump({"user": user_view(user), "csrf_token": session.get("csrf")}),
        "answers": _today_answers(actor),
    }
    text = current_app.json.dumps(boot)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="boot">{text}</script>'


@web.route("/", methods=["GET"])
@access(policy.public("web.app"))
def app_shell() -> ResponseReturnValue:
    boot = _boot_block()
    if boot is None:
        return compress.after_request(_send("index.html"))
    html = (_static_dir() / "index.html").read_text(encoding="utf-8")
    # not compressed: the page carries the session's CSRF token (BREACH), and it still fits in
    # the first round trip of a new connection
    response = Response(html.replace("</body>", f"{boot}\n</body>", 1), mimetype="text/html")
    # health data: kept by no cache (the service worker caches only pages without it)
    response.headers["Cache-Control"] = "no-store"
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
