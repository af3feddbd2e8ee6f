"""Initial schema: exactly the tables db.create_all() made before migrations (webapp.schema.BASELINE).

Revision ID: 0001_initial
Revises: -

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_api_tokens_token_hash"), "api_tokens", ["token_hash"], unique=True)
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)

    op.create_table(
        "auction_orders",
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("amount_wh", sa.BigInteger(), nullable=False),
        sa.Column("fill_wh", sa.BigInteger(), nullable=True),
        sa.Column("money", sa.BigInteger(), nullable=True),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(op.f("ix_auction_orders_owner"), "auction_orders", ["owner"], unique=False)
    op.create_index(op.f("ix_auction_orders_round_id"), "auction_orders", ["round_id"], unique=False)

    op.create_table(
        "auction_rounds",
        sa.Column("round_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("retail_price", sa.BigInteger(), nullable=False),
        sa.Column("feed_in_tariff", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("clearing_price", sa.BigInteger(), nullable=True),
        sa.Column("volume_wh", sa.BigInteger(), nullable=True),
        sa.Column("imported_wh", sa.BigInteger(), nullable=True),
        sa.Column("exported_wh", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("round_id"),
    )
    op.create_table(
        "chain_blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index(op.f("ix_chain_blocks_hash"), "chain_blocks", ["hash"], unique=False)

    op.create_table(
        "chain_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("args_json", sa.Text(), nullable=False),
        sa.Column("a0", sa.String(length=42), nullable=True),
        sa.Column("a1", sa.String(length=42), nullable=True),
        sa.Column("a2", sa.String(length=42), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index"),
    )
    op.create_index(op.f("ix_chain_events_a0"), "chain_events", ["a0"], unique=False)
    op.create_index(op.f("ix_chain_events_a1"), "chain_events", ["a1"], unique=False)
    op.create_index(op.f("ix_chain_events_a2"), "chain_events", ["a2"], unique=False)
    op.create_index(op.f("ix_chain_events_block_number"), "chain_events", ["block_number"], unique=False)
    op.create_index(op.f("ix_chain_events_name"), "chain_events", ["name"], unique=False)
    op.create_index(op.f("ix_chain_events_tx_hash"), "chain_events", ["tx_hash"], unique=False)

    op.create_table(
        "chain_txs",
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("from_addr", sa.String(length=42), nullable=False),
        sa.Column("to_addr", sa.String(length=42), nullable=True),
        sa.Column("contract", sa.String(length=64), nullable=True),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("gas_used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_index(op.f("ix_chain_txs_block_number"), "chain_txs", ["block_number"], unique=False)
    op.create_index(op.f("ix_chain_txs_from_addr"), "chain_txs", ["from_addr"], unique=False)
    op.create_index(op.f("ix_chain_txs_to_addr"), "chain_txs", ["to_addr"], unique=False)

    op.create_table(
        "indexer_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "meters",
        sa.Column("meter_id", sa.String(length=66), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=42), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("meter_id"),
    )
    op.create_index(op.f("ix_meters_owner"), "meters", ["owner"], unique=False)

    op.create_table(
        "orders",
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("maker", sa.String(length=42), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("amount_wh", sa.BigInteger(), nullable=False),
        sa.Column("remaining_wh", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index(op.f("ix_orders_maker"), "orders", ["maker"], unique=False)
    op.create_index(op.f("ix_orders_status"), "orders", ["status"], unique=False)

    op.create_table(
        "readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.String(length=66), nullable=False),
        sa.Column("interval", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("minted_wh", sa.BigInteger(), nullable=False),
        sa.Column("burned_wh", sa.BigInteger(), nullable=False),
        sa.Column("grid_wh", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meter_id", "interval"),
    )
    op.create_index(op.f("ix_readings_interval"), "readings", ["interval"], unique=False)
    op.create_index(op.f("ix_readings_meter_id"), "readings", ["meter_id"], unique=False)
    op.create_index(op.f("ix_readings_owner"), "readings", ["owner"], unique=False)

    op.create_table(
        "trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(length=16), nullable=False),
        sa.Column("buy_order_id", sa.BigInteger(), nullable=True),
        sa.Column("sell_order_id", sa.BigInteger(), nullable=True),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("amount_wh", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index"),
    )
    op.create_index(op.f("ix_trades_block_number"), "trades", ["block_number"], unique=False)
    op.create_index(op.f("ix_trades_buyer"), "trades", ["buyer"], unique=False)
    op.create_index(op.f("ix_trades_seller"), "trades", ["seller"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("keystore", sa.Text(), nullable=True),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_users_address"), "users", ["address"], unique=True)
    op.create_index(op.f("ix_users_username"), "users", ["username"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_username"), table_name="users")
    op.drop_index(op.f("ix_users_address"), table_name="users")

    op.drop_table("users")
    op.drop_index(op.f("ix_trades_seller"), table_name="trades")
    op.drop_index(op.f("ix_trades_buyer"), table_name="trades")
    op.drop_index(op.f("ix_trades_block_number"), table_name="trades")

    op.drop_table("trades")
    op.drop_index(op.f("ix_readings_owner"), table_name="readings")
    op.drop_index(op.f("ix_readings_meter_id"), table_name="readings")
    op.drop_index(op.f("ix_readings_interval"), table_name="readings")

    op.drop_table("readings")
    op.drop_index(op.f("ix_orders_status"), table_name="orders")
    op.drop_index(op.f("ix_orders_maker"), table_name="orders")

    op.drop_table("orders")
    op.drop_index(op.f("ix_meters_owner"), table_name="meters")

    op.drop_table("meters")
    op.drop_table("indexer_state")
    op.drop_index(op.f("ix_chain_txs_to_addr"), table_name="chain_txs")
    op.drop_index(op.f("ix_chain_txs_from_addr"), table_name="chain_txs")
    op.drop_index(op.f("ix_chain_txs_block_number"), table_name="chain_txs")

    op.drop_table("chain_txs")
    op.drop_index(op.f("ix_chain_events_tx_hash"), table_name="chain_events")
    op.drop_index(op.f("ix_chain_events_name"), table_name="chain_events")
    op.drop_index(op.f("ix_chain_events_block_number"), table_name="chain_events")
    op.drop_index(op.f("ix_chain_events_a2"), table_name="chain_events")
    op.drop_index(op.f("ix_chain_events_a1"), table_name="chain_events")
    op.drop_index(op.f("ix_chain_events_a0"), table_name="chain_events")

    op.drop_table("chain_events")
    op.drop_index(op.f("ix_chain_blocks_hash"), table_name="chain_blocks")

    op.drop_table("chain_blocks")
    op.drop_table("auction_rounds")
    op.drop_index(op.f("ix_auction_orders_round_id"), table_name="auction_orders")
    op.drop_index(op.f("ix_auction_orders_owner"), table_name="auction_orders")

    op.drop_table("auction_orders")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_index(op.f("ix_api_tokens_token_hash"), table_name="api_tokens")

    op.drop_table("api_tokens")
