"""The contracts' enums as Python sees them, in one place (same numbering as interfaces/MarketTypes.sol,
interfaces/IOrderBook.sol and interfaces/IDoubleAuction.sol). Everything that mirrors a side, a status or a phase
imports it from here."""

from __future__ import annotations

from enum import IntEnum


class Side(IntEnum):
    """interfaces/MarketTypes.sol `Side`, one convention for both venues: 0 buys (bids), 1 sells (asks).

    BID and ASK are aliases of BUY and SELL (the auction's words for the same values).
    """

    BUY = 0
    SELL = 1
    BID = 0
    ASK = 1

    @property
    def word(self) -> str:
        """ "buy" or "sell", as pages and the API spell it."""
        return self.name.lower()

    @classmethod
    def parse(cls, word: str) -> Side:
        """The side named "buy" or "sell"; ValueError for anything else."""
        try:
            return cls[word.upper()] if isinstance(word, str) else cls(word)
        except (KeyError, ValueError):
            raise ValueError(f"side must be 'buy' or 'sell', not {word!r}") from None


class Status(IntEnum):
    """IOrderBook.Status."""

    NONE = 0
    OPEN = 1
    FILLED = 2
    CANCELLED = 3
    EXPIRED = 4


# The auction's name for the same enum (both venues share MarketTypes.Side).
AuctionSide = Side


class Phase(IntEnum):
    """IDoubleAuction.Phase of a round."""

    NONE = 0
    OPEN = 1
    REVEAL = 2
    ENDED = 3
    CLOSED = 4
    CLEARING = 5
    CLEARED = 6

    @property
    def word(self) -> str:
        return self.name.lower()


class OrderState(IntEnum):
    """IDoubleAuction.OrderState."""

    NONE = 0
    COMMITTED = 1
    BOOKED = 2
    CLAIMED = 3
