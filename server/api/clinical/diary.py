"""Diaries: bowel movements, symptom reports and weights."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import current_patient
from server.api.clinical.blueprint import blp
from server.api.common import PostedEntry, reader_content
from server.extensions import db
from server.models import BowelMovement, Weight
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


@blp.entry_post(
    "bowel-movements",
    policy.patient("bowel_movements.write", policy.LOGGERS),
    BowelMovementIn,
    BowelMovementOut,
)
def post_bowel_movement(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Log a bowel movement with its Bristol type (1-7)."""
    return entry.record(diary.record_bowel_movement)


@blp.entry_listing(
    "bowel-movements", policy.patient("bowel_movements.read", policy.READERS), BowelMovementListOut
)
def list_bowel_movements(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Bowel movements, newest first."""
    rows = diary.listing(
        db.session, BowelMovement, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": rows}


@blp.entry_post("symptoms", policy.patient("symptoms.write", policy.LOGGERS), SymptomIn, SymptomOut)
def post_symptoms(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Report symptoms; red flags come back at once with the advice to show, and the care
    team's escalation is opened in the same transaction."""
    return entry.record(diary.record_symptoms, with_content=True)


@blp.entry_listing("symptoms", policy.patient("symptoms.read", policy.READERS), SymptomListOut)
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


@blp.entry_post("weights", policy.patient("weights.write", policy.READERS), WeightIn, WeightOut)
def post_weight(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Record a weight in kg."""
    return entry.record(diary.record_weight)


@blp.entry_listing("weights", policy.patient("weights.read", policy.READERS), WeightListOut)
def list_weights(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Weights, newest first."""
    rows = diary.listing(
        db.session, Weight, current_patient(), since=args.get("since"), limit=args["limit"]
    )
    return {"items": rows}
