"""treatment course: course states and events, withheld doses, plan kinds, breaks in hours,
doses made ahead by the patient's own midnight

Revision ID: 0008_treatment_course
Revises: 0007_time_rule_clocks
Create Date: 2026-12-02 04:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_treatment_course"
down_revision = "0007_time_rule_clocks"
branch_labels = None
depends_on = None

# The missed-dose clock as server/models.py has it at this revision: none while no dose is due
# (the course clears doses_due_since when it withholds or stops them).
DOSE_CLOCK = (
    "CASE WHEN tracking_since IS NULL OR doses_due_since IS NULL THEN NULL "
    "WHEN last_dose_taken_at >= doses_due_since THEN last_dose_taken_at "
    "ELSE doses_due_since END"
)
OLD_DOSE_CLOCK = (
    "CASE WHEN tracking_since IS NULL OR doses_due_since IS NULL OR needs_retitration "
    "THEN NULL "
    "WHEN last_dose_taken_at >= doses_due_since THEN last_dose_taken_at "
    "ELSE doses_due_since END"
)
DOSE_STATUSES = "status in ('pending', 'taken', 'skipped', 'cancelled', 'withheld')"
OLD_DOSE_STATUSES = "status in ('pending', 'taken', 'skipped', 'cancelled')"
UNMADE = "doses_made_until IS NULL AND doses_due_since IS NOT NULL"


def _drop_columns(table: str, *names: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+ drops a column in place
        for name in names:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    else:
        for name in names:
            op.drop_column(table, name)


def _dose_clock(expression: str) -> None:
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "patient_state",
        sa.Column(
            "dose_clock_from",
            sa.DateTime(timezone=True),
            sa.Computed(expression, persisted=stored),
        ),
    )
    op.create_index("ix_state_dose_clock", "patient_state", ["dose_clock_from"], unique=False)


def _dose_status_check(expression: str, old: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # a CHECK is part of SQLite's table: copy it
        dose = sa.Table(
            "dose",
            sa.MetaData(),
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=False),
            sa.Column("plan_id", sa.Integer(), nullable=False),
            sa.Column("local_date", sa.Date(), nullable=False),
            sa.Column("local_time", sa.String(length=5), nullable=False),
            sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("mg", sa.Double(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
            sa.CheckConstraint(old, name="ck_dose_status"),
            sa.ForeignKeyConstraint(
                ["patient_id"], ["patient.id"], name="fk_dose_patient_id_patient"
            ),
            sa.ForeignKeyConstraint(
                ["plan_id"], ["dose_plan.id"], name="fk_dose_plan_id_dose_plan"
            ),
            sa.PrimaryKeyConstraint("id", name="pk_dose"),
            sa.UniqueConstraint("plan_id", "scheduled_at", name="uq_dose_plan_id_scheduled_at"),
            sa.Index("ix_dose_patient_at", "patient_id", "scheduled_at"),
            sa.Index("ix_dose_patient_date", "patient_id", "local_date"),
            sa.Index("ix_dose_status_at", "status", "scheduled_at"),
            sa.Index("ix_dose_snoozed", "snoozed_until"),
        )
        with op.batch_alter_table("dose", copy_from=dose, recreate="always") as batch:
            batch.drop_constraint(op.f("ck_dose_status"), type_="check")
            batch.create_check_constraint(op.f("ck_dose_status"), expression)
    else:
        op.drop_constraint(op.f("ck_dose_status"), "dose", type_="check")
        op.create_check_constraint(op.f("ck_dose_status"), "dose", expression)


def upgrade():
    bind = op.get_bind()
    # the course as last changed; patients get theirs from what the old columns said
    for column in (
        sa.Column("treatment_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "treatment_cause", sa.String(length=40), nullable=False, server_default="enrolled"
        ),
        sa.Column("restart_on", sa.Date(), nullable=True),
        sa.Column("restart_cause", sa.String(length=40), nullable=True),
        sa.Column("rechallenge", sa.String(length=20), nullable=True),
        sa.Column("rechallenge_cause", sa.String(length=40), nullable=True),
        sa.Column("course_started_on", sa.Date(), nullable=True),
        sa.Column("doses_make_at", sa.DateTime(timezone=True), nullable=True),
    ):
        op.add_column("patient_state", column)
    op.execute(
        "UPDATE patient_state SET treatment_status = CASE "
        "WHEN needs_retitration THEN 'needs_retitration' "
        "WHEN anc_band IN ('moderate', 'severe') AND doses_due_since IS NOT NULL "
        "THEN 'interrupted' "
        "WHEN doses_due_since IS NOT NULL THEN 'in_titration' ELSE 'not_started' END, "
        "treatment_cause = CASE "
        "WHEN needs_retitration THEN 'missed_doses_48h' "
        "WHEN anc_band IN ('moderate', 'severe') AND doses_due_since IS NOT NULL "
        "THEN 'anc_interrupt' "
        "WHEN doses_due_since IS NOT NULL THEN 'initiation_plan' ELSE 'enrolled' END, "
        "treatment_since = updated_at"
    )
    # no dose is due while a course is paused (the missed-dose clock reads this)
    op.execute(
        "UPDATE patient_state SET doses_due_since = NULL "
        "WHERE treatment_status IN ('needs_retitration', 'interrupted')"
    )
    # RULES.md 7: every enrolled patient is tracked, whoever logs; for patients enrolled before
    # this release, from now (a first 48 h prompt comes before any flag)
    op.execute(
        "UPDATE patient_state SET tracking_since = CURRENT_TIMESTAMP WHERE tracking_since IS NULL"
    )
    # the worker makes each patient's next day at their own midnight: due at once for all
    op.execute(
        "UPDATE patient_state SET doses_make_at = CURRENT_TIMESTAMP "
        "WHERE doses_due_since IS NOT NULL OR doses_made_until IS NOT NULL"
    )
    op.create_index("ix_state_doses_make", "patient_state", ["doses_make_at"], unique=False)
    op.drop_index("ix_state_doses_unmade", table_name="patient_state")
    op.drop_index("ix_state_doses_made", table_name="patient_state")
    op.drop_index("ix_state_dose_clock", table_name="patient_state")
    _drop_columns("patient_state", "dose_clock_from", "needs_retitration", "bowel_prompted_at")
    _dose_clock(DOSE_CLOCK)

    _dose_status_check(DOSE_STATUSES, OLD_DOSE_STATUSES)
    # paused courses: their doses still to come are withheld
    op.execute(
        "UPDATE dose SET status = 'withheld' WHERE status = 'pending' "
        "AND patient_id IN (SELECT patient_id FROM patient_state "
        "WHERE treatment_status IN ('needs_retitration', 'interrupted')) "
        "AND scheduled_at > CURRENT_TIMESTAMP"
    )

    # plan kinds (RULES.md 6); what made the steps moves to `generator`. Every earlier plan
    # started at 12.5-25 mg: an initiation, or a re-titration where it said so.
    op.add_column(
        "dose_plan",
        sa.Column("generator", sa.String(length=20), nullable=False, server_default="custom"),
    )
    op.execute("UPDATE dose_plan SET generator = kind")
    op.execute(
        "UPDATE dose_plan SET kind = CASE WHEN kind = 'retitration' THEN 'retitration' "
        "ELSE 'initiation' END"
    )

    # breaks in hours (RULES.md 6): from the last dose to the next; earlier rows knew days only
    op.add_column(
        "treatment_interruption",
        sa.Column("gap_from", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "treatment_interruption",
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
    )
    if bind.dialect.name == "sqlite":
        op.execute(
            "UPDATE treatment_interruption SET gap_from = datetime(first_missed_on, '-1 day'), "
            "resumed_at = CASE WHEN restarted_on IS NULL THEN NULL "
            "ELSE datetime(restarted_on) END"
        )
    else:
        op.execute(
            "UPDATE treatment_interruption SET "
            "gap_from = (first_missed_on - 1)::timestamp AT TIME ZONE 'UTC', "
            "resumed_at = restarted_on::timestamp AT TIME ZONE 'UTC'"
        )
    with op.batch_alter_table("treatment_interruption") as batch:
        batch.alter_column("gap_from", existing_type=sa.DateTime(timezone=True), nullable=False)
    _drop_columns("treatment_interruption", "first_missed_on", "restarted_on")

    op.create_table(
        "treatment_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=False),
        sa.Column("to_state", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rechallenge", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action is null or action in ('hold', 'resume', 'stop')",
            name=op.f("ck_treatment_event_action"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_treatment_event_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_treatment_event_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_event")),
    )
    op.create_index(
        "ix_treatment_event_patient_at", "treatment_event", ["patient_id", "at"], unique=False
    )


def downgrade():
    op.drop_index("ix_treatment_event_patient_at", table_name="treatment_event")
    op.drop_table("treatment_event")
    op.add_column("treatment_interruption", sa.Column("first_missed_on", sa.Date(), nullable=True))
    op.add_column("treatment_interruption", sa.Column("restarted_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "UPDATE treatment_interruption SET first_missed_on = date(gap_from, '+1 day'), "
            "restarted_on = date(resumed_at)"
        )
    else:
        op.execute(
            "UPDATE treatment_interruption SET first_missed_on = (gap_from AT TIME ZONE 'UTC')"
            "::date + 1, restarted_on = (resumed_at AT TIME ZONE 'UTC')::date"
        )
    _drop_columns("treatment_interruption", "gap_from", "resumed_at")
    op.execute(
        "UPDATE dose_plan SET kind = CASE WHEN generator IN ('standard', 'custom', "
        "'retitration') THEN generator ELSE 'custom' END"
    )
    _drop_columns("dose_plan", "generator")
    op.execute("UPDATE dose SET status = 'pending' WHERE status = 'withheld'")
    _dose_status_check(OLD_DOSE_STATUSES, DOSE_STATUSES)
    op.drop_index("ix_state_dose_clock", table_name="patient_state")
    _drop_columns("patient_state", "dose_clock_from")
    op.add_column(
        "patient_state",
        sa.Column("needs_retitration", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "patient_state",
        sa.Column("bowel_prompted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(
        "UPDATE patient_state SET needs_retitration = (treatment_status = 'needs_retitration')"
    )
    _dose_clock(OLD_DOSE_CLOCK)
    op.create_index("ix_state_doses_made", "patient_state", ["doses_made_until"], unique=False)
    op.create_index(
        "ix_state_doses_unmade",
        "patient_state",
        ["patient_id"],
        unique=False,
        sqlite_where=sa.text(UNMADE),
        postgresql_where=sa.text(UNMADE),
    )
    op.drop_index("ix_state_doses_make", table_name="patient_state")
    _drop_columns(
        "patient_state",
        "treatment_since",
        "treatment_cause",
        "restart_on",
        "restart_cause",
        "rechallenge",
        "rechallenge_cause",
        "course_started_on",
        "doses_make_at",
    )
