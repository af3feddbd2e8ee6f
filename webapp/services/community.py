"""The community's grid state now: the latest settled interval's readings (ReadingRecorded, indexed) summed over
every meter — surplus offered to the community, deficit, how much of the deficit came from the households' own
tokens and how much from the grid — the last intervals for a chart, the last order-book or offer trade, the last
cleared auction round (its price, volume and grid fallback: unmatched demand imported at retail, unmatched supply
exported at feed-in) and the grid tariffs now (from the auction contract)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from energy_chain.clearing import Tariffs
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import AuctionRound, Meter, Reading, Trade
from webapp.services.auctions import grid_tariffs
from webapp.services.context import chain

RECENT_INTERVALS = 24


@dataclass(frozen=True)
class Interval:
    interval: int
    meters: int  # meters that reported it
    surplus_wh: int  # minted: generation above consumption
    own_tokens_wh: int  # deficit covered by the households' own energy tokens (bought or kept)
    grid_wh: int  # deficit drawn from the grid

    @property
    def deficit_wh(self) -> int:
        return self.own_tokens_wh + self.grid_wh

    @property
    def net_wh(self) -> int:
        """Positive: the community made more than it used in the interval."""
        return self.surplus_wh - self.deficit_wh

    def as_dict(self) -> dict[str, int]:
        return {"interval": self.interval, "meters": self.meters, "surplus_wh": self.surplus_wh,
                "deficit_wh": self.deficit_wh, "own_tokens_wh": self.own_tokens_wh, "grid_wh": self.grid_wh,
                "net_wh": self.net_wh}  # fmt: skip


@dataclass
class GridState:
    latest: Interval | None
    recent: list[Interval]  # oldest first, at most RECENT_INTERVALS
    active_meters: int
    last_trade: Trade | None
    last_round: AuctionRound | None
    tariffs: Tariffs | None
    tariffs_error: str | None = None


def intervals(limit: int = RECENT_INTERVALS) -> list[Interval]:
    """The newest `limit` settled intervals summed over the community, oldest first."""
    rows = db.session.execute(
        select(Reading.interval, func.count(Reading.id), func.sum(Reading.minted_wh), func.sum(Reading.burned_wh),
               func.sum(Reading.grid_wh))
        .group_by(Reading.interval).order_by(Reading.interval.desc()).limit(limit)
    ).all()  # fmt: skip
    return [Interval(int(i), int(n), int(m or 0), int(b or 0), int(g or 0)) for i, n, m, b, g in reversed(rows)]


def grid_state() -> GridState:
    recent = intervals()
    active = int(db.session.scalar(select(func.count()).select_from(Meter).where(Meter.active.is_(True))) or 0)
    last_trade = db.session.scalar(select(Trade).where(Trade.venue != "auction")
                                   .order_by(Trade.block_number.desc(), Trade.log_index.desc()).limit(1))  # fmt: skip
    last_round = db.session.scalar(select(AuctionRound).where(AuctionRound.status == "cleared")
                                   .order_by(AuctionRound.round_id.desc()).limit(1))  # fmt: skip
    tariffs, error = grid_tariffs_now()
    return GridState(recent[-1] if recent else None, recent, active, last_trade, last_round, tariffs, error)


def grid_tariffs_now() -> tuple[Tariffs | None, str | None]:
    """The auction's tariffs now, or why there are none (chain unreachable, or no auction deployed)."""
    try:
        with chain().guard():
            chain().client.deployment  # noqa: B018 - reading it raises when the chain or the record is missing
        tariffs = grid_tariffs()
    except UserError as exc:
        return None, exc.message
    if tariffs is None:
        return None, _("No auction contract is deployed.")
    return tariffs, None
