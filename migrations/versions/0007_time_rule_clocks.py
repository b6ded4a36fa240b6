"""time rule clocks: generated, indexed columns for the time rules; indexes for the idle cycle

Revision ID: 0007_time_rule_clocks
Revises: 0006_appointments
Create Date: 2026-11-26 03:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_time_rule_clocks"
down_revision = "0006_appointments"
branch_labels = None
depends_on = None

# The generation expressions as server/models.py had them when this revision was written
# (a migration never imports the models: they move on).
CLOCKS = {
    "bowel_clock_from": (
        "CASE WHEN tracking_since IS NULL THEN NULL "
        "ELSE COALESCE(last_bowel_movement_at, tracking_since) END"
    ),
    "week_clock_from": (
        "CASE WHEN tracking_since IS NULL THEN NULL "
        "WHEN third_last_bowel_movement_at > tracking_since THEN third_last_bowel_movement_at "
        "ELSE tracking_since END"
    ),
    "dose_clock_from": (
        "CASE WHEN tracking_since IS NULL OR doses_due_since IS NULL OR needs_retitration "
        "THEN NULL "
        "WHEN last_dose_taken_at >= doses_due_since THEN last_dose_taken_at "
        "ELSE doses_due_since END"
    ),
}
INDEXES = {
    "bowel_clock_from": "ix_state_bowel_clock",
    "week_clock_from": "ix_state_week_clock",
    "dose_clock_from": "ix_state_dose_clock",
}


def upgrade():
    # PostgreSQL 15 has only STORED generated columns; SQLite can add only VIRTUAL ones to an
    # existing table (an index on them stores the values all the same).
    stored = op.get_bind().dialect.name == "postgresql"
    for name, expression in CLOCKS.items():
        op.add_column(
            "patient_state",
            sa.Column(name, sa.DateTime(timezone=True), sa.Computed(expression, persisted=stored)),
        )
        op.create_index(INDEXES[name], "patient_state", [name], unique=False)
    op.create_index("ix_state_doses_made", "patient_state", ["doses_made_until"], unique=False)
    unmade = sa.text("doses_made_until IS NULL AND doses_due_since IS NOT NULL")
    op.create_index(
        "ix_state_doses_unmade",
        "patient_state",
        ["patient_id"],
        unique=False,
        sqlite_where=unmade,
        postgresql_where=unmade,
    )
    op.create_index("ix_dose_snoozed", "dose", ["snoozed_until"], unique=False)
    op.create_index(
        "ix_escalation_status_notified",
        "escalation",
        ["status", "last_notified_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_escalation_status_notified", table_name="escalation")
    op.drop_index("ix_dose_snoozed", table_name="dose")
    op.drop_index("ix_state_doses_unmade", table_name="patient_state")
    op.drop_index("ix_state_doses_made", table_name="patient_state")
    for name in reversed(list(CLOCKS)):
        op.drop_index(INDEXES[name], table_name="patient_state")
        op.drop_column("patient_state", name)
