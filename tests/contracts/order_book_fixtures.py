"""Order-book fixtures: the book on the module's tokens, and funded, approving traders.

Import the fixtures by name in a test module (`from tests.contracts.order_book_fixtures import book, traders`).
"""

from __future__ import annotations

import pytest
from web3 import Web3

MIN_WH = 10
FUND_WH = 10_000_000  # 10 MWh each
FUND_UNITS = 10**12  # 1 000 000 MYR each
MAX_UINT = 2**256 - 1
BUY, SELL = 0, 1
OPEN, FILLED, CANCELLED, EXPIRED = 1, 2, 3, 4


def cost(price: int, amount: int) -> int:
    return price * amount // 1000


def fund_trader(account, registry, energy, money, operator, oracle, book, wh=FUND_WH, units=FUND_UNITS) -> None:
    """Register a meter for `account`, mint `wh` by a surplus reading, top up `units`, approve the book on both."""
    import brownie

    meter = Web3.keccak(text=f"OB-METER-{account.address}").to_0x_hex()
    registry.registerMeter(meter, account, {"from": operator})
    if wh:
        energy.recordReading((meter, brownie.chain.time() - 60, wh, 0), {"from": oracle})
    if units:
        money.topUp(account, units, meter, {"from": operator})
    energy.approve(book, MAX_UINT, {"from": account})
    money.approve(book, MAX_UINT, {"from": account})


@pytest.fixture(scope="module")
def book(OrderBook, energy, money, admin):
    return OrderBook.deploy(admin, energy, money, MIN_WH, {"from": admin, "gas_price": 0})


@pytest.fixture(scope="module")
def traders(accounts, book, registry, energy, money, operator, oracle):
    """Five funded traders (accounts 3..7): alice, bob, carol, dave, erin."""
    group = [accounts[i] for i in range(3, 8)]
    for account in group:
        fund_trader(account, registry, energy, money, operator, oracle, book)
    return group
