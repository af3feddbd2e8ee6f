"""Profile and sealed auctions from the dashboard: users.display_name (shown beside the username) and
sealed_commitments (each commitment's order and salt, kept so a reveal does not depend on the browser tab).

Revision ID: 0005_profile_sealed
Revises: 0004_reindex_offer_fills
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_profile_sealed"
down_revision = "0004_reindex_offer_fills"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
    op.create_table(
        "sealed_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount_wh", sa.BigInteger(), nullable=False),
        sa.Column("salt", sa.String(length=66), nullable=False),
        sa.Column("money_deposit", sa.BigInteger(), nullable=False),
        sa.Column("energy_deposit", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("commit_tx", sa.String(length=66), nullable=True),
        sa.Column("reveal_tx", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )
    op.create_index(op.f("ix_sealed_commitments_user_id"), "sealed_commitments", ["user_id"], unique=False)
    op.create_index(op.f("ix_sealed_commitments_round_id"), "sealed_commitments", ["round_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sealed_commitments_round_id"), table_name="sealed_commitments")
    op.drop_index(op.f("ix_sealed_commitments_user_id"), table_name="sealed_commitments")
    op.drop_table("sealed_commitments")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("display_name")
