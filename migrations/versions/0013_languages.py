"""languages: each person's own language for the apps and their notifications (issue 19)

Revision ID: 0013_languages
Revises: 0012_patient_day
Create Date: 2026-12-02 11:15:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_languages"
down_revision = "0012_patient_day"
branch_labels = None
depends_on = None


# Empty until the person first signs in (or activates): then the browser's language. A plain
# ADD / DROP COLUMN on both backends (a batch operation would copy user_account on SQLite, which
# the tables pointing at it refuse).


def upgrade():
    op.add_column("user_account", sa.Column("language", sa.String(length=16), nullable=True))


def downgrade():
    op.execute("ALTER TABLE user_account DROP COLUMN language")
