"""My meter by day, week or month (local days of COMMUNITY_TIMEZONE): the settled intervals' surplus (minted as
energy tokens), the deficit covered by the household's own tokens and the deficit drawn from the grid, each valued
in RM at the grid tariffs in force at the reading's block (webapp.services.tariff_history): surplus at the feed-in
tariff (what the grid would have paid for it), own tokens at the retail price (the grid purchase they replaced),
grid energy at the retail price (its cost).

The database sums per 15-minute slot of interval start and per tariff epoch (every UTC offset is a whole number of
quarter hours, so a slot never straddles a local day), which keeps a month of one-minute intervals to a few
thousand rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import tzinfo

from sqlalchemy import case, func, literal, select

from energy_chain.clearing import Tariffs
from webapp.extensions import db
from webapp.models import Reading
from webapp.services import tariff_history
from webapp.services.periods import bucket_label, bucket_start
from webapp.units import cost_units

SLOT = 900
WINDOWS = {"day": 31, "week": 26 * 7, "month": 366}  # days back


@dataclass
class MeterPeriod:
    start: int
    label: str
    intervals: int = 0
    surplus_wh: int = 0
    own_tokens_wh: int = 0
    grid_wh: int = 0
    surplus_value: int | None = 0  # at feed-in
    own_tokens_value: int | None = 0  # at retail (avoided)
    grid_cost: int | None = 0  # at retail

    def add(self, n: int, minted: int, burned: int, grid: int, tariffs: Tariffs | None) -> None:
        self.intervals += n
        self.surplus_wh += minted
        self.own_tokens_wh += burned
        self.grid_wh += grid
        if tariffs is None:  # a period with an unvalued reading gets no RM figures rather than partial ones
            self.surplus_value = self.own_tokens_value = self.grid_cost = None
        if self.surplus_value is None or self.own_tokens_value is None or self.grid_cost is None or tariffs is None:
            return
        self.surplus_value += cost_units(tariffs.feed_in, minted)
        self.own_tokens_value += cost_units(tariffs.retail, burned)
        self.grid_cost += cost_units(tariffs.retail, grid)

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "label": self.label, "intervals": self.intervals, "surplus_wh": self.surplus_wh,
                "own_tokens_wh": self.own_tokens_wh, "grid_wh": self.grid_wh, "surplus_value": self.surplus_value,
                "own_tokens_value": self.own_tokens_value, "grid_cost": self.grid_cost}  # fmt: skip


@dataclass
class MeterPeriods:
    bucket: str
    periods: list[MeterPeriod]  # newest first
    tariff_source: str


def meter_periods(meter_ids: list[str], bucket: str, tz: tzinfo, now: int | None = None) -> MeterPeriods:
    """The meters' readings per local `bucket` over its window (WINDOWS), newest first, valued at the tariffs."""
    history = tariff_history.load()
    now = int(now if now is not None else time.time())
    since = bucket_start(now - WINDOWS[bucket] * 86400, bucket, tz)
    if not meter_ids:
        return MeterPeriods(bucket, [], history.source)
    epochs = history.epochs()
    epoch = case(*[(Reading.block_number >= b, k + 1) for k, b in reversed(list(enumerate(epochs)))],
                 else_=0) if epochs else literal(0)  # fmt: skip
    slot = Reading.interval - Reading.interval % SLOT
    rows = db.session.execute(
        select(slot, epoch, func.min(Reading.block_number), func.count(Reading.id), func.sum(Reading.minted_wh),
               func.sum(Reading.burned_wh), func.sum(Reading.grid_wh))
        .where(Reading.meter_id.in_(meter_ids), Reading.interval >= since)
        .group_by(slot, epoch)
    ).all()  # fmt: skip
    periods: dict[int, MeterPeriod] = {}
    for start_slot, _epoch, block, n, minted, burned, grid in rows:
        start = bucket_start(int(start_slot), bucket, tz)
        if start not in periods:
            periods[start] = MeterPeriod(start, bucket_label(start, bucket, tz))
        periods[start].add(int(n), int(minted or 0), int(burned or 0), int(grid or 0), history.at(int(block)))
    return MeterPeriods(bucket, [periods[k] for k in sorted(periods, reverse=True)], history.source)
