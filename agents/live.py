"""Run trading agents against a live chain: the same TradingAgent as in the simulator, on an injected clock.

Each interval boundary (clock time), per agent: read the meter's ReadingRecorded events since the last look and
the community's readings of the last interval (public chain data: the SDR pricing input), read balances, forecast,
then trade through the SDK — the order book (place; what is left is cancelled before the interval ends, so the
oracle can burn unsold tokens only against the seller's own deficit) or the auction (submit into the current
round). `python -m agents.live --config agents.json` runs it; see `load_config` for the file.

`IntervalLoop` is that loop; `LiveRunner` trades with each household's own key, `agents.service.MandatedRunner`
with one agent key for every household that granted it a mandate (the "for" entry points).
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.agent import AgentConfig, TradingAgent
from agents.battery import BatteryState
from agents.bounds import UserBounds
from agents.forecast import ClearSkyForecaster, PersistenceForecaster
from agents.pricing import MarketView, Tariffs, make_strategy
from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.auction import AuctionClient
from energy_chain.clearing import Side as AuctionSide
from energy_chain.events import EventDecoder
from energy_chain.meters import meter_id
from energy_chain.orders import OrderBookClient, PlaceResult, Side
from household_model import HouseholdModel, community_from_dict

log = logging.getLogger("agents.live")
MARKET_VENUES = ("order-book", "auction")


@dataclass
class LiveAgent:
    """One household's agent on the chain. `signer` sends its transactions: the household's own key, or the agent
    key of a mandate; `owner` is the household (default: the signer's address)."""

    agent: TradingAgent
    signer: Signer
    serial: str
    open_orders: list[int] = field(default_factory=list)
    owner: str = ""
    meter_ids: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        self.owner = self.owner or self.signer.address
        self.meter_ids = self.meter_ids or (meter_id(self.serial),)


class IntervalLoop:
    """The interval loop: observe readings, then once per interval decide and trade for each account; clean up the
    book's leftovers `lead_s` before the boundary. Subclasses say whom to trade for and how orders are sent."""

    def __init__(self, client: ChainClient, interval_s: int, clock: Callable[[], float] = time.time,
                 lead_s: float = 30.0, venues: Sequence[str] = MARKET_VENUES) -> None:  # fmt: skip
        self.client, self.interval_s, self.clock, self.lead_s = client, interval_s, clock, lead_s
        self.token = client.contract("EnergyToken")
        self.money = client.contract("SettlementToken")
        self.readings = EventDecoder(self.token.abi, self.token.address)
        deployed = client.deployment.contracts
        self.book = OrderBookClient(client) if "order-book" in venues and "OrderBook" in deployed else None
        self.auction = AuctionClient(client) if "auction" in venues and "DoubleAuction" in deployed else None
        self.min_wh: dict[str, int] = {}
        if self.book is not None:
            self.min_wh["order-book"] = int(self.book.contract.functions.minAmount().call())
        if self.auction is not None:
            self.min_wh["auction"] = int(self.auction.contract.functions.minAmount().call())
        self._from_block = int(client.w3.eth.block_number) + 1
        self._traded: int | None = None  # start of the interval traded last
        self._cleaned: int | None = None
        retail, feed_in = (self.auction or AuctionClient(client)).tariffs()
        self.tariffs = Tariffs(retail, feed_in)

    # ------------------------------------------------------------------ what subclasses decide
    def accounts(self) -> Sequence[LiveAgent]:
        """The agents to trade for in this interval (read at each interval start)."""
        raise NotImplementedError

    def venue_of(self, la: LiveAgent) -> str | None:
        """Where `la` trades this interval (None: nowhere)."""
        raise NotImplementedError

    def place(self, la: LiveAgent, side: Side, price: int, amount: int) -> PlaceResult:
        assert self.book is not None
        return self.book.place(la.signer, side, price, amount)

    def submit(self, la: LiveAgent, side: AuctionSide, price: int, amount: int) -> int:
        assert self.auction is not None
        return self.auction.submit(la.signer, side, price, amount)

    def cancel(self, la: LiveAgent, order_id: int) -> None:
        assert self.book is not None
        self.book.cancel(la.signer, order_id)

    def on_reading(self, la: LiveAgent, interval: int, surplus_wh: int, deficit_wh: int) -> None:
        """A reading of one of `la`'s meters was recorded (after the agent saw it)."""

    def trade(self, la: LiveAgent, start: int, view: MarketView) -> None:
        """Decide and send `la`'s orders for the interval starting at `start`."""
        venue = self.venue_of(la)
        if venue is None:
            return
        self.prepare(la, start, view)
        intent = la.agent.intent(view, venue, self.min_wh.get(venue))
        for is_sell, amount, price in ((True, intent.sell_wh, intent.ask), (False, intent.buy_wh, intent.bid)):
            if amount > 0:
                self.order(la, venue, is_sell, price, amount)

    def interval_done(self, start: int) -> None:
        """Every account was traded for the interval starting at `start`."""

    # ------------------------------------------------------------------ shared
    def prepare(self, la: LiveAgent, start: int, view: MarketView) -> None:
        """Read `la`'s owner's balances and let the agent forecast the interval."""
        energy = int(self.token.functions.balanceOf(la.owner).call())
        money = int(self.money.functions.balanceOf(la.owner).call())
        la.agent.set_balances(energy, money)
        la.agent.begin_interval(start, view)

    def _observe(self, agents: Sequence[LiveAgent]) -> tuple[int, int]:
        """Feed new readings to their agents; returns the community's (supply, demand) of the latest interval."""
        head = int(self.client.w3.eth.block_number)
        if head < self._from_block:
            return 0, 0
        logs = self.client.w3.eth.get_logs(
            {"fromBlock": self._from_block, "toBlock": head, "address": self.token.address}  # type: ignore[typeddict-item]
        )
        self._from_block = head + 1
        by_meter = {mid: a for a in agents for mid in a.meter_ids}
        latest: dict[int, tuple[int, int]] = {}
        for raw in logs:
            e = self.readings.decode_log(dict(raw))
            if e is None or e.name != "ReadingRecorded":
                continue
            a = e.args
            interval = int(a["interval"])
            supply, demand = latest.get(interval, (0, 0))
            surplus, deficit = int(a["mintedWh"]), int(a["burnedWh"]) + int(a["gridWh"])
            latest[interval] = (supply + surplus, demand + deficit)
            mine = by_meter.get(bytes.fromhex(a["meterId"][2:]))
            if mine is not None:
                mine.agent.observe_reading(interval, surplus, deficit)
                self.on_reading(mine, interval, surplus, deficit)
        return latest[max(latest)] if latest else (0, 0)

    def step(self) -> None:
        """Do what is due at the clock's time: clean up before the boundary, trade once per interval after it."""
        now = self.clock()
        start = int(now // self.interval_s * self.interval_s)
        if self.book is not None and now >= start + self.interval_s - self.lead_s and self._cleaned != start:
            self._cancel_open()
            self._cleaned = start
        if self._traded == start:
            return
        agents = self.accounts()
        supply, demand = self._observe(agents)
        view = MarketView(self.tariffs, supply, demand)
        for la in agents:
            try:
                self.trade(la, start, view)
            except Exception as exc:  # one household's failure must not stop the others' agents
                log.warning("%s: not traded this interval (%s)", la.serial, exc)
        self._traded = start
        self.interval_done(start)

    def order(self, la: LiveAgent, venue: str, is_sell: bool, price: int, amount: int) -> PlaceResult | int | Exception:
        """Send one order; returns the PlaceResult (book), the order id (auction) or why it was refused."""
        try:
            if venue == "order-book":
                result = self.place(la, Side.SELL if is_sell else Side.BUY, price, amount)
                self.credit_fills(result)
                if result.filled < amount:
                    la.open_orders.append(result.order_id)
                return result
            return self.submit(la, AuctionSide.ASK if is_sell else AuctionSide.BID, price, amount)
        except Exception as exc:  # one refused order must not stop the other households' agents
            log.warning("%s: order not placed (%s)", la.serial, exc)
            return exc

    def credit_fills(self, result: PlaceResult) -> None:
        """Credit both sides of each fill when the maker is one of ours too."""
        by_owner = {a.owner.lower(): a for a in self.known()}
        for f in result.fills:
            buyer, seller = (f.taker, f.maker) if f.taker_side == Side.BUY else (f.maker, f.taker)
            if (b := by_owner.get(buyer.lower())) is not None:
                b.agent.traded(bought_wh=f.amount, paid=f.cost)
            if (s := by_owner.get(seller.lower())) is not None:
                s.agent.traded(sold_wh=f.amount, received=f.cost)

    def known(self) -> Sequence[LiveAgent]:
        """Every agent this loop keeps (traded this interval or not)."""
        return self.accounts()

    def _cancel_open(self) -> None:
        for la in self.known():
            for order_id in la.open_orders:
                try:
                    self.cancel(la, order_id)
                except Exception as exc:  # already filled or expired meanwhile
                    log.info("%s: order %d not cancelled (%s)", la.serial, order_id, exc)
            la.open_orders = []

    def run(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.step()
            except Exception as exc:  # chain unreachable: try again next poll
                log.warning("agents step failed: %s", exc)
            stop.wait(poll_s)


class LiveRunner(IntervalLoop):
    """Agents that trade with each household's own key, all on one venue."""

    def __init__(self, client: ChainClient, agents: Sequence[LiveAgent], venue: str, interval_s: int,
                 clock: Callable[[], float] = time.time, lead_s: float = 30.0) -> None:  # fmt: skip
        if venue not in MARKET_VENUES:
            raise ValueError(f"venue must be order-book or auction, not {venue!r}")
        super().__init__(client, interval_s, clock, lead_s, venues=(venue,))
        self.agents, self.venue = list(agents), venue

    def accounts(self) -> Sequence[LiveAgent]:
        return self.agents

    def venue_of(self, la: LiveAgent) -> str | None:
        return self.venue


def load_config(path: Path, client: ChainClient, clock: Callable[[], float] = time.time) -> LiveRunner:
    """JSON: {"venue", "interval_s", "strategy", "forecaster", "community": <community file form>,
    "households": [{"serial", "keystore", "password_file", "bounds": {...}}]} (relative paths: to the file)."""
    data = json.loads(path.read_text())
    community = community_from_dict(data["community"], str(path))
    model = HouseholdModel(community, int(data["interval_s"]))
    spec = {h.serial: h for h in community.households}
    agents = []
    for entry in data["households"]:
        h = spec[entry["serial"]]
        signer = Signer.from_keystore_files(path.parent / entry["keystore"], path.parent / entry["password_file"])
        forecaster: Any = PersistenceForecaster()
        if data.get("forecaster", "clear-sky") == "clear-sky":
            forecaster = ClearSkyForecaster(lambda t, h=h: model.clear_sky_pv_wh(h, t), int(data["interval_s"]))
        battery = BatteryState(h.battery, int(data["interval_s"])) if h.battery else None
        config = AgentConfig(h.serial, UserBounds.from_dict(entry.get("bounds", {})),
                             make_strategy(data.get("strategy", "sdr"), steps=1), forecaster, battery,
                             community.location.tz)  # fmt: skip
        agents.append(LiveAgent(TradingAgent(config, signer.address, clock), signer, h.serial))
    return LiveRunner(client, agents, data.get("venue", "order-book"), int(data["interval_s"]), clock)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m agents.live", description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, required=True)
    ns = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    runner = load_config(ns.config, ChainClient(ChainConfig.from_env()))
    stop = threading.Event()
    try:
        runner.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
