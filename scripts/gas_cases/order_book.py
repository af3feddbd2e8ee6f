"""Gas of the order book: placement that rests with 10 / 1 000 / 10 000 resting orders, fills, cancel, expiry.

The book is built quickly: pre-signed placements from many zero-balance senders (gas price 0 needs no ether), sent
as JSON-RPC batches through ChainClient.send_raw_batch. Layout: asks at 300 000 + 100*k, bids at 200 000 - 100*k
(k < 500 levels per side), alternating sides; 10 000 orders put 10 orders on every level.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from energy_chain import ChainClient, Signer
from energy_chain.devchain import fund_traders as fund
from energy_chain.orders import OrderBookClient, Side, place_gas
from energy_chain.txbatch import send_signed
from scripts.gas_report import GasContext

LEVELS = 500
ASK0, BID0, STEP = 300_000, 200_000, 100
MAKER_WH = 1_000
SENDERS = 50
BATCH = 100  # automine anvil stays fast with ~100 transactions in flight
BUILD_BATCH = 2_000  # while building the book the chain mines a block every second instead
FUND_WH = 10**9
FUND_UNITS = 10**13
SIZES = (10, 1_000, 10_000)


def ask(k: int) -> int:
    return ASK0 + STEP * k


def bid(k: int) -> int:
    return BID0 - STEP * k


class BookBuilder:
    """Adds resting orders in the fixed layout.

    The first order of every level comes from one sender per side in level order (nonce order is mining order), each
    hinted with the level before it; later orders join existing levels. While building, the chain mines a block every
    second instead of one block per transaction, so thousands of placements go in one JSON-RPC batch.
    """

    def __init__(self, client: ChainClient, book: OrderBookClient, senders: Sequence[Signer]) -> None:
        self.client, self.book, self.senders = client, book, senders
        self.placed = 0

    def _order(self, i: int) -> bytes:
        side = Side.SELL if i % 2 else Side.BUY
        k = (i // 2) % LEVELS
        price = ask(k) if side == Side.SELL else bid(k)
        if i < 2 * LEVELS:  # opens level k
            hint = 0 if k == 0 else (ask(k - 1) if side == Side.SELL else bid(k - 1))
            signer = self.senders[i % 2]
        else:
            hint, signer = 0, self.senders[2 + i % (len(self.senders) - 2)]
        return self.book.build_place_tx(signer, side, price, MAKER_WH, max_fills=0, hint=hint)

    def grow_to(self, n: int) -> None:
        rpc = self.client.w3.provider.make_request
        raws = [self._order(i) for i in range(self.placed, n)]
        rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
        rpc("evm_setIntervalMining", [1])  # type: ignore[arg-type]
        try:
            send_signed(self.client, raws, BUILD_BATCH)
        finally:
            rpc("evm_setIntervalMining", [0])  # type: ignore[arg-type]
            rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
        self.placed = n


def _advance(client: ChainClient, seconds: int) -> None:
    client.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _place(
    ctx: GasContext,
    book: OrderBookClient,
    signer: Signer,
    case: str,
    side: Side,
    price: int,
    amount: int,
    hint: int = 0,
    max_fills: int = 0,
    expiry: int = 0,
    record: bool = True,
) -> dict[str, Any]:
    fn = book.place_function(side, price, amount, expiry, max_fills, hint)
    receipt = ctx.client.transact(fn, signer, gas=place_gas(max_fills))
    if record:
        ctx.rows.append(
            {"contract": "OrderBook", "function": "placeOrder", "case": case, "gas": int(receipt["gasUsed"])}
        )
    return receipt


def measure(ctx: GasContext) -> None:
    client = ctx.client
    book = OrderBookClient(client)
    senders = [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(SENDERS)]
    alice, bob = ctx.signer(3), ctx.signer(4)
    fund(client, [*senders, alice, bob], book, "GAS-OB")
    builder = BookBuilder(client, book, senders)

    for stage, n in enumerate(SIZES):
        builder.grow_to(n)
        tag = f"{n:,} resting"
        if stage == 0:  # a trader's first order also numbers the trader (two fresh slots, once per address)
            for who in (alice, bob):
                _place(
                    ctx,
                    book,
                    who,
                    f"trader's first order, joins an existing level ({tag})",
                    Side.BUY,
                    bid(3),
                    MAKER_WH,
                    bid(2),
                )
        _place(ctx, book, alice, f"sell, joins an existing level ({tag})", Side.SELL, ask(2), MAKER_WH, ask(1))
        _place(ctx, book, alice, f"buy, joins an existing level ({tag})", Side.BUY, bid(2), MAKER_WH, bid(1))
        _place(
            ctx,
            book,
            alice,
            f"sell, new level inside the book, exact hint ({tag})",
            Side.SELL,
            ask(2) + 10 + stage,
            MAKER_WH,
            ask(2) + 10 + stage - 1 if stage else ask(2),  # the level opened at the stage before is the nearest
        )
        _place(
            ctx,
            book,
            alice,
            f"buy, new level inside the book, exact hint ({tag})",
            Side.BUY,
            bid(2) - 10 - stage,
            MAKER_WH,
            bid(2) - 10 - stage + 1 if stage else bid(2),
        )
        _place(ctx, book, alice, f"buy, new best bid ({tag})", Side.BUY, bid(0) + 10 + stage, MAKER_WH)
        if n >= 100:
            _place(
                ctx,
                book,
                alice,
                f"sell, new level, stale hint 20 levels away ({tag})",
                Side.SELL,
                ask(20) + 10 + stage,
                MAKER_WH,
                ask(0),
            )
        if n == SIZES[-1]:
            # Past the walk's bound the price index finds the place: the worst a hint (or a wall of levels) can do.
            _place(
                ctx,
                book,
                alice,
                f"sell, new level below a wall of {LEVELS} levels, hint 0 (price index) ({tag})",
                Side.SELL,
                ask(LEVELS - 1) - 7,
                MAKER_WH,
            )
            _place(
                ctx,
                book,
                alice,
                f"sell, new level far from every other price (fresh index words) ({tag})",
                Side.SELL,
                2**39 + 12_345,
                MAKER_WH,
                ask(LEVELS - 1),
            )

    # Cancel: from the middle of a 10-order level, and the only order of a level (the level is unlinked).
    middle = book.contract.functions.levelOrders(int(Side.SELL), ask(5), 0, 20).call()[0]
    owner_of = {s.address: s for s in [*senders, alice, bob]}
    mid_id = middle[len(middle) // 2]
    ctx.measure(
        "OrderBook",
        "cancelOrder",
        "order in the middle of a level (10,000 resting)",
        book.contract.functions.cancelOrder(mid_id),
        owner_of[book.order(mid_id).owner],
    )
    lone = book.place_result(
        _place(
            ctx, book, alice, "sell, new level inside the book (to cancel)", Side.SELL, ask(7) + 50, MAKER_WH, ask(7)
        )
    ).order_id
    ctx.measure(
        "OrderBook",
        "cancelOrder",
        "only order of its level (level unlinked)",
        book.contract.functions.cancelOrder(lone),
        alice,
    )
    _place(ctx, book, alice, "sell, level re-created at a price used before", Side.SELL, ask(7) + 50, MAKER_WH, ask(7))

    # Fills against the best asks (10 makers of 1 000 Wh per level, other owners than bob).
    join = _place(ctx, book, bob, "buy, joins an existing level (before the fills)", Side.BUY, bid(2), MAKER_WH)
    _place(ctx, book, bob, "buy filling 1 resting order completely", Side.BUY, ask(0), MAKER_WH, max_fills=1)
    _place(ctx, book, bob, "buy filling 1 resting order partly", Side.BUY, ask(0), MAKER_WH // 2, max_fills=1)
    one = _place(
        ctx, book, bob, "buy filling 1 resting order completely (2nd)", Side.BUY, ask(0), MAKER_WH // 2, max_fills=1
    )
    ten = _place(
        ctx, book, bob, "buy filling 10 resting orders completely", Side.BUY, ask(1), 10 * MAKER_WH, max_fills=10
    )
    ctx.rows.append(
        {
            "contract": "OrderBook",
            "function": "placeOrder",
            "case": "1 complete fill instead of resting (filled taker - resting taker)",
            "gas": int(one["gasUsed"]) - int(join["gasUsed"]),
        }
    )
    per_fill = (int(ten["gasUsed"]) - int(one["gasUsed"])) // 9
    ctx.rows.append(
        {
            "contract": "OrderBook",
            "function": "placeOrder",
            "case": "each additional fill (10 fills - 1)",
            "gas": per_fill,
        }
    )
    twenty = _place(
        ctx,
        book,
        bob,
        "buy filling 20 resting orders across 2 levels (levels unlinked)",
        Side.BUY,
        ask(3),
        20 * MAKER_WH,
        max_fills=20,
    )
    ctx.rows.append(
        {
            "contract": "OrderBook",
            "function": "placeOrder",
            "case": "each additional fill (20 fills - 1)",
            "gas": (int(twenty["gasUsed"]) - int(one["gasUsed"])) // 19,
        }
    )
    _place(
        ctx,
        book,
        alice,
        "sell filling 1 resting bid completely (buyer's dust refunded)",
        Side.SELL,
        bid(0),
        MAKER_WH,
        max_fills=1,
    )
    _place(
        ctx, book, alice, "sell filling 5 resting bids, remainder rests", Side.SELL, bid(0), 6 * MAKER_WH, max_fills=5
    )
    # Self-trade: alice's sell meets her own resting bid at the best price and cancels it.
    _place(ctx, book, alice, "buy, new best bid (alice)", Side.BUY, bid(0) + 50, MAKER_WH)
    _place(
        ctx,
        book,
        alice,
        "sell meeting own resting bid (self-trade cancel), then resting",
        Side.SELL,
        bid(0) + 50,
        MAKER_WH,
        max_fills=1,
    )

    # Expiry: ten expiring asks on a fresh level, then cleaned by a stranger; one expiring best ask met by a taker.
    now = client.w3.eth.get_block("latest")["timestamp"]
    deep = ask(400) + 10
    expiring = [
        book.place_result(
            _place(
                ctx,
                book,
                alice,
                "sell with expiry, new level" if i == 0 else "sell with expiry, joins its level",
                Side.SELL,
                deep,
                MAKER_WH,
                book.hint_for(Side.SELL, deep),
                expiry=now + 600,
                record=i < 2,
            )
        ).order_id
        for i in range(10)
    ]
    best_expiring = book.place_result(
        _place(
            ctx,
            book,
            alice,
            "sell with expiry, new best ask",
            Side.SELL,
            book.best_prices()[1] - 5,
            MAKER_WH,
            expiry=now + 600,
        )
    ).order_id
    _advance(client, 3600)
    ctx.measure(
        "OrderBook",
        "cleanExpired",
        "10 expired orders of one level",
        book.contract.functions.cleanExpired(expiring),
        bob,
    )
    _place(
        ctx,
        book,
        bob,
        "buy meeting 1 expired order (removed, refunded), then 1 fill",
        Side.BUY,
        book.best_prices()[1] + 100,
        MAKER_WH // 2,
        max_fills=2,
    )
    assert book.order(best_expiring).status.name == "EXPIRED"
