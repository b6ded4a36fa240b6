"""Tables and constraints (SQLAlchemy 2 typed models). No rules, no commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BigId = BigInteger().with_variant(Integer, "sqlite")

ROLES = ("admin", "clinician", "patient", "caregiver")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant: stored as UTC, always returned timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: instants are stored in UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Clinic(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    monitoring_profile: Mapped[str] = mapped_column(String(40), default="guideline")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role in ('admin', 'clinician', 'patient', 'caregiver')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), unique=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    push_unreachable_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the language this person reads the apps and their notifications in (a content/ language
    # tag); empty until their first sign-in, which takes the browser's
    language: Mapped[str | None] = mapped_column(String(16))


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    clozapine_start_date: Mapped[dt.date] = mapped_column(Date)
    benign_ethnic_neutropenia: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # who enrolled them (no foreign key: user_account already points at patient)
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    # the clozapine tablet strengths the patient has, in mg (set by the care team)
    tablet_strengths_mg: Mapped[list[float] | None] = mapped_column(JSON)

    clinic: Mapped[Clinic] = relationship(lazy="joined", innerjoin=True)


class CaregiverLink(Base):
    __tablename__ = "caregiver_link"
    __table_args__ = (UniqueConstraint("patient_id", "caregiver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ActivationCode(Base):
    """A one-time code: only its hash is kept."""

    __tablename__ = "activation_code"
    __table_args__ = (CheckConstraint("purpose in ('enrolment', 'caregiver')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # an invite the patient or their clinician withdrew before anyone used it
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """One signed-in browser: the cookie carries a random token, only its SHA-256 is kept.
    Signing out ends the row, so every copy of that cookie stops working with it."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # the absolute lifetime: however active, a session ends here
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ResetCode(Base):
    """A one-time password reset code a clinician issued for a patient's or caregiver's login
    (patients may have no email): only its hash is kept."""

    __tablename__ = "reset_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RateLimitCounter(Base):
    """The limiter's counters when they are kept in the database (shared by every web worker)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # seconds since the epoch: the limiter's clock is the wall clock
    expires_at: Mapped[float] = mapped_column(Double, index=True)


class AuditEvent(Base):
    """Append-only record of each read and write of patient data."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    action: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """The first answer to a (user, Idempotency-Key) pair."""

    __tablename__ = "idempotency_record"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    # "<patient id>:<the client's key>": a key is scoped per user and patient
    key: Mapped[str] = mapped_column(String(220), primary_key=True)
    scope: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class WorkerHeartbeat(Base):
    """The scheduler's dead-man switch: one row per worker, updated each cycle."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_cycle_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    last_cycle_ms: Mapped[float | None] = mapped_column()
    cycles: Mapped[int] = mapped_column(BigId, default=0)
    note: Mapped[str | None] = mapped_column(Text)


# --- clinical core -----------------------------------------------------------------------------


# SQL shared by SQLite and PostgreSQL (CASE, COALESCE and comparisons of instants only, so
# that PostgreSQL accepts it as immutable); migration 0007 creates the columns from it. Each
# is when a clock starts; services/steps/time_rules.py compares it with the domain's thresholds, and
# tests/services/test_time_rules.py holds the two to the rules (README, Architecture).
# Diary rules: nothing before tracking starts; the 48 h rule runs from the last movement, else
# from the start of tracking.
BOWEL_CLOCK_SQL = (
    "CASE WHEN tracking_since IS NULL THEN NULL "
    "ELSE COALESCE(last_bowel_movement_at, tracking_since) END"
)
# fewer than 3 movements in 7 days: possible only 7 days after tracking starts and after the
# third-last movement
WEEK_CLOCK_SQL = (
    "CASE WHEN tracking_since IS NULL THEN NULL "
    "WHEN third_last_bowel_movement_at > tracking_since THEN third_last_bowel_movement_at "
    "ELSE tracking_since END"
)
# missed doses: from the last dose taken, or from the first dose due when none was taken
# since; none while no dose is due (no plan yet, or doses withheld or stopped: the treatment
# course clears doses_due_since, services/state.py)
DOSE_CLOCK_SQL = (
    "CASE WHEN tracking_since IS NULL OR doses_due_since IS NULL THEN NULL "
    "WHEN last_dose_taken_at >= doses_due_since THEN last_dose_taken_at "
    "ELSE doses_due_since END"
)


class PatientState(Base):
    """Stored summaries the time-based rules read, one row per patient, so that checking every
    patient is one indexed query rather than a scan of every diary."""

    __tablename__ = "patient_state"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    # the treatment course as last changed (server/domain/treatment.py reads the day's state
    # from it and the plan in force)
    treatment_status: Mapped[str] = mapped_column(String(30), default="not_started")
    treatment_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    treatment_cause: Mapped[str] = mapped_column(String(40), default="enrolled")
    restart_on: Mapped[dt.date | None] = mapped_column(Date)
    restart_cause: Mapped[str | None] = mapped_column(String(40))
    rechallenge: Mapped[str | None] = mapped_column(String(20))
    rechallenge_cause: Mapped[str | None] = mapped_column(String(40))
    # the first day of the current initiation or re-titration: the days 1-28 myocarditis watch
    # and daily check-in count from it (RULES.md 6)
    course_started_on: Mapped[dt.date | None] = mapped_column(Date)
    # diary tracking runs from enrolment, whoever logs, until treatment stops (RULES.md 7)
    tracking_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_bowel_movement_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    third_last_bowel_movement_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_dose_taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    doses_due_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # doses are made ahead, a day at a time, up to and including this local date; the next
    # day is made at doses_make_at (the local midnight that starts doses_made_until)
    doses_made_until: Mapped[dt.date | None] = mapped_column(Date)
    doses_make_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the next reminder moments, kept here so each cycle finds them with one indexed query
    next_blood_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    next_check_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    anc_band: Mapped[str | None] = mapped_column(String(20))
    anc_band_since: Mapped[dt.date | None] = mapped_column(Date)
    last_anc_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_blood_test_due: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The instants the time rules' clocks run from, kept by the database itself (generated
    # columns) from the summaries above, however those are written: each time rule is then
    # one indexed range ("clock started at least 48 h ago"), and a cycle with nothing due
    # reads no row (services/steps/time_rules.py).
    bowel_clock_from: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, Computed(BOWEL_CLOCK_SQL)
    )
    week_clock_from: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, Computed(WEEK_CLOCK_SQL)
    )
    dose_clock_from: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, Computed(DOSE_CLOCK_SQL)
    )

    __table_args__ = (
        Index("ix_state_last_bm", "last_bowel_movement_at"),
        Index("ix_state_last_dose", "last_dose_taken_at"),
        Index("ix_state_next_blood", "next_blood_test_due"),
        Index("ix_state_bowel_clock", "bowel_clock_from"),
        Index("ix_state_week_clock", "week_clock_from"),
        Index("ix_state_dose_clock", "dose_clock_from"),
        Index("ix_state_doses_make", "doses_make_at"),
    )


class DosePlan(Base):
    """A version of a patient's titration plan. A new plan is a new row: history stays."""

    __tablename__ = "dose_plan"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    times: Mapped[list[str]] = mapped_column(JSON)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # initiation, retitration, maintenance or taper (RULES.md 6)
    kind: Mapped[str] = mapped_column(String(20))
    # how the steps were made: the standard or re-titration proposal, a taper proposal, or
    # the clinician's own
    generator: Mapped[str] = mapped_column(String(20), default="custom")
    target_mg_per_day: Mapped[float | None] = mapped_column()
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Dose(Base):
    """One scheduled dose, made from the plan in force on its local date."""

    __tablename__ = "dose"
    __table_args__ = (
        UniqueConstraint("plan_id", "scheduled_at"),
        Index("ix_dose_patient_date", "patient_id", "local_date"),
        Index("ix_dose_patient_at", "patient_id", "scheduled_at"),
        Index("ix_dose_status_at", "status", "scheduled_at"),
        Index("ix_dose_snoozed", "snoozed_until"),
        CheckConstraint(
            "status in ('pending', 'taken', 'skipped', 'cancelled', 'withheld')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("dose_plan.id"))
    local_date: Mapped[dt.date] = mapped_column(Date)
    local_time: Mapped[str] = mapped_column(String(5))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    mg: Mapped[float] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="pending")
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DoseEvent(Base):
    """A dose marked taken or skipped: who said so, when it happened, when it was recorded."""

    __tablename__ = "dose_event"
    __table_args__ = (CheckConstraint("status in ('taken', 'skipped')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("dose.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))
    # why a skip, as a code the rules read (ran_out tells the care team: domain/supply.py)
    reason_code: Mapped[str | None] = mapped_column(String(20))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class BowelMovement(Base):
    __tablename__ = "bowel_movement"
    __table_args__ = (
        CheckConstraint("bristol_type between 1 and 7", name="bristol"),
        Index("ix_bm_patient_at", "patient_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    bristol_type: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SymptomReport(Base):
    __tablename__ = "symptom_report"
    __table_args__ = (Index("ix_symptom_patient_at", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    symptoms: Mapped[list[str]] = mapped_column(JSON)
    temperature_c: Mapped[float | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    red_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class LabResult(Base):
    """A blood test or measurement: entered by the clinic, or reported by the patient's side."""

    __tablename__ = "lab_result"
    __table_args__ = (
        Index("ix_lab_patient_test_at", "patient_id", "test", "collected_at"),
        CheckConstraint("source in ('clinic', 'patient', 'caregiver')", name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    test: Mapped[str] = mapped_column(String(30))
    value: Mapped[float | None] = mapped_column()
    unit: Mapped[str | None] = mapped_column(String(20))
    normalised_value: Mapped[float | None] = mapped_column()
    wbc_10e9_l: Mapped[float | None] = mapped_column()
    # the laboratory's upper limit of normal, in the result's unit (troponin, ALT, AST, ...)
    upper_limit: Mapped[float | None] = mapped_column()
    symptomatic: Mapped[bool | None] = mapped_column(Boolean)  # liver tests: with symptoms
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(12))
    interpretation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class AncStepDownConfirmation(Base):
    """The care team confirmed a step down of the ANC schedule (RULES.md 3, uk-smpc): the
    phase starting at `from_week`, weeks counted from `clock_from` (the start or a restart)."""

    __tablename__ = "anc_step_down_confirmation"
    __table_args__ = (UniqueConstraint("patient_id", "clock_from", "from_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    clock_from: Mapped[dt.date] = mapped_column(Date)
    from_week: Mapped[int] = mapped_column(Integer)
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class Weight(Base):
    __tablename__ = "weight"
    __table_args__ = (Index("ix_weight_patient_at", "patient_id", "measured_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    measured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kg: Mapped[float] = mapped_column()
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class TreatmentInterruption(Base):
    """A break in clozapine: from the last dose taken before treatment paused (doses missed,
    withheld or stopped) to the next dose taken. It changes the blood-test schedule."""

    __tablename__ = "treatment_interruption"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    gap_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class TreatmentEvent(Base):
    """A change of the treatment course: a clinician's hold, resume or stop, or what the
    product saw (a plan, a blood count, missed doses, a taper's end), with the states before
    and after."""

    __tablename__ = "treatment_event"
    __table_args__ = (
        Index("ix_treatment_event_patient_at", "patient_id", "at"),
        CheckConstraint("action is null or action in ('hold', 'resume', 'stop')", name="action"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str | None] = mapped_column(String(10))
    cause: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    rechallenge: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Escalation(Base):
    """A red flag for the care team. At most one unresolved per patient and rule."""

    __tablename__ = "escalation"
    __table_args__ = (
        Index(
            "uq_escalation_active",
            "patient_id",
            "rule",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_escalation_clinic_status", "clinic_id", "status"),
        # the open ones, every cycle (steps/renotify.py)
        Index("ix_escalation_status_notified", "status", "last_notified_at"),
        CheckConstraint("status in ('open', 'acknowledged', 'resolved')", name="status"),
        CheckConstraint("severity in ('emergency', 'urgent', 'routine')", name="severity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(14), default="open")
    summary: Mapped[str] = mapped_column(String(300))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notify_level: Mapped[int] = mapped_column(Integer, default=0)


class EscalationEvent(Base):
    """The history of an escalation: opened, added to, acknowledged, resolved, re-notified."""

    __tablename__ = "escalation_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalation.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Appointment(Base):
    """A clinic appointment the care team booked (shown in the app and the calendar feed)."""

    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_patient_starts", "patient_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=30)
    kind: Mapped[str] = mapped_column(String(20))  # clinic, blood_test, ecg, review
    place: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- other medicines and supply ----------------------------------------------------------------


class Medicine(Base):
    """A medicine the patient takes besides their clozapine doses (laxatives first), or their
    clozapine itself as a stock of tablets of one strength. Its doses are the wall-clock
    `times` in the patient's zone (clozapine's come from the plan). The next reminder and the
    refill reminder are kept here, so that each cycle finds them with one indexed query."""

    __tablename__ = "medicine"
    __table_args__ = (
        CheckConstraint("kind in ('clozapine', 'laxative', 'other')", name="kind"),
        # one clozapine stock per patient (the plan says how much of it each dose uses)
        Index(
            "uq_medicine_clozapine",
            "patient_id",
            unique=True,
            sqlite_where=text("kind = 'clozapine' AND stopped_at IS NULL"),
            postgresql_where=text("kind = 'clozapine' AND stopped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(120))
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    dose_text: Mapped[str | None] = mapped_column(String(120))  # "2 tablets", "1 sachet"
    units_per_dose: Mapped[float | None] = mapped_column()  # what one dose takes from the stock
    strength_mg: Mapped[float | None] = mapped_column()  # clozapine: the tablets' strength
    stock: Mapped[float | None] = mapped_column()  # units on hand, less each dose taken since
    stock_counted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    runs_out_on: Mapped[dt.date | None] = mapped_column(Date)
    next_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    next_refill_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    refill_reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MedicineEvent(Base):
    """A dose of another medicine marked taken or skipped: the slot it was for (its scheduled
    instant), when it happened, who said so."""

    __tablename__ = "medicine_event"
    __table_args__ = (
        UniqueConstraint("medicine_id", "scheduled_at"),
        Index("ix_medicine_event_patient_at", "patient_id", "scheduled_at"),
        CheckConstraint("status in ('taken', 'skipped')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    medicine_id: Mapped[int] = mapped_column(ForeignKey("medicine.id"))
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(20))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# --- reminders and push ------------------------------------------------------------------------


class PushSubscription(Base):
    """A browser's push subscription (one per device), for patients, caregivers and clinicians."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ReminderSettings(Base):
    """A patient's reminder preferences. Quiet hours hold back check-ins and nudges only: never
    dose reminders or red flags."""

    __tablename__ = "reminder_settings"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "07:30"
    check_in_time: Mapped[str] = mapped_column(String(5), default="18:00")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """Something to deliver once: a reminder or an alert, to one user or one channel.

    `dedupe_key` makes materialising idempotent (several workers, repeated cycles); a worker
    claims due rows for `claimed_until` and records the outcome; an expired claim is taken over.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint(
            "status in ('pending', 'sent', 'skipped', 'cancelled', 'failed')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # dose, blood_test, check_in, escalation
    channel: Mapped[str] = mapped_column(String(10), default="push")  # push, webhook, email
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    dose_id: Mapped[int | None] = mapped_column(BigId)
    escalation_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))


class DispatchCursor(Base):
    """How far the reminder scan has got: the next cycle looks from here, so a worker that was
    down catches up and nothing in between is dropped."""

    __tablename__ = "dispatch_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # the worker queueing the window after `at`, and until when its hold lasts unless renewed
    # (services/reminders.py, hold_cursor)
    held_by: Mapped[str | None] = mapped_column(String(120))
    held_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PushDelivery(Base):
    """A message delivered to one subscription: recorded so that a retry never repeats it."""

    __tablename__ = "push_delivery"
    __table_args__ = (UniqueConstraint("message_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_message.id"))
    subscription_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# The exports' tables live in their own module; imported here so that the metadata (and so
# the migrations check) sees every table.
import server.models_exports  # noqa: E402,F401
