"""Reference clearing of the periodic double auction, in pure Python (no chain).

The same rule as contracts/DoubleAuction.sol (see its interface NatSpec and docs/auction.md): the property tests
check that the contract agrees with `clear` on every order, and the webapp draws supply/demand curves with it.
Prices are settlement units per kWh, amounts Wh; a buyer pays ceil(price*Wh/1000), a seller gets floor(price*Wh/1000).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from energy_chain.enums import Side


@dataclass(frozen=True)
class Tariffs:
    """Grid tariffs of a round, settlement units per kWh."""

    retail: int
    feed_in: int


@dataclass(frozen=True)
class Order:
    """An order as the owner gave it: `price` is the limit before the grid band.

    Equal prices go by booking order (IDoubleAuction rule 2): `booked` is the order's place among its side's
    bookings, i.e. its reveal in a sealed round (1 = revealed first); 0 (open rounds) means booking follows the id.
    """

    id: int
    side: Side
    price: int
    amount_wh: int
    booked: int = 0

    @property
    def rank(self) -> int:
        """Booking rank among equal prices (lower = booked earlier): `booked`, or the id in open rounds."""
        return self.booked or self.id


@dataclass(frozen=True)
class Settlement:
    """What one order is paid on claim (same fields as IDoubleAuction.Settlement)."""

    fill_wh: int
    money: int
    money_refund: int
    energy_refund: int
    grid_wh: int


@dataclass
class ClearingResult:
    """Outcome of a round: uniform price, volume, every order's fill, marginal orders and grid fallback."""

    price: int
    volume_wh: int
    fills: dict[int, int] = field(default_factory=dict)
    marginal_bid: int = 0
    marginal_ask: int = 0
    imported_wh: int = 0
    exported_wh: int = 0
    steps: int = 0


def cost_rounded_up(price: int, amount_wh: int) -> int:
    """What a buyer pays or escrows."""
    return -(-price * amount_wh // 1000)


def cost_rounded_down(price: int, amount_wh: int) -> int:
    """What a seller receives."""
    return price * amount_wh // 1000


def effective_price(side: Side, price: int, tariffs: Tariffs) -> int:
    """Bids above retail count as bids at retail; asks below feed-in count as asks at feed-in."""
    if side == Side.BUY:
        return min(price, tariffs.retail)
    return max(price, tariffs.feed_in)


def precedes(side: Side, price_a: int, rank_a: int, price_b: int, rank_b: int) -> bool:
    """Whether order A is matched before order B on `side` (effective prices; ranks: booking order, `Order.rank`)."""
    if price_a == price_b:
        return rank_a < rank_b
    return price_a > price_b if side == Side.BUY else price_a < price_b


def sort_key(side: Side, price: int, rank: int) -> tuple[int, int]:
    """Sort key giving matching order: bids by price descending, asks ascending, then booking rank ascending."""
    return (-price if side == Side.BUY else price, rank)


def book_side(orders: Iterable[Order], side: Side, tariffs: Tariffs) -> list[Order]:
    """One side of the book in matching order, with effective prices (equal prices: earlier booked first)."""
    eff = [
        Order(o.id, o.side, effective_price(o.side, o.price, tariffs), o.amount_wh, o.booked)
        for o in orders
        if o.side == side
    ]
    return sorted(eff, key=lambda o: sort_key(side, o.price, o.rank))


BAND_DIVISOR = 10  # AuctionClearing.BAND_DIVISOR: the price band is a tenth of the volume-maximising trade


def band(volume_wh: int) -> int:
    """Wh at the margin that cannot move the price: max(1, volume // 10)."""
    return max(1, volume_wh // BAND_DIVISOR)


def _walk(bids: list[Order], asks: list[Order], target: int) -> tuple[int, int, dict[int, int], tuple | None, int]:
    """One walk from the top (DoubleAuction's clearing walk). `target` 0: the volume pass, trading while the book
    crosses. Otherwise the price walk: the pair trading unit `target` sets the price and the walk goes on while
    bid price >= clearing price >= ask price. Returns (volume, price, fills, last traded pair, steps)."""
    fills: dict[int, int] = {}
    i = j = volume = steps = price = 0
    bid_left = bids[0].amount_wh if bids else 0
    ask_left = asks[0].amount_wh if asks else 0
    marginal: tuple[Order, Order] | None = None
    while i < len(bids) and j < len(asks) and bids[i].price >= asks[j].price:
        if price and (bids[i].price < price or asks[j].price > price):
            break
        q = min(bid_left, ask_left)
        if not price and target and volume + q >= target:
            price = (bids[i].price + asks[j].price) // 2
        volume += q
        fills[bids[i].id] = fills.get(bids[i].id, 0) + q
        fills[asks[j].id] = fills.get(asks[j].id, 0) + q
        bid_left -= q
        ask_left -= q
        marginal = (bids[i], asks[j])
        steps += 1
        if bid_left == 0:
            i += 1
            bid_left = bids[i].amount_wh if i < len(bids) else 0
        if ask_left == 0:
            j += 1
            ask_left = asks[j].amount_wh if j < len(asks) else 0
    return volume, price, fills, marginal, steps


def clear(orders: Iterable[Order], tariffs: Tariffs) -> ClearingResult:
    """Clear one round (IDoubleAuction rules 3 to 5, docs/auction.md): the volume pass finds Q, the most the book
    can trade; the pair trading unit Q - band(Q) + 1 sets the uniform price (midpoint of its bid and ask, floored),
    so orders in the last band of the curves cannot move it; then everything that crosses at that price trades."""
    orders = list(orders)
    bids = book_side(orders, Side.BUY, tariffs)
    asks = book_side(orders, Side.SELL, tariffs)
    max_volume, _, _, _, steps = _walk(bids, asks, 0)
    volume, price, traded, marginal, more = (0, 0, {}, None, 0)
    if max_volume:
        volume, price, traded, marginal, more = _walk(bids, asks, max_volume - band(max_volume) + 1)
    return ClearingResult(
        price=price,
        volume_wh=volume,
        fills={o.id: traded.get(o.id, 0) for o in orders},
        marginal_bid=marginal[0].id if marginal else 0,
        marginal_ask=marginal[1].id if marginal else 0,
        imported_wh=sum(o.amount_wh for o in bids) - volume,
        exported_wh=sum(o.amount_wh for o in asks) - volume,
        steps=steps + more,
    )


def deposit_for(order: Order, tariffs: Tariffs) -> tuple[int, int]:
    """(money, energy) an open order escrows: bids ceil(effective price * Wh / 1000), asks their Wh."""
    if order.side == Side.BUY:
        return cost_rounded_up(effective_price(order.side, order.price, tariffs), order.amount_wh), 0
    return 0, order.amount_wh


def settle(
    order: Order, result: ClearingResult, tariffs: Tariffs, deposits: tuple[int, int] | None = None
) -> Settlement:
    """What `claim` pays for a booked order; `deposits` (money, energy) default to what an open order escrows."""
    money_dep, energy_dep = deposits if deposits is not None else deposit_for(order, tariffs)
    fill = result.fills.get(order.id, 0)
    if order.side == Side.BUY:
        paid = cost_rounded_up(result.price, fill)
        return Settlement(fill, paid, money_dep - paid, energy_dep, order.amount_wh - fill)
    received = cost_rounded_down(result.price, fill)
    return Settlement(fill, received, money_dep, energy_dep - fill, order.amount_wh - fill)


def curves(orders: Iterable[Order], tariffs: Tariffs) -> dict[str, list[tuple[int, int]]]:
    """Step curves for a chart: demand (bids) and supply (asks) as (cumulative Wh, effective price) corners."""
    orders = list(orders)
    out: dict[str, list[tuple[int, int]]] = {}
    for name, side in (("demand", Side.BUY), ("supply", Side.SELL)):
        points: list[tuple[int, int]] = []
        total = 0
        for o in book_side(orders, side, tariffs):
            points.append((total, o.price))
            total += o.amount_wh
            points.append((total, o.price))
        out[name] = points
    return out
