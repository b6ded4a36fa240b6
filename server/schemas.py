"""marshmallow In/Out schemas: the API's edge. Syntax and ranges only; rules live in the domain."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.domain import SYMPTOM_CODES
from server.domain.lab_units import UNITS as LAB_UNITS
from server.domain.supply import MAX_TIMES_A_DAY, MEDICINE_KINDS, SKIP_REASONS
from server.domain.tablets import TABLET_STRENGTHS_MG
from server.domain.treatment import COURSE_STATES, PLAN_KINDS, ClinicianAction, Rechallenge

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("Not an IANA time zone name (for example Europe/London).")


def validate_email(value: str) -> None:
    if not EMAIL.match(value.strip()):
        raise ValidationError("Not a valid email address.")


class In(Schema):
    """Requests: unknown fields are refused (marshmallow's default, kept explicit)."""

    class Meta:
        unknown = "raise"


class Out(Schema):
    pass


# the largest id a row can have (a 64-bit column): a larger one is no row, and no database
# can even compare it
MAX_ROW_ID = 2**63 - 1
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)


class BoundedInstant(fields.AwareDateTime):
    """An instant between 1900 and 2999: year 1 with an offset east of UTC, or 9999 west of
    it, is no instant Python can hold in UTC, and no entry of this app is that far away."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_utc = instant.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("Use a time between the years 1900 and 2999.") from exc
        if not EARLIEST <= in_utc < LATEST:
            raise ValidationError("Use a time between the years 1900 and 2999.")
        return instant


class BoundedDate(fields.Date):
    """A calendar date between 1900 and 2999 (a range of days can be counted from it)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= day < LATEST.date():
            raise ValidationError("Use a date between the years 1900 and 2999.")
        return day


def Instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 timestamp that must carry an offset."""
    return BoundedInstant(format="iso", **kwargs)


Name = fields.String  # shorthand for readability below


class ErrorBody(Out):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorOut(Out):
    error = fields.Nested(ErrorBody, required=True)


# --- sessions and accounts -------------------------------------------------------------------


class SignInIn(In):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserOut(Out):
    id = fields.Integer()
    role = fields.String()
    email = fields.String()
    display_name = fields.String()
    patient_id = fields.Integer(allow_none=True)
    clinic_id = fields.Integer(allow_none=True)
    caregiver_of = fields.List(fields.Integer())
    language = fields.String(
        allow_none=True,
        metadata={
            "description": "the language this person reads the apps and their notifications "
            "in (`en`, `es`, ...); empty until their first sign-in, which takes the browser's"
        },
    )


class LanguageIn(In):
    language = fields.String(required=True, validate=validate.Length(min=2, max=16))


class SessionOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class MeOut(Out):
    user = fields.Nested(UserOut)
    csrf_token = fields.String()


class ActivateIn(In):
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class InviteOut(Out):
    code = fields.String()
    expires_at = Instant()


class ActivationOut(Out):
    """The same answer whether or not the email already had an account."""

    role = fields.String(
        metadata={"description": "`patient` or `caregiver`: what the code was for"}
    )
    email = fields.String()
    patient_id = fields.Integer()


class AcceptInviteIn(In):
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))


class PasswordChangeIn(In):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class PasswordResetIn(In):
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    code = fields.String(required=True, validate=validate.Length(min=8, max=40))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ResetCodeIn(In):
    user_id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ROW_ID),
        metadata={"description": "the patient's login or one of their caregivers"},
    )


class ResetCodeOut(Out):
    code = fields.String()
    expires_at = Instant()
    user_id = fields.Integer()
    email = fields.String()
    display_name = fields.String()


class CaregiverOut(Out):
    id = fields.Integer()
    display_name = fields.String()
    email = fields.String()
    since = Instant()


class OpenInviteOut(Out):
    id = fields.Integer()
    created_at = Instant()
    expires_at = Instant()


class LoginOut(Out):
    id = fields.Integer()
    display_name = fields.String()
    email = fields.String()


class CaregiversOut(Out):
    login = fields.Nested(
        LoginOut, allow_none=True, metadata={"description": "the patient's own login, if made"}
    )
    caregivers = fields.List(fields.Nested(CaregiverOut))
    invites = fields.List(fields.Nested(OpenInviteOut))


class CreateUserIn(In):
    role = fields.String(required=True, validate=validate.OneOf(["clinician", "admin"]))
    email = fields.String(required=True, validate=[validate.Length(max=254), validate_email])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    clinic = fields.String(required=True, validate=validate.Length(min=1, max=200))


# --- patients ---------------------------------------------------------------------------------


class PatientIn(In):
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    timezone = fields.String(required=True, validate=validate_timezone)
    clozapine_start_date = fields.Date(
        required=True,
        validate=validate.Range(min=dt.date(1990, 1, 1), max=dt.date(2100, 1, 1)),
    )
    benign_ethnic_neutropenia = fields.Boolean(load_default=False)


class PatientOut(Out):
    id = fields.Integer()
    clinic_id = fields.Integer()
    display_name = fields.String()
    timezone = fields.String()
    clozapine_start_date = fields.Date()
    benign_ethnic_neutropenia = fields.Boolean()
    created_at = Instant()
    tablet_strengths_mg = fields.List(
        fields.Float(),
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
    strengths_mg = fields.List(fields.Float())


class TreatmentAdviceOut(Out):
    title = fields.String()
    patient = fields.String(metadata={"description": "What to do instead, for the patient."})
    caregiver = fields.String(metadata={"description": "The same, for the person helping."})


class PatientDetailOut(PatientOut):
    status = fields.Nested("PatientStatusOut")
    next_blood_test = fields.Nested("NextBloodTestOut", allow_none=True)
    open_red_flags = fields.List(fields.Nested("OpenRedFlagOut"))
    treatment_advice = fields.Nested(
        TreatmentAdviceOut,
        allow_none=True,
        metadata={"description": "While doses are withheld: what to do instead (content/)."},
    )
    care_team_contact = fields.Nested(
        "PatientContactOut",
        metadata={"description": 'The clinic\'s number and hours for "Call my care team".'},
    )


class PatientCreatedOut(PatientOut):
    activation_code = fields.String()
    activation_expires_at = Instant()


class PatientListOut(Out):
    items = fields.List(fields.Nested(PatientDetailOut))


class AuditEventOut(Out):
    id = fields.Integer()
    at = Instant()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    patient_id = fields.Integer(allow_none=True)
    action = fields.String()
    method = fields.String()
    path = fields.String()
    address = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True)


class AuditListOut(Out):
    items = fields.List(fields.Nested(AuditEventOut))


class AuditQuery(In):
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    kind = fields.String(
        load_default="all",
        validate=validate.OneOf(["all", "changes", "reads"]),
        metadata={"description": "`changes`: writes only (not GET); `reads`: GET only."},
    )
    hide_own_reads = fields.Boolean(
        load_default=False,
        metadata={"description": "Leave out the caller's own reads (their page views)."},
    )


class HealthOut(Out):
    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())


# --- clinical core ----------------------------------------------------------------------------

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use 24-hour HH:MM, e.g. 08:00.")
Text = fields.String  # alias for readability


class CollectionQuery(In):
    since = Instant(metadata={"description": "Only entries recorded at or after this instant."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class DosePlanStepIn(In):
    day = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=366))
    doses_mg = fields.List(
        fields.Float(allow_nan=False, validate=validate.Range(min=0, max=900)),
        required=True,
        validate=validate.Length(min=1, max=3),
    )


class DosePlanIn(In):
    start_date = fields.Date(required=True)
    times = fields.List(
        fields.String(validate=HHMM), required=True, validate=validate.Length(min=1, max=3)
    )
    kind = fields.String(
        validate=validate.OneOf(sorted(PLAN_KINDS)),
        metadata={
            "description": "initiation or retitration (day 1 at 12.5-25 mg), maintenance (an "
            "established patient or a dose change), taper (down to zero, then the course "
            "stops). Default: initiation for a first plan, retitration while the course needs "
            "re-titration, else maintenance."
        },
    )
    titration = fields.String(validate=validate.OneOf(["standard", "retitration", "custom"]))
    target_mg_per_day = fields.Float(allow_nan=False, validate=validate.Range(min=12.5, max=900))
    taper_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=7, max=14),
        metadata={"description": "A taper without steps: how many days it steps down over."},
    )
    steps = fields.List(fields.Nested(DosePlanStepIn), validate=validate.Length(min=1, max=200))


class PlanDoseOut(Out):
    time = fields.String()
    mg = fields.Float()


class PlanDayOut(Out):
    day = fields.Integer()
    date = fields.Date()
    doses = fields.List(fields.Nested(PlanDoseOut))
    total_mg = fields.Float()


class PlanIssueOut(Out):
    code = fields.String()
    message = fields.String()
    field = fields.String()


class DosePlanOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer()
    version = fields.Integer()
    kind = fields.String(metadata={"enum": sorted(PLAN_KINDS)})
    generator = fields.String(
        metadata={"description": "standard, retitration, maintenance, taper or custom"}
    )
    rechallenge = fields.String(
        allow_none=True,
        metadata={"description": "not_advised: restarting clozapine is not advised"},
    )
    start_date = fields.Date()
    times = fields.List(fields.String())
    target_mg_per_day = fields.Float(allow_none=True)
    steps = fields.List(fields.Dict())
    warnings = fields.List(fields.Nested(PlanIssueOut))
    created_at = Instant()
    days = fields.List(fields.Nested(PlanDayOut))
    maintenance_from = fields.Date()


class DosesQuery(In):
    date = fields.Date(metadata={"description": "The patient's local date; default today."})


class MonthQuery(In):
    month = fields.String(
        validate=validate.Regexp(r"^(199\d|20\d\d)-(0[1-9]|1[0-2])$", error="Use YYYY-MM."),
        metadata={"description": "The month, YYYY-MM (the patient's calendar); default this one."},
    )


class MonthDayOut(Out):
    date = fields.Date()
    doses = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "How many doses of the day are taken, skipped, missed, ..."},
    )
    bowel_movements = fields.Integer()
    bristol_types = fields.List(fields.Integer())
    symptoms = fields.List(fields.String(), metadata={"description": "Symptom codes reported."})
    highest_temperature_c = fields.Float(allow_none=True)


class MonthOut(Out):
    month = fields.String()
    previous = fields.String()
    next = fields.String(allow_none=True, metadata={"description": "None for this month."})
    days = fields.List(fields.Nested(MonthDayOut), metadata={"description": "Up to today."})


class DoseOut(Out):
    id = fields.Integer()
    scheduled_at = Instant()
    local_date = fields.Date()
    local_time = fields.String()
    mg = fields.Float()
    status = fields.String(metadata={"enum": ["pending", "taken", "skipped", "missed", "withheld"]})
    status_at = Instant(allow_none=True)
    tablets = fields.List(
        fields.Nested("TabletsOut"),
        allow_none=True,
        metadata={
            "description": "The tablets that make this dose, largest first (null: the "
            "patient's strengths are not set; []: they cannot make it, ask the care team)."
        },
    )
    can_mark = fields.Boolean(
        metadata={"description": "Marking it taken or skipped now would be accepted."}
    )
    mark_from = Instant(metadata={"description": "The earliest time it can be marked."})
    mark_until = Instant(metadata={"description": "The latest time it can be marked."})


class TabletsOut(Out):
    strength_mg = fields.Float()
    whole = fields.Integer(metadata={"description": "Whole tablets of this strength."})
    half = fields.Boolean(metadata={"description": "And half a tablet of it."})


class DayDosesOut(Out):
    date = fields.Date()
    treatment = fields.String(metadata={"enum": sorted(COURSE_STATES)})
    doses_withheld = fields.Boolean(
        metadata={"description": "The course withholds doses: none is to be taken or marked."}
    )
    doses = fields.List(fields.Nested(DoseOut))


class DoseEventIn(In):
    dose_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID)
    )
    status = fields.String(required=True, validate=validate.OneOf(["taken", "skipped"]))
    at = Instant(required=True)
    reason = fields.String(validate=validate.Length(max=200))
    reason_code = fields.String(
        validate=validate.OneOf(sorted(SKIP_REASONS)),
        metadata={"description": "why a dose was skipped; `ran_out` tells the care team"},
    )


class DoseEventOut(Out):
    id = fields.Integer()
    dose_id = fields.Integer()
    status = fields.String()
    at = fields.String(metadata={"format": "date-time"})
    reason = fields.String(allow_none=True)
    reason_code = fields.String(allow_none=True)
    dose = fields.Dict()


class DoseEventListOut(Out):
    items = fields.List(fields.Nested(DoseEventOut))


class MedicineIn(In):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(sorted(MEDICINE_KINDS)),
        metadata={
            "description": "laxative, other, or clozapine (its stock only: the plan "
            "gives its doses)"
        },
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    times = fields.List(
        fields.String(validate=HHMM),
        validate=validate.Length(max=MAX_TIMES_A_DAY),
        metadata={"description": "times of day in the patient's zone (not for clozapine)"},
    )
    dose_text = fields.String(allow_none=True, validate=validate.Length(max=120))
    units_per_dose = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0.25, max=100),
        metadata={"description": "what one dose takes from the stock (default 1)"},
    )
    strength_mg = fields.Float(
        allow_none=True,
        validate=validate.OneOf([12.5, 25, 50, 100, 200]),
        metadata={"description": "clozapine: the strength of the tablets counted in `stock`"},
    )
    stock = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=10000),
        metadata={"description": "units (tablets, sachets...) on hand now"},
    )


class MedicineChangeIn(MedicineIn):
    kind = fields.String(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    stopped = fields.Boolean(metadata={"description": "true takes it off the list"})


class MedicineDoseOut(Out):
    scheduled_at = fields.AwareDateTime()
    local_time = fields.String()
    status = fields.String(metadata={"enum": ["pending", "taken", "skipped", "missed"]})
    at = fields.AwareDateTime(allow_none=True)


class SupplyNoteOut(Out):
    code = fields.String()
    title = fields.String()
    text = fields.String()


class MedicineOut(Out):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": sorted(MEDICINE_KINDS)})
    name = fields.String()
    times = fields.List(fields.String())
    dose_text = fields.String(allow_none=True)
    units_per_dose = fields.Float(allow_none=True)
    strength_mg = fields.Float(allow_none=True)
    stock = fields.Float(allow_none=True)
    stock_counted_at = fields.AwareDateTime(allow_none=True)
    runs_out_on = fields.Date(
        allow_none=True, metadata={"description": "the day of the first dose the stock misses"}
    )
    refill_due = fields.Boolean(metadata={"description": "it runs out within 7 days"})
    blood_for_supply = fields.String(
        allow_none=True,
        metadata={
            "enum": ["in", "needed", "unknown"],
            "description": "clozapine: whether the blood result the next supply needs is in",
        },
    )
    supply_note = fields.Nested(SupplyNoteOut, allow_none=True)
    today = fields.List(fields.Nested(MedicineDoseOut))


class MedicineListOut(Out):
    date = fields.Date()
    items = fields.List(fields.Nested(MedicineOut))


class MedicineEventIn(In):
    medicine_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    scheduled_at = Instant(required=True, metadata={"description": "the dose's time"})
    status = fields.String(required=True, validate=validate.OneOf(["taken", "skipped"]))
    at = Instant(required=True)
    reason_code = fields.String(validate=validate.OneOf(sorted(SKIP_REASONS)))


class MedicineEventOut(Out):
    id = fields.Integer()
    medicine_id = fields.Integer()
    scheduled_at = fields.String(metadata={"format": "date-time"})
    status = fields.String()
    at = fields.String(metadata={"format": "date-time"})
    reason_code = fields.String(allow_none=True)
    stock = fields.Float(allow_none=True)
    runs_out_on = fields.String(allow_none=True, metadata={"format": "date"})


class BowelMovementIn(In):
    occurred_at = Instant(required=True)
    bristol_type = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=7))
    notes = fields.String(validate=validate.Length(max=1000))


class BowelMovementOut(Out):
    id = fields.Integer()
    occurred_at = fields.String(metadata={"format": "date-time"})
    bristol_type = fields.Integer()
    notes = fields.String(allow_none=True)
    recorded_at = fields.String(metadata={"format": "date-time"})


class BowelMovementListOut(Out):
    items = fields.List(fields.Nested(BowelMovementOut))


class SymptomIn(In):
    occurred_at = Instant(required=True)
    symptoms = fields.List(
        fields.String(
            validate=validate.OneOf(sorted(SYMPTOM_CODES), error="Unknown symptom code.")
        ),
        required=True,
        validate=validate.Length(max=30),
        metadata={"description": "May be empty when temperature_c is given."},
    )
    # The plausible range (30-45 C) is checked by the service: a temperature outside it is
    # refused on its own field while the symptoms of the report are still recorded.
    temperature_c = fields.Float(
        allow_none=True,
        allow_nan=False,
        metadata={
            "description": "Body temperature in C, 30-45. Outside that range it is not saved: "
            "the report is recorded without it and the answer's refused_fields says why (with "
            "no symptom ticked, the report is refused: 422 on temperature_c)."
        },
    )
    notes = fields.String(validate=validate.Length(max=2000))

    @validates_schema
    def _something_to_report(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("symptoms") and data.get("temperature_c") is None:
            raise ValidationError("Tick a symptom or give a temperature.", "symptoms")


class RedFlagOut(Out):
    rule = fields.String()
    severity = fields.String()
    advice = fields.String(metadata={"description": "What the patient should do now."})
    advice_code = fields.String()
    caregiver_advice = fields.String(allow_none=True)
    title = fields.String()
    call_now = fields.Boolean()
    guidance = fields.String(allow_none=True)


class SymptomOut(Out):
    id = fields.Integer()
    occurred_at = fields.String(metadata={"format": "date-time"})
    symptoms = fields.List(fields.String())
    temperature_c = fields.Float(allow_none=True)
    notes = fields.String(allow_none=True)
    red_flags = fields.List(fields.Nested(RedFlagOut))
    escalation_ids = fields.List(fields.Integer())
    refused_fields = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Fields of the report that were not saved, with why (the rest of "
            "the report was recorded), e.g. an implausible temperature_c."
        },
    )
    recorded_at = fields.String(metadata={"format": "date-time"})


class SymptomListItemOut(Out):
    id = fields.Integer()
    occurred_at = fields.String(metadata={"format": "date-time"})
    symptoms = fields.List(fields.String())
    temperature_c = fields.Float(allow_none=True)
    notes = fields.String(allow_none=True)
    red_flags = fields.List(fields.Nested(RedFlagOut))
    recorded_at = fields.String(metadata={"format": "date-time"})


class SymptomListOut(Out):
    items = fields.List(fields.Nested(SymptomListItemOut))


class WeightIn(In):
    measured_at = Instant(required=True)
    kg = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=20, max=400))


class WeightOut(Out):
    id = fields.Integer()
    measured_at = fields.String(metadata={"format": "date-time"})
    kg = fields.Float()
    recorded_at = fields.String(metadata={"format": "date-time"})


class WeightListOut(Out):
    items = fields.List(fields.Nested(WeightOut))


class LabResultIn(In):
    test = fields.String(
        required=True,
        validate=validate.OneOf(list(LAB_UNITS)),
    )
    value = fields.Float(required=True, allow_nan=False)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    collected_at = Instant(required=True)
    wbc = fields.Float(allow_nan=False, validate=validate.Range(min=0, max=500))
    upper_limit = fields.Float(
        allow_nan=False,
        validate=validate.Range(min=1, max=10_000),
        metadata={
            "description": "The laboratory's upper limit of normal, in the result's unit; "
            "required from the care team for troponin, alt and ast (they are read against it)."
        },
    )
    symptomatic = fields.Boolean(
        metadata={"description": "alt/ast: the patient has symptoms of liver injury."}
    )


class DiscrepancyOut(Out):
    clinic_result_id = fields.Integer()
    clinic_value = fields.Float()
    clinic_unit = fields.String(allow_none=True)
    clinic_collected_at = fields.String(metadata={"format": "date-time"})


class LabResultOut(Out):
    id = fields.Integer()
    test = fields.String()
    value = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    wbc = fields.Float(allow_none=True)
    upper_limit = fields.Float(allow_none=True)
    symptomatic = fields.Boolean(allow_none=True)
    collected_at = fields.String(metadata={"format": "date-time"})
    source = fields.String(
        metadata={
            "enum": ["clinic", "patient", "caregiver"],
            "description": "Who recorded it: only the clinic's results decide the band, the "
            "baseline, the schedule and the treatment state.",
        }
    )
    counts = fields.Boolean(metadata={"description": "Whether it is the clinic's result."})
    band = fields.String(allow_none=True)
    interpretation = fields.Dict(
        allow_none=True,
        metadata={
            "description": "A clinic count: band, traffic_light (UK), action, next_test_due, "
            "confirm_within_24h; the care team also reads action_text, monitoring and the "
            "escalation. A marker, level or liver test: finding and multiple_of_upper_limit. "
            "The patient's side gets no action_text but `advice` {code, title, text} in its "
            "own words. A copy: counts false."
        },
    )
    discrepancy = fields.Nested(
        DiscrepancyOut,
        allow_none=True,
        metadata={"description": "A copy far from the clinic's value of the same day."},
    )
    recorded_at = fields.String(metadata={"format": "date-time"})


class LabResultListOut(Out):
    items = fields.List(fields.Nested(LabResultOut))


class StepDownDetailOut(Out):
    clock_from = fields.Date(metadata={"description": "Treatment weeks count from this date."})
    from_week = fields.Integer()
    from_interval_days = fields.Integer()
    to_interval_days = fields.Integer()


class CareTaskOut(Out):
    id = fields.String()
    kind = fields.String(metadata={"enum": ["anc_step_down"]})
    patient_id = fields.Integer()
    patient_name = fields.String()
    since = fields.Date()
    detail = fields.Nested(StepDownDetailOut)


class CareTaskListOut(Out):
    items = fields.List(fields.Nested(CareTaskOut))


class ScheduledAncOut(Out):
    test = fields.String()
    due_date = fields.Date()
    reason = fields.String()


class CareTaskConfirmedOut(Out):
    id = fields.String()
    confirmed_at = fields.DateTime(format="iso")
    next_blood_test = fields.Nested(ScheduledAncOut, allow_none=True)


class DueTestOut(Out):
    test = fields.String()
    due_date = fields.Date()
    status = fields.String(metadata={"enum": ["upcoming", "due", "overdue"]})
    reason = fields.String()


class BloodTestsOut(Out):
    upcoming = fields.List(fields.Nested(DueTestOut))
    history = fields.List(fields.Nested(LabResultOut))


class EscalationQuery(In):
    status = fields.String(
        validate=validate.OneOf(["open", "acknowledged", "resolved", "unresolved"])
    )
    patient_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ROW_ID))
    resolved_since = Instant(
        metadata={
            "description": "Only those resolved since this instant, the latest resolution "
            "first (with `status` left out or `resolved`)."
        }
    )


class EscalationOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer()
    rule = fields.String()
    severity = fields.String()
    status = fields.String()
    opened_at = Instant()
    summary = fields.String()
    acknowledged_at = Instant(allow_none=True)
    resolved_at = Instant(allow_none=True)
    resolution_note = fields.String(allow_none=True)
    evidence = fields.List(fields.Dict())
    patient_name = fields.String(allow_none=True)
    title = fields.String()
    clinician_advice = fields.String(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True)
    resolved_by = fields.String(allow_none=True)


class EscalationListOut(Out):
    escalations = fields.List(fields.Nested(EscalationOut))


class PulseQuery(In):
    since = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "The `version` of the last answer: `changed` says if it moved."},
    )


class PulseWaitingOut(Out):
    emergency = fields.Integer()
    urgent = fields.Integer()
    routine = fields.Integer()


class PulseNewOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer()
    patient_name = fields.String()
    rule = fields.String()
    title = fields.String()
    severity = fields.String()
    opened_at = Instant()


class PulseOut(Out):
    version = fields.String(
        metadata={"description": "Changes when an escalation opens, changes or is closed."}
    )
    changed = fields.Boolean(metadata={"description": "Whether `version` differs from `since`."})
    unresolved = fields.Integer()
    waiting = fields.Nested(PulseWaitingOut, metadata={"description": "Not yet acknowledged."})
    new = fields.List(
        fields.Nested(PulseNewOut),
        metadata={"description": "The escalations nobody has acknowledged, most serious first."},
    )


class ResolveIn(In):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class GuidanceQuery(In):
    audience = fields.String(validate=validate.OneOf(["patient", "clinician"]))


class GuidanceItemOut(Out):
    slug = fields.String()
    title = fields.String()
    summary = fields.String()
    topic = fields.String()
    audience = fields.String()
    reviewed = fields.String(
        allow_none=True,
        metadata={"description": "the last clinical review; null while a translation awaits one"},
    )
    language = fields.String(metadata={"description": "the language of this text (BCP 47)"})
    awaiting_review = fields.Boolean(
        metadata={"description": "a translation not yet reviewed by a fluent clinician"}
    )


class GuidanceListOut(Out):
    items = fields.List(fields.Nested(GuidanceItemOut))


class GuidancePageOut(GuidanceItemOut):
    sources = fields.List(fields.String())
    related = fields.List(fields.String())
    blocks = fields.List(fields.Dict())


class CatalogueOut(Out):
    symptoms = fields.List(fields.Dict())
    bristol = fields.List(fields.Dict())
    advice = fields.Dict()


class AdherenceOut(Out):
    taken = fields.Integer()
    due = fields.Integer()


class PatientStatusOut(Out):
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
    test = fields.String()
    due_date = fields.Date()
    status = fields.String()
    days_away = fields.Integer()


class OpenRedFlagOut(Out):
    id = fields.Integer()
    rule = fields.String()
    severity = fields.String()
    status = fields.String()
    opened_at = Instant()
    title = fields.String()
    advice = fields.String()
    caregiver_advice = fields.String(metadata={"description": "The same, for the person helping."})
    call_now = fields.Boolean()


# --- push -----------------------------------------------------------------------------------


class VapidKeyOut(Out):
    key = fields.String()


class SubscriptionKeysIn(In):
    p256dh = fields.String(required=True, validate=validate.Length(min=20, max=200))
    auth = fields.String(required=True, validate=validate.Length(min=10, max=100))


class PushSubscriptionIn(In):
    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2048))
    keys = fields.Nested(SubscriptionKeysIn, required=True)
    expirationTime = fields.Raw(allow_none=True)


class PushSubscriptionOut(Out):
    id = fields.Integer()
    endpoint = fields.String()


class UnsubscribeIn(In):
    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2048))


class SnoozeIn(In):
    minutes = fields.Integer(required=True, strict=True, validate=validate.OneOf([10, 30, 60]))


class SnoozeOut(Out):
    dose_id = fields.Integer()
    snoozed_until = Instant()


class ReminderSettingsIn(In):
    quiet_start = fields.String(allow_none=True, validate=HHMM)
    quiet_end = fields.String(allow_none=True, validate=HHMM)
    check_in_time = fields.String(validate=HHMM)


class ReminderSettingsOut(Out):
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    check_in_time = fields.String()


# --- clinic settings -------------------------------------------------------------------------


class WindowsIn(In):
    emergency = fields.Integer(validate=validate.Range(min=1, max=240))
    urgent = fields.Integer(validate=validate.Range(min=1, max=24 * 60))
    routine = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=7 * 24 * 60))


class OnCallIn(In):
    name = fields.String(validate=validate.Length(max=120))
    email = fields.String(allow_none=True, validate=[validate.Length(max=254), validate_email])
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    user_id = fields.Integer(allow_none=True)


def validate_phone(value: str) -> None:
    """A number a phone can dial: digits with spaces, dashes, dots, brackets, a leading +."""
    if not re.fullmatch(r"\+?[0-9][0-9 ().-]*[0-9]", value) or sum(c.isdigit() for c in value) < 3:
        raise ValidationError("Write a phone number, for example +44 20 7946 0000.")


class PatientContactIn(In):
    phone = fields.String(
        allow_none=True, validate=[validate.Length(min=3, max=40), validate_phone]
    )
    hours = fields.String(allow_none=True, validate=validate.Length(min=1, max=120))


class ClinicSettingsIn(In):
    monitoring_profile = fields.String(validate=validate.Length(min=1, max=40))
    escalation_windows_minutes = fields.Nested(WindowsIn)
    on_call = fields.Nested(OnCallIn)
    webhook_url = fields.Url(allow_none=True, schemes={"https", "http"}, require_tld=False)
    webhook_secret = fields.String(allow_none=True, validate=validate.Length(min=16, max=200))
    email_recipients = fields.List(
        fields.String(validate=[validate.Length(max=254), validate_email]),
        validate=validate.Length(max=20),
    )
    caregiver_rules = fields.List(fields.String(validate=validate.Length(max=40)))
    timezone = fields.String(validate=validate_timezone)
    patient_contact = fields.Nested(
        PatientContactIn,
        metadata={
            "description": "The care team's number and hours, shown to patients and "
            'caregivers beside the emergency button ("Call my care team").'
        },
    )


class AlertContactsIn(In):
    """Who is told about escalations: what a clinician may change (the rest is the admin's)."""

    on_call = fields.Nested(OnCallIn)
    email_recipients = fields.List(
        fields.String(validate=[validate.Length(max=254), validate_email]),
        validate=validate.Length(max=20),
    )


class ClinicSettingsOut(Out):
    name = fields.String()
    monitoring_profile = fields.String()
    available_profiles = fields.List(fields.String())
    escalation_windows_minutes = fields.Dict()
    on_call = fields.Dict()
    webhook_url = fields.String(allow_none=True)
    webhook_secret_set = fields.Boolean()
    email_recipients = fields.List(fields.String())
    caregiver_rules = fields.List(fields.String())
    timezone = fields.String()
    patient_contact = fields.Nested("PatientContactOut")


class PatientContactOut(Out):
    phone = fields.String(allow_none=True)
    hours = fields.String(allow_none=True)


class AppointmentIn(In):
    starts_at = Instant(required=True)
    duration_minutes = fields.Integer(load_default=30, validate=validate.Range(min=5, max=480))
    kind = fields.String(
        load_default="clinic", validate=validate.OneOf(["clinic", "blood_test", "ecg", "review"])
    )
    place = fields.String(allow_none=True, validate=validate.Length(max=200))


class AppointmentOut(Out):
    id = fields.Integer()
    starts_at = Instant()
    duration_minutes = fields.Integer()
    kind = fields.String()
    title = fields.String()
    place = fields.String(allow_none=True)


class AppointmentListOut(Out):
    items = fields.List(fields.Nested(AppointmentOut))


# --- the treatment course ---------------------------------------------------------------------


class TreatmentEventIn(In):
    action = fields.String(
        required=True, validate=validate.OneOf([a.value for a in ClinicianAction])
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    rechallenge = fields.String(
        validate=validate.OneOf([r.value for r in Rechallenge]),
        metadata={"description": "Required with stop: whether a later restart is advised."},
    )


class TreatmentEventOut(Out):
    id = fields.Integer()
    at = Instant()
    action = fields.String(allow_none=True)
    cause = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    reason = fields.String(allow_none=True)
    rechallenge = fields.String(allow_none=True)
    warning = fields.String(
        allow_none=True,
        metadata={"description": "gap_over_48h: resumed after more than 48 h without a dose"},
    )
    by = fields.String(allow_none=True)


class TreatmentEventCreatedOut(TreatmentEventOut):
    status = fields.Nested(PatientStatusOut)


class TreatmentEventListOut(Out):
    items = fields.List(fields.Nested(TreatmentEventOut))
