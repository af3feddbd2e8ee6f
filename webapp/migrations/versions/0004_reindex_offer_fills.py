"""Index again from the deployment: the indexer now projects OfferSettlement's OfferFilled events into trades (venue
"offer"), which an index built before this revision skipped. Forgetting the deployment fingerprint makes the
indexer's next step reset the history tables and replay the chain (webapp.indexer.engine); users, sessions and the
meters' seed data (serial, name) stay. No schema change.

Revision ID: 0004_reindex_offer_fills
Revises: 0003_sessions_nonces_topups
"""

from alembic import op

revision = "0004_reindex_offer_fills"
down_revision = "0003_sessions_nonces_topups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM indexer_state WHERE key = 'deployment'")


def downgrade() -> None:
    pass  # the trades projected from offer fills are correct under the older code as well
