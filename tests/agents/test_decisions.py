"""Pricing, bounds, forecasts and the battery: the agent's decisions without a chain."""

from __future__ import annotations

import pytest

from agents.agent import AgentConfig, TradingAgent
from agents.battery import BatteryMode, BatteryState
from agents.bounds import BoundsError, UserBounds
from agents.forecast import ClearSkyForecaster, ForecastLog, PersistenceForecaster
from agents.pricing import LinearRampPricing, MarketView, SupplyDemandRatioPricing, Tariffs, make_strategy
from household_model import Battery

T = Tariffs(retail=500_000, feed_in=200_000)


def view(supply: int, demand: int, step: int = 0, steps: int = 1) -> MarketView:
    return MarketView(T, supply, demand, step, steps)


def test_sdr_pricing_follows_liu_et_al():
    sdr = SupplyDemandRatioPricing()
    q = sdr.quote(view(0, 1000))  # no supply: both at retail
    assert (q.ask, q.bid) == (500_000, 500_000)
    assert (sdr.quote(view(1000, 1000)).ask, sdr.quote(view(1000, 1000)).bid) == (200_000, 200_000)
    assert sdr.quote(view(5000, 1000)).ask == 200_000  # glut: everything at feed-in
    half = sdr.quote(view(500, 1000))
    # P_s = 0.5*0.2 / (0.3*0.5 + 0.2) = 0.285714..., P_b = P_s*0.5 + 0.5*0.5 = 0.392857...
    assert half.ask == 285_714 and half.bid == 392_857
    asks = [sdr.quote(view(s, 1000)).ask for s in range(0, 1001, 50)]
    assert asks == sorted(asks, reverse=True)  # more supply, lower price
    for s in range(0, 2001, 37):
        q = sdr.quote(view(s, 1000))
        assert T.feed_in <= q.ask <= q.bid <= T.retail


def test_ramp_crosses_half_way_and_stays_in_the_band():
    ramp = LinearRampPricing(steps=3)
    quotes = [ramp.quote(view(0, 0, j, 3)) for j in range(3)]
    assert (quotes[0].ask, quotes[0].bid) == (500_000, 200_000)
    assert quotes[1].ask == quotes[1].bid == 350_000
    assert (quotes[2].ask, quotes[2].bid) == (200_000, 500_000)
    with pytest.raises(ValueError, match="unknown pricing strategy"):
        make_strategy("magic")


def test_bounds_are_checked_and_applied():
    b = UserBounds(min_sell_price=300_000, max_buy_price=400_000, reserve_wh=100, daily_spend_cap=1_000)
    assert b.sell_price(200_000) == 300_000 and b.buy_price(450_000) is None and b.buy_price(390_000) == 390_000
    assert b.affordable_wh(400_000, 600) == 1  # 400 units left buy 1 Wh at 0.40/kWh
    with pytest.raises(BoundsError, match="unknown venues"):
        UserBounds.from_dict({"venues": ["telepathy"]})
    with pytest.raises(BoundsError, match="unknown bound"):
        UserBounds.from_dict({"max_price": 1})
    with pytest.raises(BoundsError, match="negative"):
        UserBounds(reserve_wh=-1)


def agent(bounds: UserBounds, strategy=None, battery=None) -> TradingAgent:
    config = AgentConfig("M-1", bounds, strategy or SupplyDemandRatioPricing(), PersistenceForecaster(), battery)
    return TradingAgent(config, "0x" + "11" * 20, clock=lambda: 0.0)


def test_agent_keeps_reserve_and_own_deficit_and_buys_only_the_rest():
    a = agent(UserBounds(reserve_wh=200))
    a.observe_reading(0, 0, 500)  # last interval: 500 Wh deficit -> persistence expects the same
    a.set_balances(energy_wh=1_000, money=10**9)
    a.begin_interval(900, view(100, 1000))
    i = a.intent(view(100, 1000), "order-book")
    assert i.sell_wh == 300 and i.buy_wh == 0  # 1 000 held - 200 reserve - 500 own need
    a.set_balances(energy_wh=100, money=10**9)
    i = a.intent(view(100, 1000), "order-book")
    assert i.sell_wh == 0 and i.buy_wh == 400
    assert a.intent(view(100, 1000), "direct").buy_wh == 400
    narrow = agent(UserBounds(venues=("auction",)))
    narrow.observe_reading(0, 0, 500)
    narrow.begin_interval(900, view(0, 1))
    assert narrow.intent(view(0, 1), "order-book").buy_wh == 0  # venue not allowed


def test_daily_cap_limits_purchases_and_resets_next_day():
    a = agent(UserBounds(daily_spend_cap=100_000))  # RM 0.10 a day
    a.set_balances(0, 10**9)
    a.observe_reading(0, 0, 2_000)
    a.begin_interval(900, view(0, 1))  # scarce: bid at retail 0.50 -> 200 Wh affordable
    assert a.intent(view(0, 1), "order-book").buy_wh == 200
    a.traded(bought_wh=200, paid=100_000)
    a.set_balances(0, 10**9)
    assert a.intent(view(0, 1), "order-book").buy_wh == 0
    a.begin_interval(900 + 86_400, view(0, 1))
    assert a.intent(view(0, 1), "order-book").buy_wh > 0


def test_battery_conserves_energy_with_its_efficiency():
    b = BatteryState(Battery(capacity_wh=1_000, power_w=2_000, round_trip_efficiency=0.81), interval_s=900)
    assert b.apply(800, BatteryMode(True, True)) == 500  # power limit: 2 kW x 0.25 h
    assert b.soc_wh == pytest.approx(450)  # stored 500 x 0.9
    assert b.apply(400, BatteryMode(True, True)) == 400 and b.soc_wh == pytest.approx(810)
    assert b.apply(400, BatteryMode(True, True)) == 211  # (1 000 - 810) / 0.9: only the room left
    out = b.apply(-10_000, BatteryMode(True, True))
    assert out < 0 and b.soc_wh >= 0
    assert b.apply(-100, BatteryMode(True, False)) == 0  # discharge not allowed this interval
    full = BatteryState(Battery(1_000, 10_000, 0.81), 900, soc_wh=1_000)
    assert full.apply(5_000, BatteryMode(True, True)) == 0
    # Surplus is stored only when the local market would pay no more than feed-in (a glut); else it is sold.
    assert full.decide(SupplyDemandRatioPricing().quote(view(1, 2)), T).charge is False
    assert full.decide(SupplyDemandRatioPricing().quote(view(5, 1)), T).charge is True
    assert full.decide(SupplyDemandRatioPricing().quote(view(0, 1)), T).discharge is True


def test_forecasters_and_error_log():
    pers = PersistenceForecaster()
    assert pers.forecast(0) == [0.0]
    pers.observe(0, -300)
    assert pers.forecast(900, 2) == [-300.0, -300.0]
    curve = {0: 0.0, 900: 1_000.0, 1800: 2_000.0}
    cs = ClearSkyForecaster(lambda t: curve[t], 900, clearness=0.5)
    cs.observe(900, 100)  # 500 Wh PV expected, net 100 -> load 400
    assert cs.forecast(1800) == [pytest.approx(600.0)]  # 1 000 PV - 400 load
    log = ForecastLog()
    log.predicted(900, 100.0)
    log.actual(900, 200)
    log.actual(1800, 50)  # never forecast: ignored
    assert log.wmape() == pytest.approx(0.5)
