"""Auction page and API on the real DoubleAuction: submit, the round ends (time travel), the keeper clears and
settles it, and the page shows the clearing price (equal to the Python reference) with the curves."""

from __future__ import annotations

from energy_chain.clearing import Order, Side, Tariffs, clear
from webapp.services.demo_bot import Bot


def _end_round(chain) -> None:
    auction = chain.client.contract("DoubleAuction")
    interval, reveal, _ = auction.functions.schedule().call()
    w3 = chain.client.w3
    w3.provider.make_request("evm_increaseTime", [int(interval) + int(reveal) + 1])
    w3.provider.make_request("evm_mine", [])


def test_round_from_bids_to_clearing_price(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 4000)
    chain.top_up(users.address(buyer), 5_000_000)

    page = seller_c.get("/auction").get_data(as_text=True)
    assert "Closes in" in page and 'data-countdown="' in page and "20.00 sen/kWh" in page  # the grid band
    r = seller_c.post("/auction/order", data={"side": "sell", "price": "30", "amount": "2"}, follow_redirects=True)
    assert "Ask #" in r.get_data(as_text=True)
    r = buyer_c.post(
        "/api/v1/auction/orders", json={"side": "buy", "price_sen": "45", "amount_kwh": "1.5", "wait": True}
    )
    assert r.status_code == 201 and r.get_json()["order_id"]
    current = buyer_c.get("/api/v1/auction/current").get_json()["round"]
    assert (current["bid_count"], current["ask_count"]) == (1, 1)

    _end_round(chain)
    with app.app_context():
        app.extensions["chain"].operator().resync()
        Bot(app, "unused", 1.0).keep_auction()  # close, clear and settle like the demo keeper
    users.index()

    expected = clear([Order(1, Side.ASK, 300_000, 2000), Order(2, Side.BID, 450_000, 1500)], Tariffs(500_000, 200_000))
    body = buyer_c.get("/api/v1/auction/current").get_json()["last_cleared"]
    assert (body["clearing_price"], body["volume_wh"]) == (expected.price, expected.volume_wh)
    assert body["curves"]["supply"] and body["curves"]["demand"]
    page = buyer_c.get("/auction").get_data(as_text=True)
    assert "37.50 sen/kWh" in page and 'class="line supply"' in page and "cleared" in page
    account = buyer_c.get("/account").get_data(as_text=True)
    assert "bought" in account and "1.500 kWh" in account


def test_auction_errors(app, users):
    client = app.test_client()
    users.signup(client)
    r = client.post("/api/v1/auction/orders", json={"side": "sell", "price": 300_000, "amount_wh": 1000})
    assert r.status_code == 422 and "Insufficient balance" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/auction/orders", json={"side": "both", "price": 1, "amount_wh": 1})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_side"
    r = client.post("/auction/order", data={"side": "buy", "price": "999", "amount": "1"}, follow_redirects=True)
    assert "Price must be at most 500 sen/kWh" in r.get_data(as_text=True)
    r = client.post("/auction/order", data={"side": "buy", "price": "", "amount": "1"}, follow_redirects=True)
    assert "Enter a price" in r.get_data(as_text=True)
