"""What makes a DHT record usable: the envelope (storage nodes and buyers) and each offer in it (buyers).

The chain is reached only through injected callables, so a test can hand in a real anvil and the simulator a cache:
`owner_of(meter_id) -> address | None` (MeterRegistry.activeOwnerOf; None when unknown or inactive) and
`balance_of(address) -> Wh` (EnergyToken.balanceOf) and, optionally, `agent_of(seller) -> address | None` (the agent
a TradingMandate with the direct venue names for the seller): a record and its offers may then be signed by that
agent instead of the seller (an agent service publishing for the households it trades for).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address

from agents.discovery.record import Record, RecordError, decode_record, normalise_meter_id
from energy_chain.offers import OfferFormatError, SignedOffer

STAT_KEYS = ("found", "forged", "stale", "oversized", "malformed", "unfunded")
OWNER_CACHE_S = 60.0
SIGNER_CACHE = 20_000


@dataclass
class Verifier:
    """Checks records and offers for one deployment (chain id + OfferSettlement address).

    max_future_s: how far a record's issued_at may lie ahead of `now` (clock skew between meters).
    max_ttl_s: the longest lifetime a record may claim (a record valid for a year would outlive a killed node).
    """

    chain_id: int
    contract: str
    balance_of: Callable[[str], int]
    owner_of: Callable[[str], str | None] | None = None
    agent_of: Callable[[str], str | None] | None = None
    max_future_s: int = 30
    max_ttl_s: int = 3600
    _owners: dict[str, tuple[float, str | None]] = field(default_factory=dict, repr=False)
    _agents: dict[str, tuple[float, str | None]] = field(default_factory=dict, repr=False)
    # Signature checks dominate a gather (EIP-712 encoding in Python, ~2 ms each) and records are fetched again on
    # every gather, mostly unchanged: remember what recovered to whom (bounded, cleared when full).
    _signers: dict[Any, str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.contract = to_checksum_address(self.contract)

    def owner(self, meter_id: str) -> str | None:
        """The meter's registered owner (cached for a minute: ownership changes rarely, lookups are chain calls)."""
        if self.owner_of is None:
            return None
        hit = self._owners.get(meter_id)
        if hit is not None and time.monotonic() - hit[0] < OWNER_CACHE_S:
            return hit[1]
        owner = self.owner_of(meter_id)
        owner = to_checksum_address(owner) if owner else None
        self._owners[meter_id] = (time.monotonic(), owner)
        return owner

    def agent(self, seller: str) -> str | None:
        """The seller's mandated agent for the direct venue (None without one; cached like owners: the contract
        re-checks the mandate on every fill, so a stale entry can only advertise an offer that will not fill)."""
        if self.agent_of is None:
            return None
        hit = self._agents.get(seller)
        if hit is not None and time.monotonic() - hit[0] < OWNER_CACHE_S:
            return hit[1]
        agent = self.agent_of(seller)
        agent = to_checksum_address(agent) if agent else None
        self._agents[seller] = (time.monotonic(), agent)
        return agent

    def _signed_for(self, signer: str | None, seller: str) -> bool:
        return signer is not None and (signer == seller or signer == self.agent(seller))

    def check_record(self, raw: Any, meter_id: str | None, now: int) -> Record:
        """The decoded record if its envelope holds for `meter_id` (None: any) at `now`; RecordError(reason) if not."""
        record = decode_record(raw)
        if meter_id is not None and record.meter != normalise_meter_id(meter_id):
            raise RecordError("forged", f"record of meter {record.meter} stored under {meter_id}")
        if not self._signed_for(self._signer(("record", record.body_key()), record.recover_signer), record.seller):
            raise RecordError("forged", f"record of {record.meter} is not signed by its seller {record.seller}")
        if record.chain_id != self.chain_id:
            raise RecordError("forged", f"record for chain {record.chain_id}, this is chain {self.chain_id}")
        if self.owner_of is not None and self.owner(record.meter) != record.seller:
            raise RecordError("forged", f"{record.seller} does not own meter {record.meter}")
        if record.expires_at - record.issued_at > self.max_ttl_s:
            lifetime = record.expires_at - record.issued_at
            raise RecordError("malformed", f"record lifetime {lifetime}s above {self.max_ttl_s}s")
        if record.issued_at > now + self.max_future_s:
            raise RecordError("malformed", f"record issued at {record.issued_at}, in the future of {now}")
        if record.expires_at <= now:
            raise RecordError("stale", f"record of {record.meter} expired at {record.expires_at} (now {now})")
        return record

    def _signer(self, key: Any, recover: Callable[[], str]) -> str | None:
        if key not in self._signers:
            if len(self._signers) >= SIGNER_CACHE:
                self._signers.clear()
            try:
                self._signers[key] = recover()
            except (RecordError, OfferFormatError):
                self._signers[key] = None
        return self._signers[key]

    def check_offer(self, offer: SignedOffer, record: Record, now: int) -> str | None:
        """None if the offer can be used now, else the stats key of why not (the balance is checked separately)."""
        if offer.offer.seller != record.seller:
            return "forged"
        if offer.chain_id != self.chain_id or offer.contract != self.contract:
            return "forged"
        key = ("offer", offer.offer, offer.signature, offer.chain_id, offer.contract)
        if not self._signed_for(self._signer(key, offer.recover_signer), offer.offer.seller):
            return "forged"
        if offer.offer.valid_until <= now or offer.offer.valid_from > now:
            return "stale"
        return None

    def usable_offers(
        self, record: Record, now: int, stats: Counter[str], balances: dict[str, int]
    ) -> list[SignedOffer]:
        """The record's offers that pass every check; each rejection is counted in `stats`.

        Funding: the seller's energy balance must cover the offers taken so far plus this one (cheapest first), so a
        seller who offers more than it holds keeps only what its balance covers.
        """
        good: list[SignedOffer] = []
        for offer in record.offers:
            reason = self.check_offer(offer, record, now)
            if reason is not None:
                stats[reason] += 1
                continue
            good.append(offer)
        if not good:
            return []
        if record.seller not in balances:
            balances[record.seller] = int(self.balance_of(record.seller))
        left = balances[record.seller]
        funded: list[SignedOffer] = []
        for offer in sorted(good, key=lambda o: (o.offer.price, o.offer_hash)):
            if offer.offer.amount_wh <= left:
                left -= offer.offer.amount_wh
                funded.append(offer)
            else:
                stats["unfunded"] += 1
        stats["found"] += len(funded)
        return funded
