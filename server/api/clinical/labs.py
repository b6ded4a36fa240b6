"""Lab results and the blood-test schedule."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.clinical.blueprint import blp
from server.api.common import BASE, PostedEntry, reader_content
from server.extensions import db
from server.schemas.labs import BloodTestsOut, LabResultIn, LabResultListOut, LabResultOut
from server.services import labs


@blp.entry_post(
    "lab-results", policy.patient("lab_results.write", policy.READERS), LabResultIn, LabResultOut
)
def post_lab_result(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Record a result. Only the care team's (the clinic's) results count: an ANC (or, under
    the UK profile, a WBC) comes back banded with the action and the next test due, and a low
    band opens its escalation; troponin (with `upper_limit`), CRP, a trough level and ALT/AST
    (with `upper_limit`) are read by their rules. A patient's or caregiver's copy is kept,
    marked as theirs (`source`), and decides nothing; one far from the clinic's value of the
    same day is shown to the team as a discrepancy (`result_discrepancy`)."""
    return entry.record(labs.record_lab_result, with_content=True)


@blp.entry_listing(
    "lab-results", policy.patient("lab_results.read", policy.READERS), LabResultListOut
)
def list_lab_results(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Lab results, newest first, each with its source; the patient's side sees its own words,
    never the clinician's action text."""
    rows = labs.results(db.session, current_patient(), since=args.get("since"), limit=args["limit"])
    role, content = signed_in_actor().role, reader_content()
    return {"items": [labs.read_as(r, content, reader_role=role) for r in rows]}


@blp.route(f"{BASE}/blood-tests", methods=["GET"])
@access(policy.patient("blood_tests.read", policy.READERS))
@blp.response(200, BloodTestsOut)
def get_blood_tests(patient_id: int) -> ResponseReturnValue:
    """What is due (upcoming, due or overdue) on the clinic's monitoring profile, and what was
    done."""
    return labs.blood_tests(
        db.session,
        current_patient(),
        now(),
        content=reader_content(),
        reader_role=signed_in_actor().role,
    )
