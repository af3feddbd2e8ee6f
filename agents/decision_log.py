"""The automatic-trading agents' decision log: JSON Lines, append-only (SPEC-mandate.md, "Decision log").

Path: env AGENT_LOG (default var/agents/decisions.jsonl under the clone). One object per line; every record has
"kind", "ts" (unix s), "owner" (checksummed) and "interval" (the interval's start, unix s):

- decision: "meter", "forecast" {"generation_wh", "load_wh"}, "balances" {"energy_wh", "money"}, "bounds" (the
  mandate's terms as a dict), "intent" {"sell_wh", "ask", "buy_wh", "bid"}, "explanation" (plain sentences: why it
  sells or buys, at what price from what local supply and demand, which bound limited it, what the forecast said)
  and "actions" (one per order: venue, side, price, amount_wh, status placed|filled|partly-filled|refused|skipped,
  filled_wh, cost, order_id, tx_hash, reason — the decoded revert reason of a refused order);
- actual: "generation_wh", "load_wh" — the meter's reading once recorded (surplus and deficit as metered);
- state: "status" started|stopped|revoked|error, "message".

The web app (webapp/services/autotrade.py) reads the same file. `ResumeState` is the small state file next to it
(var/agents/state.json): the last interval traded per owner, so a restarted service does not trade an interval
twice.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOG = ROOT / "var" / "agents" / "decisions.jsonl"
KINDS = ("decision", "actual", "state")
STATUSES = ("placed", "filled", "partly-filled", "refused", "skipped")
STATES = ("started", "stopped", "revoked", "error")
SIDES = ("buy", "sell")
UNITS_PER_SEN = 10_000  # settlement units (6 decimals of MYR) per sen


def log_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("AGENT_LOG") or DEFAULT_LOG)


def sen(units_per_kwh: int) -> str:
    return f"{units_per_kwh / UNITS_PER_SEN:.2f} sen/kWh"


def kwh(wh: int) -> str:
    return f"{wh / 1000:.3f} kWh"


def myr(units: int) -> str:
    return f"RM {units / 1_000_000:.2f}"


@dataclass
class Action:
    """One order the agent sent (or chose not to send) in an interval."""

    venue: str
    side: str  # "buy" | "sell"
    price: int
    amount_wh: int
    status: str  # placed | filled | partly-filled | refused | skipped
    filled_wh: int = 0
    cost: int = 0
    order_id: int | None = None
    tx_hash: str | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.side not in SIDES or self.status not in STATUSES:
            raise ValueError(f"bad action side/status: {self.side!r} {self.status!r}")


@dataclass(frozen=True)
class Situation:
    """What the agent knew when it decided (all that the explanation is made of)."""

    venue: str | None  # None: no allowed venue is deployed
    supply_wh: int  # the community's metered surplus of the latest interval
    demand_wh: int  # ...and its deficit
    quote_ask: int  # the pricing strategy's ask and bid before the bounds
    quote_bid: int
    retail: int
    feed_in: int
    forecast_net_wh: int  # the forecast of the interval (positive: surplus)
    energy_wh: int
    money: int
    expected_deficit_wh: int  # after the battery
    spent_today: int  # counted on chain against the daily cap
    min_sell_price: int
    max_buy_price: int
    reserve_wh: int
    daily_spend_cap: int
    min_order_wh: int


def explain(s: Situation, sell_wh: int, ask: int, buy_wh: int, bid: int) -> str:
    """Plain English: why the agent sells or buys (or not), at what price, which bound limited it."""
    out: list[str] = []
    if s.supply_wh or s.demand_wh:
        out.append(f"Last interval the community metered {kwh(s.supply_wh)} of surplus against {kwh(s.demand_wh)} "
                   f"of demand, so supply-demand pricing quotes an ask of {sen(s.quote_ask)} and a bid of "
                   f"{sen(s.quote_bid)} (grid: feed-in {sen(s.feed_in)}, retail {sen(s.retail)}).")  # fmt: skip
    else:
        out.append(f"No community reading is new since the last look, so pricing quotes an ask of "
                   f"{sen(s.quote_ask)} and a bid of {sen(s.quote_bid)} (grid: feed-in {sen(s.feed_in)}, "
                   f"retail {sen(s.retail)}).")  # fmt: skip
    net = s.forecast_net_wh
    trend = f"a net surplus of {kwh(net)}" if net > 0 else f"a net need of {kwh(-net)}" if net < 0 else "no net flow"
    out.append(f"The forecast for this interval is {trend}; the household holds {kwh(s.energy_wh)} and "
               f"{myr(s.money)}.")  # fmt: skip
    if s.venue is None:
        out.append("Not trading: none of the venues the mandate allows is available here.")
        return " ".join(out)
    venue = s.venue.replace("-", " ")
    free = s.energy_wh - s.expected_deficit_wh
    if sell_wh > 0:
        kept = [f"its reserve of {kwh(s.reserve_wh)}"] if s.reserve_wh else []
        kept += [f"its own expected need of {kwh(s.expected_deficit_wh)}"] if s.expected_deficit_wh else []
        beyond = f" beyond {' and '.join(kept)}" if kept else ""
        out.append(f"Selling {kwh(sell_wh)} at {sen(ask)} or more on the {venue}: what it holds{beyond}.")
        if ask == s.min_sell_price and s.min_sell_price > s.quote_ask:
            out.append(f"The minimum sell price bound raised the ask from {sen(s.quote_ask)} to {sen(ask)}.")
        elif ask == s.feed_in and s.feed_in > s.quote_ask:
            out.append(f"The ask is the grid's feed-in price {sen(ask)}: less would earn less than the grid pays.")
    elif s.energy_wh > 0:
        if free <= 0:
            out.append("Not selling: it expects to need all the energy it holds itself.")
        elif free - s.reserve_wh <= 0:
            out.append(f"Not selling: the reserve bound keeps {kwh(s.reserve_wh)} unsold and it holds no more than "
                       f"that beyond its own need.")  # fmt: skip
        else:
            out.append(f"Not selling: the {kwh(free - s.reserve_wh)} beyond the reserve is below the {venue}'s "
                       f"minimum order of {s.min_order_wh} Wh.")  # fmt: skip
    need = max(0, s.expected_deficit_wh - s.energy_wh)
    if buy_wh > 0:
        out.append(f"Buying {kwh(buy_wh)} at up to {sen(bid)} on the {venue}: the part of its expected need the "
                   f"energy it holds does not cover.")  # fmt: skip
        if buy_wh < need:
            room = s.daily_spend_cap - s.spent_today
            if room * 1000 // max(bid, 1) <= buy_wh:
                out.append(f"The daily spending cap limited it: {myr(s.spent_today)} of {myr(s.daily_spend_cap)} "
                           f"spent today; the grid covers the other {kwh(need - buy_wh)}.")  # fmt: skip
            else:
                out.append(f"Its money limited it; the grid covers the other {kwh(need - buy_wh)}.")
    elif need > 0:
        if s.quote_bid > s.max_buy_price:
            out.append(f"Not buying: the market bid of {sen(s.quote_bid)} is above the maximum buy price bound of "
                       f"{sen(s.max_buy_price)}; the grid covers the {kwh(need)} it needs.")  # fmt: skip
        elif (
            s.daily_spend_cap - s.spent_today <= 0
            or (s.daily_spend_cap - s.spent_today) * 1000 // max(s.quote_bid, 1) < s.min_order_wh
        ):
            out.append(f"Not buying: the daily spending cap of {myr(s.daily_spend_cap)} is used up "
                       f"({myr(s.spent_today)} spent today); the grid covers the {kwh(need)} it needs.")  # fmt: skip
        elif s.money * 1000 // max(s.quote_bid, 1) < s.min_order_wh:
            out.append(f"Not buying: not enough money for the {venue}'s minimum order; the grid covers {kwh(need)}.")
        else:
            out.append(f"Not buying: the {kwh(need)} it needs is below the {venue}'s minimum order of "
                       f"{s.min_order_wh} Wh; the grid covers it.")  # fmt: skip
    elif sell_wh == 0:
        out.append("Nothing to buy: the energy it holds covers its expected need.")
    return " ".join(out)


class DecisionLog:
    """Appends records to the JSON Lines file (one write per record, flushed: a restart keeps every line)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path, self.clock = Path(path), clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _write(self, kind: str, owner: str, interval: int, **fields: Any) -> dict[str, Any]:
        record = {"kind": kind, "ts": int(self.clock()), "owner": Web3.to_checksum_address(owner),
                  "interval": int(interval), **fields}  # fmt: skip
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        return record

    def decision(self, owner: str, interval: int, *, meter: str, forecast: dict[str, int], balances: dict[str, int],
                 bounds: dict[str, Any], intent: dict[str, int], explanation: str,
                 actions: list[Action]) -> dict[str, Any]:  # fmt: skip
        return self._write("decision", owner, interval, meter=meter, forecast=forecast, balances=balances,
                           bounds=bounds, intent=intent, explanation=explanation,
                           actions=[asdict(a) for a in actions])  # fmt: skip

    def actual(self, owner: str, interval: int, generation_wh: int, load_wh: int) -> dict[str, Any]:
        return self._write("actual", owner, interval, generation_wh=int(generation_wh), load_wh=int(load_wh))

    def state(self, owner: str, interval: int, status: str, message: str) -> dict[str, Any]:
        if status not in STATES:
            raise ValueError(f"unknown state {status!r}")
        return self._write("state", owner, interval, status=status, message=message)


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a log (a torn last line — a crash mid-write — is skipped)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def validate(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with one record against the spec ([] when valid)."""
    errors: list[str] = []

    def need(obj: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
        errors.extend(f"{where}: missing {k}" for k in keys if k not in obj)

    need(record, ("kind", "ts", "owner", "interval"), "record")
    kind = record.get("kind")
    if kind not in KINDS:
        return [*errors, f"unknown kind {kind!r}"]
    if "owner" in record and record["owner"] != Web3.to_checksum_address(str(record["owner"])):
        errors.append("owner is not checksummed")
    if kind == "decision":
        need(record, ("meter", "forecast", "balances", "bounds", "intent", "explanation", "actions"), "decision")
        need(record.get("forecast", {}), ("generation_wh", "load_wh"), "forecast")
        need(record.get("balances", {}), ("energy_wh", "money"), "balances")
        need(record.get("intent", {}), ("sell_wh", "ask", "buy_wh", "bid"), "intent")
        if not str(record.get("explanation", "")).strip():
            errors.append("decision: empty explanation")
        for a in record.get("actions", []):
            need(a, ("venue", "side", "price", "amount_wh", "status", "filled_wh", "cost", "order_id", "tx_hash",
                     "reason"), "action")  # fmt: skip
            if a.get("status") not in STATUSES or a.get("side") not in SIDES:
                errors.append(f"action: bad status/side {a.get('status')!r}/{a.get('side')!r}")
    elif kind == "actual":
        need(record, ("generation_wh", "load_wh"), "actual")
    else:
        need(record, ("status", "message"), "state")
        if record.get("status") not in STATES:
            errors.append(f"state: unknown status {record.get('status')!r}")
    return errors


@dataclass
class ResumeState:
    """Per owner: the last interval traded (before its orders were sent: an interval is traded at most once), the
    last reading logged, and the book orders still open. Saved atomically after every change."""

    path: Path
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, log: Path | None = None) -> ResumeState:
        state = cls(Path(path))
        try:
            state.owners = json.loads(state.path.read_text()).get("owners", {})
        except (OSError, ValueError):
            if log is not None:  # no state file (deleted, first run after an upgrade): rebuilt from the log
                for r in read(log):
                    entry = state.owners.setdefault(r.get("owner", "").lower(), {})
                    key = {"decision": "traded", "actual": "actual"}.get(r.get("kind", ""))
                    if key:
                        entry[key] = max(int(entry.get(key, 0)), int(r.get("interval", 0)))
        return state

    def _entry(self, owner: str) -> dict[str, Any]:
        return self.owners.setdefault(owner.lower(), {})

    def traded(self, owner: str) -> int:
        return int(self._entry(owner).get("traded", 0))

    def actual(self, owner: str) -> int:
        return int(self._entry(owner).get("actual", 0))

    def open_orders(self, owner: str) -> list[int]:
        return [int(i) for i in self._entry(owner).get("open_orders", [])]

    def set(self, owner: str, **values: Any) -> None:
        self._entry(owner).update(values)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"owners": self.owners}, indent=1, sort_keys=True))
        tmp.replace(self.path)
