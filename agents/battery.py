"""A household battery the agent charges and discharges against prices.

Physics (AC side, per interval): charging E Wh stores E·√η, discharging E Wh takes E/√η from the store (η is the
round-trip efficiency), both limited by power x interval and by the state of charge. The agent decides a mode at
the start of each interval from prices; the battery's own controller then follows the actual surplus or deficit
within that mode (as real hybrid inverters do), so the metered net is generation - consumption - battery flow.

Policy: surplus is stored only when the local market does not want it, i.e. when it would sell at (about) the
feed-in tariff: then storing (worth up to retail x η later) beats exporting. While neighbours are short (the ask is
above feed-in) selling to them is better for the household and for the community: unsold tokens are banked by
EnergyToken anyway (a lossless virtual store), while a physical charge would take energy neighbours now import
from the grid and give back only η of it. A deficit is covered from the store unless buying locally costs less
than the stored energy's value (feed-in / η, what it cost to store).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agents.pricing import Quote, Tariffs
from household_model import Battery

GLUT_MARGIN = 1.05  # an ask within 5 % of feed-in: the local market barely values the surplus


@dataclass(frozen=True)
class BatteryMode:
    charge: bool  # may absorb surplus
    discharge: bool  # may cover deficit


@dataclass
class BatteryState:
    spec: Battery
    interval_s: int
    soc_wh: float = 0.0

    @property
    def _leg(self) -> float:
        return math.sqrt(self.spec.round_trip_efficiency)

    @property
    def _max_wh(self) -> float:
        return self.spec.power_w * self.interval_s / 3600

    def decide(self, quote: Quote, tariffs: Tariffs) -> BatteryMode:
        eta = self.spec.round_trip_efficiency
        glut = quote.ask <= tariffs.feed_in * GLUT_MARGIN and tariffs.feed_in < tariffs.retail * eta
        return BatteryMode(charge=glut, discharge=quote.bid * eta >= tariffs.feed_in)

    def apply(self, net_before_wh: int, mode: BatteryMode) -> int:
        """Run the interval: returns the Wh into the battery (negative when discharging), an integer."""
        if net_before_wh > 0 and mode.charge:
            room_ac = (self.spec.capacity_wh - self.soc_wh) / self._leg
            flow = int(min(net_before_wh, self._max_wh, room_ac))
            self.soc_wh = min(self.spec.capacity_wh, self.soc_wh + flow * self._leg)
            return max(flow, 0)
        if net_before_wh < 0 and mode.discharge:
            avail_ac = self.soc_wh * self._leg
            flow = int(min(-net_before_wh, self._max_wh, avail_ac))
            self.soc_wh = max(0.0, self.soc_wh - flow / self._leg)
            return -max(flow, 0)
        return 0
