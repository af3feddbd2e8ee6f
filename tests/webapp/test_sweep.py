"""Issue 14 item 1: a buy that sweeps more resting orders than one transaction may fill (the 10-fill cap) continues
in follow-up transactions, and the message says exactly what happened: what filled, which order rests and how much."""

from __future__ import annotations

import re

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, Trade
from webapp.services import trading


def _flash(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _above_the_bids(client, sen: float) -> str:
    """A price no resting bid of other tests reaches, so that the test's asks rest."""
    bids = client.get("/api/v1/market/book").get_json()["bids"]
    best = bids[0]["price"] / 10_000 if bids else 0
    return f"{max(sen, best + 0.25):.2f}"


def _asks(client, n: int, price: str, kwh: str) -> None:
    for _ in range(n):
        r = client.post("/market/order", data={"side": "sell", "price": price, "amount": kwh})
        assert r.status_code == 302


def test_a_sweep_past_the_fill_cap_continues_and_the_message_is_true(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 10_000)
    chain.top_up(users.address(buyer), 50_000_000)
    price = _above_the_bids(seller_c, 33.5)
    _asks(seller_c, 2 * trading.MAX_FILLS + 3, price, "0.1")  # 23 asks below the buy: more than two capped sweeps
    page = _flash(buyer_c, buyer_c.post("/market/order", data={"side": "buy", "price": price, "amount": "5",
                                                                "price_confirmed": "1"}))  # fmt: skip
    users.index()
    with app.app_context():
        mine = list(db.session.scalars(select(Order).where(Order.maker == users.address(buyer))))
        filled = sum(t.amount_wh for t in db.session.scalars(select(Trade).where(Trade.buyer == users.address(buyer))))
    open_orders = [o for o in mine if o.status == "open"]
    assert len(open_orders) == 1, [(o.order_id, o.status) for o in mine]  # the rest really rests
    rest = open_orders[0]
    assert filled >= 2300 and rest.remaining_wh == 5000 - filled
    assert f"rests in the book as order #{rest.order_id}" in page
    assert f"{(5000 - filled) / 1000:.3f} kWh rests" in page
    assert "sweep continued" in page
    assert re.search(rf"Filled {filled / 1000:.3f} kWh at once", page)
    market = buyer_c.get("/market").get_data(as_text=True)
    assert f"<td>{rest.order_id}</td>" in market  # in "My open orders"
    buyer_c.post("/market/cancel", data={"order_id": rest.order_id})  # leave the shared book as it was


def test_a_sweep_stopped_by_the_bound_says_so(app, chain, users, monkeypatch):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 10_000)
    chain.top_up(users.address(buyer), 50_000_000)
    price = _above_the_bids(seller_c, 36.25)
    _asks(seller_c, trading.MAX_FILLS + 2, price, "0.1")
    monkeypatch.setattr(trading, "SWEEP_FOLLOW_UPS", 0)
    page = _flash(buyer_c, buyer_c.post("/market/order", data={"side": "buy", "price": price, "amount": "2",
                                                                "price_confirmed": "1"}))  # fmt: skip
    users.index()
    with app.app_context():
        mine = list(db.session.scalars(select(Order).where(Order.maker == users.address(buyer))))
    assert [o.status for o in mine] == ["cancelled"]
    assert "rests in the book" not in page
    assert "was not placed: the sweep stopped after 1 transactions" in page
