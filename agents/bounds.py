"""The limits a household sets on its agent: prices, a reserve it never sells, a daily spending cap, venues.

Configuration here (JSON or a dict); the dashboard will set them later. Prices are settlement units per kWh,
energy Wh, money settlement units (mgMYR, 6 decimals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VENUES = ("order-book", "auction", "direct")


class BoundsError(ValueError):
    """A household's bounds are inconsistent or name an unknown venue."""


@dataclass(frozen=True)
class UserBounds:
    min_sell_price: int = 0  # never sell below this (the grid band's feed-in applies anyway)
    max_buy_price: int = 2**63  # never pay more than this (retail applies anyway)
    reserve_wh: int = 0  # tokens the agent never sells (kept for the household's own deficit)
    daily_spend_cap: int = 2**63  # settlement units per local day spent on local purchases
    venues: tuple[str, ...] = VENUES

    def __post_init__(self) -> None:
        if min(self.min_sell_price, self.max_buy_price, self.reserve_wh, self.daily_spend_cap) < 0:
            raise BoundsError(f"bounds must not be negative: {self}")
        unknown = set(self.venues) - set(VENUES)
        if unknown:
            raise BoundsError(f"unknown venues {sorted(unknown)}; choose from {VENUES}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserBounds:
        known = {"min_sell_price", "max_buy_price", "reserve_wh", "daily_spend_cap", "venues"}
        extra = set(data) - known
        if extra:
            raise BoundsError(f"unknown bound(s) {sorted(extra)}; known: {sorted(known)}")
        values = {k: int(v) for k, v in data.items() if k != "venues"}
        if "venues" in data:
            return cls(**values, venues=tuple(data["venues"]))
        return cls(**values)

    def allows(self, venue: str) -> bool:
        return venue in self.venues

    def sell_price(self, price: int) -> int:
        """The strategy's ask raised to the household's minimum."""
        return max(price, self.min_sell_price)

    def buy_price(self, price: int) -> int | None:
        """The strategy's bid, or None when it is above what the household accepts to pay."""
        return price if price <= self.max_buy_price else None

    def affordable_wh(self, price: int, spent_today: int) -> int:
        """Wh the household may still buy today at `price` under its spending cap."""
        room = self.daily_spend_cap - spent_today
        if room <= 0 or price <= 0:
            return 0 if room <= 0 else 2**63
        return room * 1000 // price
