"""How far a typed price is from the grid's tariffs: the dashboard warns (and asks for a second confirmation) before
a buy far above the grid retail price or a sell far below the feed-in tariff, and the depth chart's price axis is a
window around the grid band so that one outlier does not flatten the chart (outliers are listed, not drawn)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from energy_chain.clearing import Tariffs
from webapp.errors import UserError
from webapp.services import auctions
from webapp.text import Text
from webapp.units import fmt_price

FAR_ABOVE_RETAIL = 2.0  # a price above 2x the grid retail price: the grid sells the same kWh for half
FAR_BELOW_FEED_IN = 0.5  # a price below half the feed-in tariff: the grid pays twice as much
WINDOW_MARGIN = 0.5  # the chart shows [feed-in - m*(retail - feed-in), retail + m*(retail - feed-in)]


@dataclass(frozen=True)
class Band:
    feed_in: int
    retail: int

    @classmethod
    def of(cls, tariffs: Tariffs | None) -> Band | None:
        if tariffs is None or not 0 < tariffs.feed_in < tariffs.retail:
            return None
        return cls(tariffs.feed_in, tariffs.retail)

    @property
    def high(self) -> int:
        """Prices above this are far above retail."""
        return int(self.retail * FAR_ABOVE_RETAIL)

    @property
    def low(self) -> int:
        """Prices below this are far below feed-in."""
        return int(self.feed_in * FAR_BELOW_FEED_IN)

    def window(self) -> tuple[int, int]:
        """The depth chart's price window (units/kWh)."""
        margin = int((self.retail - self.feed_in) * WINDOW_MARGIN)
        return max(0, self.feed_in - margin), self.retail + margin


def unusual_price(side: str, price: int, band: Band | None) -> Text | None:
    """Why `price` deserves a second look, or None when it is within reason (or no tariffs are known): a buy far
    above the grid retail price overpays, a sell far below the feed-in tariff undersells. (A buy below feed-in or a
    sell above retail only waits in the book, and costs nothing.)"""
    if band is None:
        return None
    if side == "buy" and price > band.high:
        times = f"{price / band.retail:.1f}\u00d7"
        return Text("%(price)s is %(times)s the grid retail price (%(retail)s): buying from the grid would cost less.",
                    price=fmt_price(price), times=times, retail=fmt_price(band.retail))  # fmt: skip
    if side == "sell" and price < band.low:
        return Text("%(price)s is far below the grid feed-in tariff (%(feed_in)s): the grid pays more for the same"
                    " energy.", price=fmt_price(price), feed_in=fmt_price(band.feed_in))  # fmt: skip
    return None


def grid_band() -> Band | None:
    """Today's band from the auction contract's tariffs (None: no auction contract, no tariffs, chain down)."""
    try:
        return Band.of(auctions.grid_tariffs())
    except UserError:
        return None


def require_confirmed(side: str, price: int, confirmed: bool) -> None:
    """The API's form of the dashboard's second confirmation: a price outside the band is placed only with
    `confirm_unusual_price: true`; without it a 400 (code unusual_price) says why and how to confirm."""
    if confirmed:
        return
    warning = unusual_price(side, price, grid_band())
    if warning:
        how = _('Check the price; to place it anyway send it again with "confirm_unusual_price": true.')
        raise UserError(f"{warning} {how}", "unusual_price")
