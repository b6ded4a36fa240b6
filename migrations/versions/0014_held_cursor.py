"""held cursor: one worker at a time queues a window of dose reminders, in committed chunks;
the outbox's due index in the order workers claim (issues 13 and 17, throughput)

Revision ID: 0014_held_cursor
Revises: 0013_languages
Create Date: 2026-12-02 22:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_held_cursor"
down_revision = "0013_languages"
branch_labels = None
depends_on = None


# Plain ADD / DROP COLUMN and index statements on both backends (dispatch_cursor and
# outbox_message are not pointed at by others that a batch copy would trouble, but nothing here
# needs a copy).


def upgrade():
    op.add_column("dispatch_cursor", sa.Column("held_by", sa.String(length=120), nullable=True))
    op.add_column(
        "dispatch_cursor", sa.Column("held_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_index("ix_outbox_due", table_name="outbox_message")
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at", "id"])


def downgrade():
    op.drop_index("ix_outbox_due", table_name="outbox_message")
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at"])
    op.execute("ALTER TABLE dispatch_cursor DROP COLUMN held_until")
    op.execute("ALTER TABLE dispatch_cursor DROP COLUMN held_by")
