"""The direct venue for the mandated agent service (agents.service): one DHT node per service process, keyed with the
agent's key, publishes each selling owner's surplus as an offer the agent signs for the owner, and buys each owner's
deficit from the community's offers with `fill_for`, chosen on the owner's mandate weights (agents.direct).

Environment (off unless one of the two is set, so a service without them trades on the market venues only):
  AGENT_DHT_PORT       UDP port of the service's DHT node (0: any free port)
  AGENT_DHT_BOOTSTRAP  known peers, host:port,... (the households' meters or another service)
  AGENT_DHT_HOST       where the node listens (default 127.0.0.1)

Tokens move between the owners only: the owners approved OfferSettlement for their energy and settlement units, the
agent signs offers and sends fills and holds nothing. The chain refuses what is outside a mandate (minimum price and
reserve for an agent-signed offer; maximum price and daily cap for fill_for); a refused fill is logged with its error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.decision_log import Action, kwh
from agents.direct import DirectBuyer, DirectSeller, Purchase
from agents.discovery import DiscoveryNode, chain_verifier
from agents.discovery.config import parse_peers
from energy_chain import ChainClient, Signer
from energy_chain.offer_settlement import OfferSettlementClient

log = logging.getLogger("agents.service")

VENUE = "direct"
FALLBACKS = {
    "no offers": "no direct offer in the community at or below the price the agent would pay",
    "offers exhausted": "the direct offers did not cover it",
    "below minimum": "it is below the direct venue's minimum fill",
}


def hex_id(mid: bytes) -> str:
    return "0x" + mid.hex()


@dataclass
class DirectVenue:
    """The agent's DHT node and, per owner, a DirectSeller (owner=X) and a DirectBuyer (buyer=X)."""

    client: ChainClient
    signer: Signer
    node: DiscoveryNode
    meters: Any  # agents.service.MeterIndex (owner -> active meters; every meter seen)
    offer_life_s: int = 900
    settlement: OfferSettlementClient = field(init=False)
    sellers: dict[str, DirectSeller] = field(default_factory=dict)
    buyers: dict[str, DirectBuyer] = field(default_factory=dict)
    _meter_of: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settlement = OfferSettlementClient(self.client)

    @classmethod
    def from_env(cls, client: ChainClient, signer: Signer, meters: Any, offer_life_s: int,
                 env: Mapping[str, str]) -> DirectVenue | None:  # fmt: skip
        """None unless AGENT_DHT_PORT or AGENT_DHT_BOOTSTRAP is set (and OfferSettlement is deployed)."""
        port, peers = env.get("AGENT_DHT_PORT", ""), env.get("AGENT_DHT_BOOTSTRAP", "")
        if not port and not peers:
            return None
        if "OfferSettlement" not in client.deployment.contracts:
            raise SystemExit("agents.service: AGENT_DHT_* is set but this deployment has no OfferSettlement")
        node = DiscoveryNode(env.get("AGENT_DHT_HOST") or "127.0.0.1", int(port or 0), parse_peers(peers),
                             chain_verifier(client), key=signer.account.key)  # fmt: skip
        return cls(client, signer, node.start(), meters, offer_life_s)

    @property
    def min_wh(self) -> int:
        return self.settlement.min_fill_wh()

    def chain_now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def meter_of(self, address: str) -> str | None:
        if address not in self._meter_of:
            mine = self.meters.of(address)
            self._meter_of[address] = hex_id(mine[0]) if mine else None
        return self._meter_of[address]

    def community(self) -> list[str]:
        self.meters.refresh()
        return [hex_id(m) for m in sorted(self.meters.known)]

    # ------------------------------------------------------------------ selling
    def sell(self, owner: str, meter: bytes, amount_wh: int, price: int) -> Action:
        seller = self.sellers.get(owner.lower())
        if seller is None:
            seller = DirectSeller(self.settlement, self.node, self.signer, hex_id(meter),
                                  offer_life_s=self.offer_life_s, owner=owner)  # fmt: skip
            self.sellers[owner.lower()] = seller
        try:
            (offer,) = seller.publish(amount_wh, price, self.chain_now())
        except Exception as exc:  # the DHT or the chain: this owner's offer waits for the next interval
            log.warning("direct offer for %s not published: %s", owner, exc)
            return Action(VENUE, "sell", price, amount_wh, "refused", reason=f"Not published: {exc}")
        return Action(VENUE, "sell", price, amount_wh, "placed", reason=(
            f"Offer {offer.offer_hash[:10]}… signed by the agent for this household and published to the "
            f"community's DHT until chain time {offer.offer.valid_until}; buyers fill it on chain."))  # fmt: skip

    # ------------------------------------------------------------------ buying
    def buy(self, owner: str, meter: bytes, amount_wh: int, max_price: int,
            weights: Mapping[str, float]) -> tuple[list[Action], Purchase | None]:  # fmt: skip
        """Buy up to `amount_wh` for `owner` from direct offers at or below `max_price`; one Action per fill and
        per fill the chain refused, plus a skipped one for what is left (the caller may place it elsewhere)."""
        buyer = self.buyers.get(owner.lower())
        if buyer is None:
            buyer = DirectBuyer(self.settlement, self.node, self.signer, hex_id(meter), self.community,
                                self.meter_of, buyer=owner)  # fmt: skip
            self.buyers[owner.lower()] = buyer
        buyer.weights = dict(weights)
        try:
            p = buyer.buy(amount_wh, self.chain_now(), max_price=max_price)
        except Exception as exc:
            log.warning("direct purchase for %s failed: %s", owner, exc)
            return [Action(VENUE, "buy", max_price, amount_wh, "refused", reason=f"Not bought: {exc}")], None
        actions = []
        for t in p.trades:
            why = t.summary or "; ".join(t.reasons)
            actions.append(Action(VENUE, "buy", t.price, t.amount_wh, "filled", t.amount_wh, t.cost, tx_hash=t.tx_hash,
                                  reason=f"Bought from {t.seller}'s offer (fill_for): {why}".rstrip(": ")))  # fmt: skip
        for s in p.skipped:
            if s["reason"].startswith("Mandate") or s["reason"].startswith("VenueMandate"):
                actions.append(Action(VENUE, "buy", max_price, 0, "refused",
                                      reason=f"{s['reason']}: the chain refused the fill of offer "
                                      f"{s['offer_hash'][:10]}… from {s['seller']}"))  # fmt: skip
        if p.grid_wh:
            why = FALLBACKS.get(p.fallback, p.fallback or "nothing was bought")
            actions.append(Action(VENUE, "buy", max_price, p.grid_wh, "skipped",
                                  reason=f"{kwh(p.grid_wh)} not bought directly: {why}."))  # fmt: skip
        return actions, p

    def withdraw(self, owner: str) -> None:
        seller = self.sellers.pop(owner.lower(), None)
        if seller is not None:
            try:
                seller.shutdown()
            except Exception as exc:
                log.warning("direct record of %s not withdrawn: %s", owner, exc)

    def stop(self) -> None:
        for owner in list(self.sellers):
            self.withdraw(owner)
        self.node.stop()
