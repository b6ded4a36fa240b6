"""Serves the progressive web app from pwa_static/ (sw.js at the root so its scope is `/`).

A signed-in visit to `/` gets a page of its own: Today drawn in by the server, and the session
and Today's first answers for the app to start from (see `_signed_in_page`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    request,
    send_from_directory,
    session,
)
from flask.typing import ResponseReturnValue
from markupsafe import escape

from server import policy
from server.api.access import access, current_actor, current_user, now
from server.api.common import reader_content
from server.api.request_audit import request_audit_values
from server.api.session import user_view
from server.extensions import compress, db
from server.models import Patient
from server.schemas import DayDosesOut, MeOut, PatientDetailOut
from server.services import audit, doses, patients
from server.services.content import ENGLISH

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


# --- Today, drawn by the server -------------------------------------------------------------
# The same markup as js/views/today.js draws from the same answers and the same words
# (i18n/en.json), so that the next blood test date (the Largest Contentful Paint) is on the
# screen as soon as the page and its stylesheet are. The app then draws the screen again, with
# what only the phone knows (entries not sent yet, the install hint), and its buttons working;
# until then they are disabled. A screen with an open red flag is left to the app: only the
# phone knows which emergency number to offer; so is one whose doses are withheld.

LOADING = '<p class="loading" data-i18n="app.loading">Loading…</p>'
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]
MONTHS += ["September", "October", "November", "December"]
MONTH_FIRST = {"", "US", "CA", "PH", "AS", "GU", "MP", "PR", "UM", "VI"}  # as Intl (CLDR) writes
DAY_MONTH = {"GB", "AU"}  # "Tuesday 2 December"; elsewhere "Tuesday, 2 December"


@lru_cache(maxsize=8)
def _read(path: Path, mtime: float) -> str:
    return path.read_text(encoding="utf-8")


def _static_text(name: str) -> str:
    """A file of pwa_static/, read again only when it changed (checked once per request)."""
    cache = g.setdefault("static_texts", {})
    if name not in cache:
        path = _static_dir() / name
        cache[name] = _read(path, path.stat().st_mtime)
    return str(cache[name])


def _strings() -> dict[str, str]:
    if "strings" not in g:
        g.strings = dict(json.loads(_static_text("i18n/en.json")))
    return g.strings  # type: ignore[no-any-return]


def _t(key: str, **values: Any) -> str:
    """The English text for `key` with its {placeholders} filled, as i18n.js's t() does."""
    text = _strings()[key]
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def _tn(key: str, count: int) -> str:
    return _t(f"{key}.{'one' if count == 1 else 'other'}", count=count)


def _region() -> str:
    """The region of the phone's first English language (i18n.js formats dates for it)."""
    for tag in request.accept_languages.values():
        parts = tag.replace("_", "-").split("-")
        if parts[0].lower() == "en":
            return next((p.upper() for p in parts[1:] if len(p) == 2 or p.isdigit()), "")
    return ""


def _long_date(text: str) -> str:
    """A YYYY-MM-DD date as Intl.DateTimeFormat writes it with weekday, day and long month."""
    day = dt.date.fromisoformat(text)
    weekday, month, region = WEEKDAYS[day.weekday()], MONTHS[day.month - 1], _region()
    if region in MONTH_FIRST:
        return f"{weekday}, {month} {day.day}"
    if region in DAY_MONTH:
        return f"{weekday} {day.day} {month}"
    return (
        f"{weekday}, {day.day:02d} {month}" if region == "ZA" else f"{weekday}, {day.day} {month}"
    )


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _say(key: str, name: str | None, **values: Any) -> str:
    """The words for whoever reads them, as ui.js's say(): a caregiver reads the `.caregiver`
    form of a key, with the patient's name, where there is one."""
    if name and f"{key}.caregiver" in _strings():
        return _t(f"{key}.caregiver", name=name, **values)
    return _t(key, **values)


def _tablet_words(tablets: list[dict[str, Any]]) -> str:
    """ "one 25 mg and half a 25 mg", as ui.js's tabletWords()."""
    parts = []
    for piece in tablets:
        mg = _number(piece["strength_mg"])
        if piece["whole"]:
            count = piece["whole"]
            word = _t(f"number.{count}") if f"number.{count}" in _strings() else str(count)
            parts.append(_t("tablets.whole", count=word, mg=mg))
        if piece["half"]:
            parts.append(_t("tablets.half", mg=mg))
    if len(parts) < 2:
        return "".join(parts)
    return _t("list.and", first=", ".join(parts[:-1]), last=parts[-1])


PICTURE_MAX = 8  # as ui.js: more pieces than this are told in words only


def _tablets(dose: dict[str, Any], name: str | None) -> str:
    """The dose as tablets, the markup ui.js's tabletsLine() makes."""
    tablets = dose.get("tablets")
    if tablets is None:
        return ""
    if not tablets:
        return f'<p class="tablets">{escape(_t("tablets.cannot"))}</p>'
    pieces = []
    for piece in tablets:
        size = f"pill pill-{_number(piece['strength_mg']).replace('.', '-')}"
        pieces += [f'<span class="{size}"></span>'] * piece["whole"]
        if piece["half"]:
            pieces.append(f'<span class="{size} pill-half"></span>')
    picture = (
        f'<span class="tablets-picture" aria-hidden="true">{"".join(pieces)}</span>'
        if len(pieces) <= PICTURE_MAX
        else ""
    )
    words = _say("tablets.take", name, list=_tablet_words(tablets))
    return f'<p class="tablets">{picture}<span>{escape(words)}</span></p>'


def _emergency_number() -> str:
    """The phone's emergency number (the app shares it as a cookie), as ui.js dials it."""
    number = re.sub(r"[^0-9+*#]", "", request.cookies.get("companion_emergency", ""))[:15]
    return number or "112"


def _contact(summary: dict[str, Any], name: str | None) -> str:
    """ "Call my care team" beside the emergency button: ui.js's contactSection()."""
    contact = summary.get("care_team_contact") or {}
    phone, hours = contact.get("phone"), contact.get("hours")
    number = _emergency_number()
    team = ""
    details = []
    if phone:
        dial = re.sub(r"[^0-9+*#]", "", phone)
        team = (
            f'<a class="button call-team" href="tel:{escape(dial)}">'
            f"{escape(_say('contact.call', name))}</a>"
        )
        details.append(f"<p>{escape(_t('contact.number', number=phone))}</p>")
        if hours:
            details.append(f"<p>{escape(_t('contact.hours', hours=hours))}</p>")
    else:
        details.append(f'<p class="hint">{escape(_t("contact.none"))}</p>')
    return (
        '<section class="card stack contact" aria-labelledby="contact-title">'
        f'<h2 id="contact-title">{escape(_t("contact.title"))}</h2>'
        f'<div class="call-row">{team}<a class="button danger call" href="tel:{escape(number)}">'
        f"{escape(_t('call.button', number=number))}</a></div>{''.join(details)}</section>"
    )


def _clock_time(instant: str, zone: str) -> str:
    """A time as the dose times are written: 24-hour, the patient's zone (today.js alike)."""
    moment = dt.datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
    return moment.strftime("%H:%M")


def _blood_test(summary: dict[str, Any], name: str | None) -> str:
    next_test = summary.get("next_blood_test") or {}
    parts = [f'<h2 id="blood-title">{escape(_t("today.bloodTitle"))}</h2>']
    if not next_test.get("due_date"):
        parts.append(f"<p>{escape(_t('today.bloodNone'))}</p>")
    else:
        days = int(next_test.get("days_away") or 0)
        overdue = next_test.get("status") == "overdue" or days < 0
        if overdue:
            when = _tn("today.bloodOverdue", abs(days))
        elif days in (0, 1):
            when = _t("today.bloodToday" if days == 0 else "today.bloodTomorrow")
        else:
            when = _tn("today.bloodInDays", days)
        note = "strong-note" if next_test.get("status") == "overdue" else ""
        parts.append(f'<p class="big">{escape(_long_date(next_test["due_date"]))}</p>')
        parts.append(f'<p class="{note}">{escape(when)}</p>')
        if next_test.get("status") == "overdue":
            parts.append(f"<p>{escape(_say('today.bloodOverdueHelp', name))}</p>")
    parts.append(f'<p><a href="#/history/blood">{escape(_t("today.bloodLink"))}</a></p>')
    return f'<section class="card stack" aria-labelledby="blood-title">{"".join(parts)}</section>'


def _dose(dose: dict[str, Any], number: int, *, is_next: bool, name: str | None, zone: str) -> str:
    """One dose as today.js's doseRow() draws it (its buttons disabled until the app runs)."""
    title = f"dose-page-{number}"
    status = str(dose["status"])
    buttons = ""
    if status in ("pending", "missed") and dose.get("can_mark"):
        taken = _say("dose.tookLate", name) if status == "missed" else _t("dose.taken")
        buttons = (
            f'<button type="button" class="button primary big" aria-describedby="{title}"'
            f" disabled>{escape(taken)}</button>"
            f'<button type="button" class="button" aria-describedby="{title}" disabled>'
            f"{escape(_t('dose.skip'))}</button>"
        )
        if status == "pending" and dt.datetime.fromisoformat(dose["scheduled_at"]) <= now():
            buttons += (
                f'<button type="button" class="button" aria-describedby="{title}" disabled>'
                f"{escape(_t('dose.snooze'))}</button>"
            )
    elif status in ("pending", "missed"):
        opens = dt.datetime.fromisoformat(dose["mark_from"])
        text = (
            _t("dose.notYet", time=_clock_time(dose["mark_from"], zone))
            if now() < opens
            else _t("dose.tooLate")
        )
        buttons = f'<p class="hint">{escape(text)}</p>'
    mark = f'<span class="dose-next">{escape(_t("dose.next"))}</span>' if is_next else ""
    return (
        f'<li class="dose card{" next" if is_next else ""}" data-status="{escape(status)}">'
        f'<h3 id="{title}"><span class="dose-time">{escape(dose["local_time"])}</span> '
        f'<span class="dose-mg">{escape(_t("dose.mg", mg=_number(dose["mg"])))}</span>{mark}</h3>'
        f"{_tablets(dose, name)}"
        f'<p class="dose-status" tabindex="-1">{escape(_say(f"dose.status.{status}", name))}</p>'
        f'<div class="dose-actions">{buttons}</div></li>'
    )


def _today_markup(actor: policy.Actor, answers: dict[str, Any]) -> str | None:
    """Today as js/views/today.js draws it from these answers, or None to leave it to the app."""
    pid = actor.patient_id if actor.role == "patient" else next(iter(actor.caregiver_of), None)
    summary = answers.get(f"/api/patients/{pid}")
    day = answers.get(f"/api/patients/{pid}/doses")
    if summary is None or day is None or summary.get("open_red_flags"):
        return None
    if day.get("doses_withheld"):  # what to do instead is the app's to say (today.js)
        return None
    if any(not dose.get("local_time") for dose in day["doses"]):
        return None
    name = summary["display_name"] if actor.role == "caregiver" else None
    if actor.role == "caregiver":
        title = _t("today.titleFor", name=summary["display_name"])
    else:
        title = _t("today.title")
    if day["doses"]:
        # the next dose to take: the first not yet marked (today.js's nextDoseId)
        next_id = next((d["id"] for d in day["doses"] if d["status"] == "pending"), None)
        zone = summary["timezone"]
        rows = "".join(
            _dose(dose, n, is_next=dose["id"] == next_id, name=name, zone=zone)
            for n, dose in enumerate(day["doses"], 1)
        )
        doses = f'<ul class="doses plain">{rows}</ul>'
    else:
        doses = f"<p>{escape(_t('today.dosesNone'))}</p>"
    actions = "".join(
        f'<button type="button" class="button primary big" disabled>{escape(_t(key))}</button>'
        for key in ("today.logBowel", "today.reportSymptom")
    )
    # the parts in today.js's order (`sections` there); the warnings are never drawn here
    sections = [
        '<section class="stack" aria-labelledby="doses-title">'
        f'<h2 id="doses-title" tabindex="-1">{escape(_t("today.doses"))}</h2>{doses}</section>',
        _contact(summary, name),
        f'<div class="stack actions">{actions}</div>',
        _blood_test(summary, name),
    ]
    return (
        f'<div class="stack today"><h1 tabindex="-1">{escape(title)}</h1>'
        f'<p class="lead">{escape(_long_date(day["date"]))}</p>{"".join(sections)}</div>'
    )


def _signed_in_page(html: str) -> str | None:
    """The page for a signed-in visit: Today drawn in (when it can be), and the session and
    Today's first answers as a JSON data block.

    The page's scripts read the block instead of asking /api/me and the Today answers after they
    have loaded. A JSON block is data, never run: the Content-Security-Policy (script-src 'self')
    still allows no inline script. `<`, `>` and `&` are escaped so no value can end the block."""
    user, actor = current_user(), current_actor()
    if user is None or actor is None:
        return None
    answers = _today_answers(actor)
    boot = {
        "me": MeOut().dump({"user": user_view(user), "csrf_token": session.get("csrf")}),
        "answers": answers,
    }
    text = current_app.json.dumps(boot)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    block = f'<script type="application/json" id="boot">{text}</script>'
    # drawn in English only: in another language the app draws it (issue 19: the server's
    # words and dates in the reader's language are still to come)
    english = g.get("content_language", ENGLISH) == ENGLISH
    today = _today_markup(actor, answers) if english else None
    if today is not None and LOADING in html:
        html = html.replace(LOADING, today, 1)
    return html.replace("</body>", f"{block}\n</body>", 1)


@web.route("/", methods=["GET"])
@access(policy.public("web.app"))
def app_shell() -> ResponseReturnValue:
    page = _signed_in_page(_static_text("index.html"))
    if page is None:
        return compress.after_request(_send("index.html"))
    # not compressed: the page carries the session's CSRF token (BREACH); it still fits in the
    # first round trip of a new connection
    response = Response(page, mimetype="text/html")
    # health data: kept by no cache (the service worker caches only pages without it)
    response.headers["Cache-Control"] = "no-store"
    # a signed-in phone will show Today first: fetch its code with the page (a signed-out
    # first visit does not pay for it)
    # (only Today's own module: each preload sent with the page is on the first paint's path in
    # Lighthouse's model; app.js asks for the outbox and parts.js as soon as it runs)
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
