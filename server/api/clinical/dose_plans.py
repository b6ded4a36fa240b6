"""Dose plans: a new version of the plan, and the newest one with its day-by-day doses."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now, signed_in_actor
from server.api.clinical.blueprint import blp
from server.api.common import BASE
from server.extensions import db
from server.schemas.dose_plans import DosePlanIn, DosePlanOut
from server.services import dose_plans


@blp.route(f"{BASE}/dose-plan", methods=["PUT"])
@access(policy.patient("dose_plan.write", {"clinician"}))
@blp.arguments(DosePlanIn)
@blp.response(200, DosePlanOut)
def put_dose_plan(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """A new version of the plan, of a `kind` (initiation, retitration, maintenance, taper):
    `titration: standard` with a target, `kind: maintenance` with a target, `kind: taper`
    (from today's dose over `taper_days`), or your own `steps`.

    Hard errors (a day above 900 mg, a first day above 25 mg in an initiation or re-titration,
    dose counts that do not match the times, a taper that does not end at zero) are refused
    with 422 naming the step; a kind the treatment course does not allow (a paused course
    restarts with a re-titration) is refused with the reason; rises above the usual pace and a
    single dose above 450 mg come back as warnings. The earlier plan's doses from the start are
    replaced by the new plan's for every day already made. The answer lists the doses day by
    day up to the maintenance dose."""
    patient = current_patient()
    instant = now()
    plan = dose_plans.set_dose_plan(
        db.session, actor=signed_in_actor(), patient=patient, data=args, now=instant
    )
    return dose_plans.plan_schedule(db.session, plan, patient, instant)


@blp.route(f"{BASE}/dose-plan", methods=["GET"])
@access(policy.patient("dose_plan.read", policy.READERS))
@blp.response(200, DosePlanOut)
def get_dose_plan(patient_id: int) -> ResponseReturnValue:
    """The newest plan version with its day-by-day doses."""
    return dose_plans.latest_schedule(db.session, current_patient(), now())
