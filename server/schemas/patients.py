"""Patients: enrolment, the detail (status, next blood test, open red flags), tablet strengths."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import fields, validate

from server.domain.codes import ANC_BANDS, TRAFFIC_LIGHTS
from server.domain.tablets import TABLET_STRENGTHS_MG
from server.domain.treatment import COURSE_STATES
from server.schemas.clinic import PatientContactOut
from server.schemas.common import In, Instant, Out, validate_timezone


class PatientIn(In):
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    timezone = fields.String(required=True, validate=validate_timezone)
    clozapine_start_date = fields.Date(
        required=True,
        validate=validate.Range(min=dt.date(1990, 1, 1), max=dt.date(2100, 1, 1)),
    )
    benign_ethnic_neutropenia = fields.Boolean(load_default=False)


class NoneAsEmpty(fields.List):
    """A list column that may be NULL, answered as [] (not set)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(value or [], attr, obj, **kwargs)


class PatientOut(Out):
    """The Patient row (as `patient`: a PatientSummary or an Enrolment), without status."""

    id = fields.Integer(attribute="patient.id")
    clinic_id = fields.Integer(attribute="patient.clinic_id")
    display_name = fields.String(attribute="patient.display_name")
    timezone = fields.String(attribute="patient.timezone")
    clozapine_start_date = fields.Date(attribute="patient.clozapine_start_date")
    benign_ethnic_neutropenia = fields.Boolean(attribute="patient.benign_ethnic_neutropenia")
    created_at = Instant(attribute="patient.created_at")
    tablet_strengths_mg = NoneAsEmpty(
        fields.Float(),
        attribute="patient.tablet_strengths_mg",
        metadata={"description": "The clozapine tablet strengths the patient has ([]: not set)."},
    )


class TabletStrengthsIn(In):
    strengths_mg = fields.List(
        fields.Float(validate=validate.OneOf(TABLET_STRENGTHS_MG)),
        required=True,
        validate=validate.Length(max=len(TABLET_STRENGTHS_MG)),
        metadata={"description": "Each one of 12.5, 25, 50, 100, 200; [] clears them."},
    )


class TabletStrengthsOut(Out):
    """A Patient row's tablet strengths."""

    strengths_mg = fields.List(fields.Float(), attribute="tablet_strengths_mg")


class TreatmentAdviceOut(Out):
    title = fields.String()
    patient = fields.String(metadata={"description": "What to do instead, for the patient."})
    caregiver = fields.String(metadata={"description": "The same, for the person helping."})


class AdherenceOut(Out):
    """A state.Adherence."""

    taken = fields.Integer()
    due = fields.Integer()


class PatientStatusOut(Out):
    """A state.PatientStatus."""

    adherence_7d = fields.Nested(AdherenceOut)
    push_reachable = fields.Boolean()
    treatment = fields.String(metadata={"enum": sorted(COURSE_STATES)})
    treatment_since = Instant(allow_none=True)
    treatment_cause = fields.String(metadata={"description": "Why the course is in its state."})
    restart_on = fields.Date(
        allow_none=True, metadata={"description": "A paused course restarts on this date."}
    )
    rechallenge = fields.String(allow_none=True)
    rechallenge_cause = fields.String(allow_none=True)
    doses_withheld = fields.Boolean()
    treatment_actions = fields.List(
        fields.String(),
        metadata={"description": "The clinician actions (hold, resume, stop) the state allows."},
    )
    plan_kinds = fields.List(
        fields.String(), metadata={"description": "The plan kinds the state allows."}
    )
    default_plan_kind = fields.String(
        metadata={"description": "The kind a new plan takes when none is given."}
    )
    anc_band = fields.String(allow_none=True)
    needs_retitration = fields.Boolean()
    last_bowel_movement_at = Instant(allow_none=True)
    last_dose_taken_at = Instant(allow_none=True)
    tracking_since = Instant(allow_none=True)


class NextBloodTestOut(Out):
    """A state.NextBloodTest."""

    test = fields.String()
    due_date = fields.Date()
    status = fields.String()
    days_away = fields.Integer()


class OpenRedFlagOut(Out):
    """A patients.OpenRedFlag: the Escalation row and the advice read for it."""

    id = fields.Integer(attribute="escalation.id")
    rule = fields.String(attribute="escalation.rule")
    severity = fields.String(attribute="escalation.severity")
    status = fields.String(attribute="escalation.status")
    opened_at = Instant(attribute="escalation.opened_at")
    title = fields.String()
    advice = fields.String()
    caregiver_advice = fields.String(metadata={"description": "The same, for the person helping."})
    call_now = fields.Boolean()


class AncBandEdgeOut(Out):
    """An anc.AncBandEdge: where one ANC band begins."""

    min_cells_per_ul = fields.Float(
        metadata={
            "description": "A count (cells/uL) at or above this, and below the edge above it, "
            "is in the band."
        }
    )
    band = fields.String(metadata={"enum": sorted(ANC_BANDS)})
    traffic_light = fields.String(
        allow_none=True,
        metadata={
            "enum": sorted(TRAFFIC_LIGHTS),
            "description": "The UK light of the band (null: a profile without traffic lights).",
        },
    )


class PatientDetailOut(PatientOut):
    """A patients.PatientSummary."""

    status = fields.Nested(PatientStatusOut)
    next_blood_test = fields.Nested(NextBloodTestOut, allow_none=True)
    open_red_flags = fields.List(fields.Nested(OpenRedFlagOut))
    treatment_advice = fields.Nested(
        TreatmentAdviceOut,
        allow_none=True,
        metadata={"description": "While doses are withheld: what to do instead (content/)."},
    )
    care_team_contact = fields.Nested(
        PatientContactOut,
        metadata={"description": 'The clinic\'s number and hours for "Call my care team".'},
    )
    anc_band_edges = fields.List(
        fields.Nested(AncBandEdgeOut),
        metadata={
            "description": "The bands the patient's ANC results are read with, highest first, "
            "the last beginning at 0: those of the clinic's monitoring profile (its BEN table "
            "for a patient with benign ethnic neutropenia, where the profile has one; under "
            "traffic lights, the lights' neutrophil cut-offs). The care team's chart draws a "
            "line at each edge above 0."
        },
    )


class PatientCreatedOut(PatientOut):
    """An accounts.Enrolment."""

    activation_code = fields.String()
    activation_expires_at = Instant()


class PatientListOut(Out):
    items = fields.List(fields.Nested(PatientDetailOut))
