"""ops15 D: what the operator page and the web forms could do and the API could not.

Top-ups: the operator confirms or rejects a user's pending top-up request through the API too
(GET /api/v1/operator/topups, POST .../{id}/confirm|reject), operator only: 401 anonymous, 403 for any other user.
Price band: an API order at a price far from the grid tariffs (the web forms' second confirmation) needs
"confirm_unusual_price": true, otherwise a 400 unusual_price says why and places nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from tests.webapp.conftest import app_config
from webapp import create_app
from webapp.extensions import db
from webapp.models import User

PASSWORD = "correct horse battery"


@pytest.fixture
def operated(chain, db_url):
    """The app as installed for real: top-ups are requests the operator confirms."""
    app = create_app(app_config(chain, db_url, TOPUP_SELF_SERVICE=False))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _signup(client, prefix: str) -> dict[str, str]:
    name = f"{prefix}{time.time_ns() % 10**10}"
    r = client.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _make_operator(app, auth: dict[str, str]) -> None:
    with app.app_context():
        name = app.test_client().get("/api/v1/me", headers=auth).get_json()["user"]["username"]
        db.session.execute(update(User).where(User.username == name).values(is_operator=True))
        db.session.commit()


def _balance(app, address: str) -> int:
    with app.app_context():
        return app.extensions["chain"].balances(address).settlement_units


def test_the_operator_confirms_and_rejects_top_ups_through_the_api(operated):
    c = operated.test_client()
    user, operator = _signup(c, "payer"), _signup(c, "op")
    _make_operator(operated, operator)
    address = c.get("/api/v1/me", headers=user).get_json()["user"]["address"]
    first = c.post("/api/v1/account/topup", json={"amount_myr": "12.5"}, headers=user).get_json()
    second = c.post("/api/v1/account/topup", json={"amount_myr": "3"}, headers=user).get_json()
    assert first["status"] == second["status"] == "pending"

    listed = c.get("/api/v1/operator/topups", headers=operator)
    assert listed.status_code == 200
    rows = {r["request_id"]: r for r in listed.get_json()["topups"]}
    assert rows[first["request_id"]]["reference"] == first["reference"]
    assert rows[first["request_id"]]["settlement_units"] == 12_500_000
    assert rows[first["request_id"]]["address"] == address and rows[first["request_id"]]["status"] == "pending"

    r = c.post(f"/api/v1/operator/topups/{first['request_id']}/confirm", json={}, headers=operator)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "credited" and body["tx_hash"].startswith("0x")
    assert body["message"] == f"Top-up {first['reference']} confirmed: RM 12.50 credited."
    assert _balance(operated, address) == 12_500_000
    again = c.post(f"/api/v1/operator/topups/{first['request_id']}/confirm", json={}, headers=operator)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "topup_decided"  # no double credit
    assert _balance(operated, address) == 12_500_000

    r = c.post(f"/api/v1/operator/topups/{second['request_id']}/reject", json={}, headers=operator)
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert "nothing was credited" in r.get_json()["message"]
    assert _balance(operated, address) == 12_500_000
    left = [t["request_id"] for t in c.get("/api/v1/operator/topups", headers=operator).get_json()["topups"]]
    assert first["request_id"] not in left and second["request_id"] not in left
    missing = c.post("/api/v1/operator/topups/999999/confirm", json={}, headers=operator)
    assert missing.status_code == 404
    huge = c.post(f"/api/v1/operator/topups/{2**63 - 1}/reject", json={}, headers=operator)
    assert huge.status_code == 404  # beyond the id column: no request, not a database error


def test_only_the_operator_may_use_the_top_up_api(operated):
    c = operated.test_client()
    user = _signup(c, "payer")
    request_id = c.post("/api/v1/account/topup", json={"amount_myr": "50"}, headers=user).get_json()["request_id"]
    address = c.get("/api/v1/me", headers=user).get_json()["user"]["address"]
    for method, path in (("get", "/api/v1/operator/topups"),
                         ("post", f"/api/v1/operator/topups/{request_id}/confirm"),
                         ("post", f"/api/v1/operator/topups/{request_id}/reject")):  # fmt: skip
        kwargs = {"json": {}} if method == "post" else {}
        r = getattr(c, method)(path, headers=user, **kwargs)  # the requester confirming their own request
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "operator_only", (path, r.get_json())
        anonymous = getattr(operated.test_client(), method)(path, **kwargs)
        assert anonymous.status_code == 401, path
    assert _balance(operated, address) == 0
    operator = _signup(c, "op")
    _make_operator(operated, operator)
    pending = c.get("/api/v1/operator/topups", headers=operator).get_json()["topups"]
    assert [t["status"] for t in pending if t["request_id"] == request_id] == ["pending"]  # still undecided


# ---------------------------------------------------------------------- price band
def _funded(app, chain, users) -> tuple:
    client = app.test_client()
    name = users.signup(client)
    chain.top_up(users.address(name), 20_000_000)
    chain.mint_energy(users.address(name), 1000)
    return client, name


@pytest.mark.parametrize(
    ("path", "extra"),
    [("/api/v1/orders", {"wait": True}), ("/api/v1/auction/orders", {"wait": True}), ("/api/v1/orders/prepare", {})],
)
def test_an_api_buy_far_above_retail_needs_an_explicit_confirmation(app, chain, users, monkeypatch, path, extra):
    client, _name = _funded(app, chain, users)
    if path == "/api/v1/auction/orders":  # a confirmed bid would stay in the shared round: record it instead
        from webapp.services import auctions

        submitted = []
        monkeypatch.setattr(auctions, "submit", lambda *args, **kw: submitted.append(args) or {"status": "success"})
    body = {"side": "buy", "price_sen": "250", "amount_wh": 100, **extra}  # 5x the test chain's 50 sen retail
    r = client.post(path, json=body)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "unusual_price"
    assert "the grid retail price" in error["message"] and '"confirm_unusual_price": true' in error["message"]
    assert client.post(path, json={**body, "confirm_unusual_price": False}).status_code == 400
    if path == "/api/v1/orders/prepare":
        return  # needs a browser-wallet account; the refusal above is the point
    r = client.post(path, json={**body, "confirm_unusual_price": True})
    assert r.status_code == 201, r.get_json()
    if path == "/api/v1/auction/orders":
        assert [a[2] for a in submitted] == [2_500_000]  # sent on, at the price asked
    if path == "/api/v1/orders":
        client.delete(f"/api/v1/orders/{r.get_json()['order_id']}?wait=true")  # leave the shared book as it was


def test_an_api_sell_far_below_feed_in_needs_it_and_usual_prices_do_not(app, chain, users):
    client, _name = _funded(app, chain, users)
    r = client.post("/api/v1/orders", json={"side": "sell", "price_sen": "5", "amount_wh": 100})  # feed-in: 20
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unusual_price"
    assert "far below the grid feed-in tariff" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/orders", json={"side": "sell", "price_sen": "480", "amount_wh": 100, "wait": True})
    assert r.status_code == 201, r.get_json()  # a sell above retail only waits: nothing to confirm
    client.delete(f"/api/v1/orders/{r.get_json()['order_id']}?wait=true")
    r = client.post("/api/v1/orders", json={"side": "buy", "price_sen": "11", "amount_wh": 100, "wait": True})
    assert r.status_code == 201, r.get_json()  # within the band (a buy below feed-in only waits)
    client.delete(f"/api/v1/orders/{r.get_json()['order_id']}?wait=true")
