"""Automatic-trading page and API on a real chain (issue 14): turning on writes the mandate with the bounds entered,
bad input is refused with a message and changes nothing on chain, turning off revokes at once (custodial: signed
with the session key; browser wallet: typed data and the revoke transaction signed in the wallet), and the agent's
decision log shows for its owner only, with forecast beside actual."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from energy_chain.devchain import dev_signer
from energy_chain.mandate import MandateClient
from tests.webapp.conftest import Users, app_config

FORM = {
    "min_sell_price_sen": "22.5",
    "max_buy_price_sen": "48",
    "reserve_kwh": "1,5",
    "daily_cap_myr": "3.20",
    "venues": ["order-book", "auction"],
    "weight_surplus": "1",
    "weight_efficiency": "2",
    "weight_duration": "3",
    "weight_quality": "4",
    "weight_participation": "5",
    "weight_cost": "10",
    "valid_days": "",
}
API_BODY = {
    "min_sell_price_sen": "20",
    "max_buy_price_sen": "50",
    "reserve_kwh": "0",
    "daily_cap_myr": "5",
    "venues": ["order-book", "direct"],
    "weights": {"surplus": 2, "efficiency": 2, "duration": 1, "quality": 2, "participation": 1, "cost": 4},
    "valid_days": 7,
}


@pytest.fixture
def agent_log(tmp_path: Path) -> Path:
    return tmp_path / "decisions.jsonl"


@pytest.fixture
def app(chain, db_url, agent_log):
    from webapp import create_app

    application = create_app(app_config(chain, db_url, AGENT_LOG=str(agent_log)))
    yield application
    with application.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


def _mandates(chain) -> MandateClient:
    return MandateClient(chain.client)


def _page(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_turning_on_writes_the_mandate_with_the_bounds_entered(app, chain, users):
    client = app.test_client()
    address = users.address(users.signup(client))
    page = client.get("/autotrade").get_data(as_text=True)
    assert "Automatic trading" in page and 'id="autotrade-status">Off' in page
    assert dev_signer("agent").address in page  # the dev chain's agent, named before turning on

    page = _page(client, client.post("/autotrade", data=FORM))
    assert "Automatic trading is on" in page
    terms = _mandates(chain).terms_of(address)
    assert terms is not None
    assert terms.agent == dev_signer("agent").address
    assert (terms.min_sell_price, terms.max_buy_price) == (225_000, 480_000)  # sen/kWh -> units/kWh
    assert terms.reserve_wh == 1500  # "1,5" kWh
    assert terms.daily_spend_cap == 3_200_000  # RM 3.20
    assert terms.venues == 1 | 2  # order book and auction, not direct
    assert tuple(terms.weights) == (1, 2, 3, 4, 5, 10)
    assert terms.valid_until == 0
    assert 'id="autotrade-status">On' in page
    assert "RM 0.0000 of RM 3.20" in page  # spent today vs the cap
    assert "22.50 sen/kWh" in page and "48.00 sen/kWh" in page and "1.500 kWh" in page
    assert "until you turn it off" in page
    assert 'value="22.5"' in page  # the form shows the bounds on chain

    # changing the bounds replaces them; a validity in days sets validUntil
    page = _page(client, client.post("/autotrade", data={**FORM, "max_buy_price_sen": "40", "valid_days": "2"}))
    terms = _mandates(chain).terms_of(address)
    assert terms.max_buy_price == 400_000
    assert abs(terms.valid_until - (int(time.time()) + 2 * 86400)) < 120


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_sell_price_sen": "abc"}, "Minimum sell price: Price must be a number such as 1.5 or 1,5"),
        ({"max_buy_price_sen": "900"}, "Maximum buy price: Price must be at most 500 sen/kWh"),
        ({"max_buy_price_sen": ""}, "Maximum buy price: enter a price in sen/kWh"),
        ({"reserve_kwh": "-1"}, "Energy reserve cannot be negative"),
        ({"reserve_kwh": "0.0001"}, "Energy reserve has too many decimals"),
        ({"daily_cap_myr": "1,500"}, "is ambiguous"),
        ({"venues": []}, "Choose at least one venue where the agent may trade."),
        ({"venues": ["moon"]}, "Unknown venue(s): moon"),
        ({"weight_cost": "11"}, "Weight “Low price” must be a whole number from 0 to 10"),
        ({"weight_quality": "2.5"}, "Weight “Reliable sellers” must be a whole number from 0 to 10"),
        (
            {f"weight_{t}": "0" for t in ("surplus", "efficiency", "duration", "quality", "participation", "cost")},
            "At least one weight must be above zero",
        ),
        ({"valid_days": "400"}, "Valid for: a whole number of days from 1 to 366"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes_on_chain(app, chain, users, change, message):
    client = app.test_client()
    address = users.address(users.signup(client))
    page = _page(client, client.post("/autotrade", data={**FORM, **change}))
    assert message in page
    assert _mandates(chain).terms_of(address) is None
    assert 'id="autotrade-status">Off' in page
    # the form keeps what was typed
    typed = next(iter(change.values()))
    if isinstance(typed, str) and typed:
        assert f'value="{typed}"' in page


def test_a_bad_update_keeps_the_bounds_on_chain(app, chain, users):
    client = app.test_client()
    address = users.address(users.signup(client))
    _page(client, client.post("/autotrade", data=FORM))
    before = _mandates(chain).terms_of(address)
    page = _page(client, client.post("/autotrade", data={**FORM, "min_sell_price_sen": "0"}))
    assert "Minimum sell price: Price must be greater than zero" in page
    assert _mandates(chain).terms_of(address) == before


def test_turning_off_revokes_on_chain_at_once(app, chain, users):
    client = app.test_client()
    address = users.address(users.signup(client))
    _page(client, client.post("/autotrade", data=FORM))
    assert _mandates(chain).terms_of(address) is not None
    page = _page(client, client.post("/autotrade/off"))
    assert "Automatic trading is off" in page
    assert _mandates(chain).terms_of(address) is None
    assert 'id="autotrade-status">Off' in page
    assert "Automatic trading is off" in _page(client, client.post("/autotrade/off"))  # off twice: no error


def test_api_turns_on_reads_and_turns_off(app, chain, users):
    client = app.test_client()
    address = users.address(users.signup(client))
    assert client.get("/api/v1/autotrade").get_json() == {
        "on": False, "agent": dev_signer("agent").address, "terms": None, "spent_today": 0}  # fmt: skip
    r = client.put("/api/v1/autotrade", json=API_BODY)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["on"] is True and body["spent_today"] == 0
    assert body["terms"]["venues"] == ["order-book", "direct"]
    assert body["terms"]["min_sell_price"] == 200_000 and body["terms"]["daily_spend_cap"] == 5_000_000
    assert body["terms"]["weights"] == API_BODY["weights"]
    assert _mandates(chain).terms_of(address).venues == 1 | 4

    r = client.put("/api/v1/autotrade", json={**API_BODY, "weights": {"price": 3}})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_bounds"
    assert "Unknown weight(s): price" in r.get_json()["error"]["message"]
    r = client.put("/api/v1/autotrade", json={**API_BODY, "venues": "all"})
    assert r.status_code == 400 and "venues must be an array" in r.get_json()["error"]["message"]

    r = client.delete("/api/v1/autotrade")
    assert r.status_code == 200 and r.get_json()["on"] is False
    assert _mandates(chain).terms_of(address) is None


def _wallet_login(client) -> Account:
    wallet = Account.create()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    return wallet


def test_browser_wallet_signs_the_bounds_and_the_revoke_in_its_wallet(app, chain):
    client = app.test_client()
    wallet = _wallet_login(client)
    # the form post cannot sign for a browser wallet: it says where to sign
    r = client.post("/autotrade", data=FORM)
    assert "sign this transaction in your wallet" in _page(client, r)

    r = client.put("/api/v1/autotrade", json=API_BODY)
    assert r.status_code == 202, r.get_json()
    prepared = r.get_json()
    assert _mandates(chain).terms_of(wallet.address) is None  # nothing on chain before the wallet signs
    typed = json.loads(json.dumps(prepared["typed_data"]))  # what eth_signTypedData_v4 receives
    signature = Account.sign_typed_data(wallet.key, full_message=typed).signature.to_0x_hex()
    signed = {**API_BODY, "valid_until": prepared["terms"]["valid_until"], "deadline": prepared["deadline"]}
    del signed["valid_days"]

    # a signature of other bounds is refused by the contract and writes nothing
    r = client.put("/api/v1/autotrade", json={**signed, "max_buy_price_sen": "55", "signature": signature})
    assert r.status_code == 422, r.get_json()
    assert _mandates(chain).terms_of(wallet.address) is None

    r = client.put("/api/v1/autotrade", json={**signed, "signature": signature})
    assert r.status_code == 200, r.get_json()
    terms = _mandates(chain).terms_of(wallet.address)
    assert (terms.min_sell_price, terms.max_buy_price, terms.venues) == (200_000, 500_000, 5)
    assert terms.valid_until == prepared["terms"]["valid_until"] > time.time()

    r = client.delete("/api/v1/autotrade")
    assert r.status_code == 202
    tx = r.get_json()["tx"]
    assert _mandates(chain).terms_of(wallet.address) is not None  # still on until the wallet signs
    fields = {k: (int(v, 16) if k in {"gas", "gasPrice", "nonce", "chainId", "value"} else v)
              for k, v in tx.items() if k not in {"from", "type"}}  # fmt: skip
    raw = wallet.sign_transaction(fields).raw_transaction.to_0x_hex()
    r = client.post("/api/v1/tx/raw", json={"raw": raw})
    assert r.status_code == 202
    chain.client.wait_for_receipt(r.get_json()["tx_hash"])
    assert _mandates(chain).terms_of(wallet.address) is None
    assert client.delete("/api/v1/autotrade").get_json()["on"] is False


# ---------------------------------------------------------------------- the decision log
def _decision(owner: str, interval: int, explanation: str, gen: int, load: int, **extra) -> dict:
    return {"kind": "decision", "ts": interval + 5, "owner": owner, "interval": interval, "meter": "M-1",
            "forecast": {"generation_wh": gen, "load_wh": load}, "balances": {"energy_wh": 4000, "money": 9_000_000},
            "bounds": {}, "intent": {"sell_wh": 1200, "ask": 250_000, "buy_wh": 0, "bid": 0},
            "explanation": explanation, "actions": [
                {"venue": "order-book", "side": "sell", "price": 250_000, "amount_wh": 1200, "status": "partly-filled",
                 "filled_wh": 700, "cost": 175_000, "order_id": 7, "tx_hash": "0x" + "ab" * 32, "reason": ""}],
            **extra}  # fmt: skip


def _write_log(path: Path, records: list[dict]) -> None:
    with path.open("a") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")


def test_decisions_from_the_log_show_for_their_owner_only(app, users, agent_log):
    mine_c, other_c = app.test_client(), app.test_client()
    mine, other = users.address(users.signup(mine_c)), users.address(users.signup(other_c))
    start = 1_764_547_200  # 2025-12-01 00:00 UTC
    _write_log(agent_log, [
        {"kind": "state", "ts": start, "owner": mine, "interval": start, "status": "started", "message": "watching"},
        _decision(mine, start, "Sunny morning: selling the surplus above your 1 kWh reserve.", 2000, 500),
        {"kind": "decision", "owner": 5},  # a malformed record is skipped
        _decision(other, start, "OTHER HOUSEHOLD'S SECRET PLAN", 100, 900),
        _decision(mine.lower(), start + 900, "Clouds expected: keeping the energy.", 300, 600),
    ])  # fmt: skip
    with agent_log.open("a") as fh:
        fh.write("{broken json\n")
    page = mine_c.get("/autotrade").get_data(as_text=True)
    assert "Sunny morning: selling the surplus" in page and "Clouds expected" in page
    assert "OTHER HOUSEHOLD" not in page
    assert page.index("Clouds expected") < page.index("Sunny morning")  # newest first
    assert "partly-filled" in page and "0.700 kWh" in page and "RM 0.1750" in page
    assert "started" in page and "watching" in page
    other_page = other_c.get("/autotrade").get_data(as_text=True)
    assert "OTHER HOUSEHOLD&#39;S SECRET PLAN" in other_page and "Sunny morning" not in other_page

    body = mine_c.get("/api/v1/autotrade/decisions").get_json()
    assert [d["explanation"][:6] for d in body["decisions"]] == ["Clouds", "Sunny "]
    assert body["total"] == 2 and body["agent_state"]["status"] == "started"
    assert body["decisions"][1]["actions"][0] == {
        "venue": "order-book", "side": "sell", "price": 250_000, "amount_wh": 1200, "status": "partly-filled",
        "filled_wh": 700, "cost": 175_000, "order_id": 7, "tx_hash": "0x" + "ab" * 32, "reason": ""}  # fmt: skip
    assert app.test_client().get("/api/v1/autotrade/decisions").status_code == 401


def test_decisions_are_paged_newest_first(app, users, agent_log):
    client = app.test_client()
    mine = users.address(users.signup(client))
    start = 1_764_547_200
    _write_log(agent_log, [_decision(mine, start + 900 * i, f"Decision number {i:02d}.", 0, 0) for i in range(23)])
    first = client.get("/autotrade").get_data(as_text=True)
    assert "Decision number 22." in first and "Decision number 13." in first and "Decision number 12." not in first
    assert "page 1 of 3" in first
    third = client.get("/autotrade?page=3").get_data(as_text=True)
    assert "Decision number 02." in third and "Decision number 00." in third and "Decision number 03." not in third
    body = client.get("/api/v1/autotrade/decisions?page=2").get_json()
    assert (body["page"], body["pages"], body["total"]) == (2, 3, 23)
    assert body["decisions"][0]["explanation"] == "Decision number 12."


def test_forecast_vs_actual_is_drawn_and_listed(app, users, agent_log):
    client = app.test_client()
    mine = users.address(users.signup(client))
    start = 1_764_547_200
    _write_log(agent_log, [
        _decision(mine, start, "One.", 2000, 500),
        {"kind": "actual", "ts": start + 1000, "owner": mine, "interval": start, "generation_wh": 1750, "load_wh": 640},
        _decision(mine, start + 900, "Two.", 1800, 450),  # no actual reading yet
        {"kind": "actual", "ts": start + 1000, "owner": "0x" + "1" * 40, "interval": start + 900,
         "generation_wh": 1, "load_wh": 1},  # another household's meter
    ])  # fmt: skip
    page = client.get("/autotrade").get_data(as_text=True)
    chart = page[page.index('id="forecast"') :]
    assert "<svg" in chart and "Generation forecast" in chart and "Consumption actual" in chart
    assert chart.count("<polyline") == 4  # forecast and actual of generation and consumption
    rows = chart[chart.index('id="forecast-table"') :]
    assert "2.000 kWh" in rows and "1.750 kWh" in rows and "0.640 kWh" in rows and "not yet" in rows
    pairs = client.get("/api/v1/autotrade/decisions").get_json()["forecast_vs_actual"]
    assert pairs == [
        {"interval": start, "forecast": {"generation_wh": 2000, "load_wh": 500},
         "actual": {"generation_wh": 1750, "load_wh": 640}},
        {"interval": start + 900, "forecast": {"generation_wh": 1800, "load_wh": 450}, "actual": None},
    ]  # fmt: skip


def test_page_needs_login_and_is_in_the_menu(app, users):
    client = app.test_client()
    assert client.get("/autotrade").status_code == 302
    users.signup(client)
    assert 'id="nav-autotrade"' in client.get("/market").get_data(as_text=True)


def test_the_agent_comes_from_agent_address_when_set(chain, db_url, tmp_path):
    from webapp import create_app

    agent = Account.create().address
    for configured, status in ((agent, 200), ("not-an-address", 503)):
        app = create_app(app_config(chain, db_url, AGENT_LOG=str(tmp_path / "log"), AGENT_ADDRESS=configured))
        client = app.test_client()
        address = Users(app).address(Users(app).signup(client))
        r = client.put("/api/v1/autotrade", json=API_BODY)
        assert r.status_code == status, r.get_json()
        if status == 200:
            assert r.get_json()["agent"] == agent == _mandates(chain).terms_of(address).agent
        else:
            assert "AGENT_ADDRESS is not an Ethereum address" in r.get_json()["error"]["message"]
            assert _mandates(chain).terms_of(address) is None
        with app.app_context():
            from webapp.extensions import db

            db.session.remove()
            db.engine.dispose()
