"""Run trading agents against a live chain: the same TradingAgent as in the simulator, on an injected clock.

Each interval boundary (clock time), per agent: read the meter's ReadingRecorded events since the last look and
the community's readings of the last interval (public chain data: the SDR pricing input), read balances, forecast,
then trade through the SDK — the order book (place; what is left is cancelled before the interval ends, so the
oracle can burn unsold tokens only against the seller's own deficit) or the auction (submit into the current
round). `python -m agents.live --config agents.json` runs it; see `load_config` for the file.
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
from energy_chain.orders import OrderBookClient, Side
from household_model import HouseholdModel, community_from_dict

log = logging.getLogger("agents.live")


@dataclass
class LiveAgent:
    agent: TradingAgent
    signer: Signer
    serial: str
    open_orders: list[int] = field(default_factory=list)


class LiveRunner:
    def __init__(self, client: ChainClient, agents: Sequence[LiveAgent], venue: str, interval_s: int,
                 clock: Callable[[], float] = time.time, lead_s: float = 30.0) -> None:  # fmt: skip
        if venue not in ("order-book", "auction"):
            raise ValueError(f"venue must be order-book or auction, not {venue!r}")
        self.client, self.agents, self.venue, self.interval_s = client, list(agents), venue, interval_s
        self.clock, self.lead_s = clock, lead_s
        self.token = client.contract("EnergyToken")
        self.money = client.contract("SettlementToken")
        self.readings = EventDecoder(self.token.abi, self.token.address)
        self.book = OrderBookClient(client) if venue == "order-book" else None
        self.auction = AuctionClient(client) if venue == "auction" else None
        market = self.book or self.auction
        self.min_wh = int(market.contract.functions.minAmount().call()) if market is not None else None
        self.by_meter = {meter_id(a.serial): a for a in self.agents}
        self.by_address = {a.signer.address.lower(): a for a in self.agents}
        self._from_block = int(client.w3.eth.block_number) + 1
        self._traded: int | None = None  # start of the interval traded last
        self._cleaned: int | None = None
        retail, feed_in = (self.auction or AuctionClient(client)).tariffs()
        self.tariffs = Tariffs(retail, feed_in)

    def _observe(self) -> tuple[int, int]:
        """Feed new readings to their agents; returns the community's (supply, demand) of the latest interval."""
        head = int(self.client.w3.eth.block_number)
        if head < self._from_block:
            return 0, 0
        logs = self.client.w3.eth.get_logs(
            {"fromBlock": self._from_block, "toBlock": head, "address": self.token.address}  # type: ignore[typeddict-item]
        )
        self._from_block = head + 1
        latest: dict[int, tuple[int, int]] = {}
        for raw in logs:
            e = self.readings.decode_log(dict(raw))
            if e is None or e.name != "ReadingRecorded":
                continue
            a = e.args
            interval = int(a["interval"])
            supply, demand = latest.get(interval, (0, 0))
            latest[interval] = (supply + int(a["mintedWh"]), demand + int(a["burnedWh"]) + int(a["gridWh"]))
            mine = self.by_meter.get(bytes.fromhex(a["meterId"][2:]))
            if mine is not None:
                mine.agent.observe_reading(interval, int(a["mintedWh"]), int(a["burnedWh"]) + int(a["gridWh"]))
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
        supply, demand = self._observe()
        view = MarketView(self.tariffs, supply, demand)
        for la in self.agents:
            energy = int(self.token.functions.balanceOf(la.signer.address).call())
            money = int(self.money.functions.balanceOf(la.signer.address).call())
            la.agent.set_balances(energy, money)
            la.agent.begin_interval(start, view)
            intent = la.agent.intent(view, self.venue, self.min_wh)
            for is_sell, amount, price in ((True, intent.sell_wh, intent.ask), (False, intent.buy_wh, intent.bid)):
                if amount > 0:
                    self._order(la, is_sell, price, amount)
        self._traded = start

    def _order(self, la: LiveAgent, is_sell: bool, price: int, amount: int) -> None:
        try:
            if self.book is not None:
                result = self.book.place(la.signer, Side.SELL if is_sell else Side.BUY, price, amount)
                for f in result.fills:  # credit both sides when the maker is one of ours too
                    buyer, seller = (f.taker, f.maker) if f.taker_side == Side.BUY else (f.maker, f.taker)
                    if (b := self.by_address.get(buyer.lower())) is not None:
                        b.agent.traded(bought_wh=f.amount, paid=f.cost)
                    if (s := self.by_address.get(seller.lower())) is not None:
                        s.agent.traded(sold_wh=f.amount, received=f.cost)
                if result.filled < amount:
                    la.open_orders.append(result.order_id)
            elif self.auction is not None:
                self.auction.submit(la.signer, AuctionSide.ASK if is_sell else AuctionSide.BID, price, amount)
        except Exception as exc:  # one refused order must not stop the other households' agents
            log.warning("%s: order not placed (%s)", la.serial, exc)

    def _cancel_open(self) -> None:
        assert self.book is not None
        for la in self.agents:
            for order_id in la.open_orders:
                try:
                    self.book.cancel(la.signer, order_id)
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
