"""One market design run over the whole simulated period on its own chain: real contracts, oracle and agents.

Each interval [s, s + L) is a fixed sequence of blocks whose timestamps are simulated time:
  s + 0   auction designs: close, clear and claim the round of the previous interval (buyers get their energy)
  s + 10  the oracle reads the meters at boundary s and records the previous interval (mint surplus, burn the
          deficit from held tokens, the rest is grid import); agents learn their readings and balances
  s + 20  trading for the interval: order-book steps (cancel what is left of the last step, place re-priced
          orders) or one auction submission; at s + L - 10 the order book's leftovers are cancelled
so at the interval's end the oracle burns the energy each buyer bought instead of recording grid import.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import keccak
from web3 import Web3

from agents.agent import AgentConfig, TradingAgent
from agents.battery import BatteryState
from agents.forecast import ClearSkyForecaster, PersistenceForecaster
from agents.pricing import MarketView, make_strategy
from agents.venues import CLAIM_BATCH, AuctionVenue, OrderBookVenue, Trade, encode_call, signed_call
from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.approvals import APPROVE_GAS, UNLIMITED
from energy_chain.auction import AuctionClient
from energy_chain.clearing import Side as AuctionSide
from energy_chain.deploy import Roles, deploy_all
from energy_chain.meters import align, meter_id
from energy_chain.orders import OrderBookClient, Side
from household_model import HouseholdModel
from household_model.weather import rng
from scripts.register_meters import REGISTER_GAS
from simulation.chain import KEEP_TX_BLOCKS, SimChain
from simulation.fastlogs import FastEvents
from simulation.meters import CommunityMeters
from simulation.oracle import SimClock, SimOracle
from simulation.spec import Physics, RunSpec

TOPUP_GAS = 120_000
BOOK_EVENTS = ("OrderPlaced", "OrderFilled", "OrderCancelled", "OrderExpired")
AUCTION_EVENTS = ("OrderBooked", "RoundCleared", "OrderClaimed")
ROW_COLUMNS = ("battery_wh", "net_wh", "minted_wh", "burned_wh", "grid_import_wh", "bought_wh", "sold_wh",
               "token_balance_wh", "paid_units", "received_units")  # fmt: skip


def key_of(seed: int, role: str) -> str:
    return "0x" + keccak(text=f"simulation:{seed}:{role}").hex()


@dataclass
class DesignResult:
    design: str
    columns: dict[str, np.ndarray]  # ROW_COLUMNS -> [households, intervals]
    transactions: int = 0
    gas_used: int = 0
    wall_s: float = 0.0
    setup_transactions: int = 0
    forecast_mape: float | None = None
    trades: list[list[Any]] = field(default_factory=list)
    rounded_fills: int = 0
    direct_failures: int = 0

    def meta(self) -> dict[str, Any]:
        return {"transactions": self.transactions, "gas_used": self.gas_used, "wall_s": round(self.wall_s, 2),
                "forecast_mape": self.forecast_mape, "trades": self.trades, "rounded_fills": self.rounded_fills,
                "setup_transactions": self.setup_transactions,
                "direct_failures": self.direct_failures}  # fmt: skip


class DesignRun:
    def __init__(self, spec: RunSpec, physics: Physics, design: str, folder: Path,
                 progress: Callable[[int], None] | None = None, iso: Callable[[int], str] = str) -> None:  # fmt: skip
        self.spec, self.physics, self.design = spec, physics, design
        self.venue_name = design.split("+")[0]
        self.battery = design.endswith("+battery")
        self.folder = Path(folder)
        self.progress = progress or (lambda _n: None)
        self.iso = iso
        households = spec.community.households
        self.n, self.k = len(households), spec.n_intervals
        self.signers = [Signer.from_key(key_of(spec.seed, f"household:{i}")) for i in range(self.n)]
        self.index = {s.address.lower(): i for i, s in enumerate(self.signers)}
        self.meter_index = {meter_id(h.serial): i for i, h in enumerate(households)}
        self.cols = {c: np.zeros((self.n, self.k), dtype=np.int64) for c in ROW_COLUMNS}
        self.result = DesignResult(design, self.cols)
        self.clock = SimClock(spec.start_ts)
        self.keep_chain = False

    # ------------------------------------------------------------------ set-up
    def _agents(self) -> list[TradingAgent]:
        spec = self.spec
        model = HouseholdModel(spec.community, spec.interval_s)
        strategy = (
            make_strategy(spec.strategy) if self.venue_name == "order-book" else make_strategy(spec.strategy, steps=1)
        )
        agents = []
        for h, signer in zip(spec.community.households, self.signers, strict=True):
            if spec.forecaster == "persistence":
                forecaster: Any = PersistenceForecaster()
            else:
                forecaster = ClearSkyForecaster(lambda t, h=h: model.clear_sky_pv_wh(h, t), spec.interval_s)
            battery = BatteryState(h.battery, spec.interval_s) if (self.battery and h.battery) else None
            config = AgentConfig(h.serial, spec.bounds, strategy, forecaster, battery, spec.tz)
            agents.append(TradingAgent(config, signer.address, clock=self.clock.now))
        return agents

    def _setup(self, chain: SimChain) -> ChainClient:
        spec = self.spec
        admin, operator = Signer.from_key(key_of(spec.seed, "admin")), Signer.from_key(key_of(spec.seed, "operator"))
        self.oracle_signer = Signer.from_key(key_of(spec.seed, "oracle"))
        self.keeper = Signer.from_key(key_of(spec.seed, "keeper"))
        client = ChainClient(ChainConfig(rpc_url=chain.url, chain_id=1337, deployments_dir=self.folder / "deployments",
                                         timeout_s=600))  # fmt: skip
        deploy_all(client, Roles(admin, admin.address, operator.address, self.oracle_signer.address), quiet=True)
        auction = client.contract("DoubleAuction")
        if spec.interval_s != int(auction.functions.schedule().call()[0]):
            client.transact(auction.functions.setSchedule(spec.interval_s, 0, False), admin, gas=200_000)
        chain.automine(False)  # anvil's automine stalls on a batch of a few hundred: mine on demand from here
        registry = client.contract("MeterRegistry")
        money = client.contract("SettlementToken")
        energy = client.contract("EnergyToken")
        units = spec.money_per_day * spec.days
        raws = []
        base = operator.reserve(2 * self.n, client.pending_nonce)
        cid = client.chain_id
        # Meters report spec.interval_s-long intervals from the set-up block on (it is mined at start_ts - 1800):
        # a re-reported interval at +1 s or one before the simulated day is refused by the registry.
        first = align(spec.start_ts - 1800, spec.interval_s)
        for h, s, nonce in zip(spec.community.households, self.signers, base[: self.n], strict=True):
            data = encode_call("registerMeterWithPeriod(bytes32,address,uint32,uint64)", meter_id(h.serial),
                               s.address, spec.interval_s, first)  # fmt: skip
            raws.append(signed_call(operator, cid, registry.address, data, REGISTER_GAS, nonce))
        base = base[self.n :]
        for i, (s, nonce) in enumerate(zip(self.signers, base, strict=True)):
            ref = keccak(text=f"simulation:{spec.seed}:{i}")
            data = encode_call("topUp(address,uint256,bytes32)", s.address, units, ref)
            raws.append(signed_call(operator, cid, money.address, data, TOPUP_GAS, nonce))
        spender = {"order-book": "OrderBook", "auction": "DoubleAuction", "direct": "OfferSettlement"}.get(
            self.venue_name
        )
        if spender:
            approve = encode_call("approve(address,uint256)", client.deployment.address(spender), UNLIMITED)
            for s in self.signers:
                for k, token in enumerate((energy, money)):
                    raws.append(signed_call(s, cid, token.address, approve, APPROVE_GAS, k))
        hashes, blocks = chain.execute(raws, spec.start_ts - 1800, ordered=False)
        # Every set-up call logs (MeterRegistered, Transfer, Approval): a transaction without a log reverted. Logs,
        # not receipts: anvil builds the receipts of a 4 000-transaction block in quadratic time.
        logged = {str(log["transactionHash"]).lower() for log in chain.logs(blocks)}
        if not logged.issuperset(hashes):
            self._require_success(client, chain, [h for h in hashes if h not in logged], "set-up")
        used = 2 if spender else 0
        for s in self.signers:  # nonces counted locally from here on (no node round trip per order)
            s.reserve(0, lambda _address, n=used: n)
        self.result.setup_transactions = len(hashes)
        self.energy, self.money = energy, money
        return client

    @staticmethod
    def _require_success(client: ChainClient, chain: SimChain, hashes: list[str], what: str) -> None:
        receipts = client.get_receipts(hashes)
        failed = [h for h in hashes if receipts[h] is None or int(receipts[h]["status"], 16) != 1]
        if failed:
            reason = client.explain_failure(failed[0]) if receipts[failed[0]] is not None else "not mined"
            raise RuntimeError(
                f"{what}: {len(failed)} of {len(hashes)} transactions failed, e.g. {failed[0]}: {reason}"
            )

    # ------------------------------------------------------------------ the run
    def run(self, inspect: Callable[[DesignRun, ChainClient, SimChain], None] | None = None) -> DesignResult:
        started = time.monotonic()
        if self.folder.exists():  # a run starts afresh: an old outbox would make the oracle resume an old run
            shutil.rmtree(self.folder)
        # A caller inspecting the chain afterwards (the tests) needs every block's logs; a plain run only the latest.
        keep = None if inspect is not None else KEEP_TX_BLOCKS
        chain = SimChain(self.folder, self.spec.start_ts - 3600, keep_tx_blocks=keep).start()
        try:
            client = self._setup(chain)
            chain.blocks.clear()
            chain.transactions = chain.gas_used = 0  # the run's, not the set-up's
            self.client = client
            self._loop(client, chain)
            self.result.transactions, self.result.gas_used = chain.transactions, chain.gas_used
            if inspect is not None:
                inspect(self, client, chain)
        finally:
            chain.stop()
            if not self.keep_chain:  # outbox and anvil log are scaffolding: the dataset is the output
                shutil.rmtree(self.folder, ignore_errors=True)
        errors = sum(a.forecasts.abs_error() for a in self.agents)
        actual = sum(a.forecasts.abs_actual() for a in self.agents)
        self.result.forecast_mape = round(errors / actual, 4) if actual else None
        self.result.wall_s = time.monotonic() - started
        return self.result

    def _loop(self, client: ChainClient, chain: SimChain) -> None:
        spec, L = self.spec, self.spec.interval_s
        self.agents = agents = self._agents()
        meters = CommunityMeters([h.serial for h in spec.community.households])
        oracle = SimOracle(client, self.oracle_signer, meters, self.folder, L, self.clock)
        token_events = FastEvents(self.energy.abi, ["ReadingRecorded"])
        book = OrderBookVenue(OrderBookClient(client)) if self.venue_name == "order-book" else None
        auction = AuctionVenue(AuctionClient(client)) if self.venue_name == "auction" else None
        if book is not None:
            self.book_events = FastEvents(book.client.contract.abi, BOOK_EVENTS)
        if auction is not None:
            self.auction_events = FastEvents(auction.contract.abi, AUCTION_EVENTS)
        direct = None
        if self.venue_name == "direct":
            from simulation.direct_market import DirectMarket  # the DHT and selection stack only when needed

            serials = [h.serial for h in spec.community.households]
            direct = DirectMarket(client, self.signers, serials, self.clock.now, L)
        round_orders: list[int] = []
        supply = demand = 0
        try:
            for k in range(self.k + 1):
                s = spec.interval_start(k)
                if auction is not None and round_orders:
                    self._settle_auction(chain, auction, s - L, round_orders, k - 1)
                    round_orders = []
                self.clock.set(s + 10)
                blocks = oracle.record(s, chain, s + 10)
                if k > 0:
                    supply, demand = self._readings(chain, token_events, blocks, agents, k - 1)
                    self._balances(chain, agents, k - 1)
                self.progress(1)
                if k == self.k:
                    break
                self.clock.set(s + 20)
                view = MarketView(spec.tariffs, supply, demand)
                for a in agents:
                    a.begin_interval(s, view, local_market=self.venue_name != "grid-only")
                if book is not None:
                    self._trade_order_book(chain, book, agents, s, k, supply, demand)
                elif auction is not None:
                    round_orders = self._submit_auction(chain, auction, agents, s, k, supply, demand)
                elif direct is not None:
                    view = MarketView(spec.tariffs, supply, demand)
                    for t in direct.trade(chain, agents, view, self._order(k, 0), s + 20):
                        self._record_trade(agents, t, k)
                        self.result.trades.append([self.iso(s), t.price, t.amount_wh])
                        self.result.rounded_fills += 1
                self._physics(meters, agents, s, k)
        finally:
            oracle.close()
            if direct is not None:
                self.result.direct_failures = direct.failures
                direct.close()

    # ------------------------------------------------------------------ chain -> dataset
    def _readings(self, chain: SimChain, decoder: FastEvents, blocks: list[int], agents: list[TradingAgent],
                  k: int) -> tuple[int, int]:  # fmt: skip
        supply = demand = 0
        interval = self.spec.interval_start(k)
        for _name, args in decoder.decode_all(chain.logs(blocks, self.energy.address)):
            if args["interval"] != interval:
                continue
            i = self.meter_index[bytes.fromhex(args["meterId"][2:])]
            surplus, burned, grid = args["mintedWh"], args["burnedWh"], args["gridWh"]
            self.cols["minted_wh"][i, k] += surplus
            self.cols["burned_wh"][i, k] += burned
            self.cols["grid_import_wh"][i, k] += grid
            agents[i].observe_reading(interval, surplus, burned + grid)
            supply += surplus
            demand += burned + grid
        return supply, demand

    def _balances(self, chain: SimChain, agents: list[TradingAgent], k: int) -> None:
        energy, money = chain.balances([self.energy.address, self.money.address], [a.address for a in agents])
        for i, a in enumerate(agents):
            a.set_balances(energy[i], money[i])
            self.cols["token_balance_wh"][i, k] = energy[i]

    def _record_trade(self, agents: list[TradingAgent], t: Trade, k: int) -> None:
        b, s = self.index[t.buyer.lower()], self.index[t.seller.lower()]
        self.cols["bought_wh"][b, k] += t.amount_wh
        self.cols["paid_units"][b, k] += t.paid
        self.cols["sold_wh"][s, k] += t.amount_wh
        self.cols["received_units"][s, k] += t.received
        agents[b].traded(bought_wh=t.amount_wh, paid=t.paid)
        agents[s].traded(sold_wh=t.amount_wh, received=t.received)

    def _physics(self, meters: CommunityMeters, agents: list[TradingAgent], s: int, k: int) -> None:
        gen, use = self.physics.generation[:, k], self.physics.consumption[:, k]
        for i, a in enumerate(agents):
            g, c = int(gen[i]), int(use[i])
            flow = a.run_battery(s, g - c)
            self.cols["battery_wh"][i, k] = flow
            self.cols["net_wh"][i, k] = g - c - flow
            meters.add(a.config.serial, g + max(0, -flow), c + max(0, flow))

    # ------------------------------------------------------------------ venues
    def _order(self, k: int, step: int) -> np.ndarray:
        return rng(self.spec.seed, 0x0B00C, k, step).permutation(self.n)  # who sends first: fair and reproducible

    def _trade_order_book(self, chain: SimChain, venue: OrderBookVenue, agents: list[TradingAgent], s: int, k: int,
                          supply: int, demand: int) -> None:  # fmt: skip
        L = self.spec.interval_s
        steps = agents[0].config.strategy.steps
        open_orders: dict[int, int] = {}  # order id -> remaining Wh
        owner: dict[int, int] = {}
        for step in range(steps + 1):
            last = step == steps
            ts = s + L - 10 if last else s + 20 + step * (L - 40) // steps
            self.clock.set(ts)
            raws = [
                venue.cancel(self.signers[owner[o]], o, self.signers[owner[o]].next_nonce(None)) for o in open_orders
            ]
            placed = 0
            if not last:
                view = MarketView(self.spec.tariffs, supply, demand, step, steps)
                if step == 0:
                    venue.refresh_levels()  # once per interval: a stale hint only makes the contract walk
                for i in self._order(k, step):
                    a, signer = agents[i], self.signers[i]
                    intent = a.intent(view, venue.name)
                    for side, amount, price in ((Side.SELL, intent.sell_wh, intent.ask),
                                                (Side.BUY, intent.buy_wh, intent.bid)):  # fmt: skip
                        if amount > 0:
                            raws.append(venue.place(signer, side, price, amount, signer.next_nonce(None)))
                            placed += 1
            if not raws:
                continue
            hashes, blocks = chain.execute(raws, ts)
            events = self.book_events.decode_all(chain.logs(blocks, venue.client.address))
            cancelled = {a["id"] for name, a in events if name == "OrderCancelled"}
            placed_ids = [a["id"] for name, a in events if name == "OrderPlaced"]
            if len(placed_ids) != placed or not cancelled.issuperset(open_orders):
                self._require_success(self.client, chain, hashes, f"order book, interval {k} step {step}")
            open_orders = {}
            for name, a in events:
                if name == "OrderPlaced":
                    open_orders[a["id"]] = a["amount"]
                    owner[a["id"]] = self.index[a["owner"]]
                elif name == "OrderFilled":
                    for oid in (a["makerId"], a["takerId"]):
                        if oid in open_orders:
                            open_orders[oid] -= a["amount"]
                    buyer, seller = (
                        (a["taker"], a["maker"]) if a["takerSide"] == int(Side.BUY) else (a["maker"], a["taker"])
                    )
                    self._record_trade(agents, Trade(buyer, seller, a["price"], a["amount"], a["cost"], a["cost"]), k)
                    self.result.trades.append([self.iso(s), a["price"], a["amount"]])
                    self.result.rounded_fills += 1
                else:  # OrderCancelled (owner, self-trade, cap) or OrderExpired
                    open_orders.pop(a["id"], None)
            open_orders = {o: r for o, r in open_orders.items() if r > 0}

    def _submit_auction(self, chain: SimChain, venue: AuctionVenue, agents: list[TradingAgent], s: int, k: int,
                        supply: int, demand: int) -> list[int]:  # fmt: skip
        view = MarketView(self.spec.tariffs, supply, demand)
        venue.open_round(s)
        raws = []
        for i in self._order(k, 0):
            a, signer = agents[i], self.signers[i]
            intent = a.intent(view, venue.name, venue.min_amount_wh)
            for side, amount, price in ((AuctionSide.ASK, intent.sell_wh, intent.ask),
                                        (AuctionSide.BID, intent.buy_wh, intent.bid)):  # fmt: skip
                if amount > 0:
                    raws.append(venue.submit(signer, s, side, price, amount, signer.next_nonce(None)))
        if not raws:
            return []
        hashes, blocks = chain.execute(raws, s + 20)
        events = self.auction_events.decode_all(chain.logs(blocks, venue.contract.address))
        booked = [a["orderId"] for name, a in events if name == "OrderBooked"]
        if len(booked) != len(raws):
            self._require_success(self.client, chain, hashes, f"auction submissions, interval {k}")
        return booked

    def _settle_auction(self, chain: SimChain, venue: AuctionVenue, round_id: int, order_ids: list[int],
                        k: int) -> None:  # fmt: skip
        count = 2 + -(-len(order_ids) // CLAIM_BATCH)
        nonces = self.keeper.reserve(count, self.client.pending_nonce)
        # Clearing walks the book twice (volume pass, then the band price pass): each pass at most one step per
        # order plus the two that find the book no longer crosses.
        raws = venue.settle(self.keeper, round_id, order_ids, nonces.start, clear_steps=2 * (len(order_ids) + 2))
        self.clock.set(round_id + self.spec.interval_s)
        hashes, blocks = chain.execute(raws, round_id + self.spec.interval_s)
        events = self.auction_events.decode_all(chain.logs(blocks, venue.contract.address))
        cleared = [a for name, a in events if name == "RoundCleared"]
        claims = [a for name, a in events if name == "OrderClaimed"]
        if not cleared or len(claims) != len(order_ids):
            self._require_success(self.client, chain, hashes, f"auction settlement of round {round_id}")
        price = cleared[0]["clearingPrice"]
        agents = self.agents
        for a in claims:
            i = self.index[a["owner"]]
            fill, money = a["fillWh"], a["money"]
            if fill == 0:
                continue
            self.result.rounded_fills += 1
            if a["side"] == int(AuctionSide.BID):
                self.cols["bought_wh"][i, k] += fill
                self.cols["paid_units"][i, k] += money
                agents[i].traded(bought_wh=fill, paid=money)
                self.result.trades.append([self.iso(round_id), price, fill])
            else:
                self.cols["sold_wh"][i, k] += fill
                self.cols["received_units"][i, k] += money
                agents[i].traded(sold_wh=fill, received=money)


def checksum(address: str) -> str:
    return Web3.to_checksum_address(address)
