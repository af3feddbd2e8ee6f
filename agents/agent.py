"""One household's trading agent: what to sell, what to buy and at what price in each interval.

The agent is pure decision logic with an injected clock, so the live runner (agents.live) and the simulator use the
same code; the transactions are built by `agents.venues` through the energy_chain SDK and sent by the caller.

Delivery works through EnergyToken: at the end of an interval the oracle burns the tokens the household holds
against its deficit and records only the rest as grid import. So, each interval the agent
* learns its last metered surplus or deficit (ReadingRecorded events) and its token and money balances,
* forecasts its net for the interval (before and after its battery),
* sells the tokens it holds beyond its reserve and its own expected deficit (a held token saves retail later, so
  it keeps what it will need itself), and
* buys ahead the part of its expected deficit its tokens do not cover, within its price bound and daily cap.
Whatever is not matched goes to the grid (imports at retail; unsold tokens are banked, valued at feed-in).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from agents.battery import BatteryMode, BatteryState
from agents.bounds import UserBounds
from agents.forecast import Forecaster, ForecastLog
from agents.pricing import MarketView, PricingStrategy, Quote

MIN_ORDER_WH = 10  # the order book's minimum order size (scripts/deploy.py ORDER_BOOK_MIN_WH)


@dataclass(frozen=True)
class Intent:
    """What the agent wants at one trading step: sell `sell_wh` at >= `ask`, buy `buy_wh` at <= `bid`."""

    sell_wh: int
    ask: int
    buy_wh: int
    bid: int


@dataclass
class AgentConfig:
    serial: str
    bounds: UserBounds
    strategy: PricingStrategy
    forecaster: Forecaster
    battery: BatteryState | None = None
    tz: str = "Asia/Kuala_Lumpur"
    min_order_wh: int = MIN_ORDER_WH


@dataclass
class TradingAgent:
    config: AgentConfig
    address: str
    clock: Callable[[], float] = time.time
    energy_wh: int = 0  # tokens free in the wallet (not escrowed)
    money: int = 0  # settlement units free in the wallet
    spent_today: int = 0
    forecasts: ForecastLog = field(default_factory=ForecastLog)
    _day: str = ""
    _battery_flows: dict[int, int] = field(default_factory=dict)
    _expected_deficit: int = 0
    _mode: BatteryMode | None = None

    # ------------------------------------------------------------------ what the chain tells the agent
    def observe_reading(self, interval: int, surplus_wh: int, deficit_wh: int) -> None:
        """A ReadingRecorded of this meter (deficit = burned + grid): feeds the forecaster and the error log."""
        battery = self._battery_flows.pop(interval, 0)
        net_before_battery = surplus_wh - deficit_wh + battery
        self.config.forecaster.observe(interval, net_before_battery)
        self.forecasts.actual(interval, net_before_battery)

    def set_balances(self, energy_wh: int, money: int) -> None:
        self.energy_wh, self.money = int(energy_wh), int(money)

    def traded(self, bought_wh: int = 0, sold_wh: int = 0, paid: int = 0, received: int = 0) -> None:
        """A fill (after escrows are returned: the caller cancels or claims before re-planning)."""
        self.energy_wh += bought_wh - sold_wh
        self.money += received - paid
        self.spent_today += paid

    # ------------------------------------------------------------------ decisions
    def begin_interval(self, interval: int, view: MarketView, local_market: bool = True) -> BatteryMode | None:
        """Forecast the interval, choose the battery's mode; returns the mode (None without a battery).

        Without a local market (grid-only) surplus is worth feed-in and a deficit costs retail.
        """
        day = datetime.fromtimestamp(interval, ZoneInfo(self.config.tz)).date().isoformat()
        if day != self._day:
            self._day, self.spent_today = day, 0
        net = self.config.forecaster.forecast(interval)[0]
        self.forecasts.predicted(interval, net)
        quote = self.config.strategy.quote(view) if local_market else Quote(view.tariffs.feed_in, view.tariffs.retail)
        battery = self.config.battery
        self._mode = battery.decide(quote, view.tariffs) if battery is not None else None
        expected_flow = 0.0
        if battery is not None and self._mode is not None:
            limit = battery.spec.power_w * battery.interval_s / 3600
            if net > 0 and self._mode.charge:
                expected_flow = min(net, limit, battery.spec.capacity_wh - battery.soc_wh)
            elif net < 0 and self._mode.discharge:
                expected_flow = -min(-net, limit, battery.soc_wh)
        self._expected_deficit = max(0, round(expected_flow - net))
        return self._mode

    def intent(self, view: MarketView, venue: str, min_wh: int | None = None) -> Intent:
        """Amounts and limit prices for one trading step (re-planned at each step from the current balances).

        Amounts below `min_wh` (the venue's minimum order; default the configured one) are not offered: that
        energy is left to the grid.
        """
        bounds = self.config.bounds
        quote: Quote = self.config.strategy.quote(view)
        if not bounds.allows(venue):
            return Intent(0, quote.ask, 0, quote.bid)
        ask = max(bounds.sell_price(quote.ask), view.tariffs.feed_in)
        sell = max(0, self.energy_wh - bounds.reserve_wh - self._expected_deficit)
        buy = 0
        bid = bounds.buy_price(quote.bid)
        if bid is not None:
            buy = max(0, self._expected_deficit - self.energy_wh)
            buy = min(buy, bounds.affordable_wh(bid, self.spent_today), self.money * 1000 // max(bid, 1))
        small = self.config.min_order_wh if min_wh is None else max(min_wh, self.config.min_order_wh)
        return Intent(sell if sell >= small else 0, ask, buy if buy >= small else 0, bid or 0)

    def run_battery(self, interval: int, net_before_wh: int) -> int:
        """The battery's controller during the interval (the simulator calls it with the actual net)."""
        battery = self.config.battery
        if battery is None or self._mode is None:
            return 0
        flow = battery.apply(net_before_wh, self._mode)
        self._battery_flows[interval] = flow
        return flow
