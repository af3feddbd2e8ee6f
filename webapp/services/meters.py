"""My meter: a household's settled intervals (minted, burned, grid), the latest run of them for the chart, totals,
and the modelled gross generation/consumption of simulated meters (webapp.services.meter_model)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Meter, Reading
from webapp.services.meter_model import modelled

INTERVALS_SHOWN = 96


def meters_of(owner: str) -> list[Meter]:
    return list(db.session.scalars(select(Meter).where(Meter.owner == owner)))


def readings_of(owner: str, limit: int) -> list[Reading]:
    """The owner's latest `limit` readings, newest first (the API's list)."""
    return list(db.session.scalars(select(Reading).where(Reading.owner == owner)
                                   .order_by(Reading.interval.desc()).limit(limit)))  # fmt: skip


def recent(readings: list[Reading]) -> tuple[list[Reading], int]:
    """The latest run of intervals (older outliers such as a starter balance would flatten the chart) and the
    reporting period (smallest gap between intervals)."""
    intervals = sorted({r.interval for r in readings}, reverse=True)[:INTERVALS_SHOWN]
    gaps = [a - b for a, b in itertools.pairwise(intervals) if a > b]
    period = min(gaps) if gaps else 900
    since = intervals[0] - INTERVALS_SHOWN * period if intervals else 0
    return [r for r in readings if r.interval >= since], period


@dataclass
class MeterPage:
    meters: list[Meter]
    readings: list[Reading]  # newest first, at most INTERVALS_SHOWN
    recent: list[Reading]  # what the chart draws
    model: dict[int, tuple[int, int]] = field(default_factory=dict)  # interval -> (generated, consumed) Wh
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def shown(self) -> int:
        return len({r.interval for r in self.recent})


def meter_page(owner: str, selected: str | None) -> MeterPage:
    """What the meter page shows for `owner`: all their meters, or only `selected`."""
    meters = meters_of(owner)
    chosen = [m for m in meters if not selected or m.meter_id == selected]
    ids = [m.meter_id for m in chosen]
    readings: list[Reading] = []
    if ids:
        query = (select(Reading).where(Reading.meter_id.in_(ids))
                 .order_by(Reading.interval.desc()).limit(INTERVALS_SHOWN * len(ids)))  # fmt: skip
        readings = list(db.session.scalars(query))
    shown, period = recent(readings)
    model: dict[int, tuple[int, int]] = {}
    if len(chosen) == 1:  # the model is per household
        model = modelled(chosen[0].serial, sorted({r.interval for r in shown}), period)
    totals = {
        "minted": sum(r.minted_wh for r in shown),
        "burned": sum(r.burned_wh for r in shown),
        "grid": sum(r.grid_wh for r in shown),
    }
    return MeterPage(meters, readings[:INTERVALS_SHOWN], shown, model, totals)
