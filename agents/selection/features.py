"""Offer features from a seller's history of fills: `duration_s`, `quality`, `participation` (docs/selection.md).

The agents turn the chain's `OfferSettlement` fill and skip events into plain `FillRecord`s (one per attempted fill);
this module only counts, so it is tested without a chain and reused by the simulator.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FALLBACK_DURATION_S = 60.0  # when no seller in the history has a fill yet


@dataclass(frozen=True)
class FillRecord:
    """One attempt to buy from a seller's offer.

    `offered_at`: the offer's valid-from (or publication) time; `filled_at`: the fill's block time; `requested_wh`:
    what the buyer asked for; `delivered_wh`: what it got (0 for a skip: the offer was gone or short).
    """

    seller: str
    offered_at: float
    filled_at: float
    requested_wh: int
    delivered_wh: int

    def __post_init__(self) -> None:
        if self.requested_wh < 0 or self.delivered_wh < 0:
            raise ValueError(f"fill record amounts must be >= 0: {self}")
        if self.delivered_wh > self.requested_wh:
            raise ValueError(f"a fill cannot deliver more than was requested: {self}")
        if self.filled_at < self.offered_at:
            raise ValueError(f"a fill cannot precede its offer: {self}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FillRecord:
        return cls(
            seller=str(data["seller"]),
            offered_at=float(data["offered_at"]),
            filled_at=float(data["filled_at"]),
            requested_wh=int(data["requested_wh"]),
            delivered_wh=int(data["delivered_wh"]),
        )


@dataclass(frozen=True)
class Features:
    duration_s: float
    quality: float
    participation: int


def _by_seller(history: Iterable[FillRecord], since: float | None) -> dict[str, list[FillRecord]]:
    grouped: dict[str, list[FillRecord]] = {}
    for r in history:
        if since is None or r.filled_at >= since:
            grouped.setdefault(r.seller, []).append(r)
    return grouped


def _features(records: list[FillRecord], default_duration_s: float) -> Features:
    sales = [r for r in records if r.delivered_wh > 0]
    requested = sum(r.requested_wh for r in records)
    quality = sum(r.delivered_wh for r in records) / requested if requested > 0 else 1.0
    duration = statistics.fmean(r.filled_at - r.offered_at for r in sales) if sales else default_duration_s
    return Features(duration_s=duration, quality=quality, participation=len(sales))


def features_by_seller(
    history: Iterable[FillRecord],
    sellers: Iterable[str],
    *,
    since: float | None = None,
    default_duration_s: float | None = None,
) -> dict[str, Features]:
    """Features of each seller in `sellers` (sellers without history get the newcomer defaults).

    Newcomers: quality 1, participation 0, duration = `default_duration_s`, else the median duration of the sellers
    that have sales, else 60 s. `since` ignores records filled before that time.
    """
    grouped = _by_seller(history, since)
    if default_duration_s is None:
        durations = [_features(rs, 0.0).duration_s for rs in grouped.values() if any(r.delivered_wh for r in rs)]
        default_duration_s = statistics.median(durations) if durations else FALLBACK_DURATION_S
    return {s: _features(grouped.get(s, []), default_duration_s) for s in sellers}


def seller_features(
    history: Iterable[FillRecord],
    seller: str,
    *,
    since: float | None = None,
    default_duration_s: float | None = None,
) -> Features:
    """`features_by_seller` for one seller."""
    return features_by_seller(history, [seller], since=since, default_duration_s=default_duration_s)[seller]
