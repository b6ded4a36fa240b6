"""Patients: enrolment, the list and one patient's summary, and their audit trail."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import BASE, blueprint, reader_content
from server.api.request_audit import audit_subject, audit_subjects
from server.extensions import db
from server.schemas.audit import AuditListOut, AuditQuery
from server.schemas.patients import (
    PatientCreatedOut,
    PatientDetailOut,
    PatientIn,
    PatientListOut,
    TabletStrengthsIn,
    TabletStrengthsOut,
)
from server.services import accounts, audit, patients

blp = blueprint("patients", "Patients")


@blp.route("/patients", methods=["POST"])
@access(policy.clinic("patients.enrol", {"clinician"}))
@blp.arguments(PatientIn)
@blp.response(201, PatientCreatedOut)
def enrol(args: dict[str, Any]) -> ResponseReturnValue:
    """Enrol a patient of your clinic; the answer carries their one-time activation code."""
    days = int(current_app.config["ACTIVATION_CODE_DAYS"])
    instant = now()
    enrolment = accounts.enrol_patient(
        db.session, actor=signed_in_actor(), data=args, now=instant, code_days=days
    )
    audit_subject(enrolment.patient.id)
    return enrolment


@blp.route("/patients", methods=["GET"])
@access(policy.clinic("patients.list", policy.READERS))
@blp.response(200, PatientListOut)
def list_patients() -> ResponseReturnValue:
    """The patients you may see: your clinic's, yourself, or those you care for."""
    items = patients.visible_to(db.session, signed_in_actor())
    audit_subjects(p.id for p in items)
    instant = now()
    content = reader_content()
    return {"items": [patients.summary(db.session, p, instant, content) for p in items]}


@blp.route(BASE, methods=["GET"])
@access(policy.patient("patient.read", policy.READERS))
@blp.response(200, PatientDetailOut)
def get_patient(patient_id: int) -> ResponseReturnValue:
    """One patient's summary with their current status, next blood test and open red flags."""
    content = reader_content()
    return patients.summary(db.session, current_patient(), now(), content)


@blp.route(f"{BASE}/tablets", methods=["PUT"])
@access(policy.patient("tablets.write", policy.CARE_TEAM))
@blp.arguments(TabletStrengthsIn)
@blp.response(200, TabletStrengthsOut)
def put_tablets(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """The clozapine tablet strengths the patient has (12.5, 25, 50, 100, 200 mg), so that
    each dose shows how many of which to take; `[]` clears them (doses in mg only)."""
    return patients.set_tablet_strengths(db.session, current_patient(), args["strengths_mg"])


@blp.route(f"{BASE}/audit", methods=["GET"])
@access(policy.patient("audit.read", policy.CARE_TEAM))
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditListOut)
def audit_trail(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Who read or changed this patient's records, newest first; `kind` and `hide_own_reads`
    narrow it (the care app hides the reader's own page views by default)."""
    rows = audit.trail(
        db.session,
        patient_id,
        before_id=args.get("before_id"),
        limit=args["limit"],
        kind=args["kind"],
        hide_reads_of=signed_in_actor().user_id if args["hide_own_reads"] else None,
    )
    return {"items": rows}
