"""accounts: server-side sessions, clinic-issued password reset codes, cancelled invites, and
the limiter's counters in the database (issue 17)

Revision ID: 0011_accounts
Revises: 0010_medicines
Create Date: 2026-12-02 06:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_accounts"
down_revision = "0010_medicines"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_user_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "reset_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_reset_code_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_reset_code_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reset_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_reset_code_code_hash")),
    )
    with op.batch_alter_table("reset_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reset_code_user_id"), ["user_id"], unique=False)

    op.create_table(
        "rate_limit_counter",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counter")),
    )
    with op.batch_alter_table("rate_limit_counter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_counter_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("activation_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    # Idempotency-Keys are scoped per patient: "<patient id>:<key>"
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.alter_column(
            "key", existing_type=sa.String(length=200), type_=sa.String(length=220)
        )


def downgrade():
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.alter_column(
            "key", existing_type=sa.String(length=220), type_=sa.String(length=200)
        )
    with op.batch_alter_table("activation_code", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("rate_limit_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counter_expires_at"))
    op.drop_table("rate_limit_counter")
    with op.batch_alter_table("reset_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reset_code_user_id"))
    op.drop_table("reset_code")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
