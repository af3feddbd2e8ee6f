"""The market lists individual orders of the best levels (own ones marked), and one of them can be taken directly
("buy from this offer" / "sell to this bid") with a taker order that never rests in the book; the result says what
was filled, from which order, at which price. On SQLite and PostgreSQL, on a real anvil."""

from __future__ import annotations

import re

from energy_chain.enums import Status
from energy_chain.orders import OrderBookClient
from webapp.services import offers


def _place(client, side: str, price_sen: str, kwh: str) -> int:
    r = client.post("/api/v1/orders", json={"side": side, "price_sen": price_sen, "amount_kwh": kwh, "wait": True})
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["order_id"])


def _book(chain) -> OrderBookClient:
    return OrderBookClient(chain.client)


def _rows(page: str, table: str) -> dict[int, str]:
    body = page.split(f'id="offers-{table}"', 1)[1].split("</table>", 1)[0]
    rows = re.finditer(r'<tr class="[^"]*" data-order="(\d+)">.*?</tr>', body, re.S)
    return {int(m.group(1)): m.group(0) for m in rows}


def _sellers(app, chain, users, n: int = 2):
    clients = [app.test_client() for _ in range(n)]
    names = [users.signup(c) for c in clients]
    for name in names:
        chain.mint_energy(users.address(name), 5000)
    return clients, names


def test_the_market_lists_the_orders_of_the_best_levels_and_marks_my_own(app, chain, users):
    (me, other), _names = _sellers(app, chain, users)
    mine_a = _place(me, "sell", "61", "1")
    mine_b = _place(me, "sell", "61", "0.5")
    theirs = _place(other, "sell", "62", "2")
    page = me.get("/market").get_data(as_text=True)
    asks = _rows(page, "asks")
    assert {mine_a, mine_b, theirs} <= set(asks)
    assert list(asks).index(mine_a) < list(asks).index(mine_b) < list(asks).index(theirs)  # price, then time
    for own in (mine_a, mine_b):
        assert " mine" in asks[own] and "yours" in asks[own] and "offer-take" not in asks[own]
    assert " mine" not in asks[theirs] and f'href="/market/offer/{theirs}"' in asks[theirs]
    assert "2.000 kWh" in asks[theirs] and "never" in asks[theirs] and f">{_names[1]}</a>" in asks[theirs]
    anonymous = _rows(app.test_client().get("/market").get_data(as_text=True), "asks")
    assert not any(" mine" in row for row in anonymous.values())
    with app.test_request_context():
        listed = offers.listed(users.address(_names[0]))["asks"]
    assert [o.mine for o in listed if o.id in (mine_a, mine_b, theirs)] == [True, True, False]
    for order_id in (mine_a, mine_b, theirs):  # leave the book as found for the other tests
        (me if order_id != theirs else other).post("/market/cancel", data={"order_id": str(order_id)})


def test_buy_from_an_offer_fills_that_order_and_never_rests(app, chain, users):
    (seller,), _ = _sellers(app, chain, users, 1)
    buyer = app.test_client()
    buyer_name = users.signup(buyer)
    chain.top_up(users.address(buyer_name), 5_000_000)
    chosen = _place(seller, "sell", "38", "1.5")

    page = buyer.get(f"/market/offer/{chosen}").get_data(as_text=True)  # the page without JavaScript
    assert f'action="/market/offer/{chosen}"' in page and "they fill first, at their own better price" in page
    assert '<h1 id="offer-title">' in page
    assert buyer.get(f"/market/offer/{chosen}?partial=1").get_data(as_text=True).lstrip().startswith("<h2")

    r = buyer.post(f"/market/offer/{chosen}", data={"amount": "1"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Bought 1.000 kWh from order #{chosen} at 38.00 sen/kWh." in text, text
    assert "Total 1.000 kWh for RM 0.3800." in text
    book = _book(chain)
    assert book.order(chosen).remaining == 500 and book.order(chosen).status == Status.OPEN
    assert book.open_orders(users.address(buyer_name)) == []  # nothing of the buyer rests
    seller.post("/market/cancel", data={"order_id": str(chosen)})


def test_better_offers_fill_first_and_the_result_says_so(app, chain, users):
    (cheap, dear), _ = _sellers(app, chain, users)
    buyer = app.test_client()
    buyer_name = users.signup(buyer)
    chain.top_up(users.address(buyer_name), 5_000_000)
    ahead = _place(cheap, "sell", "36", "0.4")
    chosen = _place(dear, "sell", "37", "1")
    r = buyer.post(f"/market/offer/{chosen}", data={"amount": "1"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Bought 0.600 kWh from order #{chosen} at 37.00 sen/kWh." in text, text
    assert "0.400 kWh filled first from orders ahead of it" in text and "at 36.00 sen/kWh" in text
    assert "Total 1.000 kWh for RM 0.3660." in text  # 0.4 x 36 + 0.6 x 37 sen
    book = _book(chain)
    assert book.order(ahead).status == Status.FILLED and book.order(chosen).remaining == 400
    assert book.open_orders(users.address(buyer_name)) == []
    dear.post("/market/cancel", data={"order_id": str(chosen)})


def test_sell_to_a_bid_and_a_gone_order_leaves_nothing_resting(app, chain, users, monkeypatch):
    bidder = app.test_client()
    (seller,), _ = _sellers(app, chain, users, 1)
    bidder_name = users.signup(bidder)
    chain.top_up(users.address(bidder_name), 5_000_000)
    bid = _place(bidder, "buy", "30", "1")
    r = seller.post(f"/market/offer/{bid}", data={"amount": ""}, follow_redirects=True)  # empty: all of it
    assert f"Sold 1.000 kWh from order #{bid} at 30.00 sen/kWh." in r.get_data(as_text=True)

    # The race: the page showed an order that is gone when the taker reaches the chain. The taker finds nothing,
    # would rest, and is cancelled at once: nothing rests and nothing is spent.
    gone = _place(bidder, "buy", "29", "1")
    with app.test_request_context():
        stale = offers.offer(gone)
    bidder.post("/market/cancel", data={"order_id": str(gone)})
    monkeypatch.setattr(offers, "offer", lambda order_id: stale)
    r = seller.post(f"/market/offer/{gone}", data={"amount": "1"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Nothing was filled: order #{gone} was gone" in text, text
    book = _book(chain)
    taker = book.order(book.contract.functions.nextOrderId().call() - 1)
    assert taker.status == Status.CANCELLED and taker.side.name == "SELL" and taker.expiry > 0
    latest = chain.client.w3.eth.get_block("latest")["timestamp"]
    assert taker.expiry <= latest + offers.TAKER_EXPIRY_SECONDS  # it could never have filled later anyway


def test_own_orders_and_bad_amounts_are_refused(app, chain, users):
    (seller,), _ = _sellers(app, chain, users, 1)
    buyer = app.test_client()
    users.signup(buyer)
    order_id = _place(seller, "sell", "39", "1")
    assert "This is your own order" in seller.get(f"/market/offer/{order_id}").get_data(as_text=True)
    r = seller.post(f"/market/offer/{order_id}", data={"amount": "1"}, follow_redirects=True)
    assert "is your own: cancel it instead" in r.get_data(as_text=True)
    r = buyer.post(f"/market/offer/{order_id}", data={"amount": "2"}, follow_redirects=True)
    assert "has only 1.000 kWh left" in r.get_data(as_text=True)
    r = buyer.post(f"/market/offer/{order_id}", data={"amount": "abc"}, follow_redirects=True)
    assert "Amount" in r.get_data(as_text=True) and "number" in r.get_data(as_text=True)
    assert buyer.get("/market/offer/999999").status_code == 404
    seller.post("/market/cancel", data={"order_id": str(order_id)})
    assert buyer.get(f"/market/offer/{order_id}").status_code == 409


def test_own_orders_in_the_way_are_named_before_and_after(app, chain, users):
    """A taker meets the user's own orders ahead of the chosen one: the contract cancels them (no self-trade); the
    dialog says so before, the result after."""
    (other, me), names = _sellers(app, chain, users)
    chain.top_up(users.address(names[1]), 5_000_000)
    chosen = _place(other, "sell", "35", "0.5")
    mine_ahead = _place(me, "sell", "34", "0.3")
    page = me.get(f"/market/offer/{chosen}").get_data(as_text=True)
    assert 'id="offer-own-ahead"' in page and f"#{mine_ahead}" in page
    r = me.post(f"/market/offer/{chosen}", data={"amount": "0.5"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Bought 0.500 kWh from order #{chosen} at 35.00 sen/kWh." in text, text
    assert f"Your own order #{mine_ahead} on the other side was cancelled" in text
    assert _book(chain).order(mine_ahead).status == Status.CANCELLED


def _wallet_user(app, chain):
    """A browser-wallet user (EIP-4361 sign-in with a local key) who approved the order book, with money."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    from energy_chain import Signer

    wallet = Account.create()
    client = app.test_client()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    chain.top_up(wallet.address, 5_000_000)
    signer = Signer.from_key(wallet.key)
    spender = chain.client.contract("OrderBook").address
    chain.client.transact(chain.client.contract("SettlementToken").functions.approve(spender, 10**12), signer)

    def sign_and_relay(tx: dict) -> str:
        fields = {k: int(v, 16) for k, v in tx.items() if k in ("value", "gas", "gasPrice", "nonce", "chainId")}
        raw = Account.sign_transaction({**fields, "to": tx["to"], "data": tx["data"]}, wallet.key).raw_transaction
        r = client.post("/api/v1/tx/raw", json={"raw": raw.to_0x_hex()})
        assert r.status_code in (200, 202), r.get_json()
        chain.client.w3.eth.wait_for_transaction_receipt(r.get_json()["tx_hash"])
        return r.get_json()["tx_hash"]

    return wallet, client, sign_and_relay


def test_a_browser_wallet_takes_an_offer_with_the_taker_order_it_signs(app, chain, users):
    """The same taker order as for custodial accounts (chosen price, amount, expiry 15 s after the latest block),
    prepared for the wallet; the result comes from the receipt; the unfilled rest's cancel is prepared too."""
    (cheap, dear), _ = _sellers(app, chain, users)
    wallet, client, sign_and_relay = _wallet_user(app, chain)
    chosen = _place(dear, "sell", "41", "1")
    page = client.get(f"/market/offer/{chosen}").get_data(as_text=True)
    assert f'data-wallet-take="/market/offer/{chosen}/prepare"' in page and "place an order at this price" not in page
    ahead = _place(cheap, "sell", "40", "0.4")

    r = client.post(f"/market/offer/{chosen}/prepare", json={"amount": "1"})
    assert r.status_code == 200, r.get_json()
    prepared = r.get_json()
    tx = prepared["tx"]
    book = _book(chain)
    assert tx["to"] == book.contract.address and tx["from"] == wallet.address
    fn, args = book.contract.decode_function_input(tx["data"])
    latest = chain.client.w3.eth.get_block("latest")["timestamp"]
    assert fn.fn_name == "placeOrder"
    side, price, amount, expiry = list(args.values())[:4]
    assert (side, price, amount) == (0, 410_000, 1000)  # buy, at the chosen order's price, for the amount asked
    assert expiry == prepared["expiry"] and latest < expiry <= latest + offers.TAKER_EXPIRY_SECONDS

    tx_hash = sign_and_relay(tx)
    r = client.post(f"/market/offer/{chosen}/taken", json={"tx_hash": tx_hash})
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert f"Bought 0.600 kWh from order #{chosen} at 41.00 sen/kWh." in result["message"], result
    assert "0.400 kWh filled first from orders ahead of it" in result["message"]
    assert result["cancel_tx"] is None and result["taker_order_id"] is None  # all filled: nothing to cancel
    assert book.order(ahead).status == Status.FILLED and book.order(chosen).remaining == 400
    assert book.open_orders(wallet.address) == []
    dear.post("/market/cancel", data={"order_id": str(chosen)})


def test_a_browser_wallet_taker_rest_is_cancelled_with_a_second_signature(app, chain, users):
    (seller,), _ = _sellers(app, chain, users, 1)
    wallet, client, sign_and_relay = _wallet_user(app, chain)
    chosen = _place(seller, "sell", "42", "1")
    prepared = client.post(f"/market/offer/{chosen}/prepare", json={"amount": "1"}).get_json()
    seller.post("/market/cancel", data={"order_id": str(chosen)})  # gone before the wallet's order is mined
    r = client.post(f"/market/offer/{chosen}/taken", json={"tx_hash": sign_and_relay(prepared["tx"])})
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert f"Nothing was filled: order #{chosen} was gone" in result["message"]
    assert "escrow stays reserved until it is cancelled" in result["message"]  # never "nothing rests"
    taker = result["taker_order_id"]
    book = _book(chain)
    assert book.order(taker).status == Status.OPEN and result["cancel_tx"]["to"] == book.contract.address
    sign_and_relay(result["cancel_tx"])
    assert book.order(taker).status == Status.CANCELLED and book.open_orders(wallet.address) == []
    assert f"#{taker}" in result["cancelled_message"]
    # without JavaScript the form would post to the server, which cannot sign for a browser wallet: a clear refusal
    again = _place(seller, "sell", "42", "1")
    r = client.post(f"/market/offer/{again}", data={"amount": "1"}, follow_redirects=True)
    assert "needs JavaScript" in r.get_data(as_text=True)
    seller.post("/market/cancel", data={"order_id": str(again)})
