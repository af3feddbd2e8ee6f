"""ops15 C: an API placement sent without waiting (wait=false) is not continued past the per-transaction fill cap
(only wait=true and the web form continue a sweep). The 202 answer says so plainly and claims no outcome (its
figures are null, not 0); GET /api/v1/orders/placement/{tx_hash} tells afterwards what that transaction did, the
remainder the cap cancelled included."""

from __future__ import annotations

import time

from energy_chain.orders import OrderBookClient, Status
from webapp.services import trading


def _above_the_bids(client, sen: float) -> float:
    """A price no resting bid of other tests reaches, so that the test's asks rest."""
    bids = client.get("/api/v1/market/book").get_json()["bids"]
    best = bids[0]["price"] / 10_000 if bids else 0
    return round(max(sen, best + 0.25), 2)


def _placement(client, tx_hash: str) -> dict:
    for _ in range(100):
        r = client.get(f"/api/v1/orders/placement/{tx_hash}")
        assert r.status_code == 200, r.get_json()
        if r.get_json()["status"] != "pending":
            return r.get_json()
        time.sleep(0.1)
    raise AssertionError("placement not mined")


def test_a_capped_sweep_sent_without_waiting_says_so_and_its_outcome_is_readable(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 10_000)
    chain.top_up(users.address(buyer), 50_000_000)
    sen = _above_the_bids(seller_c, 34.75)
    asks = trading.MAX_FILLS + 2
    for _ in range(asks):
        r = seller_c.post("/api/v1/orders", json={"side": "sell", "price_sen": f"{sen:.2f}", "amount_wh": 100,
                                                  "wait": True})  # fmt: skip
        assert r.status_code == 201, r.get_json()
    r = buyer_c.post("/api/v1/orders", json={"side": "buy", "price_sen": f"{sen:.2f}", "amount_wh": 100 * asks})
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["status"] == "pending"
    # nothing is claimed before mining: no "filled 0", "rests 0"
    assert all(body[k] is None for k in ("order_id", "filled_wh", "resting_wh", "unplaced_wh", "fills"))
    assert f"at most {trading.MAX_FILLS} resting orders" in body["message"]
    assert "does not place it again" in body["message"]
    assert f"/api/v1/orders/placement/{body['tx_hash']}" in body["message"]

    done = _placement(buyer_c, body["tx_hash"])
    assert done["status"] == "success"
    assert done["filled_wh"] == 100 * trading.MAX_FILLS
    assert done["unplaced_wh"] == 200 and done["resting_wh"] == 0 and done["resting_order_id"] is None
    assert done["order_ids"] == [done["order_id"]] and done["tx_hashes"] == [body["tx_hash"]]
    assert "200 Wh was not placed" in done["message"] and "it was not placed again" in done["message"]
    book = OrderBookClient(chain.client)
    assert book.order(done["order_id"]).status is Status.CANCELLED  # the cap cancelled its remainder on chain
    users.index()  # nothing continued the sweep: the buyer has this one order, the seller two asks still open
    assert [o["order_id"] for o in buyer_c.get("/api/v1/orders").get_json()["orders"]] == [done["order_id"]]
    assert len(seller_c.get("/api/v1/orders?status=open").get_json()["orders"]) == 2
    for order in seller_c.get("/api/v1/orders?status=open").get_json()["orders"]:  # leave the shared book as it was
        seller_c.delete(f"/api/v1/orders/{order['order_id']}?wait=true")


def test_a_waited_sweep_is_continued_and_the_answer_has_no_note(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 10_000)
    chain.top_up(users.address(buyer), 50_000_000)
    sen = _above_the_bids(seller_c, 35.25)
    for _ in range(trading.MAX_FILLS + 2):
        r = seller_c.post("/api/v1/orders", json={"side": "sell", "price_sen": f"{sen:.2f}", "amount_wh": 100,
                                                  "wait": True})  # fmt: skip
        assert r.status_code == 201
    r = buyer_c.post("/api/v1/orders", json={"side": "buy", "price_sen": f"{sen:.2f}",
                                             "amount_wh": 100 * (trading.MAX_FILLS + 2), "wait": True})  # fmt: skip
    body = r.get_json()
    assert r.status_code == 201 and body["filled_wh"] == 100 * (trading.MAX_FILLS + 2), body
    assert len(body["tx_hashes"]) == 2 and body["unplaced_wh"] == 0 and body["message"] is None


def test_the_placement_of_an_unknown_or_other_transaction_is_a_clear_404(app, client, chain, users):
    r = client.get("/api/v1/orders/placement/0x" + "ab" * 32)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/orders/placement/0x12").status_code == 400
    name = users.signup(client)
    chain.mint_energy(users.address(name), 500)
    placed = client.post("/api/v1/orders", json={"side": "sell", "price_sen": "480", "amount_wh": 100, "wait": True})
    order_id = placed.get_json()["order_id"]
    cancel = client.delete(f"/api/v1/orders/{order_id}?wait=true").get_json()
    r = client.get(f"/api/v1/orders/placement/{cancel['tx_hash']}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_a_placement"
