"""Issue 15 (C/8): a hint that went stale before mining never makes a web order fail, and costs no second attempt.

The book is made to change between the hint's read and the order: the first hint the web app reads is followed, at
once, by a wall of new price levels between it and the order's price, more than the contract's hint walk
(`maxHintSteps`, lowered to 3 here so the wall stays small) crosses; the book's price index places the order in the
one transaction the web app sends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from energy_chain.devchain import dev_key, dev_signer
from energy_chain.orders import OrderBookClient, Side, Status
from energy_chain.signer import Signer

WALK = 3  # the contract's hint walk for these tests
WALL = 6  # new levels between the stale hint and the price: twice the walk


@contextlib.contextmanager
def short_hint_walk(chain) -> Iterator[None]:
    book = chain.client.contract("OrderBook")
    admin = dev_signer("admin")
    bound = book.functions.maxHintSteps().call()
    admin.resync()
    chain.client.transact(book.functions.setMaxHintSteps(WALK), admin, gas=100_000)
    try:
        yield
    finally:
        admin.resync()
        chain.client.transact(book.functions.setMaxHintSteps(bound), admin, gas=100_000)


class WallAfterFirstHint:
    """Replaces OrderBookClient.hint_for: the first read returns the true hint, then a spammer lands WALL levels
    between it and the price, so that hint is stale past the walk; later reads are the chain's own."""

    def __init__(self, chain, base: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.chain, self.base = chain, base
        self.spammer = Signer.from_key(dev_key(8))
        chain.mint_energy(self.spammer.address, 100 * (WALL + 2))  # one more for assert_stale
        self.book = OrderBookClient(chain.client)
        self.book.ensure_approvals(self.spammer)
        self.placed = [self.book.place(self.spammer, Side.SELL, base, 100, max_fills=0,
                                       hint=self._real(Side.SELL, base)).order_id]  # fmt: skip
        self.hints: list[int] = []
        self.stale_hint: int | None = None
        self.stale_gas: int | None = None
        wall = self

        def hint_for(client: OrderBookClient, side: Side, price: int) -> int:
            return wall._hint_for(client, side, price)

        monkeypatch.setattr(OrderBookClient, "hint_for", hint_for)

    _real_hint_for = OrderBookClient.hint_for

    def _real(self, side: Side, price: int) -> int:
        return WallAfterFirstHint._real_hint_for(self.book, side, price)

    def _hint_for(self, client: OrderBookClient, side: Side, price: int) -> int:
        hint = WallAfterFirstHint._real_hint_for(client, side, price)
        self.hints.append(hint)
        if self.stale_hint is None:
            self.stale_hint = hint
            for k in range(1, WALL + 1):  # exact hints: each level right after the one before
                level = self.base + 100 * k
                self.placed.append(self.book.place(self.spammer, Side.SELL, level, 100, max_fills=0,
                                                   hint=level - 100).order_id)  # fmt: skip
            # what an order sent now with this hint meets (simulated from the spammer): it is placed all the same
            fn = self.book.place_function(side, price, 100, hint=hint)
            self.stale_gas = self.chain.client.estimate_gas(fn, self.spammer.address)
        return hint

    def clean(self) -> None:
        """Leave the shared book as it was: the spammer's levels go."""
        for order_id in self.placed:
            self.book.cancel(self.spammer, order_id)


def test_an_api_order_whose_hint_went_stale_is_placed(app, client, users, chain, monkeypatch):
    base = 4_810_000  # 481 sen/kWh: above every other test's asks (the chain is shared)
    price = base + 1_000
    with short_hint_walk(chain):
        wall = WallAfterFirstHint(chain, base, monkeypatch)
        name = users.signup(client)
        chain.mint_energy(users.address(name), 1000)
        r = client.post("/api/v1/orders", json={"side": "sell", "price": price, "amount_wh": 1000, "wait": True})
        assert r.status_code == 201, r.get_json()
        body = r.get_json()
        assert wall.hints == [base]  # the hint went stale past the walk, and was not read again
        assert wall.stale_gas is not None
        assert wall.book.order(body["order_id"]).status is Status.OPEN
        assert body["resting_wh"] == 1000
        levels = [p for p, _ in wall.book.depth(Side.SELL, 1_000) if base <= p <= price]
        assert levels == [base + 100 * k for k in range(WALL + 1)] + [price]
        client.delete(f"/api/v1/orders/{body['order_id']}?wait=true")
        wall.clean()


def test_a_web_form_order_whose_hint_went_stale_is_placed(app, client, users, chain, monkeypatch):
    base = 4_910_000  # 491 sen/kWh, below the form's 500 sen bound
    price = base + 10_000  # 492.00 sen/kWh
    with short_hint_walk(chain):
        wall = WallAfterFirstHint(chain, base, monkeypatch)
        name = users.signup(client)
        chain.mint_energy(users.address(name), 1000)
        r = client.post("/market/order", data={"side": "sell", "price": "492", "amount": "1"})
        assert r.status_code == 302
        page = client.get(r.headers["Location"]).get_data(as_text=True)
        assert "Sell order #" in page and "placed" in page, page[:2000]
        assert "try again" not in page
        assert wall.hints == [base]
        assert wall.stale_gas is not None
        assert [o for o in wall.book.depth(Side.SELL, 1_000) if o[0] == price] == [(price, 1000)]
        for order in client.get("/api/v1/orders?status=open").get_json()["orders"]:
            client.delete(f"/api/v1/orders/{order['order_id']}?wait=true")
        wall.clean()
