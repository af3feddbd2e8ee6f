"""Market pages on the real order book: place, match (full and partial), cancel, and the errors users can cause."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Order, Trade


def _flash(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_sell_then_matching_buy_trades_and_shows_everywhere(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 5000)
    chain.top_up(users.address(buyer), 10_000_000)  # RM 10

    page = _flash(seller_c, seller_c.post("/market/order", data={"side": "sell", "price": "45", "amount": "2"}))
    assert "Sell order #" in page and "2.000 kWh at 45.00 sen/kWh placed" in page
    assert "45.00 sen/kWh" in seller_c.get("/market").get_data(as_text=True)  # in the asks

    page = _flash(buyer_c, buyer_c.post("/market/order", data={"side": "buy", "price": "50", "amount": "1.5"}))
    assert "Filled 1.500 kWh at once for RM 0.6750" in page  # at the resting order's price: 45 sen * 1.5 kWh

    seller_account = seller_c.get("/account").get_data(as_text=True)
    assert "sold" in seller_account and "0.500 kWh" in seller_account  # partial fill: 0.5 kWh still rests
    assert "partial" in seller_account
    buyer_account = buyer_c.get("/account").get_data(as_text=True)
    assert "bought" in buyer_account and "1.500 kWh" in buyer_account
    assert "RM 9.32" in buyer_account  # 10 - 0.675, shown with 2 decimals
    with app.app_context():
        trade = db.session.scalar(select(Trade).where(Trade.buyer == users.address(buyer)))
        expected = (users.address(seller), 450_000, 1500, 675_000)
        assert (trade.seller, trade.price, trade.amount_wh, trade.cost) == expected
        sell = db.session.get(Order, trade.sell_order_id)
        assert (sell.status, sell.remaining_wh) == ("open", 500)
    explorer = buyer_c.get(f"/explorer/tx/{trade.tx_hash}").get_data(as_text=True)
    assert "OrderFilled" in explorer and "placeOrder" in explorer


def test_cancel_own_order_refunds_and_others_cannot(app, chain, users):
    owner_c, other_c = app.test_client(), app.test_client()
    owner, _ = users.signup(owner_c), users.signup(other_c)
    chain.top_up(users.address(owner), 5_000_000)
    owner_c.post("/market/order", data={"side": "buy", "price": "1.5", "amount": "1"})
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.maker == users.address(owner)))
    page = _flash(other_c, other_c.post("/market/cancel", data={"order_id": order.order_id}))
    assert f"Order {order.order_id} is not yours." in page
    page = _flash(owner_c, owner_c.post("/market/cancel", data={"order_id": order.order_id}))
    assert f"Order #{order.order_id} cancelled" in page
    with app.app_context():
        assert db.session.get(Order, order.order_id).status == "cancelled"
    page = _flash(owner_c, owner_c.post("/market/cancel", data={"order_id": order.order_id}))
    assert "is no longer open" in page
    page = _flash(owner_c, owner_c.post("/market/cancel", data={"order_id": "abc"}))
    assert "Choose an order to cancel." in page


def test_insufficient_balance_is_explained(app, chain, users):
    client = app.test_client()
    users.signup(client)
    page = _flash(client, client.post("/market/order", data={"side": "sell", "price": "40", "amount": "3"}))
    assert "Insufficient balance: you have 0.000 kWh but this order needs 3.000 kWh." in page
    page = _flash(client, client.post("/market/order", data={"side": "buy", "price": "40", "amount": "3"}))
    assert "Insufficient balance: you have RM 0.00 but this order needs RM 1.20." in page


def test_out_of_range_input_is_explained(app, users):
    client = app.test_client()
    users.signup(client)
    cases = {
        ("buy", "600", "1"): "Price must be at most 500 sen/kWh",
        ("buy", "0", "1"): "Price must be greater than zero",
        ("buy", "40", "0.0001"): "too many decimals",
        ("buy", "40", "2000"): "Amount must be at most 1000 kWh",
        ("hold", "40", "1"): "Not a valid choice",
        ("buy", "", "1"): "Enter a price",
    }
    for (side, price, amount), message in cases.items():
        page = _flash(client, client.post("/market/order", data={"side": side, "price": price, "amount": amount}))
        assert message in page, (side, price, amount)


def test_market_page_for_visitors_and_home_quick_order(client, users):
    page = client.get("/market").get_data(as_text=True)
    assert "Bids (buy)" in page and "to trade" in page
    assert "Create an account" in client.get("/").get_data(as_text=True)
    users.signup(client)
    assert "Quick order" in client.get("/").get_data(as_text=True)
