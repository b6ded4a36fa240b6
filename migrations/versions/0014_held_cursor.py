"""held cursor: one worker at a time queues a window of dose reminders, in committed chunks
(issues 13 and 17, throughput)

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


# Plain ADD / DROP COLUMN on both backends (nothing here needs a batch operation's copy).


def upgrade():
    op.add_column("dispatch_cursor", sa.Column("held_by", sa.String(length=120), nullable=True))
    op.add_column(
        "dispatch_cursor", sa.Column("held_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade():
    op.execute("ALTER TABLE dispatch_cursor DROP COLUMN held_until")
    op.execute("ALTER TABLE dispatch_cursor DROP COLUMN held_by")
