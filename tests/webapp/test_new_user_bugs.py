"""Issue 14: what a new user met on the dashboard (amount parsing, unusual prices, the depth chart, auction rounds,
kept input and default side, the demo bot's reserve, explorer units and filter, time zone, caching, units text)."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuctionRound, Order
from webapp.units import InvalidAmount, parse_energy_kwh, parse_myr, parse_price_sen


def _follow(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------------- item 3: one rule for typed numbers
@pytest.mark.parametrize("text, wh", [("1,5", 1500), ("1.5", 1500), (",5", 500), ("2", 2000), ("0,001", 1)])
def test_a_decimal_comma_is_a_decimal_separator(text, wh):
    assert parse_energy_kwh(text, 1000) == wh


@pytest.mark.parametrize(
    "text, message",
    [("1,500", "ambiguous"), ("1,000.5", "one decimal separator"), ("1 5", r"such as 1\.5 or 1,5"), ("", "enter")],
)
def test_numbers_that_cannot_be_read_safely_are_refused_clearly(text, message):
    with pytest.raises(InvalidAmount, match=message):
        parse_energy_kwh(text, 1000)


def test_top_up_amounts_follow_the_rule_and_zero_is_refused():
    assert parse_myr("1,5", 1000) == 1_500_000
    assert parse_price_sen("40,25", 500) == 402_500
    for text in ("0", "0.001", "0,00"):
        with pytest.raises(InvalidAmount, match=r"at least RM 0\.01"):
            parse_myr(text, 1000)


def test_comma_amounts_on_the_forms(app, chain, users):
    c = app.test_client()
    name = users.signup(c)
    page = _follow(c, c.post("/account/topup", data={"amount": "1,5"}))
    assert "Topped up RM 1.50." in page
    page = _follow(c, c.post("/account/topup", data={"amount": "0.001"}))
    assert "at least RM 0.01" in page and "Topped up" not in page
    page = _follow(c, c.post("/market/order", data={"side": "buy", "price": "2,5", "amount": "1,5"}))
    assert "1.500 kWh at 2.50 sen/kWh placed" in page, re.findall(r"<span>([^<]*)</span><button", page)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.maker == users.address(name)))
    if order is not None:
        c.post("/market/cancel", data={"order_id": order.order_id})


# ---------------------------------------------------------------------- item 4: unusual prices, the depth chart
def test_a_price_far_above_retail_needs_a_confirmation(app, chain, users):
    c = app.test_client()
    name = users.signup(c)
    chain.top_up(users.address(name), 20_000_000)
    page = _follow(c, c.post("/market/order", data={"side": "buy", "price": "500", "amount": "0.1"}))
    assert "\u00d7 the grid retail price" in page and "Buy order #" not in page
    page = _follow(c, c.post("/market/order", data={"side": "buy", "price": "500", "amount": "0.1",
                                                      "price_confirmed": "1"}))  # fmt: skip
    assert "Buy order #" in page
    users.index()
    with app.app_context():
        for o in db.session.scalars(select(Order).where(Order.maker == users.address(name), Order.status == "open")):
            c.post("/market/cancel", data={"order_id": o.order_id})


def test_the_depth_chart_keeps_its_window_and_lists_outliers():
    from webapp.charts import depth_chart
    from webapp.services.price_band import Band

    band = Band(200_000, 500_000)  # feed-in 20, retail 50 sen/kWh
    svg = str(depth_chart([{"price": 300_000, "amount_wh": 2000}],
                          [{"price": 340_000, "amount_wh": 1000}, {"price": 4_000_000, "amount_wh": 500}],
                          band.window()))  # fmt: skip
    ticks = [float(t) for t in re.findall(r'class="tick" x="[\d.]+" y="\d+" text-anchor="middle">([\d.]+)<', svg)]
    assert ticks and max(ticks) <= 65  # the 400 sen/kWh ask no longer stretches the axis
    assert "Off the chart" in svg and "0.500 kWh at 400.00 sen/kWh" in svg


# ---------------------------------------------------------------------- item 5: rounds without trade, round times
def test_a_round_without_trade_says_no_trade_and_rounds_show_their_window(app):
    start = int(time.time()) // 180 * 180 - 3600
    with app.app_context():
        db.session.add(AuctionRound(round_id=start, end=start + 180, status="cleared", clearing_price=0, volume_wh=0,
                                    retail_price=500_000, feed_in_tariff=200_000))  # fmt: skip
        db.session.commit()
    page = app.test_client().get("/auction").get_data(as_text=True)
    assert not re.search(r"(?<![\d.])0\.00 sen/kWh", page)
    assert re.search(r'id="last-price">no trade<', page)
    assert 'pill-ok" id="last-price"' not in page
    assert re.search(r"\d\d:\d\d\u2013\d\d:\d\d UTC\+8", page)
    assert str(start) not in page


def test_times_are_in_the_community_time_zone():
    from webapp.config import load_config
    from webapp.formatting import round_window, timefmt, zone

    assert timefmt(0 + 1_764_547_200) == "2025-12-01 08:00:00 UTC+8"  # 00:00 UTC
    assert timefmt(1_764_547_200, zone("UTC")) == "2025-12-01 00:00:00 UTC"
    assert round_window(1_764_547_200, 180) == "08:00\u201308:03 UTC+8, 1 Dec"
    assert load_config({"FLASK_SECRET_KEY": "x" * 32})["COMMUNITY_TIMEZONE"] == "Asia/Kuala_Lumpur"
    with pytest.raises(ValueError, match="COMMUNITY_TIMEZONE"):
        load_config({"FLASK_SECRET_KEY": "x" * 32, "COMMUNITY_TIMEZONE": "Mars/Olympus"})


# ---------------------------------------------------------------------- item 6: kept input, default side
def test_a_rejected_order_keeps_the_input_and_a_prosumer_starts_on_sell(app, chain, users):
    c = app.test_client()
    name = users.signup(c)
    chain.mint_energy(users.address(name), 2000)
    with app.app_context():
        from webapp.models import Meter

        for m in db.session.scalars(select(Meter).where(Meter.owner == users.address(name))):
            m.kind = "prosumer"
        db.session.commit()
    users.index()
    with app.app_context():
        from webapp.models import Meter

        meter = db.session.scalar(select(Meter).where(Meter.owner == users.address(name)))
        meter.kind = "prosumer"
        db.session.commit()
    page = c.get("/market").get_data(as_text=True)
    assert re.search(r'value="sell" checked', page)  # a prosumer sells first
    page = _follow(c, c.post("/market/order", data={"side": "sell", "price": "41,5", "amount": "900"}))
    assert "Insufficient balance" in page
    assert re.search(r'value="sell" checked', page)
    assert 'value="41,5"' in page and 'value="900"' in page  # the user's own text, kept
    page = c.get("/market").get_data(as_text=True)
    assert 'value="900"' not in page  # once


def test_a_consumer_starts_on_buy(app, users):
    c = app.test_client()
    users.signup(c)
    page = c.get("/market").get_data(as_text=True)
    assert re.search(r'value="buy" checked', page) and not re.search(r'value="sell" checked', page)


# ---------------------------------------------------------------------- item 7: the demo bot keeps a reserve
def test_the_demo_bot_keeps_a_reserve_and_the_pages_say_it_runs(app, chain, tmp_path, monkeypatch):
    from webapp.services import demo_bot
    from webapp.services.demo_seed import seed

    app.config["DEMO_BOT_HEARTBEAT"] = str(tmp_path / "bot.json")
    with app.app_context():
        app.extensions["chain"].operator().resync()
        seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None)
    assert "Demo trading bot active" not in app.test_client().get("/").get_data(as_text=True)
    monkeypatch.setattr(demo_bot, "RESERVE_WH", 10**12)
    monkeypatch.setattr(demo_bot, "RESERVE_UNITS", 10**15)
    bot = demo_bot.Bot(app, "demo-password-1", 0.0)
    bot.rng.seed(3)
    with app.app_context():
        bot.login_all()
        said = [bot.step() for _ in range(12)]
        bot.heartbeat()
    assert all("keeps the reserve" in s or " cancels #" in s for s in said), said
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Demo trading bot active" in page, (tmp_path / "bot.json").exists() and "10.000 kWh" in page


# ---------------------------------------------------------------------- item 9: explorer, caching, units text
def test_explorer_shows_units_and_filters_failed_transactions(app, chain, users):
    c = app.test_client()
    name = users.signup(c)
    chain.mint_energy(users.address(name), 1300)
    c.post("/market/order", data={"side": "sell", "price": "28.5", "amount": "1.3"})
    users.index()
    page = c.get(f"/explorer/address/{users.address(name)}").get_data(as_text=True)
    assert "28.50 sen/kWh" in page and "1.300 kWh" in page
    assert "<code>285000</code>" not in page and "<code>1300</code>" not in page
    failed = c.get("/explorer?status=failed").get_data(as_text=True)
    assert 'id="tx-filter"' in failed and "pill-ok" not in failed.split('id="tx-table"')[1]
    ok = c.get("/explorer?status=ok").get_data(as_text=True)
    assert "pill-fail" not in ok.split('id="tx-table"')[1]
    with app.app_context():
        for o in db.session.scalars(select(Order).where(Order.maker == users.address(name), Order.status == "open")):
            c.post("/market/cancel", data={"order_id": o.order_id})  # leave the shared book as it was


def test_authenticated_pages_are_not_stored_and_units_are_stated_once(app, users):
    c = app.test_client()
    anonymous = c.get("/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    users.signup(c)
    for path in ("/", "/account", "/market"):
        assert c.get(path).headers["Cache-Control"] == "no-store", path
    page = c.get("/account").get_data(as_text=True)
    assert "1 token = 1 Wh" not in page and "one energy token is 1 kWh" in page


# ---------------------------------------------------------------------- the demo's agents replace the bot
def test_the_seed_grants_the_demo_mandates_once_and_the_pages_say_the_agents_run(app, chain, tmp_path):
    import json
    import time

    from energy_chain.devchain import local_signer
    from energy_chain.mandate import MandateClient, MandateTerms
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import demo_seed
    from webapp.services.context import keys

    app.config["AGENT_HEARTBEAT"] = str(tmp_path / "agents.json")
    app.config["DEMO_BOT_HEARTBEAT"] = str(tmp_path / "no-bot.json")  # a bot another test ran is not this demo's
    with app.app_context():
        app.extensions["chain"].operator().resync()
        demo_seed.seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None)
        client = app.extensions["chain"].client
        mandates = MandateClient(client)
        agent = local_signer(client, "agent").address
        users = {u.username: u for u in demo_seed.demo_users()}
        demo = {a for (a,) in db.session.execute(select(User.address).where(User.username.in_(users)))}

        def demo_owners() -> list[str]:  # other tests on this chain may mandate the same dev agent
            return [a for a in mandates.owners_of(agent) if a in demo]

        owners = [keys().get(a) for a in demo_owners()]
        expected = MandateTerms(agent=agent, **demo_seed.DEMO_MANDATE)
        assert len(owners) == len(users) and all(mandates.terms_of(o.address) == expected for o in owners)
        mandates.revoke(owners[0])  # a household that turned automatic trading off stays off after a re-seed
        demo_seed.seed(app, "demo-password-1", round_seconds=None, out=lambda *_: None)
        assert mandates.terms_of(owners[0].address) is None and len(demo_owners()) == len(users) - 1
    assert "Automatic trading on" not in app.test_client().get("/").get_data(as_text=True)
    beat = {"time": time.time(), "agent": agent, "owners": [o.address for o in owners[1:3]], "interval_s": 60}
    (tmp_path / "agents.json").write_text(json.dumps(beat))
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Automatic trading on: the demo households" in page and "granted on chain" in page, page[
        page.find("demo-") :
    ][:600]
    assert "Demo trading bot active" not in page
