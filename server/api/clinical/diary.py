"""Diaries: bowel movements, symptom reports and weights."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient
from server.api.clinical.blueprint import blp
from server.api.common import BASE, IDEMPOTENCY_DOC, reader_content, record_entry
from server.extensions import db
from server.models import BowelMovement, Weight
from server.schemas.common import CollectionQuery
from server.schemas.diary import (
    BowelMovementIn,
    BowelMovementListOut,
    BowelMovementOut,
    SymptomIn,
    SymptomListOut,
    SymptomOut,
    WeightIn,
    WeightListOut,
    WeightOut,
)
from server.services import diary

# built once: they present the use cases' rows before the commit (the answer a key keeps)
BOWEL_MOVEMENT_OUT = BowelMovementOut()
SYMPTOM_OUT = SymptomOut()
WEIGHT_OUT = WeightOut()


@blp.route(f"{BASE}/bowel-movements", methods=["POST"])
@access(policy.patient("bowel_movements.write", policy.LOGGERS))
@blp.arguments(BowelMovementIn)
@blp.response(201, BowelMovementOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_bowel_movement(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Log a bowel movement with its Bristol type (1-7)."""
    return record_entry(diary.record_bowel_movement, "bowel-movements", BOWEL_MOVEMENT_OUT, args)


@blp.route(f"{BASE}/bowel-movements", methods=["GET"])
@access(policy.patient("bowel_movements.read", policy.READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, BowelMovementListOut)
def list_bowel_movements(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Bowel movements, newest first."""
    rows = diary.listing(
        db.session, BowelMovement, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": rows}


@blp.route(f"{BASE}/symptoms", methods=["POST"])
@access(policy.patient("symptoms.write", policy.LOGGERS))
@blp.arguments(SymptomIn)
@blp.response(201, SymptomOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_symptoms(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Report symptoms; red flags come back at once with the advice to show, and the care
    team's escalation is opened in the same transaction."""
    return record_entry(diary.record_symptoms, "symptoms", SYMPTOM_OUT, args, with_content=True)


@blp.route(f"{BASE}/symptoms", methods=["GET"])
@access(policy.patient("symptoms.read", policy.READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, SymptomListOut)
def list_symptoms(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Symptom reports, newest first."""
    reports = diary.symptom_reports(
        db.session,
        current_patient(),
        since=args.get("since"),
        limit=args["limit"],
        content=reader_content(),
    )
    return {"items": reports}


@blp.route(f"{BASE}/weights", methods=["POST"])
@access(policy.patient("weights.write", policy.READERS))
@blp.arguments(WeightIn)
@blp.response(201, WeightOut)
@blp.doc(**IDEMPOTENCY_DOC)
def post_weight(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Record a weight in kg."""
    return record_entry(diary.record_weight, "weights", WEIGHT_OUT, args)


@blp.route(f"{BASE}/weights", methods=["GET"])
@access(policy.patient("weights.read", policy.READERS))
@blp.arguments(CollectionQuery, location="query")
@blp.response(200, WeightListOut)
def list_weights(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Weights, newest first."""
    rows = diary.listing(
        db.session, Weight, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": rows}
