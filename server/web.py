"""Serves the progressive web app from pwa_static/ (sw.js at the root so its scope is `/`).

A signed-in visit to `/` gets a page of its own: the session and Today's first answers for the
app to start from, and Today's code asked for with the page (see `_signed_in_page`). Today is
drawn by the app alone (js/views/today.js)."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    request,
    session,
)
from flask.typing import ResponseReturnValue

from server import assets, policy
from server.api.access import access, current_actor, current_user, now
from server.api.common import reader_content
from server.api.request_audit import request_audit_values
from server.api.session import user_view
from server.extensions import db
from server.models import Patient
from server.schemas.doses import DayDosesOut
from server.schemas.medicines import MedicineListOut
from server.schemas.patients import PatientDetailOut
from server.schemas.session import MeOut
from server.services import audit, doses, medicines, patients
from server.services.content import ENGLISH

web = Blueprint("web", __name__)


def _static_dir() -> Path:
    return Path(current_app.config["STATIC_APP_DIR"])


def _send(path: str) -> Response:
    return assets.send(_static_dir(), path, request)


def _rule(endpoint: str) -> policy.Access:
    """The access rule of an API route, so that the page is allowed no more than the route."""
    return current_app.view_functions[endpoint].__access__  # type: ignore[no-any-return]


def _today_answers(actor: policy.Actor) -> dict[str, Any]:
    """What the Today screen would ask the API for first, keyed by the path it would ask at.

    Only for someone with exactly one patient to show (a patient, or a caregiver of one): a
    caregiver's choice among several is kept on their phone, which the server cannot see. Each
    read is decided by the API route's own rule and leaves the audit event that route leaves."""
    mine = sorted(policy.reach_of(actor).patient_ids or ())
    if len(mine) != 1:
        return {}
    patient = db.session.get(Patient, mine[0])
    if patient is None:
        return {}
    target = policy.PatientRef(patient.id, patient.clinic_id)
    instant = now()
    content = reader_content(page=True)
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
        (
            "medicines.list_medicines",
            f"/api/patients/{patient.id}/medicines",
            lambda: MedicineListOut().dump(
                medicines.overview(
                    db.session,
                    patient,
                    instant,
                    current_app.extensions["companion.content"],
                    actor.role,
                )
            ),
        ),
    ]
    answers: dict[str, Any] = {}
    for endpoint, path, read in reads:
        rule = _rule(endpoint)
        if policy.decide(rule, actor, target) is not policy.Decision.ALLOW:
            continue
        answers[path] = read()
        audit.append(db.session, request_audit_values(actor, patient.id, rule.action, 200))
    db.session.commit()  # the page's audit events, in one transaction
    return answers


def _static_text(name: str) -> str:
    """A file of pwa_static/ as text (server/assets.py keeps it while unchanged)."""
    return assets.contents(_static_dir(), name).decode("utf-8")


# `import ... from './x.js'`, `export ... from '/static/x.js'` and `import './x.js'`: the static
# imports a browser fetches before the module runs (a dynamic import() is not one of them)
_STATIC_IMPORT = re.compile(
    r"""^\s*(?:(?:import|export)\b[^'"`;]*?\bfrom\s*|import\s*)['"]((?:\.{1,2}|/static)/[^'"]+)['"]""",
    re.MULTILINE,
)


def _imported(importer: str, target: str) -> str:
    """The module under pwa_static/ that `importer` names as `target`."""
    if target.startswith("/static/"):
        return target.removeprefix("/static/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))


def module_graph(entry: str) -> list[str]:
    """`entry` (a module under pwa_static/) and every module it imports statically, read from
    the files themselves, so that the list follows the code."""
    found: list[str] = []
    waiting = [entry]
    while waiting:
        name = waiting.pop(0)
        if name in found:
            continue
        found.append(name)
        waiting.extend(
            _imported(name, target) for target in _STATIC_IMPORT.findall(_static_text(name))
        )
    return found


def _preload_links(entry: str, named: set[str]) -> str:
    """A modulepreload link for each module of `entry`'s graph not `named` yet (a page's own
    links and scripts, and the links already made), which it then names: all of that code
    asked for at once (each import would otherwise be found only when the module importing it
    has arrived)."""
    links = []
    for name in module_graph(entry):
        if name not in named:
            named.add(name)
            links.append(f'  <link rel="modulepreload" href="/static/{name}">\n')
    return "".join(links)


def _named(html: str) -> set[str]:
    """The files under /static/ that `html` names."""
    return set(re.findall(r'"/static/([^"]+)"', html))


_MODULE_SCRIPT = re.compile(r'[ \t]*<script type="module" src="/static/([^"]+)"[^>]*></script>\n')


def _page(name: str) -> str:
    """The page `name` of pwa_static/ with its code named in its head: after each of its module
    scripts, the modules that script imports, and what those import."""
    html = _static_text(name)
    named = _named(html)
    return _MODULE_SCRIPT.sub(
        lambda script: script.group(0) + _preload_links(script.group(1), named), html
    )


def _send_page(name: str) -> Response:
    return assets.send_made(_page(name).encode("utf-8"), "text/html", request)


TODAY = "js/views/today.js"  # the first screen of a signed-in patient or caregiver
LANGUAGES = "i18n/languages.json"
_LANGUAGES_PRELOAD = re.compile(rf'[ \t]*<link rel="preload" href="/static/{LANGUAGES}"[^>]*>\n?')


def _preloads(html: str) -> str:
    """Links for the head of a signed-in page: Today's code (see `_preload_links`), and the
    words of the reader's language when it is not English (index.html preloads English, which
    i18n.js reads in any case). In the page after its stylesheet, not in a Link header: a
    header's preloads would be asked for before the stylesheet that the first paint waits for."""
    links = _preload_links(TODAY, _named(html))
    language = g.get("content_language", ENGLISH)
    if language != ENGLISH and (_static_dir() / f"i18n/{language}.json").is_file():
        links += (
            f'  <link rel="preload" href="/static/i18n/{language}.json" as="fetch"'
            ' crossorigin="anonymous">\n'
        )
    return links


def _signed_in_page(html: str) -> str | None:
    """The page for a signed-in visit: the session and Today's first answers as a JSON block,
    and Today's code asked for with the page (a signed-out first visit, which shows the sign-in
    screen, does not pay for it).

    The page's scripts read the block instead of asking /api/me and the Today answers after they
    have loaded, so Today is drawn as soon as its code is in. A JSON block is data, never run:
    the Content-Security-Policy (script-src 'self') still allows no inline script. `<`, `>` and
    `&` are escaped so no value can end the block."""
    user, actor = current_user(), current_actor()
    if user is None or actor is None:
        return None
    boot = {
        "me": MeOut().dump({"user": user_view(user), "csrf_token": session.get("csrf")}),
        "answers": _today_answers(actor),
        # the names of the app's languages, which i18n.js would otherwise fetch before any word
        "languages": json.loads(_static_text(LANGUAGES)),
    }
    text = current_app.json.dumps(boot)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    block = f'<script type="application/json" id="boot">{text}</script>'
    html = _LANGUAGES_PRELOAD.sub("", html, count=1)  # in the block instead
    html = html.replace("</head>", f"{_preloads(html)}</head>", 1)
    return html.replace("</body>", f"{block}\n</body>", 1)


@web.route("/", methods=["GET"])
@access(policy.public("web.app"))
def app_shell() -> ResponseReturnValue:
    page = _signed_in_page(_page("index.html"))
    if page is None:
        return _send_page("index.html")
    # not compressed: the page carries the session's CSRF token (BREACH)
    response = Response(page, mimetype="text/html")
    # health data: kept by no cache (the service worker caches only pages without it)
    response.headers["Cache-Control"] = "no-store"
    return response


@web.route("/care/", methods=["GET"])
@access(policy.public("web.care_app"))
def care_shell() -> ResponseReturnValue:
    return _send_page("care/index.html")


@web.route("/sw.js", methods=["GET"])
@access(policy.asset("web.service_worker"))
def service_worker() -> ResponseReturnValue:
    response = _send("sw.js")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@web.route("/manifest.webmanifest", methods=["GET"])
@access(policy.asset("web.manifest"))
def manifest() -> ResponseReturnValue:
    return _send("manifest.webmanifest")


@web.route("/static/<path:filename>", methods=["GET"])
@access(policy.asset("web.static"))
def static_file(filename: str) -> ResponseReturnValue:
    return _send(filename)


def register_web(app: Flask) -> None:
    app.register_blueprint(web)
