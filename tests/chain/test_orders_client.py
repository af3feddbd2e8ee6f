"""energy_chain.orders against a real anvil: place, match, cancel, errors by name, pre-signed batches, nonces.

Plain pytest (no Brownie plugin): the module starts its own anvil on a free port and deploys (devchain.local_chain).
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import rlp

from energy_chain import Signer, TxFailed
from energy_chain.devchain import fund_traders, local_chain
from energy_chain.orders import OrderBookClient, Side, Status, cost, hint_from_levels
from energy_chain.txbatch import send_signed

P = 450_000


@pytest.fixture(scope="module")
def chain():
    with local_chain(gas_limit=300_000_000) as client:
        yield client


@pytest.fixture(scope="module")
def book(chain):
    return OrderBookClient(chain)


@pytest.fixture(scope="module")
def users(chain, book):
    """Six fresh keys holding energy and settlement tokens, approvals given (zero gas price: no ether needed)."""
    signers = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(6)]
    fund_traders(chain, signers, book, f"CLIENT-{secrets.token_hex(4)}", wh=1_000_000)
    return signers


def test_deployment_record_names_the_book_and_its_tokens(chain, book):
    assert book.contract.address == chain.deployment.address("OrderBook")
    assert book.energy.address == chain.deployment.address("EnergyToken")
    assert book.money.address == chain.deployment.address("SettlementToken")


def test_ensure_approvals_is_idempotent(chain, book):
    newcomer = Signer.from_key("0x" + secrets.token_hex(32))
    assert len(book.ensure_approvals(newcomer)) == 2
    assert book.ensure_approvals(newcomer) == []


def test_place_match_and_read_back(book, users):
    seller, buyer = users[0], users[1]
    sell = book.place(seller, Side.SELL, P, 2_000)
    assert sell.fills == [] and book.order(sell.order_id).status is Status.OPEN
    assert book.best_prices()[1] == P
    energy_before = book.energy.functions.balanceOf(buyer.address).call()
    buy = book.place(buyer, Side.BUY, P + 1_000, 1_500)
    (fill,) = buy.fills
    assert (fill.maker_id, fill.taker_id, fill.maker, fill.taker) == (
        sell.order_id,
        buy.order_id,
        seller.address,
        buyer.address,
    )
    assert (fill.taker_side, fill.price, fill.amount, fill.cost) == (Side.BUY, P, 1_500, cost(P, 1_500))
    assert book.energy.functions.balanceOf(buyer.address).call() == energy_before + 1_500
    maker = book.order(sell.order_id)
    assert (maker.remaining, maker.escrow, maker.status) == (500, 500, Status.OPEN)
    assert book.order(buy.order_id).status is Status.FILLED
    assert (P, 500) in book.book().asks
    assert sell.order_id in [o.id for o in book.open_orders(seller.address)]


def test_cancel_and_errors_by_name(book, users):
    owner, other = users[2], users[3]
    placed = book.place(owner, Side.BUY, 100_000, 1_000)
    with pytest.raises(TxFailed) as exc:
        book.cancel(other, placed.order_id)
    assert exc.value.error_name == "OrderBookNotOwner"
    book.cancel(owner, placed.order_id)
    assert book.order(placed.order_id).status is Status.CANCELLED
    with pytest.raises(TxFailed) as exc:
        book.cancel(owner, placed.order_id)
    assert exc.value.error_name == "OrderBookOrderNotOpen"
    with pytest.raises(TxFailed) as exc:
        book.place(owner, Side.SELL, P, 10**9)  # holds 1 000 000 Wh
    assert exc.value.error_name == "OrderBookInsufficientBalance"
    assert exc.value.error.args["needed"] == 10**9
    with pytest.raises(TxFailed) as exc:
        book.place(owner, Side.SELL, P, 5)
    assert exc.value.error_name == "OrderBookAmountBelowMinimum"
    # The nonce manager recovered from the failures: the next placement goes through.
    assert book.place(owner, Side.SELL, P + 5_000, 100).order_id > placed.order_id


def test_stale_hint_still_places(book, users):
    seller = users[4]
    base = 700_000
    for k in range(5):
        book.place(seller, Side.SELL, base + 1_000 * k, 100)
    hint = book.hint_for(Side.SELL, base + 3_500)
    assert hint == base + 3_000
    book.cancel(seller, book.open_orders(seller.address)[1].id)  # the hint's level (base + 3 000) disappears
    result = book.place(seller, Side.SELL, base + 3_500, 100, hint=hint)
    assert book.order(result.order_id).status is Status.OPEN
    prices = [p for p, _ in book.depth(Side.SELL, 50)]
    assert prices == sorted(prices) and base + 3_500 in prices


def test_presigned_batch_from_concurrent_threads(chain, book, users):
    """Many threads build transactions for the same signers: nonces never collide, every placement is mined."""
    signers = users[:4]
    jobs = [(signers[i % 4], 200_000 + 10 * (i % 7)) for i in range(80)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        raws = list(pool.map(lambda job: book.build_place_tx(job[0], Side.BUY, job[1], 100, max_fills=0), jobs))
    # Within one sender the nonces are distinct and gap-free, whatever the thread interleaving was.
    receipts = send_signed(chain, sorted(raws, key=_nonce))
    results = [book.place_result(r) for r in receipts]
    assert len({r.order_id for r in results}) == 80
    assert all(r.fills == [] for r in results)


def _nonce(raw: bytes) -> int:
    """Nonce of a signed legacy transaction (RLP list: nonce, gasPrice, gas, to, value, data, v, r, s)."""
    return int.from_bytes(rlp.decode(raw)[0], "big")


def test_clean_expired(chain, book, users):
    owner, cleaner = users[5], users[0]
    now = chain.w3.eth.get_block("latest")["timestamp"]
    placed = book.place(owner, Side.SELL, 900_000, 100, expiry=now + 30)
    chain.w3.provider.make_request("evm_increaseTime", [60])
    chain.w3.provider.make_request("evm_mine", [])
    assert book.clean_expired(cleaner, [placed.order_id, placed.order_id]) == 1
    assert book.order(placed.order_id).status is Status.EXPIRED


def test_hint_from_a_depth_snapshot():
    asks = [(100, 5), (110, 5), (130, 5)]
    assert hint_from_levels(asks, Side.SELL, 120) == 110
    assert hint_from_levels(asks, Side.SELL, 90) == 0
    assert hint_from_levels(asks, Side.SELL, 500) == 130  # deeper than the snapshot: its last level
    bids = [(100, 5), (90, 5)]
    assert hint_from_levels(bids, Side.BUY, 95) == 100
    assert hint_from_levels(bids, Side.BUY, 90) == 90
    assert hint_from_levels(bids, Side.BUY, 101) == 0


def test_hints_from_one_snapshot_survive_a_burst_of_new_levels(chain, book, users):
    """Hundreds of traders hint from the same (soon stale) depth snapshot; every placement still lands in order."""
    base, senders = 2_000_000, users[:4]
    raws = [
        book.build_place_tx(senders[k % 4], Side.SELL, base + 1_000 * k, 100, max_fills=0, hint=0 if k == 0 else None)
        for k in range(10)
    ]
    send_signed(chain, raws)
    snapshot = book.depth(Side.SELL, 100)
    # 150 new levels between and beyond the snapshot's, all hinted from the snapshot, sent in one batch.
    prices = [base + 1_000 * (k // 15) + 7 * (k % 15) + 1 for k in range(150)]
    raws = [
        book.build_place_tx(
            senders[i % 4], Side.SELL, p, 100, max_fills=0, hint=hint_from_levels(snapshot, Side.SELL, p)
        )
        for i, p in enumerate(prices)
    ]
    results = [book.place_result(r) for r in send_signed(chain, raws)]
    assert all(r.fills == [] and book.order(r.order_id).status is Status.OPEN for r in results)
    levels = [p for p, _ in book.depth(Side.SELL, 1_000) if p >= base]
    assert levels == sorted(levels) and set(prices) <= set(levels)


def test_a_hint_gone_stale_past_the_walk_bound_still_places_the_order_at_once(chain, book, users):
    """Issue 15 C/8: levels that land between the hint's read and the mining (the same-block spam), more than the
    walk's bound, cost the order nothing: the book's price index finds its place in the one transaction sent."""
    from energy_chain.devchain import dev_signer

    admin = dev_signer("admin")
    bound = book.contract.functions.maxHintSteps().call()
    chain.transact(book.contract.functions.setMaxHintSteps(3), admin, gas=100_000)
    try:
        honest, spammer = users[5], users[3]
        base = 3_000_000
        book.place(honest, Side.SELL, base, 100)
        stale = book.hint_for(Side.SELL, base + 100)
        assert stale == base
        for k in range(1, 7):  # six new levels between the hint and the price: twice the walk's bound
            book.place(spammer, Side.SELL, base + k, 100, hint=base + k - 1)
        nonce = chain.pending_nonce(honest.address)
        receipt = book.chain.transact(book.place_function(Side.SELL, base + 100, 100, hint=stale), honest, gas=500_000)
        assert chain.pending_nonce(honest.address) == nonce + 1  # one transaction, no retry
        result = book.place_result(receipt)
        assert book.order(result.order_id).status is Status.OPEN
        assert book.hint_for(Side.SELL, base + 101) == base + 100
        levels = [p for p, _ in book.depth(Side.SELL, 1_000) if base <= p <= base + 100]
        assert levels == [base + k for k in range(7)] + [base + 100]
    finally:
        chain.transact(book.contract.functions.setMaxHintSteps(bound), admin, gas=100_000)
