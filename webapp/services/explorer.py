"""The chain explorer's reads from the index: search, blocks, transactions, events, an address's activity."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from eth_utils import to_checksum_address
from sqlalchemy import Select, or_, select

from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import ChainBlock, ChainEvent, ChainTx, User
from webapp.services.context import chain
from webapp.services.indexing import last_indexed
from webapp.validation import INT64_MAX, parse_uint

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class SearchHit:
    """Where a search leads: ("address", checksummed) | ("tx", hash) | ("block", number)."""

    kind: str
    key: str | int


def search(q: str) -> SearchHit | None:
    """An address, a transaction or block hash, a block number or a username; None when nothing matches."""
    if ADDRESS.match(q):
        return SearchHit("address", to_checksum_address(q))
    if HASH.match(q):
        if db.session.get(ChainTx, q.lower()):
            return SearchHit("tx", q.lower())
        block = db.session.scalar(select(ChainBlock).where(ChainBlock.hash == q.lower()))
        if block is not None:
            return SearchHit("block", block.number)
    if q.isdigit():  # a block number: ASCII digits that fit the BIGINT column, else nothing ('²'.isdigit() too)
        number = parse_uint(q, INT64_MAX)
        return SearchHit("block", number) if number is not None else None
    user = db.session.scalar(select(User).where(User.username == q))
    if user is not None and _shown_in_explorer(user.address):
        return SearchHit("address", user.address)
    return None


def _shown_in_explorer(address: str) -> bool:
    """Whether the explorer already shows this account under its name: it sent or received an indexed transaction
    or is an argument of an indexed event. Searching a username finds only such accounts, so the search answers
    "nothing found" alike for a name nobody has and for an account with no public activity: it cannot be used to
    find out which usernames exist."""
    tx = select(ChainTx.hash).where(or_(ChainTx.from_addr == address, ChainTx.to_addr == address)).limit(1)
    if db.session.scalar(tx) is not None:
        return True
    event = select(ChainEvent.id).where(or_(ChainEvent.a0 == address, ChainEvent.a1 == address,
                                            ChainEvent.a2 == address)).limit(1)  # fmt: skip
    return db.session.scalar(event) is not None


def checksum(address: str) -> str:
    return to_checksum_address(address)


def status() -> dict:
    return {"indexed": last_indexed(), "chain": chain().status()}


def txs_query(address: str | None = None) -> Select:
    """Transactions newest first, of `address` (sender or recipient) when given."""
    query = select(ChainTx).order_by(ChainTx.block_number.desc(), ChainTx.tx_index.desc())
    if address:
        query = query.where(or_(ChainTx.from_addr == address, ChainTx.to_addr == address))
    return query


def events_query(name: str | None = None, tx_hash: str | None = None) -> Select:
    query = select(ChainEvent).order_by(ChainEvent.id.desc())
    if name:
        query = query.where(ChainEvent.name == name)
    if tx_hash:
        query = query.where(ChainEvent.tx_hash == tx_hash.lower())
    return query


def blocks_query() -> Select:
    return select(ChainBlock).order_by(ChainBlock.number.desc())


def latest_blocks(limit: int = 10) -> list[ChainBlock]:
    return list(db.session.scalars(blocks_query().limit(limit)))


def block(number: int) -> tuple[ChainBlock | None, list[ChainTx]]:
    txs = list(db.session.scalars(select(ChainTx).where(ChainTx.block_number == number).order_by(ChainTx.tx_index)))
    return db.session.get(ChainBlock, number), txs


def tx(tx_hash: str) -> tuple[ChainTx, list[ChainEvent]] | None:
    row = db.session.get(ChainTx, tx_hash.lower())
    if row is None:
        return None
    events = list(db.session.scalars(
        select(ChainEvent).where(ChainEvent.tx_hash == row.hash).order_by(ChainEvent.log_index)))  # fmt: skip
    return row, events


@dataclass(frozen=True)
class AddressInfo:
    address: str
    events: list[ChainEvent]
    user: User | None
    contract: str | None


def address_info(address: str) -> AddressInfo:
    """An address's latest 50 events (any address argument), its account and its contract name, if any."""
    events = list(db.session.scalars(
        select(ChainEvent).where(or_(ChainEvent.a0 == address, ChainEvent.a1 == address, ChainEvent.a2 == address))
        .order_by(ChainEvent.id.desc()).limit(50)))  # fmt: skip
    user = db.session.scalar(select(User).where(User.address == address))
    contract = None
    with contextlib.suppress(UserError):
        contract = chain().abi_index.contract_name(address)
    return AddressInfo(address, events, user, contract)
