"""Dose plans, doses and dose events; diaries; lab results and blood tests."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_actor, current_patient, now
from server.api.common import (
    IDEMPOTENCY_DOC,
    blueprint,
    idempotency_claim,
    outcome_response,
    reader_content,
)
from server.extensions import db
from server.models import BowelMovement, SymptomReport, Weight
from server.schemas import (
    AppointmentIn,
    AppointmentListOut,
    AppointmentOut,
    BloodTestsOut,
    BowelMovementIn,
    BowelMovementListOut,
    BowelMovementOut,
    CollectionQuery,
    DayDosesOut,
    DoseEventIn,
    DoseEventListOut,
    DoseEventOut,
    DosePlanIn,
    DosePlanOut,
    DosesQuery,
    LabResultIn,
    LabResultListOut,
    LabResultOut,
    MonthOut,
    MonthQuery,
    SymptomIn,
    SymptomListOut,
    SymptomOut,
    WeightIn,
    WeightListOut,
    WeightOut,
)
from server.services import appointments, diary, dose_plans, doses, labs, month

blp = blueprint("clinical", "Dose plans, doses, diaries, lab results and blood tests")

READERS = {"patient", "caregiver", "clinician", "admin"}
LOGGERS = {"patient", "caregiver"}
CARE_TEAM = {"clinician", "admin"}
BASE = "/patients/<int:patient_id>"


def _actor() -> Any:
    actor = current_actor()
    assert actor is not None
    return actor


def _content() -> Any:
    return reader_content()


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
        db.session, actor=_actor(), patient=patient, data=args, now=instant
    )
    return dose_plans.plan_view(plan, patient, _rechallenge(patient, instant))


def _rechallenge(patient: Any, instant: Any) -> str | None:
    from server.services.state import get_state

    return get_state(db.session, patient, instant).rechallenge


@blp.route(f"{BASE}/dose-plan", methods=["GET"])
@access(policy.patient("dose_plan.read", READERS))
@blp.response(200, DosePlanOut)
def get_dose_plan(patient_id: int) -> ResponseReturnValue:
    """The newest plan version with its day-by-day doses."""
    from server.services.errors import NotFound
    from server.services.state import latest_plan

    patient = current_patient()
    plan = latest_plan(db.session, patient.id)
    if plan is None:
        raise NotFound("No dose plan yet.")
    return dose_plans.plan_view(plan, patient, _rechallenge(patient, now()))


@blp.route(f"{BASE}/doses", methods=["GET"])
@access(policy.patient("doses.read", READERS))
@blp.arguments(DosesQuery, location="query")
@blp.response(200, DayDosesOut)
def get_doses(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """The doses of one local date (default today): pending, taken, skipped, missed, or
    withheld while the treatment course withholds them (`doses_withheld`). Reading makes no
    doses: a date outside the plan's range answers with none."""
    return doses.doses_of_day(db.session, current_patient(), args.get("date"), now())


@blp.route(f"{BASE}/month", methods=["GET"])
@access(policy.patient("month.read", READERS))
@blp.arguments(MonthQuery, location="query")
@blp.response(200, MonthOut)
def get_month(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """A month at a glance (default this one), day by day up to today: doses by status, bowel
    movements with their Bristol types, symptoms and the highest temperature."""
    wanted = args.get("month")
    chosen = (int(wanted[:4]), int(wanted[5:])) if wanted else None
    return month.month_view(db.session, current_patient(), chosen, now())


@blp.route(f"{BASE}/dose-events", methods=["POST"])
@access(policy.patient("dose_events.write", LOGGERS))
@blp.arguments(DoseEventIn)
@blp.response(201, DoseEventOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_dose_event(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Mark a dose taken or skipped (409 when it is already recorded so, and 409
    `dose_withheld` while the treatment course withholds doses). A dose taken comes off the
    clozapine stock (`/medicines`); a skip with `reason_code: ran_out` opens (or adds to) the
    care team's routine `out_of_clozapine` escalation."""
    outcome = doses.record_dose_event(
        db.session,
        actor=_actor(),
        patient=current_patient(),
        data=args,
        now=now(),
        claim=idempotency_claim("dose-events"),
        content=_content(),
    )
    return outcome_response(outcome)


@blp.route(f"{BASE}/dose-events", methods=["GET"])
@access(policy.patient("dose_events.read", READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, DoseEventListOut)
def list_dose_events(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Dose events, newest first."""
    rows = doses.dose_events(db.session, current_patient(), args.get("since"), args["limit"])
    return {
        "items": [
            {
                "id": e.id,
                "dose_id": e.dose_id,
                "status": e.status,
                "at": e.at.isoformat(),
                "reason": e.reason,
            }
            for e in rows
        ]
    }


@blp.route(f"{BASE}/bowel-movements", methods=["POST"])
@access(policy.patient("bowel_movements.write", LOGGERS))
@blp.arguments(BowelMovementIn)
@blp.response(201, BowelMovementOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_bowel_movement(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Log a bowel movement with its Bristol type (1-7)."""
    outcome = diary.record_bowel_movement(
        db.session,
        actor=_actor(),
        patient=current_patient(),
        data=args,
        now=now(),
        claim=idempotency_claim("bowel-movements"),
    )
    return outcome_response(outcome)


@blp.route(f"{BASE}/bowel-movements", methods=["GET"])
@access(policy.patient("bowel_movements.read", READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, BowelMovementListOut)
def list_bowel_movements(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Bowel movements, newest first."""
    rows = diary.listing(
        db.session, BowelMovement, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": [diary.bowel_view(r) for r in rows]}


@blp.route(f"{BASE}/symptoms", methods=["POST"])
@access(policy.patient("symptoms.write", LOGGERS))
@blp.arguments(SymptomIn)
@blp.response(201, SymptomOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_symptoms(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Report symptoms; red flags come back at once with the advice to show, and the care
    team's escalation is opened in the same transaction."""
    outcome = diary.record_symptoms(
        db.session,
        actor=_actor(),
        patient=current_patient(),
        data=args,
        now=now(),
        claim=idempotency_claim("symptoms"),
        content=_content(),
    )
    return outcome_response(outcome)


@blp.route(f"{BASE}/symptoms", methods=["GET"])
@access(policy.patient("symptoms.read", READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, SymptomListOut)
def list_symptoms(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Symptom reports, newest first."""
    rows = diary.listing(
        db.session, SymptomReport, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    content = _content()
    return {
        "items": [
            {
                **diary.symptom_view(r),
                "red_flags": [diary.red_flag_view(f, content) for f in r.red_flags],
            }
            for r in rows
        ]
    }


@blp.route(f"{BASE}/weights", methods=["POST"])
@access(policy.patient("weights.write", READERS))
@blp.arguments(WeightIn)
@blp.response(201, WeightOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_weight(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Record a weight in kg."""
    outcome = diary.record_weight(
        db.session,
        actor=_actor(),
        patient=current_patient(),
        data=args,
        now=now(),
        claim=idempotency_claim("weights"),
    )
    return outcome_response(outcome)


@blp.route(f"{BASE}/weights", methods=["GET"])
@access(policy.patient("weights.read", READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, WeightListOut)
def list_weights(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Weights, newest first."""
    rows = diary.listing(
        db.session, Weight, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": [diary.weight_view(r) for r in rows]}


@blp.route(f"{BASE}/lab-results", methods=["POST"])
@access(policy.patient("lab_results.write", READERS))
@blp.arguments(LabResultIn)
@blp.response(201, LabResultOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_lab_result(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Record a result. Only the care team's (the clinic's) results count: an ANC (or, under
    the UK profile, a WBC) comes back banded with the action and the next test due, and a low
    band opens its escalation; troponin (with `upper_limit`), CRP, a trough level and ALT/AST
    (with `upper_limit`) are read by their rules. A patient's or caregiver's copy is kept,
    marked as theirs (`source`), and decides nothing; one far from the clinic's value of the
    same day is shown to the team as a discrepancy (`result_discrepancy`)."""
    outcome = labs.record_lab_result(
        db.session,
        actor=_actor(),
        patient=current_patient(),
        data=args,
        now=now(),
        claim=idempotency_claim("lab-results"),
        content=_content(),
    )
    return outcome_response(outcome)


@blp.route(f"{BASE}/lab-results", methods=["GET"])
@access(policy.patient("lab_results.read", READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, LabResultListOut)
def list_lab_results(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Lab results, newest first, each with its source; the patient's side sees its own words,
    never the clinician's action text."""
    rows = labs.results(db.session, current_patient(), since=args.get("since"), limit=args["limit"])
    role, content = _actor().role, _content()
    return {"items": [labs.lab_view(r, content, reader_role=role) for r in rows]}


@blp.route(f"{BASE}/blood-tests", methods=["GET"])
@access(policy.patient("blood_tests.read", READERS))
@blp.response(200, BloodTestsOut)
def get_blood_tests(patient_id: int) -> ResponseReturnValue:
    """What is due (upcoming, due or overdue) on the clinic's monitoring profile, and what was
    done."""
    return labs.blood_tests(
        db.session, current_patient(), now(), content=_content(), reader_role=_actor().role
    )


@blp.route(f"{BASE}/appointments", methods=["POST"])
@access(policy.patient("appointments.book", CARE_TEAM))
@blp.arguments(AppointmentIn)
@blp.response(201, AppointmentOut)
def book_appointment(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Book a clinic appointment (it appears in the app and in the calendar feed)."""
    appointment = appointments.book(
        db.session, actor=_actor(), patient=current_patient(), data=args, now=now()
    )
    return appointments.view(appointment, _content())


@blp.route(f"{BASE}/appointments", methods=["GET"])
@access(policy.patient("appointments.read", READERS))
@blp.response(200, AppointmentListOut)
def list_appointments(patient_id: int) -> ResponseReturnValue:
    """Appointments still to come, soonest first."""
    rows = appointments.upcoming(db.session, current_patient(), now())
    return {"items": [appointments.view(a, _content()) for a in rows]}


@blp.route(f"{BASE}/appointments/<int:appointment_id>", methods=["DELETE"])
@access(policy.patient("appointments.cancel", CARE_TEAM))
@blp.response(204)
def cancel_appointment(patient_id: int, appointment_id: int) -> ResponseReturnValue:
    """Cancel an appointment."""
    appointments.cancel(
        db.session, patient=current_patient(), appointment_id=appointment_id, now=now()
    )
    return None
