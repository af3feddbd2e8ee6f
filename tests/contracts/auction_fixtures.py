"""Double-auction fixtures: the auction on the module's tokens, funded traders, and round/time helpers.

Import in a test module: `from tests.contracts import auction_fixtures as fx` then `auction, traders = fx.auction,
fx.traders` (module-scoped fixtures).
"""

from __future__ import annotations

import pytest
from web3 import Web3

RETAIL, FEED_IN = 500_000, 200_000  # 0.50 and 0.20 MYR per kWh
INTERVAL, REVEAL = 900, 300
FUND_WH = 10_000_000
FUND_UNITS = 10**12
MAX_UINT = 2**256 - 1
BID, ASK = 0, 1
# Phase and OrderState numbering of IDoubleAuction.
NONE, OPEN, REVEAL_PHASE, ENDED, CLOSED, CLEARING, CLEARED = range(7)
COMMITTED, BOOKED, CLAIMED = 1, 2, 3


def cost_up(price: int, wh: int) -> int:
    return -(-price * wh // 1000)


def cost_down(price: int, wh: int) -> int:
    return price * wh // 1000


@pytest.fixture(scope="module")
def auction(DoubleAuction, energy, money, admin, operator):
    """The auction with a 1 Wh minimum: the clearing tests use Wh-sized books (test_auction_rules tests the default)."""
    deployed = DoubleAuction.deploy(admin, operator, energy, money, RETAIL, FEED_IN, {"from": admin, "gas_price": 0})
    deployed.setMinAmount(1, {"from": admin})
    return deployed


@pytest.fixture(scope="module")
def traders(accounts, auction, registry, energy, money, operator, oracle):
    """Five funded traders (accounts 3..7) that approved the auction on both tokens."""
    import brownie

    group = [accounts[i] for i in range(3, 8)]
    for account in group:
        meter = Web3.keccak(text=f"DA-METER-{account.address}").to_0x_hex()
        registry.registerMeter(meter, account, {"from": operator})
        energy.recordReading((meter, brownie.chain.time() - 60, FUND_WH, 0), {"from": oracle})
        money.topUp(account, FUND_UNITS, meter, {"from": operator})
        energy.approve(auction, MAX_UINT, {"from": account})
        money.approve(auction, MAX_UINT, {"from": account})
    return group


def _latest_timestamp() -> int:
    import brownie

    return int(brownie.web3.eth.get_block("latest")["timestamp"])


def _mine_at(timestamp: int) -> None:
    """Mine a block at `timestamp`; later blocks follow on from it. Uses the chain's own clock, not Brownie's
    estimate (which drifts from anvil's after snapshot reverts)."""
    import brownie

    brownie.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    brownie.web3.provider.make_request("evm_mine", [])


def new_round(auction) -> int:
    """Mine the first block of the next window; returns that round's id."""
    interval = auction.schedule()[0]
    now = _latest_timestamp()
    start = now - now % interval + interval
    _mine_at(start)
    assert auction.currentRoundId() == start
    return start


def end_round(auction, round_id: int) -> None:
    """Move the clock to the end of the round's window (and reveal window)."""
    _mine_at(max(_latest_timestamp() + 1, auction.getRound(round_id)[2]))


def to_reveal(auction, round_id: int) -> None:
    """Move the clock to the start of the round's reveal window."""
    _mine_at(max(_latest_timestamp() + 1, auction.getRound(round_id)[1]))


def submit(auction, who, side, price, amount, round_id, hint=0):
    return auction.submitOrder(round_id, side, price, amount, hint, {"from": who})


def order_id(tx) -> int:
    """Id of the order booked or committed by `tx` (from its event)."""
    name = "OrderBooked" if "OrderBooked" in tx.events else "OrderCommitted"
    return int(tx.events[name]["orderId"])
