"""Trade history, earnings and savings against the grid, price and volume history, the community grid and the meter
by period (issue 14, Deliver 2).

The first test trades for real (order book and auction) on this module's own chain and changes the grid tariffs between
trades, so each figure checks that a trade is compared at the tariffs in force when it traded. The others put rows
straight into the index (the chain's clock cannot be set to a chosen local midnight) to check aggregation by local
day in Asia/Kuala_Lumpur, CSV content and paging."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuctionRound, ChainEvent, Meter, Reading, Trade, User
from webapp.services.demo_bot import Bot

SEN = 10_000  # settlement units per sen


_hashes = itertools.count(1)


def _hash() -> str:
    return "0x" + f"{next(_hashes) + time.time_ns():064x}"[-64:]


def _set_tariffs(chain, retail: int, feed_in: int) -> None:
    fn = chain.client.contract("DoubleAuction").functions.setGridTariffs(retail, feed_in)
    chain.operator.resync()
    chain.client.transact(fn, chain.operator)


def _end_round(chain) -> None:
    interval, reveal, _ = chain.client.contract("DoubleAuction").functions.schedule().call()
    chain.client.w3.provider.make_request("evm_increaseTime", [int(interval) + int(reveal) + 1])
    chain.client.w3.provider.make_request("evm_mine", [])


def _order(client, side: str, price: int, wh: int) -> dict:
    r = client.post("/api/v1/orders", json={"side": side, "price": price, "amount_wh": wh, "wait": True})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def test_trades_are_compared_with_the_grid_at_the_tariffs_in_force_when_they_traded(app, chain, users):
    """Tariffs A (retail 99 sen, feed-in 0.2 sen): a book fill of 1.5 kWh at 0.5 sen and an auction round (ask 2 kWh
    at 30 sen, bid 1.5 kWh at 45 sen: 37.5 sen). Tariffs B (80 sen, 0.1 sen): a book fill of 0.5 kWh at 0.5 sen; the
    round, opened under A, is claimed under B and keeps A."""
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    seller_addr, buyer_addr = users.address(seller), users.address(buyer)
    chain.mint_energy(seller_addr, 5000)
    chain.top_up(buyer_addr, 10_000_000)
    try:
        _set_tariffs(chain, 99 * SEN, 2_000)
        _order(seller_c, "sell", 5_000, 2000)
        fill = _order(buyer_c, "buy", 5_000, 1500)
        assert fill["filled_wh"] == 1500
        _end_round(chain)  # the next auction order opens a new round, under tariffs A
        for client, side, price, wh in ((seller_c, "sell", 30, 2000), (buyer_c, "buy", 45, 1500)):
            r = client.post("/api/v1/auction/orders", json={"side": side, "price": price * SEN, "amount_wh": wh,
                                                              "wait": True})  # fmt: skip
            assert r.status_code == 201, r.get_data(as_text=True)
        _set_tariffs(chain, 80 * SEN, 1_000)
        assert _order(buyer_c, "buy", 5_000, 500)["filled_wh"] == 500
        _end_round(chain)
        with app.app_context():
            app.extensions["chain"].operator().resync()
            Bot(app, "unused", 1.0).keep_auction()  # close, clear and claim like the demo keeper
    finally:
        _set_tariffs(chain, 50 * SEN, 20 * SEN)  # the deployment's tariffs, for this module's other tests
    users.index()

    body = buyer_c.get("/api/v1/account/trades").get_json()
    assert body["tariff_source"] == "indexed"
    rows = {(t["venue"], t["amount_wh"]): t for t in body["trades"]}
    assert len(body["trades"]) == 3, body["trades"]
    book_a, auction, book_b = rows[("book", 1500)], rows[("auction", 1500)], rows[("book", 500)]
    assert (book_a["money"], book_a["retail_price"], book_a["grid_value"], book_a["vs_grid"]) == (
        7_500, 990_000, 1_485_000, 1_477_500)  # fmt: skip
    assert (auction["price"], auction["money"], auction["tariff_source"], auction["vs_grid"]) == (
        375_000, 562_500, "round", 922_500)  # fmt: skip
    assert (book_b["money"], book_b["retail_price"], book_b["vs_grid"]) == (2_500, 800_000, 397_500)
    assert auction["counterparty"] is None and book_a["counterparty"] == seller_addr
    totals = body["totals"]
    assert (totals["bought_wh"], totals["paid"], totals["saved_vs_retail"], totals["sold_wh"]) == (
        3_500, 572_500, 2_797_500, 0)  # fmt: skip
    assert totals["avg_buy_price"] == 572_500 * 1000 // 3_500

    sold = seller_c.get("/api/v1/account/trades").get_json()["totals"]
    # 7 500 - 3 000 (1.5 kWh at 0.2 sen) + 562 500 - 3 000 (round A) + 2 500 - 500 (0.5 kWh at 0.1 sen)
    assert (sold["sold_wh"], sold["received"], sold["earned_over_feed_in"]) == (3_500, 572_500, 566_000)

    page = buyer_c.get("/account/trades").get_data(as_text=True)
    assert "3.500 kWh" in page and "RM 2.7975" in page and "auction pool" in page
    assert 'data-source="indexed"' in page and "tariffs in force at each trade" in page
    account = seller_c.get("/account").get_data(as_text=True)
    assert "more than feed-in" in account and 'id="earnings-months"' in account
    assert "RM 0.5660" in account or "RM 0.57" in account
    home = seller_c.get("/").get_data(as_text=True)
    assert 'id="home-earnings"' in home and "more than feed-in" in home

    earned = seller_c.get("/api/v1/account/earnings?by=month").get_json()
    assert earned["total"]["earned_over_feed_in"] == 566_000 and earned["tariff_source"] == "indexed"
    assert sum(p["earned_over_feed_in"] for p in earned["periods"]) == 566_000


def _trade(buyer: str, seller: str, price: int, wh: int, ts: int, venue: str = "book", block: int = 10) -> Trade:
    return Trade(venue=venue, buyer=buyer, seller=seller, price=price, amount_wh=wh, block_number=block,
                 tx_hash=_hash(), log_index=0, timestamp=ts)  # fmt: skip


def _kl(text: str) -> int:
    """A Kuala Lumpur wall time (UTC+8) as a Unix time."""
    return int(datetime.fromisoformat(text + "+08:00").timestamp())


NEIGHBOUR = "0x" + "5e" * 20


def test_trades_page_filters_by_local_day_pages_and_exports_csv(app, users):
    app.config["PAGE_SIZE"] = 2
    client = app.test_client()
    me = users.address(users.signup(client))
    times = ["2026-11-30T23:30:00", "2026-12-01T00:30:00", "2026-12-01T12:00:00", "2026-12-01T23:59:59",
             "2026-12-02T00:00:00"]  # fmt: skip
    with app.app_context():
        for k, t in enumerate(times):  # 1 kWh each; I buy at 40 sen on even k, sell at 30 sen on odd k
            mine_buys = k % 2 == 0
            db.session.add(_trade(me if mine_buys else NEIGHBOUR, NEIGHBOUR if mine_buys else me,
                                  (40 if mine_buys else 30) * SEN, 1000, _kl(t), block=10 + k))  # fmt: skip
        db.session.commit()

    # 1 December in Kuala Lumpur: 00:30, 12:00 and 23:59:59 (UTC: 30 Nov 16:30 to 1 Dec 15:59:59), not 23:30 the day
    # before (30 Nov 15:30 UTC, the same UTC day as the first) nor midnight after.
    body = client.get("/api/v1/account/trades?from=2026-12-01&to=2026-12-01").get_json()
    assert body["total"] == 3 and body["timezone"] == "Asia/Kuala_Lumpur"
    assert [t["timestamp"] for t in body["trades"]] == [_kl(times[3]), _kl(times[2]), _kl(times[1])]
    totals = body["totals"]  # sold at 00:30 (30 sen), bought at 12:00 (40 sen), sold at 23:59:59
    assert (totals["bought_wh"], totals["paid"], totals["sold_wh"], totals["received"]) == (
        1000, 400_000, 2000, 600_000)  # fmt: skip
    # No tariff change is indexed in this database: today's tariffs (50 / 20 sen) stand in, and the answer says so.
    assert body["tariff_source"] == "current"
    assert (totals["saved_vs_retail"], totals["earned_over_feed_in"]) == (100_000, 200_000)

    page2 = client.get("/api/v1/account/trades?per_page=2&page=3").get_json()
    assert (page2["page"], page2["pages"], page2["total"], len(page2["trades"])) == (3, 3, 5, 1)
    assert page2["trades"][0]["timestamp"] == _kl(times[0])  # newest first: the oldest is last

    html = client.get("/account/trades?from=2026-12-01&to=2026-12-01").get_data(as_text=True)
    assert "page 1 of 2 (3)" in html and "2.000 kWh" in html and 'data-source="current"' in html
    assert "today&#39;s grid tariffs" in html or "today's grid tariffs" in html
    assert "from=2026-12-01" in html and "page=2" in html  # the pager and the CSV link keep the period
    assert "page 2 of 2" in client.get("/account/trades?from=2026-12-01&to=2026-12-01&page=2").get_data(as_text=True)

    r = client.get("/account/trades.csv?from=2026-12-01&to=2026-12-01")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="trades-2026-12-01-2026-12-01.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 3
    first = rows[-1]  # 00:30 local, a sale of 1 kWh at 30 sen: RM 0.10 above the 20 sen feed-in tariff
    assert first["time_local"] == "2026-12-01T00:30:00+08:00" and first["side"] == "sell"
    assert (first["price_sen_per_kwh"], first["amount_kwh"], first["money_myr"]) == ("30.0000", "1.000", "0.300000")
    assert (first["feed_in_tariff"], first["tariff_source"], first["vs_grid_myr"]) == ("200000", "current", "0.100000")
    assert first["counterparty"] == NEIGHBOUR
    api_csv = client.get("/api/v1/account/trades?format=csv")
    assert api_csv.mimetype == "text/csv" and len(api_csv.get_data(as_text=True).strip().splitlines()) == 1 + 5

    by_day = client.get("/api/v1/account/earnings?by=day").get_json()["periods"]
    assert [(p["label"], p["trades"]) for p in by_day] == [("2026-12-02", 1), ("2026-12-01", 3), ("2026-11-30", 1)]

    for bad, code in (("from=2026-13-01", "invalid_date"), ("from=2026-12-02&to=2026-12-01", "invalid_date"),
                      ("from=0001-01-01", "invalid_date"), ("format=xml", "invalid_format")):  # fmt: skip
        r = client.get(f"/api/v1/account/trades?{bad}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == code, bad
    r = client.get("/account/trades?from=yesterday")
    assert r.status_code in (302, 400)
    assert client.get("/api/v1/account/earnings?by=year").status_code == 400
    assert app.test_client().get("/account/trades").status_code == 302  # logged out: to the login page
    assert app.test_client().get("/api/v1/account/trades").status_code == 401


def test_price_and_volume_history_by_hour_and_day(app, users):
    client = app.test_client()
    now = int(time.time())
    hour = now - now % 3600
    with app.app_context():
        # this hour: 1 kWh at 40 sen and 3 kWh at 48 sen in the book, 2 kWh at 44 sen by direct offer
        db.session.add_all([_trade("0x" + "11" * 20, NEIGHBOUR, 40 * SEN, 1000, hour + 60),
                            _trade("0x" + "11" * 20, NEIGHBOUR, 48 * SEN, 3000, hour + 120),
                            _trade("0x" + "22" * 20, NEIGHBOUR, 44 * SEN, 2000, hour + 180, venue="offer"),
                            _trade("0x" + "22" * 20, NEIGHBOUR, 30 * SEN, 5000, hour - 3600 + 5)])  # fmt: skip
        # an auction round that cleared 4 kWh at 35 sen an hour ago; its claims (auction trades) are not counted again
        db.session.add(AuctionRound(round_id=hour - 3600, end=hour - 3600 + 900, status="cleared",
                                    clearing_price=35 * SEN, volume_wh=4000, retail_price=50 * SEN,
                                    feed_in_tariff=20 * SEN))  # fmt: skip
        db.session.add(_trade("0x" + "33" * 20, "0x" + "44" * 20, 35 * SEN, 4000, hour - 3600 + 950, venue="auction"))
        db.session.commit()
    body = client.get("/api/v1/market/history?bucket=hour").get_json()
    buckets = {b["start"]: b for b in body["buckets"]}
    this = buckets[hour]
    assert this["volume_wh"] == 6000 and this["trades"] == 3
    assert this["avg_price"] == (40 * 1000 + 48 * 3000 + 44 * 2000) * SEN // 6000  # 45.33 sen, volume-weighted
    assert this["volume_by_venue_wh"] == {"book": 4000, "auction": 0, "offer": 2000}
    assert (this["low_price"], this["high_price"]) == (40 * SEN, 48 * SEN)
    last = buckets[hour - 3600]
    assert last["volume_by_venue_wh"] == {"book": 5000, "auction": 4000, "offer": 0}
    assert last["avg_price"] == (30 * 5000 + 35 * 4000) * SEN // 9000
    day = client.get("/api/v1/market/history?bucket=day").get_json()["buckets"]
    assert sum(b["volume_wh"] for b in day) == 15000

    page = client.get("/history").get_data(as_text=True)
    assert "Local trade price" in page and 'class="line series-0"' in page and "45.33 sen/kWh" in page
    assert "grid retail now 50 sen" in page  # the tariff lines on the price chart
    assert 'class="bar series-0"' in page and "6.000 kWh" in page
    assert client.get("/history?bucket=day").status_code == 200
    assert client.get("/history?bucket=week").status_code == 200
    assert client.get("/history?bucket=month").status_code == 200
    assert client.get("/history?bucket=fortnight").status_code == 400
    assert client.get("/api/v1/market/history?bucket=minute").status_code == 400


def test_community_page_shows_the_latest_interval_prices_and_tariffs(app, users):
    client = app.test_client()
    latest = 4_000_000_000 - 4_000_000_000 % 900  # after every reading the test chain makes
    with app.app_context():
        for k, (minted, burned, grid) in enumerate(((1200, 0, 0), (0, 300, 450), (800, 0, 0))):
            meter = "0x" + f"{k + 1:064x}"
            db.session.add(Meter(meter_id=meter, owner=NEIGHBOUR, active=True))
            db.session.add(Reading(meter_id=meter, interval=latest, owner=NEIGHBOUR, minted_wh=minted,
                                   burned_wh=burned, grid_wh=grid, block_number=50))  # fmt: skip
            db.session.add(Reading(meter_id=meter, interval=latest - 900, owner=NEIGHBOUR, minted_wh=100,
                                   burned_wh=0, grid_wh=0, block_number=49))  # fmt: skip
        db.session.add(Meter(meter_id="0x" + "ff" * 32, owner=NEIGHBOUR, active=True))  # silent this interval
        db.session.add(AuctionRound(round_id=latest - 900, end=latest, status="cleared", clearing_price=37 * SEN,
                                    volume_wh=1500, imported_wh=250, exported_wh=700, retail_price=50 * SEN,
                                    feed_in_tariff=20 * SEN))  # fmt: skip
        db.session.add(_trade("0x" + "11" * 20, NEIGHBOUR, 42 * SEN, 1000, int(time.time())))
        db.session.commit()
    body = client.get("/api/v1/community").get_json()
    assert body["latest"] == {"interval": latest, "meters": 3, "surplus_wh": 2000, "deficit_wh": 750,
                              "own_tokens_wh": 300, "grid_wh": 450, "net_wh": 1250}  # fmt: skip
    assert body["active_meters"] == 4 and len(body["recent"]) == 2
    assert body["tariffs"] == {"retail_price": 50 * SEN, "feed_in_tariff": 20 * SEN}
    assert (body["last_round"]["imported_wh"], body["last_round"]["exported_wh"]) == (250, 700)
    assert body["last_trade"]["price"] == 42 * SEN
    page = client.get("/community").get_data(as_text=True)
    for text in ("2.000 kWh", "0.750 kWh", "0.450 kWh", "3 of 4 active meters", "50.00 sen/kWh", "20.00 sen/kWh",
                 "37.00 sen/kWh", "42.00 sen/kWh", "0.700 kWh"):  # fmt: skip
        assert text in page, text


def test_community_page_before_any_reading(client):
    page = client.get("/community").get_data(as_text=True)
    assert "No meter reading is settled yet." in page and "No round has cleared yet." in page


def test_meter_by_day_week_and_month_in_ringgit_at_the_tariffs_of_each_reading(app, users):
    """Readings either side of local midnight, and a tariff change (block 100) between them."""
    client = app.test_client()
    me = users.address(users.signup(client))
    meter = "0x" + "ab" * 32
    with app.app_context():
        db.session.add(Meter(meter_id=meter, owner=me, active=True, name="Rooftop"))
        for block, (retail, feed_in) in ((1, (50 * SEN, 20 * SEN)), (100, (60 * SEN, 10 * SEN))):
            db.session.add(
                ChainEvent(
                    block_number=block,
                    tx_hash=_hash(),
                    log_index=0,
                    contract="DoubleAuction",
                    name="GridTariffsSet",
                    args_json=json.dumps({"retailPrice": retail, "feedInTariff": feed_in}),
                )
            )
        rows = [  # (local interval start, minted, burned, grid, block)
            ("2026-11-30T23:45:00", 1000, 0, 0, 50),  # 30 Nov: 1 kWh surplus at 20 sen feed-in = RM 0.20
            ("2026-12-01T00:00:00", 2000, 0, 0, 99),  # 1 Dec, old tariffs: RM 0.40
            ("2026-12-01T18:00:00", 0, 500, 1500, 100),  # 1 Dec, new tariffs: own 0.5 kWh at 60 = 0.30, grid 0.90
            ("2026-12-01T18:15:00", 3000, 0, 0, 101),  # new feed-in 10 sen: RM 0.30
        ]
        for t, minted, burned, grid, block in rows:
            db.session.add(Reading(meter_id=meter, interval=_kl(t), owner=me, minted_wh=minted, burned_wh=burned,
                                   grid_wh=grid, block_number=block))  # fmt: skip
        db.session.commit()
    now = _kl("2026-12-02T08:00:00")
    from webapp.services.meter_periods import meter_periods
    from webapp.services.periods import community_zone

    with app.test_request_context():
        days = meter_periods([meter], "day", community_zone(), now=now)
        months = meter_periods([meter], "month", community_zone(), now=now)
        weeks = meter_periods([meter], "week", community_zone(), now=now)
    assert days.tariff_source == "indexed"
    got = [(p.label, p.surplus_wh, p.surplus_value, p.own_tokens_value, p.grid_cost) for p in days.periods]
    assert got == [("2026-12-01", 5000, 700_000, 300_000, 900_000), ("2026-11-30", 1000, 200_000, 0, 0)]
    assert [(p.label, p.surplus_value, p.intervals) for p in months.periods] == [
        ("2026-12", 700_000, 3), ("2026-11", 200_000, 1)]  # fmt: skip
    # Monday 30 November starts the week of both days
    assert [(p.label, p.surplus_value, p.grid_cost) for p in weeks.periods] == [("week of 2026-11-30", 900_000,
                                                                                   900_000)]  # fmt: skip

    page = client.get(f"/meter?by=day&meter={meter}").get_data(as_text=True)
    assert 'id="meter-periods"' in page  # the page's window ends now, so the 2026 rows show while 2026 is recent
    for by in ("week", "month", "interval"):
        assert client.get(f"/meter?by={by}").status_code == 200
    assert client.get("/meter?by=year").status_code == 400
    body = client.get("/api/v1/meter/periods?by=month").get_json()
    assert body["by"] == "month" and body["tariff_source"] == "indexed"
    assert client.get("/api/v1/meter/periods?by=hour").status_code == 400


@pytest.mark.parametrize("path", ["/account/trades", "/history", "/community", "/meter?by=day"])
def test_new_pages_render_for_a_new_user(app, users, path):
    client = app.test_client()
    users.signup(client)
    r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]


def test_offer_fills_are_indexed_as_trades(app, chain, users):
    from energy_chain.offer_settlement import OfferSettlementClient

    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    chain.mint_energy(users.address(seller), 3000)
    chain.top_up(users.address(buyer), 5_000_000)
    settlement = OfferSettlementClient(chain.client)
    seller_key, buyer_key = users.signer(seller), users.signer(buyer)
    settlement.prepare_seller(seller_key)
    now = int(chain.client.w3.eth.get_block("latest")["timestamp"])
    offer = settlement.sign(seller_key, 42 * SEN, 2000, now - 60, now + 3600)
    settlement.fill(offer, 1250, buyer_key)
    users.index()
    with app.app_context():
        trade = db.session.scalar(select(Trade).where(Trade.venue == "offer", Trade.buyer == users.address(buyer)))
        assert (trade.seller, trade.price, trade.amount_wh, trade.cost) == (users.address(seller), 420_000, 1250,
                                                                           525_000)  # fmt: skip
    mine = buyer_c.get("/api/v1/account/trades").get_json()["trades"]
    assert [(t["venue"], t["money"], t["vs_grid"]) for t in mine] == [("offer", 525_000, 625_000 - 525_000)]
    assert "direct offer" in buyer_c.get("/account/trades").get_data(as_text=True)


def test_time_zone_day_boundaries():
    from webapp.formatting import zone
    from webapp.services.periods import bucket_label, bucket_start

    tz = zone("Asia/Kuala_Lumpur")
    ts = _kl("2026-12-01T00:30:00")
    assert bucket_start(ts, "day", tz) == _kl("2026-12-01T00:00:00")
    assert bucket_start(_kl("2026-11-30T23:59:59"), "day", tz) == _kl("2026-11-30T00:00:00")
    assert bucket_start(ts, "week", tz) == _kl("2026-11-30T00:00:00")  # a Monday
    assert bucket_start(ts, "month", tz) == _kl("2026-12-01T00:00:00")
    assert bucket_label(bucket_start(ts, "hour", tz), "hour", tz) == "2026-12-01 00:00 UTC+8"
    assert datetime.fromtimestamp(bucket_start(ts, "day", tz), UTC).hour == 16  # 16:00 UTC the day before
    berlin = zone("Europe/Berlin")  # a day across the October DST change is 25 hours long
    start = bucket_start(int(datetime(2026, 10, 25, 12, tzinfo=UTC).timestamp()), "day", berlin)
    assert bucket_start(start + 25 * 3600, "day", berlin) == start + 25 * 3600


def test_upgrade_makes_the_indexer_replay_the_chain_for_offer_fills(databases):
    """0003 -> 0004: the deployment fingerprint is forgotten (the next indexer step resets and replays, so offer
    fills that an older index skipped become trades); users and the rest of the schema stay."""
    import flask_migrate
    from sqlalchemy import text

    from tests.webapp.test_migrations import _app, _differences, _dispose
    from webapp.models import IndexerState, User
    from webapp.schema import MIGRATIONS_DIR, head_revision, upgrade

    app = _app(databases.empty())
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="0003_sessions_nonces_topups")
            db.session.execute(text("INSERT INTO users (username, address, is_operator, created_at) "
                                    "VALUES ('kept', '0x" + "cd" * 20 + "', false, CURRENT_TIMESTAMP)"))  # fmt: skip
            db.session.execute(text("INSERT INTO indexer_state (key, value) VALUES ('deployment', '1337:x'), "
                                    "('last_block', '42')"))  # fmt: skip
            db.session.commit()
        assert upgrade(app) == head_revision()
        assert _differences(app) == []
        with app.app_context():
            assert db.session.scalar(select(User.username)) == "kept"
            assert db.session.get(IndexerState, "deployment") is None
            assert db.session.get(IndexerState, "last_block").value == "42"
    finally:
        _dispose(app)


def test_without_the_chain_the_pages_say_the_tariffs_are_unknown(chain, db_url):
    """No tariff is indexed and the chain is down: no comparison is made up, and every page still answers."""
    from energy_chain.anvil import free_port
    from tests.webapp.conftest import app_config
    from webapp import create_app

    app = create_app(app_config(chain, db_url, RPC_URL=f"http://127.0.0.1:{free_port()}"))
    client = app.test_client()
    password = "grid-is-down-42"
    r = client.post("/auth/signup", data={"username": "offline2", "password": password, "confirm": password})
    assert r.status_code == 302
    with app.app_context():
        me = db.session.scalar(select(User.address).where(User.username == "offline2"))
        db.session.add(_trade(me, NEIGHBOUR, 40 * SEN, 1000, int(time.time())))
        db.session.commit()
    body = client.get("/api/v1/account/trades").get_json()
    assert body["tariff_source"] == "none" and body["trades"][0]["vs_grid"] is None
    assert body["totals"]["unvalued_trades"] == 1 and body["totals"]["saved_vs_retail"] == 0
    page = client.get("/account/trades").get_data(as_text=True)
    assert 'data-source="none"' in page and "no grid comparison" in page and 'id="trades-unvalued"' in page
    account = client.get("/account").get_data(as_text=True)
    assert 'id="earnings-unvalued"' in account and "more than feed-in and saved" not in account
    assert "not reachable" in client.get("/community").get_data(as_text=True)
    for path in ("/history", "/meter?by=month"):
        assert client.get(path).status_code == 200, path


def _check(value, schema: dict, components: dict, where: str = "$") -> list[str]:
    """The subset of JSON Schema the API document uses (type, enum, const, properties, required, items, oneOf, $ref,
    minimum, maximum, pattern, additionalProperties): a list of what does not match."""
    import re

    if "$ref" in schema:
        return _check(value, components[schema["$ref"].rsplit("/", 1)[-1]], components, where)
    errors: list[str] = []
    if "oneOf" in schema and sum(not _check(value, s, components, where) for s in schema["oneOf"]) != 1:
        errors.append(f"{where}: not exactly one of oneOf")
    kinds = schema.get("type")
    if kinds is not None:
        names = {"integer": int, "string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}
        allowed = [kinds] if isinstance(kinds, str) else kinds
        ok = any(isinstance(value, names[k]) and not (k == "integer" and isinstance(value, bool)) for k in allowed)
        if not ok:
            return [f"{where}: {value!r} is not {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} != {schema['const']!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        errors += [f"{where}: {k} missing" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in schema.get("properties", {}):
                errors += _check(v, schema["properties"][k], components, f"{where}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += _check(v, schema["additionalProperties"], components, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors += _check(v, schema["items"], components, f"{where}[{i}]")
    return errors


def test_history_answers_match_the_openapi_document_with_data(app, users):
    """The fuzzer's users have no trades; here every new operation answers with rows in it."""
    client = app.test_client()
    me = users.address(users.signup(client))
    now = int(time.time())
    meter = "0x" + "cd" * 32
    with app.app_context():
        db.session.add_all([_trade(me, NEIGHBOUR, 40 * SEN, 1000, now - 60),
                            _trade(NEIGHBOUR, me, 30 * SEN, 500, now - 30, venue="offer"),
                            _trade(me, "0x" + "99" * 20, 35 * SEN, 700, now, venue="auction")])  # fmt: skip
        db.session.add(Meter(meter_id=meter, owner=me, active=True))
        db.session.add(Reading(meter_id=meter, interval=now - now % 900, owner=me, minted_wh=10, burned_wh=0,
                               grid_wh=0, block_number=5))  # fmt: skip
        db.session.add(AuctionRound(round_id=now - 900, end=now - 60, status="cleared", clearing_price=35 * SEN,
                                    volume_wh=700, imported_wh=0, exported_wh=100, retail_price=50 * SEN,
                                    feed_in_tariff=20 * SEN))  # fmt: skip
        db.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    wrong = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}
    assert len(_check({"a": "x"}, wrong, components)) == 2  # the checker does report what does not match
    for path, query in (("/account/trades", "?per_page=2"), ("/account/earnings", "?by=month"),
                        ("/market/history", "?bucket=day"), ("/community", ""), ("/meter/periods", "?by=week"),
                        ("/market/trades", "")):  # fmt: skip
        r = client.get(f"/api/v1{path}{query}")
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert r.status_code == 200, path
        body = r.get_json()
        assert body, path
        assert _check(body, schema, components) == [], path
    assert "text/csv" in document["paths"]["/account/trades"]["get"]["responses"]["200"]["content"]


def test_tariff_history_answers_the_tariffs_in_force_and_nothing_before_the_first_change():
    from energy_chain.clearing import Tariffs
    from webapp.services.tariff_history import TariffHistory

    history = TariffHistory([(10, 3, Tariffs(500_000, 200_000)), (20, 0, Tariffs(600_000, 100_000))])
    assert history.source == "indexed" and history.epochs() == [10, 20]
    assert history.at(10, 2) is None  # before the first indexed change: unknown, never the later tariffs
    assert history.at(10, 3) == history.at(19) == Tariffs(500_000, 200_000)
    assert history.at(20, 0) == history.at(10**9) == Tariffs(600_000, 100_000)
    today = TariffHistory([], Tariffs(1, 1))
    assert (today.source, today.at(5)) == ("current", Tariffs(1, 1))
    assert TariffHistory().source == "none" and TariffHistory().at(5) is None
