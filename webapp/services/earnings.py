"""Earnings and savings against the grid, per local day and month: for energy sold, what the local sales brought
above what the same energy earns at the feed-in tariff; for energy bought, what it would have cost at the retail
tariff minus what was paid. From the household's trade history (webapp.services.history), tariffs as in force at
each trade."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import tzinfo

from webapp.services import history
from webapp.services.periods import DateRange, bucket_label, bucket_start, day_start, local_date


@dataclass
class Period:
    start: int
    label: str
    totals: history.Totals = field(default_factory=history.Totals)

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "label": self.label, **self.totals.as_dict()}


@dataclass
class Earnings:
    periods: list[Period]  # newest first
    total: history.Totals
    tariff_source: str  # indexed | current | none


def by_period(rows: list[history.TradeRow], bucket: str, tz: tzinfo) -> list[Period]:
    """The rows' totals per local `bucket` (day, week, month), newest first."""
    periods: dict[int, Period] = {}
    for row in rows:
        start = bucket_start(row.timestamp, bucket, tz)
        if start not in periods:
            periods[start] = Period(start, bucket_label(start, bucket, tz))
        periods[start].totals.add(row)
    return [periods[k] for k in sorted(periods, reverse=True)]


def earnings(address: str, bucket: str, tz: tzinfo, period: DateRange | None = None) -> Earnings:
    mine = history.my_trades(address, period)
    return Earnings(by_period(mine.rows, bucket, tz), mine.totals, mine.tariff_source)


@dataclass
class Summary:
    today: history.Totals
    month: history.Totals
    days: list[Period]  # the last days with trades this month, newest first
    months: list[Period]  # every month with trades, newest first
    tariff_source: str


def summary(address: str, tz: tzinfo, now: int | None = None) -> Summary:
    """Today, this month, its days and every month: what the account page and the home page show."""
    now = int(now if now is not None else time.time())
    mine = history.my_trades(address)
    today_start = day_start(local_date(now, tz), tz)
    month_start = bucket_start(now, "month", tz)
    days = by_period([r for r in mine.rows if r.timestamp >= month_start], "day", tz)
    months = by_period(mine.rows, "month", tz)
    today = next((p.totals for p in days if p.start == today_start), history.Totals())
    month = next((p.totals for p in months if p.start == month_start), history.Totals())
    return Summary(today, month, days, months, mine.tariff_source)


def this_month(address: str, tz: tzinfo, now: int | None = None) -> history.Totals:
    """This local month's totals only (the home page's line: cheaper than the whole history)."""
    now = int(now if now is not None else time.time())
    start = bucket_start(now, "month", tz)
    return history.my_trades(address, DateRange(start=start)).totals
