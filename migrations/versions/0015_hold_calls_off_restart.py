"""hold calls off restart: a course held after a planned restart had begun kept the restart's
date and read as active again; the hold now calls the restart off (server/domain/treatment.py),
and the courses held that way before are repaired here

Revision ID: 0015_hold_calls_off_restart
Revises: 0014_held_cursor
Create Date: 2026-12-04 16:40:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0015_hold_calls_off_restart"
down_revision = "0014_held_cursor"
branch_labels = None
depends_on = None

# A hold is allowed from an active course only, so a held course with a restart date is one
# whose restart had begun when it was held: the hold is what the clinician asked for.
HELD_WITH_RESTART = "treatment_status = 'held' AND restart_on IS NOT NULL"


def upgrade():
    # their doses still to come are withheld, as a hold withholds them (queued reminders of a
    # dose no longer pending are cancelled when they come to be sent)
    op.execute(
        "UPDATE dose SET status = 'withheld', status_at = CURRENT_TIMESTAMP "
        "WHERE status = 'pending' AND scheduled_at > CURRENT_TIMESTAMP "
        f"AND patient_id IN (SELECT patient_id FROM patient_state WHERE {HELD_WITH_RESTART})"
    )
    op.execute(
        f"UPDATE patient_state SET restart_on = NULL, restart_cause = NULL WHERE {HELD_WITH_RESTART}"
    )


def downgrade():
    pass  # the repair is kept: the earlier code reads a held course without a restart as held
