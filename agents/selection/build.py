"""An `Instance` from discovered signed offers: where each candidate's data comes from (docs/selection.md).

The agent passes what it read from the chain (each offer's remaining Wh, each seller's token balance, the fill
history) and where meters sit; this module applies the rules in one place: own and out-of-window offers dropped,
a seller's balance shared over its offers cheapest first (so the chosen amounts of one seller never exceed what it
holds), efficiency from the feeder, duration/quality/participation from the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from agents.feeder import Feeder, default_feeder
from agents.selection.features import FillRecord, features_by_seller
from agents.selection.model import DEFAULT_WEIGHTS, Candidate, Instance
from energy_chain.offers import SignedOffer


def build_instance(
    demand_wh: int,
    offers: Iterable[SignedOffer],
    *,
    buyer: str,
    buyer_meter: str,
    meter_of: Callable[[str], str | None] | Mapping[str, str],
    remaining_wh: Mapping[str, int],
    balance_wh: Mapping[str, int],
    history: Iterable[FillRecord] = (),
    now: int | None = None,
    weights: Mapping[str, float] | None = None,
    feeder: Feeder | None = None,
) -> Instance:
    """Candidates for a buyer (`buyer` address, `buyer_meter` id on the feeder).

    `remaining_wh[offer_hash]`: what the contract says is left of each offer (missing = the signed amount);
    `balance_wh[seller]`: the seller's energy-token balance (missing = 0: unfunded); `meter_of(seller)`: the seller's
    meter id for the feeder (None or missing: the seller's address is placed by hash). `now` drops offers outside
    their validity window. Offers are listed by price then hash, so equal instances come out equal.
    """
    feeder = feeder or default_feeder()
    lookup = meter_of.get if isinstance(meter_of, Mapping) else meter_of
    me = buyer.lower()
    usable = [
        s
        for s in offers
        if s.offer.seller.lower() != me and (now is None or s.offer.valid_from <= now <= s.offer.valid_until)
    ]
    usable.sort(key=lambda s: (s.offer.price, s.offer_hash))
    balances = {k.lower(): int(v) for k, v in balance_wh.items()}
    left: dict[str, int] = {}
    records = list(history)
    sellers = sorted({s.offer.seller.lower() for s in usable})
    feats = features_by_seller(
        [FillRecord(r.seller.lower(), r.offered_at, r.filled_at, r.requested_wh, r.delivered_wh) for r in records],
        sellers,
    )
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for s in usable:
        h = s.offer_hash
        if h in seen:  # the same offer from two records
            continue
        seen.add(h)
        seller = s.offer.seller.lower()
        left.setdefault(seller, balances.get(seller, 0))
        amount = max(0, min(int(remaining_wh.get(h, s.offer.amount_wh)), s.offer.amount_wh, left[seller]))
        left[seller] -= amount
        f = feats[seller]
        candidates.append(
            Candidate(
                id=h,
                seller=seller,
                amount_wh=amount,
                price=float(s.offer.price),
                efficiency=feeder.efficiency(lookup(s.offer.seller) or lookup(seller) or seller, buyer_meter),
                duration_s=f.duration_s,
                quality=f.quality,
                participation=f.participation,
            )
        )
    return Instance(demand_wh=demand_wh, weights=dict(weights or DEFAULT_WEIGHTS), offers=candidates)
