"""The side of an order, one convention for both venues (interfaces/MarketTypes.sol `Side`)."""

from __future__ import annotations

from enum import IntEnum


class Side(IntEnum):
    """ABI value of `Side` in IOrderBook and IDoubleAuction: 0 buys (bids), 1 sells (asks).

    BID and ASK are aliases of BUY and SELL (the auction's words for the same values).
    """

    BUY = 0
    SELL = 1
    BID = 0
    ASK = 1
