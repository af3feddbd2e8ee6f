"""The order book on the clique chain, through energy_chain.orders (what webapp and load tests use)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from energy_chain import ChainClient, Signer, TxFailed
from energy_chain.devchain import dev_signer
from energy_chain.meters import meter_id
from energy_chain.orders import OrderBookClient, Side, Status, cost
from tests.poa.conftest import CliqueDeployment

pytestmark = pytest.mark.clique
SELLER_WH = 5_000
BUYER_UNITS = 20_000_000  # 20 MYR


@dataclass(frozen=True)
class Traders:
    book: OrderBookClient
    seller: Signer
    buyer: Signer


@pytest.fixture(scope="module")
def traders(clique_deployment: CliqueDeployment) -> Traders:
    """A prosumer with metered energy and a consumer with money, both having approved the book."""
    client = clique_deployment.client()
    seller, buyer, operator, oracle = (dev_signer(i) for i in (5, 6, 1, 2))
    meter = meter_id(f"poa-book-{time.time_ns()}")
    client.transact(client.contract("MeterRegistry").functions.registerMeter(meter, seller.address), operator)
    interval = client.w3.eth.get_block("latest")["timestamp"] - 900
    energy, money = client.contract("EnergyToken"), client.contract("SettlementToken")
    client.transact(energy.functions.recordReading((meter, interval, SELLER_WH, 0)), oracle)
    client.transact(money.functions.topUp(buyer.address, BUYER_UNITS, b"\x02" * 32), operator)
    book = OrderBookClient(client)
    for trader in (seller, buyer):
        book.ensure_approvals(trader)
    return Traders(book, seller, buyer)


def balances(book: OrderBookClient, who: str) -> tuple[int, int]:
    return int(book.energy.functions.balanceOf(who).call()), int(book.money.functions.balanceOf(who).call())


def test_a_crossing_bid_fills_at_the_makers_price(traders: Traders):
    book, seller, buyer = traders.book, traders.seller, traders.buyer
    seller_before, buyer_before = balances(book, seller.address), balances(book, buyer.address)
    ask = book.place(seller, Side.SELL, price=450_000, amount=1_000)
    bid = book.place(buyer, Side.BUY, price=460_000, amount=600)
    assert [(f.maker_id, f.taker_id, f.price, f.amount) for f in bid.fills] == [
        (ask.order_id, bid.order_id, 450_000, 600)
    ]
    assert balances(book, buyer.address) == (buyer_before[0] + 600, buyer_before[1] - cost(450_000, 600))
    assert balances(book, seller.address) == (seller_before[0] - 1_000, seller_before[1] + cost(450_000, 600))
    resting = book.order(ask.order_id)
    assert (resting.status, resting.remaining) == (Status.OPEN, 400)
    assert (450_000, 400) in book.depth(Side.SELL)


def test_only_the_owner_cancels_and_gets_the_escrow_back(traders: Traders):
    book, seller, buyer = traders.book, traders.seller, traders.buyer
    ask = book.place(seller, Side.SELL, price=880_000, amount=300)
    with pytest.raises(TxFailed) as info:
        book.cancel(buyer, ask.order_id)
    assert info.value.error_name == "OrderBookNotOwner"
    assert info.value.error.args["orderId"] == ask.order_id
    energy_before = balances(book, seller.address)[0]
    book.cancel(seller, ask.order_id)
    assert book.order(ask.order_id).status == Status.CANCELLED
    assert balances(book, seller.address)[0] == energy_before + 300


def test_an_expired_order_is_cleaned_by_anyone(traders: Traders):
    book, seller = traders.book, traders.seller
    # 6 s ahead: the placement must be mined before its expiry, and on a loaded machine that took more than 2 s
    expiry = book.chain.w3.eth.get_block("latest")["timestamp"] + 6
    ask = book.place(seller, Side.SELL, price=990_000, amount=100, expiry=expiry)
    while book.chain.w3.eth.get_block("latest")["timestamp"] <= expiry:
        time.sleep(0.5)
    assert book.clean_expired(traders.buyer, [ask.order_id]) == 1
    assert book.order(ask.order_id).status == Status.EXPIRED


def test_an_unfunded_bid_reverts_with_the_named_error(traders: Traders):
    stranger = Signer.from_key(b"\x61" * 32)
    with pytest.raises(TxFailed) as info:
        traders.book.place(stranger, Side.BUY, price=100_000, amount=50)
    assert info.value.error_name in ("OrderBookInsufficientAllowance", "OrderBookInsufficientBalance")


def test_presigned_placements_in_one_batch(traders: Traders, clique_deployment: CliqueDeployment):
    client: ChainClient = clique_deployment.client()
    book, seller = OrderBookClient(client), dev_signer(5)
    prices = [800_000 + 1_000 * i for i in range(12)]
    nonces = seller.reserve(len(prices), client.pending_nonce)
    raws = [book.build_place_tx(seller, Side.SELL, p, 50, hint=0, nonce=n) for p, n in zip(prices, nonces, strict=True)]
    hashes = client.send_raw_batch(raws)
    assert all(isinstance(h, str) for h in hashes), hashes
    receipts = client.wait_for_receipts(hashes)  # type: ignore[arg-type]
    results = [book.place_result(receipts[h]) for h in hashes]  # type: ignore[index]
    assert [book.order(r.order_id).price for r in results] == prices
    depth = dict(book.depth(Side.SELL, levels=50))
    assert all(depth.get(p, 0) >= 50 for p in prices)
