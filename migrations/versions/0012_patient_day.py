"""the patient's day: the clozapine tablet strengths a patient has, so each dose can be shown
as tablets (issue 16)

Revision ID: 0012_patient_day
Revises: 0011_accounts
Create Date: 2026-12-02 06:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_patient_day"
down_revision = "0011_accounts"
branch_labels = None
depends_on = None


# A plain ADD / DROP COLUMN on both backends: a batch operation would copy the patient table on
# SQLite, which the tables pointing at it refuse (foreign keys).


def upgrade():
    op.add_column("patient", sa.Column("tablet_strengths_mg", sa.JSON(), nullable=True))


def downgrade():
    op.execute("ALTER TABLE patient DROP COLUMN tablet_strengths_mg")
