"""Direct meter-to-meter trading (issue #13.4): a seller publishes signed offers of its surplus to the DHT; a buyer
in deficit gathers its community's offers, chooses sellers on the six-term objective and fills them on chain.

Buyer (`DirectBuyer.buy`): deficit → gather (agents.discovery) → read what is left of each offer and each seller's
energy (one batch each) → selection Instance (agents.selection.build: features from this buyer's fill history,
efficiency from the feeder) → solve → precheck every chosen entry with the contract's own `check` → `fillMany` with
skipGone. An offer that is gone or short (at precheck or at fill time) is dropped and the rest of the demand is
re-solved without it, up to `max_rounds` times; whatever is still missing comes from the grid, and with no offers
at all the whole deficit does. Each fill keeps its explanation (`TradeRecord.reasons`: the terms on which the chosen
offer ranked best, from agents.selection.explain) so the dashboard can show why this seller was chosen.

Seller (`DirectSeller`): `publish(surplus_wh, price, now)` signs one offer of the surplus valid for `offer_life_s`
and replaces the meter's DHT record (the discovery node republishes it every ttl/3); `shutdown()` raises the
seller's counter on chain (every offer it ever signed is void at once) and withdraws the record.
Times are chain time (the contract checks validity against block.timestamp).

For an agent trading under TradingMandates (agents.service): `DirectSeller(..., owner=X)` signs X's offers with the
agent's key (`signer`) and publishes X's record from the agent's DHT node; `DirectBuyer(..., buyer=X)` buys for X
with `fill_for` (X receives the energy and pays; a fill the mandate refuses is skipped with the decoded error).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.discovery import DiscoveryNode
from agents.selection import solve
from agents.selection.build import build_instance
from agents.selection.explain import explain
from agents.selection.features import FillRecord
from agents.selection.model import InstanceError, SelectionError
from energy_chain.calls import call_many
from energy_chain.client import TxFailed
from energy_chain.offer_settlement import FillResult, OfferSettlementClient, SkipResult
from energy_chain.offers import SignedOffer
from energy_chain.signer import Signer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TradeRecord:
    """One direct fill and why this offer was chosen (JSON-ready for the dashboard)."""

    at: int  # chain time of the purchase
    buyer: str
    seller: str
    offer_hash: str
    amount_wh: int
    price: int
    cost: int
    tx_hash: str
    round: int  # 1: the first selection; 2+: re-solved after offers were gone
    reasons: list[str]
    summary: str
    scores: dict[str, float]

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Purchase:
    """What one `buy` did: Wh bought directly and from the grid, what was paid, the trades and the offers skipped."""

    demand_wh: int
    bought_wh: int = 0
    paid_units: int = 0
    grid_wh: int = 0
    rounds: int = 0
    offers_seen: int = 0
    trades: list[TradeRecord] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {offer_hash, seller, reason, round}
    fallback: str = ""  # why the grid covered something: "" | "no offers" | "offers exhausted" | "below minimum"


class DirectBuyer:
    """The buying side of one meter.

    community: the active meter ids to query (from MeterRegistry; a callable so it can change between purchases).
    meter_of: seller address → meter id on the feeder (efficiency); missing sellers are placed by hash.
    history: past fill attempts of this buyer (duration, quality, participation); `buy` appends to it.
    """

    def __init__(
        self,
        settlement: OfferSettlementClient,
        discovery: DiscoveryNode,
        signer: Signer,
        meter_id: str,
        community: Callable[[], Sequence[str]],
        meter_of: Mapping[str, str] | Callable[[str], str | None],
        *,
        weights: Mapping[str, float] | None = None,
        solver: str = "milp",
        max_rounds: int = 4,
        history: list[FillRecord] | None = None,
        buyer: str | None = None,
    ) -> None:
        if max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
        self.settlement, self.discovery, self.signer = settlement, discovery, signer
        self.meter_id, self.community, self.meter_of = meter_id, community, meter_of
        self.weights, self.solver, self.max_rounds = weights, solver, max_rounds
        self.history: list[FillRecord] = history if history is not None else []
        self.records: list[TradeRecord] = []  # every trade so far, for the dashboard
        self._min_fill: int | None = None
        # whom the energy is for: the signer itself, or (buyer=X) the owner the signer is the mandated agent of
        self.buyer = buyer if buyer is not None else signer.address

    @property
    def min_fill_wh(self) -> int:
        if self._min_fill is None:
            self._min_fill = self.settlement.min_fill_wh()
        return self._min_fill

    def buy(self, demand_wh: int, now: int, max_price: int | None = None) -> Purchase:
        """Cover `demand_wh` from direct offers as far as possible; the rest is grid energy (never raises for a
        gone offer: it is skipped and the demand re-solved without it). `max_price`: offers above it are ignored."""
        p = Purchase(demand_wh=demand_wh)
        if demand_wh < self.min_fill_wh:
            p.grid_wh, p.fallback = demand_wh, "below minimum" if demand_wh else ""
            return p
        offers = {s.offer_hash: s for s in self.discovery.gather(list(self.community()), now)}
        offers = {h: s for h, s in offers.items() if s.offer.seller != self.buyer}
        if max_price is not None:
            offers = {h: s for h, s in offers.items() if s.offer.price <= max_price}
        p.offers_seen = len(offers)
        if not offers:
            p.grid_wh, p.fallback = demand_wh, "no offers"
            return p
        if self.buyer == self.signer.address:  # for an owner, the owner approved the settlement itself
            self.settlement.prepare_buyer(self.signer)
        left = demand_wh
        while offers and left >= self.min_fill_wh and p.rounds < self.max_rounds:
            p.rounds += 1
            got = self._round(p, offers, left, now)
            if got == 0 and not offers:
                break
            left -= got
        p.grid_wh = max(0, demand_wh - p.bought_wh)
        if p.grid_wh:
            p.fallback = "below minimum" if p.grid_wh < self.min_fill_wh else "offers exhausted"
        return p

    # ------------------------------------------------------------------ one selection round
    def _round(self, p: Purchase, offers: dict[str, SignedOffer], demand: int, now: int) -> int:
        """Solve over `offers`, precheck, fill; drops gone offers from `offers`. Returns the Wh bought."""
        signed = list(offers.values())
        remaining = self.settlement.remaining_many(signed)
        for h in [h for h, wh in remaining.items() if wh == 0]:  # expired, cancelled, voided, filled
            self._skip(p, offers.pop(h), "Gone", now, 0)
        if not offers:
            return 0
        signed = list(offers.values())
        try:
            instance = build_instance(
                demand,
                signed,
                buyer=self.buyer,
                buyer_meter=self.meter_id,
                meter_of=self.meter_of,
                remaining_wh=remaining,
                balance_wh=self._balances({s.offer.seller for s in signed}),
                history=self.history,
                now=now,
                weights=self.weights,
            )
            selection = solve(instance, self.solver)
        except (InstanceError, SelectionError):
            offers.clear()  # nothing usable to choose from: the grid covers the rest
            return 0
        if not selection.chosen:
            offers.clear()
            return 0
        why = explain(instance, selection)
        entries = [(offers[h], self._fillable(wh, remaining[h])) for h, wh in selection.chosen]
        reasons = self.settlement.precheck_many(entries, self.buyer)
        ok = [(s, wh) for (s, wh), r in zip(entries, reasons, strict=True) if r is None]
        for (s, wh), r in zip(entries, reasons, strict=True):
            if r is not None:
                self._skip(p, offers.pop(s.offer_hash), r, now, wh)
        if not ok:
            return 0
        got = 0
        asked = {s.offer_hash: wh for s, wh in ok}
        try:
            results = self._fill(ok)
        except TxFailed as exc:  # not a gone offer (those are skipped on chain): drop this selection, re-solve
            log.warning("direct purchase batch of %s failed: %s", self.signer.address, exc)
            for s, wh in ok:
                self._skip(p, offers.pop(s.offer_hash), exc.error_name or "Failed", now, wh)
            return 0
        for result in results:
            s = offers[result.offer_hash]
            requested = asked[result.offer_hash]
            if isinstance(result, SkipResult):  # gone between precheck and fill: next round re-solves without it
                self._skip(p, offers.pop(result.offer_hash), result.reason, now, requested)
                continue
            got += result.amount_wh
            self._record(p, s, result, why.get(result.offer_hash, {}), now, requested)
            if result.amount_wh >= remaining[result.offer_hash]:
                offers.pop(result.offer_hash)  # sold out
        return got

    def _fill(self, ok: list[tuple[SignedOffer, int]]) -> list[FillResult | SkipResult]:
        """One batch for the signer's own purchases; for an owner one fill_for each (the contract has no batch for
        mandates): an entry the chain refuses (a Mandate* error, or gone meanwhile) is a SkipResult with the error."""
        if self.buyer == self.signer.address:
            return self.settlement.fill_many(ok, self.signer, skip_gone=True)
        out: list[FillResult | SkipResult] = []
        for s, wh in ok:
            try:
                out.append(self.settlement.fill_for(self.signer, self.buyer, s, wh))
            except TxFailed as exc:
                reason = exc.error_name or (str(exc).splitlines()[0] if str(exc) else "Failed")
                out.append(SkipResult(s.offer_hash, s.offer.seller, self.buyer, wh, reason, exc.tx_hash))
        return out

    def _fillable(self, wh: int, remaining: int) -> int:
        """The contract refuses fills below the minimum unless they take the whole remainder: round such a chosen
        amount up to the minimum (a few Wh more than needed) or to the whole remainder."""
        return wh if wh >= self.min_fill_wh else min(self.min_fill_wh, remaining)

    def _balances(self, sellers: set[str]) -> dict[str, int]:
        token = self.settlement.chain.contract("EnergyToken")
        ordered = sorted(sellers)
        results = call_many(self.settlement.chain, [token.functions.balanceOf(s) for s in ordered])
        return {s: int(r.value) if r.ok else 0 for s, r in zip(ordered, results, strict=True)}

    def _record(self, p: Purchase, s: SignedOffer, r: FillResult, why: dict[str, Any], now: int, asked: int) -> None:
        trade = TradeRecord(
            at=now,
            buyer=r.buyer,
            seller=r.seller,
            offer_hash=r.offer_hash,
            amount_wh=r.amount_wh,
            price=r.price,
            cost=r.cost,
            tx_hash=r.tx_hash,
            round=p.rounds,
            reasons=list(why.get("reasons", [])),
            summary=str(why.get("summary", "")),
            scores=dict(why.get("scores", {})),
        )
        p.trades.append(trade)
        self.records.append(trade)
        p.bought_wh += r.amount_wh
        p.paid_units += r.cost
        self.history.append(
            FillRecord(r.seller, min(s.offer.valid_from, now), now, max(asked, r.amount_wh), r.amount_wh)
        )

    def _skip(self, p: Purchase, s: SignedOffer, reason: str, now: int, asked: int) -> None:
        p.skipped.append({"offer_hash": s.offer_hash, "seller": s.offer.seller, "reason": reason, "round": p.rounds})
        if asked > 0:  # a failed attempt counts against the seller's quality
            self.history.append(FillRecord(s.offer.seller, min(s.offer.valid_from, now), now, asked, 0))


class DirectSeller:
    """The selling side of one meter: publish the surplus as a signed offer, replace it, void everything on exit."""

    def __init__(
        self,
        settlement: OfferSettlementClient,
        discovery: DiscoveryNode,
        signer: Signer,
        meter_id: str,
        *,
        offer_life_s: int = 900,
        owner: str | None = None,
    ) -> None:
        if offer_life_s < 1:
            raise ValueError(f"offer_life_s must be >= 1, got {offer_life_s}")
        self.settlement, self.discovery, self.signer, self.meter_id = settlement, discovery, signer, meter_id
        self.offer_life_s = offer_life_s
        # whose energy is offered: the signer's, or (owner=X) X's, signed by the signer as X's mandated agent
        self.owner = owner
        self.current: list[SignedOffer] = []
        self._prepared = False

    def publish(self, surplus_wh: int, price: int, now: int) -> list[SignedOffer]:
        """Offer `surplus_wh` at `price` from `now` for offer_life_s; replaces the meter's record (an empty surplus
        withdraws it). Older offers need no cancel: the contract checks the seller's balance on every fill, so they
        can never sell energy the seller no longer has, and they expire."""
        if not self._prepared and self.owner is None:  # an owner approved the settlement itself
            self.settlement.prepare_seller(self.signer)
            self._prepared = True
        if surplus_wh <= 0 or price <= 0:
            self.current = []
            self.discovery.publish(self.meter_id, [], self.owner)
            return []
        if self.owner is None:
            offer = self.settlement.sign(self.signer, price, surplus_wh, now, now + self.offer_life_s)
        else:
            offer = self.settlement.sign(self.owner, price, surplus_wh, now, now + self.offer_life_s, agent=self.signer)
        self.current = [offer]
        self.discovery.publish(self.meter_id, self.current, self.owner)
        return self.current

    def shutdown(self) -> int:
        """Void every offer this seller signed (incrementCounter) and withdraw its record; returns the new counter.
        For an owner (whose key the agent does not hold) only the record is withdrawn: the offers expire, and a
        revoked mandate voids them at once."""
        if self.owner is None:
            counter = self.settlement.increment_counter(self.signer)
        else:
            counter = self.settlement.counter_of(self.owner)
        self.current = []
        self.discovery.withdraw(self.meter_id, self.owner)
        return counter
