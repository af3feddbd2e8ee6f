"""The web app, configured only by its settings (RPC_URL, CHAIN_ID, DEPLOYMENTS_DIR, operator keystore), trading on
the clique chain through its JSON API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from energy_chain import ChainClient
from energy_chain.devchain import dev_signer
from energy_chain.meters import meter_id
from tests.poa.conftest import DEFAULT_GAS, CliqueDeployment

pytestmark = pytest.mark.clique
PASSWORD = "correct horse battery"


@pytest.fixture
def app(clique_deployment: CliqueDeployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from webapp import create_app

    monkeypatch.setenv("DEFAULT_GAS", str(DEFAULT_GAS))  # the chain cannot estimate gas
    env = clique_deployment.env
    application = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'webapp.db'}",
        "RPC_URL": env["RPC_URL"],
        "CHAIN_ID": int(env["CHAIN_ID"]),
        "DEPLOYMENTS_DIR": env["DEPLOYMENTS_DIR"],
        "OPERATOR_KEYSTORE": env["OPERATOR_KEYSTORE"],
        "OPERATOR_PASSWORD_FILE": env["OPERATOR_PASSWORD_FILE"],
        "WALLET_SCRYPT_N": 2**10,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "INDEXER_ENABLED": False,
        "TOPUP_SELF_SERVICE": True,  # the demo's immediate top-up (else a request for the operator)
    })  # fmt: skip
    from webapp.schema import upgrade

    upgrade(application)  # the schema, as `python -m webapp upgrade` makes it
    yield application
    with application.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


def signup(app, name: str) -> tuple[object, dict[str, str], str]:
    web = app.test_client()
    r = web.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.get_json()
    auth = {"Authorization": f"Bearer {r.get_json()['token']}"}
    return web, auth, web.get("/api/v1/me", headers=auth).get_json()["user"]["address"]


def mint_energy(client: ChainClient, owner: str, wh: int) -> None:
    operator, oracle = dev_signer(1), dev_signer(2)
    meter = meter_id(f"poa-web-{time.time_ns()}")
    client.transact(client.contract("MeterRegistry").functions.registerMeter(meter, owner), operator)
    interval = client.w3.eth.get_block("latest")["timestamp"] - 900
    client.transact(client.contract("EnergyToken").functions.recordReading((meter, interval, wh, 0)), oracle)


def wait_tx(web, tx_hash: str) -> dict:
    for _ in range(150):
        body = web.get(f"/api/v1/tx/{tx_hash}").get_json()
        if body["status"] != "pending":
            return body
        time.sleep(0.2)
    raise AssertionError(f"{tx_hash} not mined")


def test_users_trade_through_the_api(app, client: ChainClient):
    stamp = time.time_ns() % 10**8
    seller, seller_auth, seller_addr = signup(app, f"poaseller{stamp}")
    buyer, buyer_auth, _ = signup(app, f"poabuyer{stamp}")
    mint_energy(client, seller_addr, 3_000)
    r = buyer.post("/api/v1/account/topup", json={"amount_myr": "5"}, headers=buyer_auth)
    assert r.status_code == 201 and r.get_json()["settlement_units"] == 5_000_000, r.get_json()

    r = seller.post("/api/v1/orders", json={"side": "sell", "price": 420_000, "amount_wh": 2000}, headers=seller_auth)
    assert r.status_code == 202, r.get_json()
    assert wait_tx(seller, r.get_json()["tx_hash"])["status"] == "success"

    r = buyer.post("/api/v1/orders", json={"side": "buy", "price": 420_000, "amount_wh": 500, "wait": True},
                   headers=buyer_auth)  # fmt: skip
    body = r.get_json()
    assert r.status_code == 201 and body["status"] == "success" and body["filled_wh"] == 500, body
    assert body["fills"][0]["price"] == 420_000 and body["fills"][0]["cost"] == 210_000
    me = buyer.get("/api/v1/me", headers=buyer_auth).get_json()
    assert me["balances"] == {"energy_wh": 500, "settlement_units": 5_000_000 - 210_000}
