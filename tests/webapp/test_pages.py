"""Explorer, meter and operator pages, the demo seed and bot, and a check that every route has a test request."""

from __future__ import annotations

import re

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ChainTx, Meter, User


def test_explorer_lists_and_searches(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    address = users.address(name)
    chain.mint_energy(address, 900)
    users.index()
    with app.app_context():
        tx = db.session.scalar(
            select(ChainTx).where(ChainTx.method == "recordReading").order_by(ChainTx.block_number.desc())
        )
    page = client.get("/explorer").get_data(as_text=True)
    assert "recordReading" in page and "Latest blocks" in page
    assert client.get(f"/explorer?q={tx.hash}").headers["Location"].endswith(f"/explorer/tx/{tx.hash}")
    assert client.get(f"/explorer?q={address.lower()}").headers["Location"].endswith(f"/explorer/address/{address}")
    assert client.get(f"/explorer?q={tx.block_number}").headers["Location"].endswith(f"/block/{tx.block_number}")
    assert client.get(f"/explorer?q={name}").headers["Location"].endswith(f"/explorer/address/{address}")
    with app.app_context():
        block_hash = chain.client.w3.eth.get_block(tx.block_number)["hash"].to_0x_hex()
    assert client.get(f"/explorer?q={block_hash}").headers["Location"].endswith(f"/block/{tx.block_number}")
    r = client.get("/explorer?q=not-a-thing")
    assert r.status_code == 404 and "Nothing found" in r.get_data(as_text=True)

    tx_page = client.get(f"/explorer/tx/{tx.hash}").get_data(as_text=True)
    assert "ReadingRecorded" in tx_page and "mintedWh" in tx_page and "EnergyToken" in tx_page
    assert name in client.get(f"/explorer/address/{address}").get_data(as_text=True)
    assert tx.hash in client.get(f"/explorer/block/{tx.block_number}").get_data(as_text=True)
    assert "ReadingRecorded" in client.get("/explorer/events?name=ReadingRecorded").get_data(as_text=True)
    assert str(tx.block_number) in client.get("/explorer/blocks").get_data(as_text=True)
    for bad in ("/explorer/tx/0x12", "/explorer/tx/0x" + "ab" * 32, "/explorer/address/0x12", "/explorer/block/0"):
        assert client.get(bad).status_code == 404, bad


def test_explorer_paginates(app, chain, users):
    app.config["PAGE_SIZE"] = 2
    client = app.test_client()
    name = users.signup(client)
    for _ in range(3):
        chain.mint_energy(users.address(name), 10)
    users.index()
    first = client.get("/explorer").get_data(as_text=True)
    assert "page 1 of" in first and "Older" in first
    assert "page 2 of" in client.get("/explorer?page=2").get_data(as_text=True)
    assert "page 1 of" in client.get("/explorer?page=abc").get_data(as_text=True)


def test_meter_page_shows_my_intervals(app, chain, users):
    client = app.test_client()
    assert "No meter is registered" in (users.signup(client) and client.get("/meter").get_data(as_text=True))
    name = users.signup(other := app.test_client())
    serial = chain.mint_energy(users.address(name), 1500)
    chain.mint_energy(users.address(name), 250, serial)
    users.index()
    page = other.get("/meter").get_data(as_text=True)
    assert "1.750 kWh" in page  # total exported
    assert "simulated meter" not in page  # a meter the simulator does not know has no model lines
    assert page.count('class="bar gen"') == 2  # one bar per interval in the chart
    with app.app_context():
        mid = db.session.scalar(select(Meter.meter_id).where(Meter.owner == users.address(name)))
    assert "1.500 kWh" in other.get(f"/meter?meter={mid}").get_data(as_text=True)


def test_operator_page_is_for_operators(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    assert client.get("/operator").status_code == 403
    with app.app_context():
        db.session.scalar(select(User).where(User.username == name)).is_operator = True
        db.session.commit()
    owner = users.signup(app.test_client())
    chain.mint_energy(users.address(owner), 100)
    users.index()
    page = client.get("/operator").get_data(as_text=True)
    assert "behind" in page and "Meters" in page and "50.00 sen/kWh" in page  # oracle lag, tariffs
    r = client.post(
        "/operator/meters", data={"serial": "OP-TEST-1", "owner": owner, "name": "Test house"}, follow_redirects=True
    )
    assert "Meter OP-TEST-1 registered" in r.get_data(as_text=True)
    assert "Test house" in client.get("/operator").get_data(as_text=True)
    r = client.post("/operator/meters", data={"serial": "OP-TEST-1", "owner": owner}, follow_redirects=True)
    assert "That meter is already registered." in r.get_data(as_text=True)
    r = client.post("/operator/meters", data={"serial": "OP-TEST-2", "owner": "nobody"}, follow_redirects=True)
    assert "username or a 0x address" in r.get_data(as_text=True)
    r = client.post("/operator/tariffs", data={"import_sen": "52", "export_sen": "21"}, follow_redirects=True)
    assert "Grid tariffs updated." in r.get_data(as_text=True) and "52.00 sen/kWh" in r.get_data(as_text=True)
    r = client.post("/operator/tariffs", data={"import_sen": "10", "export_sen": "21"}, follow_redirects=True)
    assert "feed-in tariff must be below the retail price" in r.get_data(as_text=True)
    r = client.post("/operator/tariffs", data={"import_sen": "50", "export_sen": "20"}, follow_redirects=True)
    assert "Grid tariffs updated." in r.get_data(as_text=True)


def test_seed_demo_is_idempotent_and_bot_trades(app, chain):
    from webapp.services.demo_bot import Bot
    from webapp.services.demo_seed import demo_users, seed

    with app.app_context():
        app.extensions["chain"].operator().resync()
        first = seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None)
        second = seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None)
        assert first == second and first[0] == ("operator", "operator")
        users = demo_users()
        prosumer = db.session.scalar(select(User).where(User.username == users[0].username))
        balances = app.extensions["chain"].balances(prosumer.address)
        assert balances.energy_wh >= 25_000 and balances.settlement_units >= 100_000_000
        meter = db.session.scalar(select(Meter).where(Meter.serial == users[0].serial))
        assert meter.name == users[0].household
    client = app.test_client()
    client.post("/auth/login", data={"username": users[0].username, "password": "demo-password-1"})
    with app.app_context():
        app.extensions["indexer"].catch_up()
    page = client.get("/meter").get_data(as_text=True)
    assert "25.000 kWh" in page and "Consumption (simulated meter)" in page  # demo meters come with their model
    bot = Bot(app, "demo-password-1", 0.0)
    bot.rng.seed(7)
    bot.run(steps=6)  # places, cancels and bids without raising
    with app.app_context():
        app.extensions["indexer"].catch_up()
        assert db.session.scalar(select(ChainTx).where(ChainTx.method.in_(["placeOrder", "submitOrder"]))) is not None


def test_every_route_is_requested_by_some_test():
    """New routes need tests: each rule of the app must appear in a request of this test folder."""
    from pathlib import Path

    from tests.webapp.conftest import app_config  # noqa: F401 - the app module imports cleanly
    from webapp import create_app

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://", "INDEXER_ENABLED": False}
    )
    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        prefix = re.split(r"<", rule.rule)[0].rstrip("/") or "/"
        if f'"{prefix}' not in sources and f"'{prefix}" not in sources and f'f"{prefix}' not in sources:
            missing.append(rule.rule)
    assert not missing, f"routes without a test request: {missing}"


def test_account_page_and_top_up(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    chain.mint_energy(users.address(name), 2500)
    page = client.get("/account").get_data(as_text=True)
    assert "2.500 kWh" in page and "RM 0.00" in page and "Custodial" in page
    r = client.post("/account/topup", data={"amount": "12.5"}, follow_redirects=True)
    assert "Topped up RM 12.50." in r.get_data(as_text=True) and "RM 12.50" in r.get_data(as_text=True)
    for amount, message in (("0", "at least RM 0.01"), ("5000", "at most 1000 MYR"), ("", "Enter an amount")):
        r = client.post("/account/topup", data={"amount": amount}, follow_redirects=True)
        assert message in r.get_data(as_text=True), amount


def test_health_endpoint(client):
    assert client.get("/healthz").get_json() == {"ok": True}


def test_account_shows_what_open_orders_hold(app, chain, users):
    client = app.test_client()
    name = users.signup(client)
    chain.mint_energy(users.address(name), 3000)
    chain.top_up(users.address(name), 2_000_000)
    client.post("/market/order", data={"side": "sell", "price": "480", "amount": "1.2"})
    client.post("/market/order", data={"side": "buy", "price": "1", "amount": "5"})
    page = client.get("/account").get_data(as_text=True)
    assert "1.200 kWh more held in open sell orders" in page
    assert "about RM 0.05 more reserved by open buy orders" in page
