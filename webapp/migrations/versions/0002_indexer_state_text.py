"""indexer_state.value becomes TEXT: the deployment fingerprint (every contract's name and address) is longer than
255 characters, which PostgreSQL enforces (SQLite never did).

Revision ID: 0002_indexer_state_text
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_indexer_state_text"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:  # SQLite: copy the table; PostgreSQL: ALTER COLUMN
        batch.alter_column("value", type_=sa.Text(), existing_type=sa.String(length=255), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:
        batch.alter_column("value", type_=sa.String(length=255), existing_type=sa.Text(), existing_nullable=False)
