"""Doses: the doses of a day, a month at a glance, and marking a dose taken or skipped."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from server import policy
from server.api.access import access, current_patient, now
from server.api.clinical.blueprint import blp
from server.api.common import BASE, PostedEntry
from server.extensions import db
from server.schemas.doses import (
    DayDosesOut,
    DoseEventIn,
    DoseEventListOut,
    DoseEventOut,
    DosesQuery,
    MonthOut,
    MonthQuery,
)
from server.services import doses, month


@blp.route(f"{BASE}/doses", methods=["GET"])
@access(policy.patient("doses.read", policy.READERS))
@blp.arguments(DosesQuery, location="query")
@blp.response(200, DayDosesOut)
def get_doses(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """The doses of one local date (default today): pending, taken, skipped, missed, or
    withheld while the treatment course withholds them (`doses_withheld`). Reading makes no
    doses: a date outside the plan's range answers with none."""
    return doses.doses_of_day(db.session, current_patient(), args.get("date"), now())


@blp.route(f"{BASE}/month", methods=["GET"])
@access(policy.patient("month.read", policy.READERS))
@blp.arguments(MonthQuery, location="query")
@blp.response(200, MonthOut)
def get_month(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """A month at a glance (default this one), day by day up to today: doses by status, bowel
    movements with their Bristol types, symptoms and the highest temperature."""
    wanted = args.get("month")
    chosen = (int(wanted[:4]), int(wanted[5:])) if wanted else None
    return month.month_view(db.session, current_patient(), chosen, now())


@blp.entry_post(
    "dose-events", policy.patient("dose_events.write", policy.LOGGERS), DoseEventIn, DoseEventOut
)
def post_dose_event(entry: PostedEntry, patient_id: int) -> ResponseReturnValue:
    """Mark a dose taken or skipped (409 when it is already recorded so, and 409
    `dose_withheld` while the treatment course withholds doses, or for a dose its stop
    cancelled; 409 `dose_replaced` for a dose a newer plan replaced; a dose taken before the
    course was paused or stopped, or before the plan that replaced it, inside its window, is
    still recorded taken with that time). A dose taken
    comes off the clozapine stock (`/medicines`); a skip with `reason_code: ran_out` opens (or
    adds to) the care team's routine `out_of_clozapine` escalation."""
    return entry.record(doses.record_dose_event, with_content=True)


@blp.entry_listing(
    "dose-events", policy.patient("dose_events.read", policy.READERS), DoseEventListOut
)
def list_dose_events(args: dict[str, Any], patient_id: int) -> ResponseReturnValue:
    """Dose events, newest first."""
    rows = doses.dose_events(db.session, current_patient(), args.get("since"), args["limit"])
    return {
        "items": [
            {
                "id": e.id,
                "dose_id": e.dose_id,
                "status": e.status,
                "at": e.at,
                "reason": e.reason,
            }
            for e in rows
        ]
    }
