"""Database tables: accounts (with encrypted keystores), the chain index, and operator data (tariffs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db

# Token amounts can exceed 64 bits in principle; they are stored as decimal strings where that matters
# and as BigInteger (Wh, units) where values are bounded by what a household trades.


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(UserMixin, db.Model):
    """An account. `keystore` is the wallet's encrypted JSON keystore (scrypt); NULL for browser-wallet users."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    address: Mapped[str] = mapped_column(String(42), unique=True, index=True)
    keystore: Mapped[str | None] = mapped_column(Text, nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True)  # shown beside the username
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def custodial(self) -> bool:
        """True when the server holds the (encrypted) key; False for EIP-1193 browser wallets."""
        return self.keystore is not None

    # Set per request by webapp.services.sessions when the user is loaded from a session credential.
    auth_session = None  # the AuthSession row of this request's login
    session_credential = None  # its credential (what the cookie or bearer token carries)

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: this login's session credential, never the bare user id (so a
        copied cookie dies with its server-side session row)."""
        if not self.session_credential:
            raise RuntimeError("log in through webapp.services.sessions, which sets the session credential")
        return self.session_credential

    def __eq__(self, other: object) -> bool:  # UserMixin compares get_id(); accounts are equal by their row
        return isinstance(other, User) and (self is other or (self.id is not None and self.id == other.id))

    __hash__ = object.__hash__


class AuthSession(db.Model):
    """A login: a browser session (the cookie) or an API bearer token, revocable here at once.

    The client holds the credential `<session id>.<wrap key>`; only the SHA-256 of the session id is stored. A
    custodial wallet's key, once unlocked by the password, is kept only as `wrapped_key`: AES-256-GCM under the
    wrap key, which never leaves the client. Deleting the row ends the session (logout); the server cannot sign for
    a session without the client's credential, and a restart loses nothing.
    """

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(8), default="web")  # web (cookie) | api (bearer token)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    wrapped_key: Mapped[str | None] = mapped_column(Text, nullable=True)  # NULL: the wallet is locked
    unlocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SiweNonce(db.Model):
    """A Sign-In with Ethereum nonce: issued for one address, used once, valid for minutes."""

    __tablename__ = "siwe_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    message_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the exact message issued with it
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TopUpRequest(db.Model):
    """Money asked for by a user: credited when the operator confirms the payment (or at once, within the demo's
    caps, when demo self-service is on). status: pending | minting | credited | rejected | failed."""

    __tablename__ = "topup_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    amount_units: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))  # web | api | demo-web | demo-api
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)

    @property
    def reference(self) -> str:
        """What the user quotes on the bank transfer, and the operator looks for."""
        return f"TU-{self.id:06d}"


class SealedCommitment(db.Model):
    """A sealed-auction commitment made from the dashboard: what was committed and its salt, kept so the reveal
    does not depend on the browser tab (the salt hides the order from other bidders, not from this server).
    status: committed | revealed | settled (claimed after a reveal) | forfeited (claimed unrevealed)."""

    __tablename__ = "sealed_commitments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    round_id: Mapped[int] = mapped_column(BigInteger, index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)  # set once mined
    side: Mapped[str] = mapped_column(String(4))  # buy (bid) | sell (ask)
    limit_price: Mapped[int] = mapped_column(BigInteger)  # settlement units per kWh, as committed
    amount_wh: Mapped[int] = mapped_column(BigInteger)
    salt: Mapped[str] = mapped_column(String(66))  # 0x + 64 hex digits
    money_deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    energy_deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="committed")
    commit_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    reveal_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndexerState(db.Model):
    """Key/value progress of the indexer: last indexed block, its hash, the deployment it follows."""

    __tablename__ = "indexer_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # the deployment fingerprint lists every contract (> 255 characters)


class ChainBlock(db.Model):
    """A block that carried at least one transaction to the project's contracts."""

    __tablename__ = "chain_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_count: Mapped[int] = mapped_column(Integer, default=0)


class ChainTx(db.Model):
    __tablename__ = "chain_txs"
    hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_index: Mapped[int] = mapped_column(Integer)
    from_addr: Mapped[str] = mapped_column(String(42), index=True)
    to_addr: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)
    contract: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    gas_used: Mapped[int] = mapped_column(BigInteger)


class ChainEvent(db.Model):
    """A decoded contract event. a0..a2 hold the addresses among its arguments, for search by address."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(String(66), index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64), index=True)
    args_json: Mapped[str] = mapped_column(Text)
    a0: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)
    a1: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)
    a2: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)

    @property
    def args(self) -> dict[str, Any]:
        return json.loads(self.args_json)


class Meter(db.Model):
    """A meter as the registry knows it (from events), plus its serial and household name when known (seed)."""

    __tablename__ = "meters"
    meter_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    serial: Mapped[str | None] = mapped_column(String(128), nullable=True)
    name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Reading(db.Model):
    """One settled meter interval (EnergyToken ReadingRecorded)."""

    __tablename__ = "readings"
    __table_args__ = (UniqueConstraint("meter_id", "interval"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(66), index=True)
    interval: Mapped[int] = mapped_column(BigInteger, index=True)
    owner: Mapped[str] = mapped_column(String(42), index=True)
    minted_wh: Mapped[int] = mapped_column(BigInteger)
    burned_wh: Mapped[int] = mapped_column(BigInteger)
    grid_wh: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)


class Order(db.Model):
    """An order-book order as its events describe it."""

    __tablename__ = "orders"
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    side: Mapped[str] = mapped_column(String(4))  # "buy" | "sell"
    maker: Mapped[str] = mapped_column(String(42), index=True)
    price: Mapped[int] = mapped_column(BigInteger)  # settlement units per kWh
    amount_wh: Mapped[int] = mapped_column(BigInteger)
    remaining_wh: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | filled | cancelled | expired
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger, default=0)


class Trade(db.Model):
    """A fill between a buy and a sell (order book) or an auction allocation."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue: Mapped[str] = mapped_column(String(16), default="book")  # book | auction
    buy_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sell_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    buyer: Mapped[str] = mapped_column(String(42), index=True)
    seller: Mapped[str] = mapped_column(String(42), index=True)
    price: Mapped[int] = mapped_column(BigInteger)
    amount_wh: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def cost(self) -> int:
        return self.price * self.amount_wh // 1000


class AuctionRound(db.Model):
    """One auction round as its events describe it (RoundOpened, RoundClosed, RoundCleared)."""

    __tablename__ = "auction_rounds"
    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    end: Mapped[int] = mapped_column(BigInteger, default=0)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    retail_price: Mapped[int] = mapped_column(BigInteger, default=0)
    feed_in_tariff: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | cleared
    clearing_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    volume_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    imported_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    exported_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuctionOrder(db.Model):
    """A booked auction bid or ask, and what its claim paid."""

    __tablename__ = "auction_orders"
    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    round_id: Mapped[int] = mapped_column(BigInteger, index=True)
    owner: Mapped[str] = mapped_column(String(42), index=True)
    side: Mapped[str] = mapped_column(String(4))  # buy (bid) | sell (ask)
    limit_price: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)  # effective price within the grid band
    amount_wh: Mapped[int] = mapped_column(BigInteger)
    fill_wh: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    money: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    tx_hash: Mapped[str] = mapped_column(String(66))
