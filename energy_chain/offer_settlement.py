"""The OfferSettlement client: sign offers for this deployment, pre-check, fill one or many, cancel, read fills.

Units as everywhere: amounts in Wh, prices in settlement units per kWh, cost = price * amount // 1000.
Transactions are built by ChainClient with an explicit nonce, gasPrice 0, the chain id and an explicit gas limit that
is a bound from the measured worst cases (scripts/gas_cases/offer_settlement.py: a fill on a never-used salt whose
buyer gets its first energy and whose seller gets its first settlement units costs 137k; each further such offer in
fillMany 82k), not an estimate. A revert raises energy_chain.TxFailed whose `error_name` is the contract's custom
error (e.g. "OfferSettlementSellerBalanceShort") and `error.args` its data (offerHash, seller, have, need).
Approvals are handled here: a buyer approves the settlement token on its first fill, a seller the energy token in
`prepare_seller` (call it before publishing offers; discovery drops offers that cannot be filled).
Lanes: the contract keeps an offer's fills in the word of its (seller, salt) and lets a seller reuse the salt of one of
its own offers once that offer has expired; `sign` does so (the new offer's first fill then rewrites a used word,
~17k gas less than a fresh one). It reuses only salts of offers it signed itself whose validUntil is at or before the
new offer's validFrom, so the new offer never meets OfferSettlementSaltInUse.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from energy_chain.approvals import ensure_approvals
from energy_chain.calls import call_many
from energy_chain.client import ChainClient, TxFailed
from energy_chain.events import EventDecoder
from energy_chain.offers import Offer, SignedOffer, sign_offer
from energy_chain.signer import Signer

FILL_GAS = int(os.environ.get("OFFER_FILL_GAS", 200_000))  # worst case measured 137k
FILL_FOR_GAS = int(os.environ.get("OFFER_FILL_FOR_GAS", 300_000))  # fillFor: a fill plus the mandate's authorize
# (and a second authorize when the seller's agent signed the offer)
FILL_MANY_GAS_BASE = int(os.environ.get("OFFER_FILL_MANY_GAS_BASE", 150_000))
FILL_MANY_GAS_PER_ENTRY = int(os.environ.get("OFFER_FILL_MANY_GAS_PER_ENTRY", 110_000))  # worst case 82k
CANCEL_GAS = 100_000  # measured 49k
COUNTER_GAS = 100_000  # measured 45k
KNOWN_OFFERS = 4_096  # offers remembered by hash for filled_wh(hash)
LANES_PER_SELLER = 64  # salts a client remembers per seller for reuse (more concurrent offers get fresh salts)
# IOfferSettlement.Check, in declaration order; codes 1..9 and 16 are "gone or short" (skippable), 10..15 caller errors.
CHECKS = (
    "Ok",
    "NotYetValid",
    "Expired",
    "Cancelled",
    "Voided",
    "Filled",
    "SellerBalanceShort",
    "SellerAllowanceShort",
    "BuyerBalanceShort",
    "BuyerAllowanceShort",
    "ExceedsRemaining",
    "ZeroAmount",
    "BelowMinimum",
    "ZeroCost",
    "SelfFill",
    "BadSignature",
    "SaltInUse",
    "MandateRefused",
)
GONE = frozenset([*CHECKS[1:10], "SaltInUse", "MandateRefused"])


def fill_many_gas(entries: int) -> int:
    """Gas limit of a fillMany of `entries` entries."""
    return FILL_MANY_GAS_BASE + FILL_MANY_GAS_PER_ENTRY * entries


@dataclass(frozen=True)
class FillResult:
    """One OfferFilled event: `amount_wh` moved seller → buyer for `cost` settlement units."""

    offer_hash: str
    seller: str
    buyer: str
    amount_wh: int
    price: int
    cost: int
    tx_hash: str
    gas_used: int


@dataclass(frozen=True)
class SkipResult:
    """An entry fillMany skipped (nothing moved): `reason` is a Check name, e.g. "Expired", "SellerBalanceShort"."""

    offer_hash: str
    seller: str
    buyer: str
    amount_wh: int
    reason: str
    tx_hash: str | None


@dataclass(frozen=True)
class OfferState:
    """What offerStates reports: Wh filled, what can still be filled now, cancelled, and Ok or why not."""

    offer_hash: str
    filled_wh: int
    remaining_wh: int
    cancelled: bool
    status: str


class OfferSettlementClient:
    """OfferSettlement on one chain, through a ChainClient (connection, deployment record, signing, errors)."""

    def __init__(self, client: ChainClient, name: str = "OfferSettlement") -> None:
        self.chain = client
        self.name = name
        self._events: EventDecoder | None = None
        self._approved: set[tuple[str, str]] = set()  # (token name, owner) known to be approved without limit
        self._lanes: dict[str, dict[int, int]] = {}  # seller -> {salt: validUntil of the last offer signed on it}
        self._known: dict[str, SignedOffer] = {}  # offer hash -> offer, for reads by hash (filled_wh)

    # ------------------------------------------------------------------ contracts
    @property
    def contract(self) -> Contract:
        return self.chain.contract(self.name)

    @property
    def address(self) -> str:
        return self.contract.address

    @property
    def events(self) -> EventDecoder:
        if self._events is None:
            self._events = EventDecoder(self.contract.abi, self.contract.address)
        return self._events

    # ------------------------------------------------------------------ offers
    def sign(
        self,
        seller: Signer | str,
        price: int,
        amount_wh: int,
        valid_from: int,
        valid_until: int,
        agent: Signer | None = None,
    ) -> SignedOffer:
        """A new offer of `seller` for this deployment, with the seller's current counter, on the salt of one of the
        seller's own offers signed here that ends at or before `valid_from` (its lane is free by then), else on a
        fresh random salt.

        With `agent`, the seller's mandated agent signs it (`seller` may then be just the address): the contract
        fills it only within the seller's minimum sell price and reserve (TradingMandate, direct venue granted).
        """
        seller_address = seller if isinstance(seller, str) else seller.address
        offer = Offer.new(seller_address, price, amount_wh, valid_from, valid_until, self.counter_of(seller_address))
        lanes = self._lanes.setdefault(offer.seller, {})
        free = [salt for salt, until in lanes.items() if until <= valid_from]
        if free:
            salt = min(free, key=lambda k: lanes[k])  # the lane that freed first
            offer = Offer(offer.seller, price, amount_wh, valid_from, valid_until, salt, offer.counter)
        if free or len(lanes) < LANES_PER_SELLER:
            lanes[offer.salt] = max(valid_until, lanes.get(offer.salt, 0))
        if agent is not None:
            signed = sign_offer(offer, agent.account.key, self.chain.chain_id, self.address, as_agent=True)
        elif isinstance(seller, str):
            raise ValueError("the seller's Signer (or its agent) is needed to sign an offer")
        else:
            signed = sign_offer(offer, seller.account.key, self.chain.chain_id, self.address)
        self._remember([signed])
        return signed

    def _check_domain(self, signed: SignedOffer) -> None:
        if signed.chain_id != self.chain.chain_id or signed.contract.lower() != self.address.lower():
            raise ValueError(
                f"offer {signed.offer_hash} is signed for chain {signed.chain_id} / {signed.contract}, not for "
                f"{self.name} {self.address} on chain {self.chain.chain_id}"
            )

    def _remember(self, signed_offers: Sequence[SignedOffer]) -> None:
        """Keep the latest KNOWN_OFFERS offers by hash (filled_wh by hash needs the terms)."""
        for signed in signed_offers:
            self._known.pop(signed.offer_hash, None)
            self._known[signed.offer_hash] = signed
        while len(self._known) > KNOWN_OFFERS:
            del self._known[next(iter(self._known))]

    # ------------------------------------------------------------------ approvals
    def _ensure_approval(self, token_name: str, owner: Signer) -> None:
        key = (token_name, owner.address)
        if key not in self._approved:
            ensure_approvals(self.chain, owner, self.address, (token_name,))
            self._approved.add(key)

    def prepare_seller(self, seller: Signer) -> None:
        """Let the settlement move the seller's energy (once per account)."""
        self._ensure_approval("EnergyToken", seller)

    def prepare_buyer(self, buyer: Signer) -> None:
        """Let the settlement move the buyer's settlement units (once per account; fill does it itself)."""
        self._ensure_approval("SettlementToken", buyer)

    # ------------------------------------------------------------------ trading
    def fill(self, signed: SignedOffer, amount_wh: int, buyer: Signer) -> FillResult:
        """Buy `amount_wh` of one offer. Raises TxFailed with the contract's error (e.g. OfferSettlementExpired)."""
        self._check_domain(signed)
        self.prepare_buyer(buyer)
        self._remember([signed])
        fn = self.contract.functions.fill(signed.offer.as_tuple(), signed.signature, amount_wh)
        return self._one_fill(self.chain.transact(fn, buyer, gas=FILL_GAS))

    def fill_for(self, agent: Signer, buyer: str, signed: SignedOffer, amount_wh: int) -> FillResult:
        """The buyer's mandated agent buys `amount_wh` of one offer for `buyer` (OfferSettlement.fillFor): the buyer
        receives the energy and pays, within its mandate's maximum price and daily cap. The buyer must have approved
        the settlement for its settlement units (the agent holds no key of it). Raises TxFailed with the contract's
        error (a Mandate* error when the bounds refuse, VenueMandateNotSet without a mandate)."""
        self._check_domain(signed)
        self._remember([signed])
        fn = self.contract.functions.fillFor(buyer, signed.offer.as_tuple(), signed.signature, amount_wh)
        return self._one_fill(self.chain.transact(fn, agent, gas=FILL_FOR_GAS))

    def _one_fill(self, receipt: dict[str, Any]) -> FillResult:
        results = self.results(receipt)  # type: ignore[arg-type]
        fills = [r for r in results if isinstance(r, FillResult)]
        if len(fills) != 1:
            raise TxFailed(f"fill receipt has {len(fills)} OfferFilled events", None, _tx_hash(receipt))
        return fills[0]

    def fill_many(
        self,
        fills: Sequence[tuple[SignedOffer, int]],
        buyer: Signer,
        skip_gone: bool = True,
        max_fills: int | None = None,
    ) -> list[FillResult | SkipResult]:
        """Settle several offers in one transaction; one result per entry the contract looked at, in order.

        With `skip_gone`, offers that are gone or short are skipped (SkipResult with the reason) and an entry asking
        for more than an offer has left gets the remainder; when nothing at all could be filled the result is a
        SkipResult for every entry (reasons from `check`) instead of an exception. Without it the batch is atomic and
        any failed check raises TxFailed. `max_fills` (default: all) stops after that many fills: later entries are
        fallbacks used only for skipped ones. At most maxFillsCap() (32) entries.
        """
        if not fills:
            return []
        for signed, _ in fills:
            self._check_domain(signed)
        self._remember([s for s, _ in fills])
        self.prepare_buyer(buyer)
        entries = [(s.offer.as_tuple(), s.signature, int(a)) for s, a in fills]
        fn = self.contract.functions.fillMany(entries, skip_gone, max_fills or len(fills))
        try:
            receipt = self.chain.transact(fn, buyer, gas=fill_many_gas(len(fills)))
        except TxFailed as exc:
            if not (skip_gone and exc.error_name == "OfferSettlementNothingFilled"):
                raise
            reasons = self.precheck_many(fills, buyer.address)
            return [
                SkipResult(s.offer_hash, s.offer.seller, buyer.address, a, reason or "Ok", exc.tx_hash)
                for (s, a), reason in zip(fills, reasons, strict=True)
            ]
        return self.results(receipt)  # type: ignore[arg-type]

    def results(self, receipt: dict[str, Any]) -> list[FillResult | SkipResult]:
        """The fills and skips of a receipt, in log order."""
        tx_hash, gas = _tx_hash(receipt), receipt["gasUsed"]
        gas_used = int(gas, 16) if isinstance(gas, str) else int(gas)
        out: list[FillResult | SkipResult] = []
        for e in self.events.decode(receipt):
            a = e.args
            if e.name == "OfferFilled":
                out.append(
                    FillResult(
                        a["offerHash"],
                        a["seller"],
                        a["buyer"],
                        int(a["amountWh"]),
                        int(a["price"]),
                        int(a["cost"]),
                        tx_hash,
                        gas_used,
                    )
                )
            elif e.name == "OfferSkipped":
                out.append(
                    SkipResult(
                        a["offerHash"], a["seller"], a["buyer"], int(a["amountWh"]), CHECKS[int(a["reason"])], tx_hash
                    )
                )
        return out

    def cancel(self, signed: SignedOffer, seller: Signer) -> dict[str, Any]:
        """Cancel one offer of `seller` for good. Raises TxFailed (OfferSettlementNotSeller, ...AlreadyCancelled)."""
        self._check_domain(signed)
        self._remember([signed])
        fn = self.contract.functions.cancel(signed.offer.as_tuple())
        return self.chain.transact(fn, seller, gas=CANCEL_GAS)  # type: ignore[return-value]

    def increment_counter(self, seller: Signer) -> int:
        """Void every offer `seller` signed so far; returns the counter new offers must carry."""
        receipt = self.chain.transact(self.contract.functions.incrementCounter(), seller, gas=COUNTER_GAS)
        for e in self.events.decode(receipt):  # type: ignore[arg-type]
            if e.name == "CounterIncremented":
                return int(e.args["newCounter"])
        raise TxFailed("incrementCounter receipt has no CounterIncremented event", None, _tx_hash(receipt))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ reads
    def counter_of(self, address: str) -> int:
        return int(self.contract.functions.counterOf(address).call())

    def filled_wh(self, offer: SignedOffer | str) -> int:
        """Wh filled of an offer (0 once its lane was reused after it expired). The contract keeps fills per
        (seller, salt) lane, so it needs the terms: give the SignedOffer, or the hash of an offer this client signed,
        filled, cancelled or read the state of."""
        if isinstance(offer, str):
            if offer not in self._known:
                raise ValueError(f"offer {offer} is unknown to this client: pass the SignedOffer")
            offer = self._known[offer]
        return int(self.contract.functions.filledWh(offer.offer.as_tuple()).call())

    def min_fill_wh(self) -> int:
        return int(self.contract.functions.minFillWh().call())

    def states(self, signed_offers: Sequence[SignedOffer]) -> list[OfferState]:
        """Fills, cancellation, remaining Wh and status of many offers (offerStates, pages of maxStatesCap)."""
        out: list[OfferState] = []
        self._remember(signed_offers)
        page = 256
        for start in range(0, len(signed_offers), page):
            part = [s.offer.as_tuple() for s in signed_offers[start : start + page]]
            for h, filled, remaining, cancelled, status in self.contract.functions.offerStates(part).call():
                out.append(
                    OfferState("0x" + bytes(h).hex(), int(filled), int(remaining), bool(cancelled), CHECKS[int(status)])
                )
        return out

    def remaining_wh(self, signed: SignedOffer) -> int:
        """Wh of the offer that can be filled now (0 when expired, cancelled, voided, filled or not yet valid)."""
        return self.states([signed])[0].remaining_wh

    def remaining_many(self, signed_offers: Sequence[SignedOffer]) -> dict[str, int]:
        """offer_hash -> Wh that can be filled now, for many offers in one or a few calls."""
        return {s.offer_hash: s.remaining_wh for s in self.states(signed_offers)}

    def precheck(self, signed: SignedOffer, amount_wh: int, buyer_address: str) -> str | None:
        """None when a fill of `amount_wh` by the buyer would succeed now, else the contract's reason (a Check name:
        "Expired", "SellerBalanceShort", ...). Balances, allowances, validity and signature, by the contract's rules."""
        result, _, _ = self.contract.functions.check(
            signed.offer.as_tuple(), signed.signature, buyer_address, amount_wh
        ).call()
        return None if int(result) == 0 else CHECKS[int(result)]

    def precheck_many(self, fills: Sequence[tuple[SignedOffer, int]], buyer_address: str) -> list[str | None]:
        """`precheck` for many entries in one JSON-RPC batch."""
        fns = [self.contract.functions.check(s.offer.as_tuple(), s.signature, buyer_address, a) for s, a in fills]
        out: list[str | None] = []
        for r in call_many(self.chain, fns):
            if not r.ok:
                raise TxFailed(f"check call failed: {r.message}", r.error)
            code = int(r.value[0])
            out.append(None if code == 0 else CHECKS[code])
        return out


def _tx_hash(receipt: dict[str, Any]) -> str:
    h = receipt["transactionHash"]
    return h if isinstance(h, str) else "0x" + bytes(h).hex()
