"""The care team's tasks: step downs of the ANC schedule waiting for their confirmation."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.common import BASE, blueprint
from server.api.request_audit import audit_subjects
from server.extensions import db
from server.schemas.care_tasks import CareTaskConfirmedOut, CareTaskListOut
from server.services import care_tasks

blp = blueprint("care_tasks", "The care team's tasks")


@blp.route("/care-tasks", methods=["GET"])
@access(policy.clinic("care_tasks.list", policy.CARE_TEAM))
@blp.response(200, CareTaskListOut)
def list_clinic_tasks() -> ResponseReturnValue:
    """Your clinic's open tasks, oldest first: under the UK profile, each step down of a
    patient's ANC schedule (weekly to every 2 weeks at week 19, to every 4 weeks at week 53)
    waits for the care team; until confirmed, the schedule keeps the more frequent tests."""
    items = care_tasks.for_clinic(db.session, signed_in_actor(), now())
    audit_subjects(task.patient.id for task in items)
    return {"items": items}


@blp.route(f"{BASE}/care-tasks", methods=["GET"])
@access(policy.patient("care_tasks.read", policy.CARE_TEAM))
@blp.response(200, CareTaskListOut)
def list_patient_tasks(patient_id: int) -> ResponseReturnValue:
    """This patient's open tasks."""
    return {"items": care_tasks.for_patient(db.session, current_patient(), now())}


@blp.route(f"{BASE}/care-tasks/<task_id>/confirm", methods=["POST"])
@access(policy.patient("care_tasks.confirm", {"clinician"}))
@blp.response(200, CareTaskConfirmedOut)
def confirm_task(patient_id: int, task_id: str) -> ResponseReturnValue:
    """Confirm a step down: the schedule moves to the rarer tests. Confirming it again
    answers the same; an unknown task, or one not yet due, is 404."""
    return care_tasks.confirm(
        db.session, actor=signed_in_actor(), patient=current_patient(), task_id=task_id, now=now()
    )
