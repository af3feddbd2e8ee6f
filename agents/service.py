"""The automatic-trading service: one agent key trades for every household that granted it a mandate.

`python -m agents.service`, configured from the environment (`ServiceConfig.from_env`):
  RPC_URL, CHAIN_ID, DEPLOYMENTS_DIR   the chain and its deployment record (energy_chain.ChainConfig)
  AGENT_KEYSTORE, AGENT_PASSWORD_FILE  the agent's key (an encrypted keystore; the demo writes one for the dev
                                       "agent" role with `python -m energy_chain.devchain keystore --role agent`)
  AGENT_LOG                            the decision log (default var/agents/decisions.jsonl; agents.decision_log)
  AGENT_STATE, AGENT_HEARTBEAT         resume state and liveness file (default: next to the log)
  AGENT_INTERVAL_S                     trading interval; default the period of the meters (MeterRegistry), else the
                                       auction's round interval, else 900 s
  AGENT_VENUES                         venue preference among those a mandate allows (default order-book,auction)
  AGENT_STRATEGY, AGENT_COMMUNITY      pricing strategy (sdr); a community file (serials, clear-sky forecasts)
  AGENT_POLL_S, AGENT_LOOKBACK_BLOCKS  how often the clock is looked at; how far back readings are read at start
  AGENT_DHT_PORT, AGENT_DHT_BOOTSTRAP  the direct venue's DHT node (agents.service_direct; off when both unset)

Every interval it re-reads the owners with a live mandate naming its address (`MandateClient.owners_of`, then
`terms_of`), so a revoke or a change of bounds applies from the next interval; before each placement it reads the
terms once more and skips the order when the mandate is gone or changed. For each owner: its active meters from
the MeterRegistry, a TradingAgent whose bounds are the mandate's terms, a venue among the allowed ones, and orders
through the venues' "for" entry points (OrderBook.placeOrderFor / cancelOrderFor, DoubleAuction.submitOrderFor):
tokens move from and to the owner, and the chain refuses anything outside the terms whatever this process does.
Each decision, each metered outcome and each start, stop and revoke is a line of the decision log.

With a DHT node (`direct`), an owner whose mandate allows the direct venue trades there first: its surplus is one
offer the agent signs for it and publishes; its deficit is bought from the community's offers with fill_for, chosen
on the mandate's weights, after every owner's offer of the interval is out (`interval_done`); what direct offers do
not cover goes to the market venue as before.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.agent import AgentConfig, TradingAgent
from agents.bounds import UserBounds
from agents.decision_log import Action, DecisionLog, ResumeState, Situation, explain, kwh, log_path, myr, sen
from agents.forecast import ClearSkyForecaster, Forecaster, PersistenceForecaster
from agents.live import MARKET_VENUES, IntervalLoop, LiveAgent
from agents.pricing import MarketView, make_strategy
from agents.selection.model import DEFAULT_WEIGHTS
from agents.service_direct import DirectVenue
from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.clearing import Side as AuctionSide
from energy_chain.client import TxFailed
from energy_chain.events import EventDecoder
from energy_chain.mandate import MandateClient, MandateTerms
from energy_chain.meters import meter_id
from energy_chain.orders import PlaceResult, Side

log = logging.getLogger("agents.service")

# The mandate's six seller-selection weights, in order (availability stays the selection's hard-ish default).
WEIGHT_TERMS = ("surplus", "efficiency", "duration", "quality", "participation", "cost")
DEFAULT_INTERVAL_S = 900
HEARTBEAT_EVERY_S = 10.0


def bounds_of(terms: MandateTerms) -> UserBounds:
    """The agent's bounds are the mandate's terms (the chain enforces the same numbers)."""
    venues = tuple(v for v in terms.venue_names())
    return UserBounds(min_sell_price=terms.min_sell_price, max_buy_price=terms.max_buy_price,
                      reserve_wh=terms.reserve_wh, daily_spend_cap=terms.daily_spend_cap, venues=venues)  # fmt: skip


def weights_of(terms: MandateTerms) -> dict[str, float]:
    """The direct venue's seller-selection weights (agents.selection) from the mandate's six preferences."""
    weights = {t: float(w) for t, w in zip(WEIGHT_TERMS, terms.weights, strict=True)}
    return {"availability": DEFAULT_WEIGHTS["availability"], **weights}


def terms_dict(terms: MandateTerms) -> dict[str, Any]:
    return terms.as_dict()


class MeterIndex:
    """Owner → active meters, from the MeterRegistry's events (it keeps no on-chain list) and its current state."""

    def __init__(self, client: ChainClient, serials: Sequence[str] = ()) -> None:
        self.client = client
        self.registry = client.contract("MeterRegistry")
        self.events = EventDecoder(self.registry.abi, self.registry.address)
        self.known: set[bytes] = set()
        self.serial_of = {meter_id(s): s for s in serials}
        self._from = 0

    def refresh(self) -> None:
        head = int(self.client.w3.eth.block_number)
        if head < self._from:
            return
        logs = self.client.w3.eth.get_logs(
            {"fromBlock": self._from, "toBlock": head, "address": self.registry.address}  # type: ignore[typeddict-item]
        )
        self._from = head + 1
        for raw in logs:
            e = self.events.decode_log(dict(raw))
            if e is not None and "meterId" in e.args:
                mid = e.args["meterId"]
                self.known.add(bytes(mid) if not isinstance(mid, str) else bytes.fromhex(mid[2:]))

    def of(self, owner: str) -> list[bytes]:
        self.refresh()
        out = []
        for mid in sorted(self.known):
            m_owner, active, _ = self.registry.functions.meter(mid).call()
            if active and str(m_owner).lower() == owner.lower():
                out.append(mid)
        return out

    def name(self, mid: bytes) -> str:
        return self.serial_of.get(mid, "0x" + mid.hex())

    def period(self, mid: bytes) -> int:
        return int(self.registry.functions.periodOf(mid).call()[0])


@dataclass
class MandatedAgent(LiveAgent):
    """A household traded for under its mandate: `signer` is the agent's key, `owner` the household."""

    terms: MandateTerms | None = None
    weights: dict[str, float] = field(default_factory=dict)


AgentFactory = Callable[[str, str, UserBounds], TradingAgent]


class MandatedRunner(IntervalLoop):
    """The interval loop for every owner with a live mandate naming `signer` (the agent key)."""

    def __init__(self, client: ChainClient, signer: Signer, interval_s: int, decisions: DecisionLog,
                 state: ResumeState, clock: Callable[[], float] = time.time, lead_s: float = 30.0,
                 venues: Sequence[str] = MARKET_VENUES, strategy: str = "sdr",
                 forecasters: Mapping[str, Callable[[], Forecaster]] | None = None,
                 serials: Sequence[str] = (), lookback_blocks: int = 0,
                 direct: DirectVenue | None = None) -> None:  # fmt: skip
        super().__init__(client, interval_s, clock, lead_s, venues)
        self.direct = direct  # the direct venue (a DHT node), for owners whose mandate allows it
        self._pending: list[tuple[MandatedAgent, int, dict[str, Any], list[Action], int, int, str | None]] = []
        self.signer, self.decisions, self.state = signer, decisions, state
        self.preference = [v for v in venues if v in self.min_wh]
        self.mandates = MandateClient(client)
        self.meters = MeterIndex(client, serials)
        self.strategy, self.forecasters = strategy, dict(forecasters or {})
        self.by_owner: dict[str, MandatedAgent] = {}
        self._from_block = max(1, self._from_block - lookback_blocks)

    # ------------------------------------------------------------------ whom to trade for
    def _agent(self, owner: str, meters: list[bytes], bounds: UserBounds) -> MandatedAgent:
        serial = self.meters.name(meters[0])
        forecaster = self.forecasters.get(serial, PersistenceForecaster)()
        config = AgentConfig(serial, bounds, make_strategy(self.strategy, steps=1), forecaster)
        agent = TradingAgent(config, owner, self.clock)
        la = MandatedAgent(agent, self.signer, serial, owner=owner, meter_ids=tuple(meters))
        la.open_orders = self.state.open_orders(owner)
        return la

    def live_terms(self, owner: str) -> MandateTerms | None:
        terms = self.mandates.terms_of(owner)
        if terms is None or terms.agent.lower() != self.signer.address.lower():
            return None
        return terms

    def accounts(self) -> Sequence[LiveAgent]:
        interval = int(self.clock() // self.interval_s * self.interval_s)
        live: list[MandatedAgent] = []
        for owner in self.mandates.owners_of(self.signer.address):
            terms = self.live_terms(owner)
            if terms is None:
                continue
            key = owner.lower()
            la = self.by_owner.get(key)
            if la is None or la.terms is None:
                meters = self.meters.of(owner)
                if not meters:
                    if la is None:
                        self.decisions.state(owner, interval, "error", "No active meter is registered to this "
                                             "household, so its agent cannot trade for it.")  # fmt: skip
                        self.by_owner[key] = la = MandatedAgent(_idle(owner), self.signer, "", owner=owner,
                                                                meter_ids=(b"\0" * 32,))  # fmt: skip
                    continue
                la = self._agent(owner, meters, bounds_of(terms))
                self.by_owner[key] = la
                self.decisions.state(owner, interval, "started", f"Automatic trading on for meter {la.serial}, "
                                     f"within the bounds of the mandate: {_bounds_text(terms)}.")  # fmt: skip
            elif la.terms != terms:
                self.decisions.state(owner, interval, "started", f"New bounds: {_bounds_text(terms)}.")
            la.terms, la.weights = terms, weights_of(terms)
            la.agent.config.bounds = bounds_of(terms)
            live.append(la)
        names = {la.owner.lower() for la in live}
        for key, la in self.by_owner.items():
            if key not in names and la.terms is not None:
                la.terms = None
                if self.direct is not None:
                    self.direct.withdraw(la.owner)
                self.decisions.state(la.owner, interval, "revoked", "The mandate was revoked or expired: the agent "
                                     "no longer trades for this household.")  # fmt: skip
        return live

    def known(self) -> Sequence[LiveAgent]:
        return [la for la in self.by_owner.values() if la.serial]

    def venue_of(self, la: LiveAgent) -> str | None:
        terms = getattr(la, "terms", None)
        allowed = terms.venue_names() if terms is not None else ()
        return next((v for v in self.preference if v in allowed), None)

    # ------------------------------------------------------------------ how orders are sent
    def place(self, la: LiveAgent, side: Side, price: int, amount: int) -> PlaceResult:
        assert self.book is not None
        return self.book.place_for(self.signer, la.owner, side, price, amount)

    def submit(self, la: LiveAgent, side: AuctionSide, price: int, amount: int) -> int:
        assert self.auction is not None
        return self.auction.submit_for(self.signer, la.owner, side, price, amount)

    def cancel(self, la: LiveAgent, order_id: int) -> None:
        assert self.book is not None
        self.book.cancel_for(self.signer, la.owner, order_id)

    def _cancel_open(self) -> None:
        super()._cancel_open()
        for la in self.known():
            if self.state.open_orders(la.owner):
                self.state.set(la.owner, open_orders=[])

    def on_reading(self, la: LiveAgent, interval: int, surplus_wh: int, deficit_wh: int) -> None:
        if interval > self.state.actual(la.owner):
            self.decisions.actual(la.owner, interval, generation_wh=surplus_wh, load_wh=deficit_wh)
            self.state.set(la.owner, actual=interval)

    # ------------------------------------------------------------------ one owner's interval
    def trade(self, la: LiveAgent, start: int, view: MarketView) -> None:
        assert isinstance(la, MandatedAgent) and la.terms is not None
        if self.state.traded(la.owner) >= start:
            return  # traded before a restart: never twice
        venue = self.venue_of(la)
        direct = self.direct is not None and "direct" in la.terms.venue_names()
        self.prepare(la, start, view)
        agent = la.agent
        agent.spent_today = self.mandates.spent_today(la.owner)  # the chain's count is the one the cap uses
        min_wh = self.min_wh.get(venue) if venue else None
        if direct:
            assert self.direct is not None
            min_wh = self.direct.min_wh
        intent = agent.intent(view, "direct" if direct else venue or "none", min_wh)
        quote = agent.config.strategy.quote(view)
        net = round(agent.forecasts.forecasts.get(start, 0))
        situation = Situation(
            "direct" if direct else venue,
            view.supply_wh,
            view.demand_wh,
            quote.ask,
            quote.bid,
            view.tariffs.retail,
            view.tariffs.feed_in,
            net,
            agent.energy_wh,
            agent.money,
            agent._expected_deficit,
            agent.spent_today,
            la.terms.min_sell_price,
            la.terms.max_buy_price,
            la.terms.reserve_wh,
            la.terms.daily_spend_cap,
            max(min_wh or 0, agent.config.min_order_wh),
        )
        explanation = explain(situation, intent.sell_wh, intent.ask, intent.buy_wh, intent.bid)
        self.state.set(la.owner, traded=start)  # before sending: an interval is traded at most once
        actions: list[Action] = []
        record = dict(
            meter=la.serial,
            forecast={"generation_wh": max(net, 0), "load_wh": max(-net, 0)},
            balances={"energy_wh": agent.energy_wh, "money": agent.money}, bounds=terms_dict(la.terms),
            intent={"sell_wh": intent.sell_wh, "ask": intent.ask, "buy_wh": intent.buy_wh, "bid": intent.bid},
            explanation=explanation,
        )  # fmt: skip
        for is_sell, amount, price in ((True, intent.sell_wh, intent.ask), (False, intent.buy_wh, intent.bid)):
            where = "direct" if direct else venue
            if amount <= 0 or where is None:
                continue
            side = "sell" if is_sell else "buy"
            if (skipped := self._gone(la, where, side, price, amount)) is not None:
                actions.append(skipped)
            elif direct and is_sell:
                assert self.direct is not None
                actions.append(self.direct.sell(la.owner, la.meter_ids[0], amount, price))
            elif direct:  # after every owner's offer of this interval is out (interval_done)
                self._pending.append((la, start, record, actions, amount, price, venue))
                return
            else:
                actions.append(self._action(venue, side, price, amount, self.order(la, where, is_sell, price, amount)))
        self._log_decision(la, start, record, actions)

    def _gone(self, la: MandatedAgent, venue: str, side: str, price: int, amount: int) -> Action | None:
        """A skipped Action when the mandate was revoked or changed since the decision (checked before each order)."""
        now_terms = self.live_terms(la.owner)
        if now_terms == la.terms:
            return None
        why = "the mandate was revoked" if now_terms is None else "the mandate's bounds changed"
        return Action(venue, side, price, amount, "skipped", reason=f"Not sent: {why} meanwhile.")

    def _log_decision(self, la: MandatedAgent, start: int, record: dict[str, Any], actions: list[Action]) -> None:
        self.state.set(la.owner, open_orders=list(la.open_orders))
        self.decisions.decision(la.owner, start, actions=actions, **record)

    def interval_done(self, start: int) -> None:
        """The direct purchases of the interval (every seller's offer is published by now), then their log lines;
        what direct offers did not cover goes to the owner's market venue."""
        pending, self._pending = self._pending, []
        for la, at, record, actions, amount, price, venue in pending:
            try:
                self._buy_direct(la, actions, amount, price, venue)
            except Exception as exc:  # one household's failure must not stop the others' agents
                log.warning("%s: direct purchase failed (%s)", la.serial, exc)
            self._log_decision(la, at, record, actions)

    def _buy_direct(self, la: MandatedAgent, actions: list[Action], amount: int, price: int, venue: str | None) -> None:
        assert self.direct is not None
        if (skipped := self._gone(la, "direct", "buy", price, amount)) is not None:
            actions.append(skipped)
            return
        done, purchase = self.direct.buy(la.owner, la.meter_ids[0], amount, price, la.weights)
        actions.extend(done)
        if purchase is None:
            return
        la.agent.traded(bought_wh=purchase.bought_wh, paid=purchase.paid_units)
        by_owner = {a.owner.lower(): a for a in self.known()}
        for t in purchase.trades:
            if (s := by_owner.get(t.seller.lower())) is not None:
                s.agent.traded(sold_wh=t.amount_wh, received=t.cost)
        left = amount - purchase.bought_wh
        if venue is not None and left >= self.min_wh.get(venue, 0) and left > 0:
            if (skipped := self._gone(la, venue, "buy", price, left)) is not None:
                actions.append(skipped)
                return
            actions.append(self._action(venue, "buy", price, left, self.order(la, venue, False, price, left)))

    @staticmethod
    def _action(venue: str, side: str, price: int, amount: int, result: PlaceResult | int | Exception) -> Action:
        if isinstance(result, Exception):
            reason = result.error_name if isinstance(result, TxFailed) and result.error_name else ""
            detail = str(result).splitlines()[0] if str(result) else type(result).__name__
            tx = result.tx_hash if isinstance(result, TxFailed) else None
            return Action(venue, side, price, amount, "refused", tx_hash=tx,
                          reason=f"{reason}: {detail}" if reason and reason not in detail else detail)  # fmt: skip
        if isinstance(result, PlaceResult):
            filled = result.filled
            status = "filled" if filled >= amount else "partly-filled" if filled else "placed"
            cost = sum(f.cost for f in result.fills)
            return Action(venue, side, price, amount, status, filled, cost, result.order_id, result.tx_hash)
        return Action(venue, side, price, amount, "placed", order_id=int(result))

    def stop(self, message: str = "The agent service stopped.") -> None:
        interval = int(self.clock() // self.interval_s * self.interval_s)
        for la in self.by_owner.values():
            if la.terms is not None:
                self.decisions.state(la.owner, interval, "stopped", message)
        if self.direct is not None:
            self.direct.stop()


def _idle(owner: str) -> TradingAgent:
    return TradingAgent(AgentConfig("", UserBounds(), make_strategy("sdr"), PersistenceForecaster()), owner)


def _bounds_text(t: MandateTerms) -> str:
    cap = "no daily cap" if t.daily_spend_cap >= 2**127 else f"at most {myr(t.daily_spend_cap)} a day"
    top = "any price" if t.max_buy_price >= 2**127 else sen(t.max_buy_price)
    return (f"sell at {sen(t.min_sell_price)} or more, buy at {top} or less, keep {kwh(t.reserve_wh)}, {cap}, on "
            f"{', '.join(t.venue_names()) or 'no venue'}")  # fmt: skip


# ---------------------------------------------------------------------------------------------------- process
@dataclass(frozen=True)
class ServiceConfig:
    keystore: Path
    password_file: Path
    log_path: Path
    state_path: Path
    heartbeat_path: Path
    interval_s: int = 0  # 0: from the meters' period / the auction schedule
    venues: tuple[str, ...] = MARKET_VENUES
    strategy: str = "sdr"
    community: Path | None = None
    poll_s: float = 1.0
    lookback_blocks: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceConfig:
        env = os.environ if env is None else env
        if not env.get("AGENT_KEYSTORE") or not env.get("AGENT_PASSWORD_FILE"):
            raise SystemExit("agents.service: set AGENT_KEYSTORE and AGENT_PASSWORD_FILE (the agent's encrypted key;"
                             " dev chain: python -m energy_chain.devchain keystore --role agent ...)")  # fmt: skip
        path = log_path(env)
        venues = tuple(v.strip() for v in env.get("AGENT_VENUES", ",".join(MARKET_VENUES)).split(",") if v.strip())
        unknown = set(venues) - set(MARKET_VENUES)
        if unknown:
            raise SystemExit(f"agents.service: AGENT_VENUES names {sorted(unknown)}; choose from {MARKET_VENUES}")
        return cls(
            keystore=Path(env["AGENT_KEYSTORE"]),
            password_file=Path(env["AGENT_PASSWORD_FILE"]),
            log_path=path,
            state_path=Path(env.get("AGENT_STATE") or path.parent / "state.json"),
            heartbeat_path=Path(env.get("AGENT_HEARTBEAT") or path.parent / "heartbeat.json"),
            interval_s=int(env.get("AGENT_INTERVAL_S") or 0),
            venues=venues,
            strategy=env.get("AGENT_STRATEGY", "sdr"),
            community=Path(env["AGENT_COMMUNITY"]) if env.get("AGENT_COMMUNITY") else None,
            poll_s=float(env.get("AGENT_POLL_S") or 1.0),
            lookback_blocks=int(env.get("AGENT_LOOKBACK_BLOCKS") or 600),
        )


def interval_of(client: ChainClient, signer: Signer, serials: Sequence[str] = ()) -> int:
    """The meters' reading period (of the mandated owners' meters), else the auction's round interval, else 900 s."""
    index = MeterIndex(client, serials)
    for owner in MandateClient(client).owners_of(signer.address):
        for mid in index.of(owner):
            period = index.period(mid)
            if period > 1:
                return period
    if "DoubleAuction" in client.deployment.contracts:
        return int(client.contract("DoubleAuction").functions.schedule().call()[0])
    return DEFAULT_INTERVAL_S


def community_forecasters(path: Path, interval_s: int) -> tuple[list[str], dict[str, Callable[[], Forecaster]]]:
    """Serials and clear-sky forecasters of the households in a community file (agents.live's format)."""
    from household_model import HouseholdModel, community_from_dict

    community = community_from_dict(json.loads(path.read_text()), str(path))
    model = HouseholdModel(community, interval_s)
    out: dict[str, Callable[[], Forecaster]] = {}
    for h in community.households:
        out[h.serial] = lambda h=h: ClearSkyForecaster(lambda t: model.clear_sky_pv_wh(h, t), interval_s)
    return [h.serial for h in community.households], out


def write_heartbeat(path: Path, runner: MandatedRunner) -> None:
    """Liveness for the web app's banner: when, which agent, for whom."""
    path.parent.mkdir(parents=True, exist_ok=True)
    owners = [la.owner for la in runner.by_owner.values() if la.terms is not None]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"time": time.time(), "agent": runner.signer.address, "owners": owners,
                               "interval_s": runner.interval_s}))  # fmt: skip
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    cfg = ServiceConfig.from_env()
    client = ChainClient(ChainConfig.from_env())
    signer = Signer.from_keystore_files(cfg.keystore, cfg.password_file)
    serials: list[str] = []
    forecasters: dict[str, Callable[[], Forecaster]] = {}
    interval = cfg.interval_s or interval_of(client, signer)
    if cfg.community is not None:
        serials, forecasters = community_forecasters(cfg.community, interval)
    decisions = DecisionLog(cfg.log_path)
    state = ResumeState.load(cfg.state_path, cfg.log_path)
    runner = MandatedRunner(client, signer, interval, decisions, state, lead_s=min(30.0, interval / 4),
                            venues=cfg.venues, strategy=cfg.strategy, forecasters=forecasters, serials=serials,
                            lookback_blocks=cfg.lookback_blocks)  # fmt: skip
    runner.direct = DirectVenue.from_env(client, signer, runner.meters, interval, os.environ)
    log.info("agent %s trades every %d s for the households that granted it a mandate; log %s", signer.address,
             interval, cfg.log_path)  # fmt: skip
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    next_beat = 0.0
    while not stop.is_set():
        try:
            runner.step()
        except Exception as exc:  # chain unreachable: try again next poll
            log.warning("agents step failed: %s", exc)
        if time.monotonic() >= next_beat:
            write_heartbeat(cfg.heartbeat_path, runner)
            next_beat = time.monotonic() + HEARTBEAT_EVERY_S
        stop.wait(cfg.poll_s)
    runner.stop()
    cfg.heartbeat_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
