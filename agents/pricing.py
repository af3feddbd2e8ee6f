"""Pricing strategies behind one interface: each quotes an ask and a bid within [feed-in, retail].

* `sdr` — supply-demand-ratio pricing after Liu et al. 2017 ("Energy sharing management for microgrids with PV
  prosumers: a Stackelberg game approach", IEEE TII): with SDR = community supply / demand of the interval,
  internal sell price P_s = (λ_b·λ_s) / ((λ_b - λ_s)·SDR + λ_s) and buy price P_b = P_s·SDR + λ_b·(1 - SDR) for
  0 ≤ SDR < 1, both λ_s (feed-in) when SDR ≥ 1. Scarce supply pushes both towards retail λ_b, glut towards feed-in.
* `ramp` — the usual baseline: over the interval's trading steps, asks fall linearly from retail to feed-in and
  bids rise from feed-in to retail, so they cross part way through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Tariffs:
    """Grid prices, settlement units per kWh: what the grid charges (retail) and pays (feed-in)."""

    retail: int
    feed_in: int

    def __post_init__(self) -> None:
        if not 0 <= self.feed_in <= self.retail:
            raise ValueError(f"need 0 <= feed-in <= retail, got {self.feed_in} and {self.retail}")

    def clamp(self, price: float) -> int:
        return int(min(max(round(price), self.feed_in), self.retail))


@dataclass(frozen=True)
class MarketView:
    """What every agent can know at a trading step: tariffs, the community's supply/demand, where in the interval.

    supply_wh / demand_wh come from public chain data (the previous interval's ReadingRecorded events).
    """

    tariffs: Tariffs
    supply_wh: int
    demand_wh: int
    step: int = 0
    steps: int = 1

    @property
    def sdr(self) -> float:
        if self.demand_wh <= 0:
            return float("inf") if self.supply_wh > 0 else 1.0
        return self.supply_wh / self.demand_wh

    @property
    def progress(self) -> float:
        """0 at the first trading step of the interval, 1 at the last."""
        return self.step / (self.steps - 1) if self.steps > 1 else 1.0


@dataclass(frozen=True)
class Quote:
    ask: int  # lowest price to sell at
    bid: int  # highest price to buy at


class PricingStrategy(Protocol):
    name: str
    steps: int  # trading steps per interval the strategy needs (re-quoting between them)

    def quote(self, view: MarketView) -> Quote: ...


@dataclass(frozen=True)
class SupplyDemandRatioPricing:
    name: str = "sdr"
    steps: int = 1

    def quote(self, view: MarketView) -> Quote:
        t = view.tariffs
        sdr = view.sdr
        if sdr >= 1:
            return Quote(t.feed_in, t.feed_in)
        lb, ls = t.retail, t.feed_in
        sell = lb * ls / ((lb - ls) * sdr + ls) if ls > 0 else 0.0
        buy = sell * sdr + lb * (1 - sdr)
        return Quote(t.clamp(sell), t.clamp(buy))


@dataclass(frozen=True)
class LinearRampPricing:
    name: str = "ramp"
    steps: int = 3

    def quote(self, view: MarketView) -> Quote:
        t = view.tariffs
        f = view.progress
        spread = t.retail - t.feed_in
        return Quote(t.clamp(t.retail - f * spread), t.clamp(t.feed_in + f * spread))


STRATEGIES: dict[str, type] = {"sdr": SupplyDemandRatioPricing, "ramp": LinearRampPricing}


def make_strategy(name: str, **options: int) -> PricingStrategy:
    try:
        return STRATEGIES[name](**options)  # type: ignore[no-any-return]
    except KeyError:
        raise ValueError(f"unknown pricing strategy {name!r}; choose from {sorted(STRATEGIES)}") from None
