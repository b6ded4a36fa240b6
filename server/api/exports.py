"""Exports: the clinic summary PDF, FHIR, CSV, the account zip, deletion and the calendar."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, url_for
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import BASE, blueprint, reader_content, reader_formats
from server.api.request_audit import Anonymous, audit_request, audit_subject
from server.extensions import db
from server.schemas.exports import (
    MAX_RANGE_DAYS,
    CalendarFeedOut,
    CalendarQuery,
    DeletionRequestIn,
    DeletionRequestOut,
    ReportQuery,
)
from server.services.errors import Invalid, NotFound
from server.services.exports import account, calendar, fhir, report, tables

blp = blueprint("exports", "Clinic summary, FHIR, CSV, account export and deletion, calendar")


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route(f"{BASE}/report.pdf", methods=["GET"])
@access(policy.patient("exports.report", policy.READERS))
@blp.arguments(ReportQuery, location="query")
@blp.response(200, content_type="application/pdf")
def get_report(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """The clinic summary (1-2 pages, black and white) for `from`..`to` (local dates, at most
    2 years; default the last 90 days): plan and doses, weekly adherence, ANC with bands and
    chart, bowel pattern, red flags and how they were closed, upcoming tests."""
    patient = current_patient()
    start, end = report.default_range(patient, now())
    end = args.get("to") or end
    start = args.get("from_") or min(start, end - dt.timedelta(days=report.DEFAULT_RANGE_DAYS - 1))
    if end < start:
        raise Invalid({"from": ["The start is after the end."]})
    if (end - start).days >= MAX_RANGE_DAYS:
        raise Invalid({"from": ["A report covers at most 2 years."]})
    content = reader_content(page=True)  # a download is a page load: the app's cookie
    body = report.build_report(
        db.session, patient, start, end, now(), content=content, formats=reader_formats(content)
    )
    return _download(body, "application/pdf", f"clozapine-summary-{start}-{end}.pdf")


@blp.route(f"{BASE}/fhir", methods=["GET"])
@access(policy.patient("exports.fhir", policy.READERS))
@blp.response(200, content_type="application/fhir+json")
def get_fhir(patient_id: int) -> ResponseReturnValue:
    """The patient's records as a FHIR R4 Bundle of type `collection`."""
    bundle = fhir.patient_bundle(db.session, current_patient(), now())
    return Response(json.dumps(bundle), mimetype="application/fhir+json")


@blp.route(f"{BASE}/exports/<kind>.csv", methods=["GET"])
@access(policy.patient("exports.csv", policy.READERS))
@blp.response(200, content_type="text/csv")
def get_csv(patient_id: int, kind: str) -> ResponseReturnValue:
    """One diary as CSV: `bowel-movements`, `symptoms`, `doses`, `lab-results` or `weights`.
    Cells a spreadsheet would run as a formula are prefixed with a single quote."""
    if kind not in tables.KINDS:
        raise NotFound("No such export.")
    body = tables.csv_export(db.session, current_patient(), kind)
    return _download(body, "text/csv", f"{kind}.csv")


@blp.route(f"{BASE}/export.zip", methods=["GET"])
@access(policy.patient("exports.account", {"patient", "clinician"}))
@blp.response(200, content_type="application/zip")
def get_account_zip(patient_id: int) -> ResponseReturnValue:
    """The patient's right of access: every record held, one JSON file per table, with the
    audit trail of who read or changed them."""
    body = account.account_zip(db.session, current_patient(), now())
    return _download(body, "application/zip", f"patient-{patient_id}-export.zip")


@blp.route(f"{BASE}/deletion-request", methods=["POST"])
@access(policy.patient("exports.deletion_request", {"patient"}))
@blp.arguments(DeletionRequestIn)
@blp.response(202, DeletionRequestOut)
def post_deletion_request(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Ask for the account to be deleted; the clinic's admin carries it out (see DELETE)."""
    return account.request_deletion(
        db.session, signed_in_actor(), current_patient(), args.get("reason"), now()
    )


@blp.route(BASE, methods=["DELETE"])
@access(policy.patient("patient.delete", {"admin"}))
@blp.response(200, DeletionRequestOut)
def delete_patient(patient_id: int) -> ResponseReturnValue:
    """Carry out the patient's pending deletion request (409 without one). Diaries and the
    login's details are removed; the patient row is anonymised; the audit trail and the
    clinic's clinical record (plans, clinic lab results, escalations) are kept, as records
    with legal retention duties (see server/services/exports/account.py)."""
    audit_subject(patient_id)
    return account.delete_patient(db.session, signed_in_actor(), current_patient(), now())


@blp.route(f"{BASE}/calendar-feed", methods=["POST"])
@access(policy.patient("calendar_feed.create", policy.PATIENT_AND_CARE_TEAM))
@blp.response(201, CalendarFeedOut)
def post_calendar_feed(patient_id: int) -> ResponseReturnValue:
    """A secret calendar URL of upcoming blood tests (shown once; a new one revokes the old).

    A convenience for the patient's own calendar, never the safety channel: reminders and
    the care team's escalations never depend on it. Its words are in the language of the
    person who made it (the URL carries it)."""
    token = calendar.create_feed(db.session, signed_in_actor(), current_patient(), now())
    language = reader_content().language
    return {"url": url_for("exports.get_calendar", token=token, lang=language, _external=True)}


@blp.route(f"{BASE}/calendar-feed", methods=["DELETE"])
@access(policy.patient("calendar_feed.revoke", policy.PATIENT_AND_CARE_TEAM))
@blp.response(204)
def delete_calendar_feed(patient_id: int) -> ResponseReturnValue:
    """Revoke the calendar URL: it answers 404 from now on."""
    calendar.revoke_feeds(db.session, current_patient(), now())
    return "", 204


@blp.route("/calendar/<token>.ics", methods=["GET"])
@access(policy.public("calendar_feed.read"))
@blp.arguments(CalendarQuery, location="query")
@blp.response(200, content_type="text/calendar")
def get_calendar(args: dict[str, Any], token: str) -> ResponseReturnValue:
    """The iCalendar (RFC 5545) feed behind a secret URL: upcoming blood tests as all-day
    "Blood test" events and booked appointments, with the patient's VTIMEZONE; no name, drug
    or value. Its words are in `lang` (the URL made by POST carries it). A revoked or unknown
    token answers 404.

    This is a convenience, never the safety channel: a calendar app may fetch it late or
    never, so blood-test reminders and overdue escalations come from the app's own reminders."""
    patient = calendar.feed_patient(db.session, token)
    audit_request(Anonymous("calendar_feed"), patient.id)
    content = reader_content(chosen=args.get("lang"))
    body = calendar.calendar_for(db.session, patient, now(), content)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="blood-tests.ics"'
    return response
