"""QBFT extraData: RLP([32-byte vanity, [validator addresses], vote, round, [committed seals]]).

Encoded as Besu's QbftExtraDataCodec does: no vote is an empty list, a vote is [recipient, 0xff (add) | "" (drop)],
the round is a minimal big-endian scalar (0 encodes as 0x80), seals are 65-byte signatures. A genesis block has
zero vanity, the initial validators, no vote, round 0 and no seals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp
from eth_utils import to_canonical_address, to_checksum_address

VANITY_BYTES = 32
ADD_VOTE = b"\xff"
DROP_VOTE = b""


@dataclass(frozen=True)
class Vote:
    """A validator's proposal to add (`add=True`) or drop `recipient`."""

    recipient: str
    add: bool


@dataclass(frozen=True)
class QbftExtraData:
    validators: tuple[str, ...]
    vanity: bytes = bytes(VANITY_BYTES)
    vote: Vote | None = None
    round: int = 0
    seals: tuple[bytes, ...] = field(default_factory=tuple)

    def encode(self) -> bytes:
        if len(self.vanity) != VANITY_BYTES:
            raise ValueError(f"vanity must be {VANITY_BYTES} bytes")
        vote: list[bytes] = (
            []
            if self.vote is None
            else [to_canonical_address(self.vote.recipient), ADD_VOTE if self.vote.add else DROP_VOTE]
        )
        return rlp.encode(
            [self.vanity, [to_canonical_address(v) for v in self.validators], vote, self.round, list(self.seals)]
        )

    def hex(self) -> str:
        return "0x" + self.encode().hex()

    @classmethod
    def decode(cls, data: bytes | str) -> QbftExtraData:
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
        items = rlp.decode(raw)
        if not isinstance(items, list) or len(items) < 5:
            raise ValueError("not QBFT extraData: expected an RLP list of 5 items")
        vanity, validators, vote_item, round_bytes, seals = items[:5]
        if len(vanity) != VANITY_BYTES or any(len(v) != 20 for v in validators):
            raise ValueError("not QBFT extraData: bad vanity or validator address length")
        vote = None
        if vote_item:
            recipient, kind = vote_item
            if kind not in (ADD_VOTE, DROP_VOTE):
                raise ValueError(f"not QBFT extraData: vote type {kind!r}")
            vote = Vote(to_checksum_address(recipient), kind == ADD_VOTE)
        if round_bytes[:1] == b"\x00":
            raise ValueError("not QBFT extraData: round is not a minimal scalar (IBFT 2.0 uses 4 fixed bytes)")
        return cls(
            validators=tuple(to_checksum_address(v) for v in validators),
            vanity=vanity,
            vote=vote,
            round=int.from_bytes(round_bytes, "big"),
            seals=tuple(seals),
        )


def genesis_extra_data(validators: list[str]) -> str:
    """extraData of a QBFT genesis block with these validators (header validator selection)."""
    if not validators:
        raise ValueError("a QBFT network needs at least one validator")
    return QbftExtraData(tuple(validators)).hex()
