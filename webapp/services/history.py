"""Trade history: a household's trades on every venue (order book, auction claims, direct offer fills), each with
what it paid or received and what the same energy would have cost or earned at the grid tariff in force; totals,
pages and CSV; and the market's price and volume per hour, day, week or month in the community's time zone.

Money: order-book and offer fills move floor(price x Wh / 1000) units; an auction claim moves what its
OrderClaimed event says (buyers pay the ceiling, sellers get the floor). Grid values are floor(tariff x Wh / 1000).
Tariffs: an auction fill takes its round's tariffs (fixed when the round opened); any other fill the tariffs in
force at its block (webapp.services.tariff_history).
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import or_, select

from energy_chain.clearing import Tariffs
from webapp.extensions import db
from webapp.models import AuctionOrder, AuctionRound, Trade
from webapp.services import tariff_history
from webapp.services.paging import Page
from webapp.services.periods import DateRange, bucket_label, bucket_start
from webapp.units import cost_units

VENUES = ("book", "auction", "offer")
# How far back each bucket of the market history looks.
WINDOWS = {"hour": 48 * 3600, "day": 31 * 86400, "week": 26 * 7 * 86400, "month": 366 * 86400}


@dataclass(slots=True)
class TradeRow:
    """One trade from the household's side."""

    timestamp: int
    venue: str  # book | auction | offer
    side: str  # buy | sell (what the household did)
    counterparty: str | None  # None: the auction's pool (a uniform-price round has no single counterparty)
    price: int  # units per kWh
    amount_wh: int
    money: int  # units paid (buy) or received (sell)
    tariffs: Tariffs | None  # in force at the trade
    tariff_source: str  # round | indexed | current | none
    tx_hash: str
    block_number: int
    log_index: int
    # What the same energy costs at the retail tariff (buy) or earns at the feed-in tariff (sell); None: no tariff.
    grid_value: int | None = None
    # Saved against the retail tariff (buy) or earned above the feed-in tariff (sell); negative: worse than the grid.
    vs_grid: int | None = None


@dataclass
class Totals:
    trades: int = 0
    bought_wh: int = 0
    sold_wh: int = 0
    paid: int = 0
    received: int = 0
    saved: int = 0  # against the retail tariff, on the energy bought
    earned_over_feed_in: int = 0  # above the feed-in tariff, on the energy sold
    unvalued: int = 0  # trades without a known tariff (not in saved / earned)

    @property
    def avg_buy_price(self) -> int | None:
        return self.paid * 1000 // self.bought_wh if self.bought_wh else None

    @property
    def avg_sell_price(self) -> int | None:
        return self.received * 1000 // self.sold_wh if self.sold_wh else None

    @property
    def net(self) -> int:
        return self.received - self.paid

    def add(self, row: TradeRow) -> None:
        self.trades += 1
        if row.side == "buy":
            self.bought_wh += row.amount_wh
            self.paid += row.money
        else:
            self.sold_wh += row.amount_wh
            self.received += row.money
        if row.vs_grid is None:
            self.unvalued += 1
        elif row.side == "buy":
            self.saved += row.vs_grid
        else:
            self.earned_over_feed_in += row.vs_grid

    def as_dict(self) -> dict[str, int | None]:
        return {
            "trades": self.trades, "bought_wh": self.bought_wh, "sold_wh": self.sold_wh, "paid": self.paid,
            "received": self.received, "net": self.net, "avg_buy_price": self.avg_buy_price,
            "avg_sell_price": self.avg_sell_price, "saved_vs_retail": self.saved,
            "earned_over_feed_in": self.earned_over_feed_in, "unvalued_trades": self.unvalued,
        }  # fmt: skip


@dataclass
class MyTrades:
    rows: list[TradeRow]  # newest first
    totals: Totals
    tariff_source: str  # indexed | current | none (for non-auction trades)
    range: DateRange = field(default_factory=DateRange)

    def page(self, number: int, per_page: int) -> Page:
        pages = max(1, math.ceil(len(self.rows) / per_page))
        number = min(max(1, number), pages)
        return Page(self.rows[(number - 1) * per_page : number * per_page], number, pages, len(self.rows))


_COLUMNS = (Trade.venue, Trade.buyer, Trade.seller, Trade.price, Trade.amount_wh, Trade.block_number,
            Trade.log_index, Trade.timestamp, Trade.tx_hash, Trade.buy_order_id, Trade.sell_order_id)  # fmt: skip


def _trades_of(address: str, period: DateRange) -> list[Any]:
    """The trades' columns (rows, not ORM objects: a household's history can be long), newest first."""
    query = select(*_COLUMNS).where(or_(Trade.buyer == address, Trade.seller == address))
    if period.start is not None:
        query = query.where(Trade.timestamp >= period.start)
    if period.end is not None:
        query = query.where(Trade.timestamp < period.end)
    return list(db.session.execute(query.order_by(Trade.block_number.desc(), Trade.log_index.desc())))


def my_trades(address: str, period: DateRange | None = None, tariffs: tariff_history.TariffHistory | None = None,
              ) -> MyTrades:  # fmt: skip
    """Every trade of `address` in `period` (local days), newest first, with its grid comparison and the totals."""
    period = period or DateRange()
    trades = _trades_of(address, period)
    history = tariffs or tariff_history.load()
    claims = _auction_claims(trades)
    rows: list[TradeRow] = []
    for t in trades:
        if t.buyer == address:
            rows.append(_row(t, "buy", history, claims))
        if t.seller == address:
            rows.append(_row(t, "sell", history, claims))
    totals = Totals()
    for row in rows:
        totals.add(row)
    return MyTrades(rows, totals, history.source, period)


def _auction_claims(trades: list[Any]) -> dict[int, tuple[int | None, Tariffs | None]]:
    """{auction order id: (money its claim moved, its round's tariffs)} for the auction fills among `trades`."""
    ids = [t.buy_order_id if t.buy_order_id is not None else t.sell_order_id for t in trades if t.venue == "auction"]
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    orders = db.session.execute(select(AuctionOrder.order_id, AuctionOrder.round_id, AuctionOrder.money)
                                .where(AuctionOrder.order_id.in_(ids))).all()  # fmt: skip
    rounds = {r.round_id: Tariffs(int(r.retail_price), int(r.feed_in_tariff)) for r in db.session.execute(
        select(AuctionRound.round_id, AuctionRound.retail_price, AuctionRound.feed_in_tariff)
        .where(AuctionRound.round_id.in_({o.round_id for o in orders}), AuctionRound.retail_price > 0))}  # fmt: skip
    return {o.order_id: (o.money, rounds.get(o.round_id)) for o in orders}


def _row(t: Any, side: str, history: tariff_history.TariffHistory,
         claims: dict[int, tuple[int | None, Tariffs | None]]) -> TradeRow:  # fmt: skip
    price, wh = int(t.price), int(t.amount_wh)
    money = cost_units(price, wh)
    tariffs, source = history.at(t.block_number, t.log_index), history.source
    counterparty: str | None = t.seller if side == "buy" else t.buyer
    if t.venue == "auction":
        counterparty = None
        order_id = t.buy_order_id if t.buy_order_id is not None else t.sell_order_id
        claimed, round_tariffs = claims.get(order_id if order_id is not None else -1, (None, None))
        if claimed is not None:
            money = int(claimed)
        if round_tariffs is not None:
            tariffs, source = round_tariffs, "round"
    grid = vs = None
    if tariffs is not None:
        grid = cost_units(tariffs.retail if side == "buy" else tariffs.feed_in, wh)
        vs = grid - money if side == "buy" else money - grid
    return TradeRow(
        int(t.timestamp),
        t.venue,
        side,
        counterparty,
        price,
        wh,
        money,
        tariffs,
        source if tariffs else "none",
        t.tx_hash,
        int(t.block_number),
        int(t.log_index),
        grid,
        vs,
    )


def row_dict(row: TradeRow) -> dict[str, object]:
    """A trade as the API answers it (base units: Wh, settlement units, units per kWh)."""
    return {
        "timestamp": row.timestamp, "venue": row.venue, "side": row.side, "counterparty": row.counterparty,
        "price": row.price, "amount_wh": row.amount_wh, "money": row.money,
        "retail_price": row.tariffs.retail if row.tariffs else None,
        "feed_in_tariff": row.tariffs.feed_in if row.tariffs else None, "tariff_source": row.tariff_source,
        "grid_value": row.grid_value, "vs_grid": row.vs_grid, "tx_hash": row.tx_hash, "block": row.block_number,
    }  # fmt: skip


CSV_COLUMNS = ("time_local", "timestamp", "venue", "side", "counterparty", "price_units_per_kwh", "price_sen_per_kwh",
               "amount_wh", "amount_kwh", "money_units", "money_myr", "retail_price", "feed_in_tariff",
               "tariff_source", "grid_value_units", "vs_grid_units", "vs_grid_myr", "tx_hash", "block")  # fmt: skip


def to_csv(rows: list[TradeRow], tz: tzinfo) -> str:
    """The rows as CSV (one header line); exact decimals, local time with its offset (ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        local = datetime.fromtimestamp(r.timestamp, UTC).astimezone(tz).isoformat(timespec="seconds")
        writer.writerow([
            local, r.timestamp, r.venue, r.side, r.counterparty or "auction pool", r.price, _dec(r.price, 4),
            r.amount_wh, _dec(r.amount_wh, 3), r.money, _dec(r.money, 6),
            r.tariffs.retail if r.tariffs else "", r.tariffs.feed_in if r.tariffs else "", r.tariff_source,
            "" if r.grid_value is None else r.grid_value, "" if r.vs_grid is None else r.vs_grid,
            "" if r.vs_grid is None else _dec(r.vs_grid, 6), r.tx_hash, r.block_number,
        ])  # fmt: skip
    return out.getvalue()


def _dec(value: int, places: int) -> str:
    """An integer of base units as an exact decimal: _dec(675000, 6) == '0.675000', _dec(-5, 3) == '-0.005'."""
    sign, value = ("-" if value < 0 else ""), abs(int(value))
    scale = 10**places
    return f"{sign}{value // scale}.{value % scale:0{places}d}"


# ---------------------------------------------------------------------- market price and volume
@dataclass
class Bucket:
    start: int
    label: str
    volume_wh: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VENUES, 0))
    value: int = 0  # sum of price x Wh (for the volume-weighted price)
    trades: int = 0
    low: int | None = None
    high: int | None = None

    @property
    def total_wh(self) -> int:
        return sum(self.volume_wh.values())

    @property
    def avg_price(self) -> int | None:
        """Volume-weighted average price, units per kWh (floor)."""
        return self.value // self.total_wh if self.total_wh else None

    def add(self, venue: str, price: int, wh: int) -> None:
        self.volume_wh[venue] = self.volume_wh.get(venue, 0) + wh
        self.value += price * wh
        self.trades += 1
        self.low = price if self.low is None else min(self.low, price)
        self.high = price if self.high is None else max(self.high, price)

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "label": self.label, "volume_wh": self.total_wh,
                "volume_by_venue_wh": dict(self.volume_wh), "avg_price": self.avg_price, "trades": self.trades,
                "low_price": self.low, "high_price": self.high}  # fmt: skip


def market_history(bucket: str, tz: tzinfo, now: int | None = None) -> list[Bucket]:
    """Local trading per bucket over its window (WINDOWS), oldest first: order-book and offer fills counted once
    each, auction rounds once each at their clearing price and volume (at the end of their bidding window)."""
    now = int(now if now is not None else time.time())
    since = bucket_start(now - WINDOWS[bucket], bucket, tz)
    buckets: dict[int, Bucket] = {}

    def at(ts: int) -> Bucket:
        start = bucket_start(ts, bucket, tz)
        if start not in buckets:
            buckets[start] = Bucket(start, bucket_label(start, bucket, tz))
        return buckets[start]

    fills = db.session.execute(select(Trade.venue, Trade.price, Trade.amount_wh, Trade.timestamp).where(
        Trade.venue != "auction", Trade.timestamp >= since))  # fmt: skip
    for venue, price, wh, ts in fills:
        at(int(ts)).add(venue, int(price), int(wh))
    rounds = db.session.execute(select(AuctionRound.clearing_price, AuctionRound.volume_wh, AuctionRound.end).where(
        AuctionRound.status == "cleared", AuctionRound.volume_wh > 0, AuctionRound.end >= since,
        ))  # fmt: skip
    for price, wh, end in rounds:
        at(int(end)).add("auction", int(price or 0), int(wh))
    return [buckets[k] for k in sorted(buckets)]
