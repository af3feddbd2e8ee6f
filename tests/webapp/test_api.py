"""JSON API: every route, its errors ({"error": {"code", "message"}}, 4xx), tokens, and the lean order path."""

from __future__ import annotations

import re
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from energy_chain.approvals import approve_function

PASSWORD = "correct horse battery"


def _error(r, status: int, code: str) -> str:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True))
    body = r.get_json()["error"]
    assert body["code"] == code, body
    assert body["message"]
    return body["message"]


def _signup(client, name: str) -> str:
    r = client.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def _wait_tx(client, tx_hash: str) -> dict:
    for _ in range(50):
        body = client.get(f"/api/v1/tx/{tx_hash}").get_json()
        if body["status"] != "pending":
            return body
        time.sleep(0.1)
    raise AssertionError("transaction not mined")


def test_openapi_document_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_signup_login_token_and_me(client):
    name = f"api{time.time_ns() % 10**9}"
    token = _signup(client, name)
    other = client.application.test_client()
    _error(other.get("/api/v1/me"), 401, "login_required")
    r = other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json()["user"]["username"] == name
    assert r.get_json()["balances"] == {"energy_wh": 0, "settlement_units": 0}
    _error(other.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}), 401, "login_required")
    r = other.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200 and r.get_json()["token"]
    _error(other.post("/api/v1/auth/login", json={"username": name, "password": "nope-nope"}), 401, "bad_credentials")
    assert other.post("/api/v1/auth/logout", json={}).get_json()["ok"] is True  # ends that session only
    _error(other.get("/api/v1/me"), 401, "login_required")
    assert other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = other.post("/api/v1/auth/logout", json={"everywhere": True}, headers={"Authorization": f"Bearer {token}"})
    assert r.get_json() == {"ok": True, "sessions_ended": 1}  # the sign-up's session: its token and client's cookie
    _error(other.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "login_required")  # revoked
    _error(client.get("/api/v1/me"), 401, "login_required")


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"username": "a", "password": PASSWORD}, 400, "invalid_username"),
        ({"username": "validname", "password": "short"}, 400, "weak_password"),
    ],
)
def test_signup_errors(client, body, status, code):
    _error(client.post("/api/v1/auth/signup", json=body), status, code)


def test_writes_must_be_json(client):
    _error(client.post("/api/v1/auth/login", data={"username": "x"}), 415, "json_required")
    _error(client.post("/api/v1/auth/login", data="[1, 2]", content_type="application/json"), 400, "invalid_json")


def test_duplicate_signup_is_a_conflict(client):
    _signup(client, "dupe_api")
    _error(
        client.application.test_client().post(
            "/api/v1/auth/signup", json={"username": "dupe_api", "password": PASSWORD}
        ),
        409,
        "username_taken",
    )


def test_order_path_returns_hash_then_status(app, chain, client, users):
    seller = app.test_client()
    seller_token = _signup(seller, f"s{time.time_ns() % 10**9}")
    buyer_token = _signup(client, f"b{time.time_ns() % 10**9}")
    seller_auth = {"Authorization": f"Bearer {seller_token}"}
    buyer_auth = {"Authorization": f"Bearer {buyer_token}"}
    seller_addr = seller.get("/api/v1/me", headers=seller_auth).get_json()["user"]["address"]
    buyer_addr = client.get("/api/v1/me", headers=buyer_auth).get_json()["user"]["address"]
    chain.mint_energy(seller_addr, 3000)
    r = client.post("/api/v1/account/topup", json={"amount_myr": "5"}, headers=buyer_auth)
    assert r.status_code == 201 and r.get_json()["settlement_units"] == 5_000_000

    r = seller.post("/api/v1/orders", json={"side": "sell", "price": 420_000, "amount_wh": 2000}, headers=seller_auth)
    assert r.status_code == 202 and r.get_json()["status"] == "pending"
    assert _wait_tx(seller, r.get_json()["tx_hash"])["status"] == "success"

    r = client.post(
        "/api/v1/orders", json={"side": "buy", "price_sen": "43", "amount_kwh": "0.5", "wait": True}, headers=buyer_auth
    )
    body = r.get_json()
    assert r.status_code == 201 and body["status"] == "success" and body["filled_wh"] == 500
    assert body["fills"][0]["price"] == 420_000 and body["fills"][0]["cost"] == 210_000

    users.index()
    trades = client.get("/api/v1/market/trades?mine=1", headers=buyer_auth).get_json()["trades"]
    assert trades[0]["seller"] == seller_addr and trades[0]["buyer"] == buyer_addr
    book = client.get("/api/v1/market/book").get_json()
    assert {"price": 420_000, "amount_wh": 1500} in book["asks"]
    orders = seller.get("/api/v1/orders?status=open", headers=seller_auth).get_json()["orders"]
    assert orders[0]["remaining_wh"] == 1500 and orders[0]["status"] == "open"
    history = client.get("/api/v1/orders", headers=buyer_auth).get_json()["orders"]
    assert history[0]["status"] == "filled"

    r = seller.delete(f"/api/v1/orders/{orders[0]['order_id']}?wait=true", headers=seller_auth)
    assert r.status_code == 200 and r.get_json()["status"] == "success"
    r = seller.delete(f"/api/v1/orders/{orders[0]['order_id']}", headers=seller_auth)
    message = _error(r, 422, "transaction_rejected")
    assert "no longer open" in message and r.get_json()["error"]["error_name"] == "OrderBookOrderNotOpen"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"side": "hold", "price": 1, "amount_wh": 1}, "invalid_side"),
        ({"side": "buy", "amount_wh": 1}, "missing_price"),
        ({"side": "buy", "price": 0, "amount_wh": 1}, "price_out_of_range"),
        ({"side": "buy", "price": 5_000_001, "amount_wh": 1}, "price_out_of_range"),
        ({"side": "buy", "price_sen": "abc", "amount_wh": 1}, "price_out_of_range"),
        ({"side": "buy", "price": "1", "amount_wh": 1}, "price_out_of_range"),
        ({"side": "buy", "price": 1000}, "missing_amount"),
        ({"side": "buy", "price": 1000, "amount_wh": 0}, "invalid_amount"),
        ({"side": "buy", "price": 1000, "amount_kwh": "0.0001"}, "invalid_amount"),
        ({"side": "buy", "price": 1000, "amount_wh": 5, "expiry_minutes": 0}, "invalid_expiry"),
    ],
)
def test_order_input_errors(client, users, body, code):
    users.signup(client)
    _error(client.post("/api/v1/orders", json=body), 400, code)


def test_contract_rejections_are_422_with_the_reason(client, users):
    users.signup(client)
    r = client.post("/api/v1/orders", json={"side": "sell", "price": 300_000, "amount_wh": 1000})
    assert "Insufficient balance" in _error(r, 422, "transaction_rejected")
    assert r.get_json()["error"]["error_name"] == "OrderBookInsufficientBalance"
    r = client.post("/api/v1/orders", json={"side": "buy", "price": 1, "amount_wh": 1})
    assert "below the market minimum of 0.010 kWh" in _error(r, 422, "transaction_rejected")
    r = client.post("/api/v1/orders", json={"side": "buy", "price": 1, "amount_wh": 10})
    assert "rounds to zero" in _error(r, 422, "transaction_rejected")


def test_locked_wallet_is_401(app, client, users):
    name = users.signup(client)
    users.lock_wallet(name)
    _error(client.post("/api/v1/orders", json={"side": "buy", "price": 1000, "amount_wh": 1000}), 401, "wallet_locked")


def test_topup_errors(chain, databases, client, users):
    users.signup(client)
    _error(client.post("/api/v1/account/topup", json={"amount_myr": "-1"}), 400, "invalid_amount")
    _error(client.post("/api/v1/account/topup", json={"amount_myr": "100000"}), 400, "invalid_amount")
    from tests.webapp.conftest import app_config
    from webapp import create_app

    off = create_app(app_config(chain, databases.new(), TOPUP_ENABLED=False)).test_client()
    users.signup(off)
    _error(off.post("/api/v1/account/topup", json={"amount_myr": "1"}), 403, "topup_disabled")


def test_tx_status_errors(client):
    _error(client.get("/api/v1/tx/0x1234"), 400, "invalid_hash")
    _error(client.get("/api/v1/tx/0x" + "ab" * 32), 404, "not_found")


def test_browser_wallet_user_signs_orders_itself(app, chain, client):
    wallet = Account.create()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    # the server will not sign for it
    _error(client.post("/api/v1/orders", json={"side": "buy", "price": 1000, "amount_wh": 1000}), 409, "browser_wallet")
    chain.top_up(wallet.address, 1_000_000)
    approve = approve_function(chain.client, "SettlementToken", chain.record.address("OrderBook"))
    raw = Account.sign_transaction(
        chain.client.build_tx(approve, _Nonce(chain, wallet.address), 100_000), wallet.key
    ).raw_transaction.to_0x_hex()
    r = client.post("/api/v1/tx/raw", json={"raw": raw})
    assert r.status_code == 202 and _wait_tx(client, r.get_json()["tx_hash"])["status"] == "success"

    tx = client.post("/api/v1/orders/prepare", json={"side": "buy", "price": 300_000, "amount_wh": 1000}).get_json()
    assert tx["from"] == wallet.address and tx["gasPrice"] == "0x0"
    signed = Account.sign_transaction(
        {
            k: (int(v, 16) if k in {"gas", "gasPrice", "nonce", "chainId", "value"} else v)
            for k, v in tx.items()
            if k not in {"from", "type"}
        },
        wallet.key,
    )
    r = client.post("/api/v1/tx/raw", json={"raw": signed.raw_transaction.to_0x_hex()})
    assert _wait_tx(client, r.get_json()["tx_hash"])["status"] == "success"

    stranger = Account.create()
    foreign = Account.sign_transaction(
        {"to": tx["to"], "data": tx["data"], "gas": 500_000, "gasPrice": 0, "nonce": 0, "chainId": 1337, "value": 0},
        stranger.key,
    ).raw_transaction.to_0x_hex()
    _error(client.post("/api/v1/tx/raw", json={"raw": foreign}), 403, "wrong_signer")
    elsewhere = Account.sign_transaction(
        {"to": stranger.address, "data": "0x", "gas": 21_000, "gasPrice": 0, "nonce": 5, "chainId": 1337, "value": 0},
        wallet.key,
    )
    _error(client.post("/api/v1/tx/raw", json={"raw": elsewhere.raw_transaction.to_0x_hex()}), 403, "wrong_contract")
    _error(client.post("/api/v1/tx/raw", json={"raw": "0xdeadbeef"}), 400, "invalid_transaction")
    _error(client.post("/api/v1/tx/raw", json={}), 400, "invalid_transaction")


class _Nonce:
    """Just enough of a Signer for ChainClient.build_tx: the node's pending nonce of an outside wallet."""

    def __init__(self, chain, address: str) -> None:
        self.address = address
        self._chain = chain

    def next_nonce(self, fetch):
        return fetch(self.address)


def test_read_endpoints(app, chain, client, users):
    name = users.signup(client)
    chain.mint_energy(users.address(name), 1234)
    users.index()
    r = client.get("/api/v1/meter/readings").get_json()
    assert r["readings"][0]["minted_wh"] == 1234 and len(r["meters"]) == 1
    txs = client.get("/api/v1/explorer/txs").get_json()
    assert txs["total"] >= 1 and txs["txs"][0]["hash"].startswith("0x")
    mine = client.get(f"/api/v1/explorer/txs?address={chain.oracle.address}").get_json()
    assert all(t["from"] == chain.oracle.address for t in mine["txs"])
    events = client.get("/api/v1/explorer/events?name=ReadingRecorded").get_json()
    assert events["events"][0]["args"]["mintedWh"] == 1234
    by_tx = client.get(f"/api/v1/explorer/events?tx={events['events'][0]['tx_hash']}").get_json()
    assert by_tx["total"] >= 1
    health = client.get("/api/v1/health").get_json()
    assert health["chain"]["connected"] and health["indexed_block"] >= 1
    assert client.get("/api/v1/market/book?levels=3").status_code == 200
    assert client.get("/api/v1/market/trades?limit=5").status_code == 200
    _error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    _error(client.put("/api/v1/orders", json={}), 405, "method_not_allowed")


def test_without_preflight_a_failing_order_is_reported_by_its_status(app, client, users):
    app.config["PREFLIGHT"] = False  # the lean load-test path: fixed gas, no simulation
    users.signup(client)
    r = client.post("/api/v1/orders", json={"side": "sell", "price": 300_000, "amount_wh": 1000})
    assert r.status_code == 202
    status = _wait_tx(client, r.get_json()["tx_hash"])
    assert status["status"] == "failed" and status["error_name"] == "OrderBookInsufficientBalance"
    assert "Insufficient balance" in status["message"]


def test_hints_come_from_the_snapshot():
    from energy_chain.orders import hint_from_levels  # the one the web app's placements use
    from webapp.services.trading import SIDES

    bids = [(500, 1), (400, 1), (300, 1)]  # best (highest) first
    asks = [(300, 1), (400, 1), (500, 1)]  # best (lowest) first
    assert hint_from_levels(bids, SIDES["buy"], 450) == 500
    assert hint_from_levels(bids, SIDES["buy"], 600) == 0  # would be the best bid
    assert hint_from_levels(bids, SIDES["buy"], 300) == 300
    assert hint_from_levels(asks, SIDES["sell"], 450) == 400
    assert hint_from_levels(asks, SIDES["sell"], 200) == 0


def test_an_order_below_a_wall_of_price_levels_is_placed(app, client, users, chain):
    """Security C: 130 ten-Wh levels (deeper than the 64-level snapshot plus the 64-level walk) made every web order
    at a new level below them revert, retries included. The hint now comes from the chain at placement."""
    from energy_chain.devchain import dev_key
    from energy_chain.orders import OrderBookClient, Side
    from energy_chain.signer import Signer

    wall = 4_000_000  # 4 MYR/kWh: far above every other test's prices (the chain is shared)
    spammer = Signer.from_key(dev_key(7))
    chain.mint_energy(spammer.address, 10 * 130)
    book = OrderBookClient(chain.client)
    book.ensure_approvals(spammer)
    client.get("/api/v1/market/book")  # the depth snapshot is taken before the wall
    raws = [  # exact hints: each level right after the one before
        book.build_place_tx(spammer, Side.SELL, wall + i, 10, max_fills=0, hint=wall + i - 1 if i else 0)
        for i in range(130)
    ]
    for result in chain.client.send_raw_batch(raws):
        assert isinstance(result, str), result
    chain.client.wait_for_receipt(result)
    assert len([p for p, _ in book.depth(Side.SELL, 300) if p >= wall]) == 130  # other tests' asks rest below
    name = users.signup(client)
    chain.mint_energy(users.address(name), 1000)
    r = client.post("/api/v1/orders", json={"side": "sell", "price": wall + 200_000, "amount_wh": 1000})
    assert r.status_code == 202, r.get_json()
    assert _wait_tx(client, r.get_json()["tx_hash"])["status"] == "success"
