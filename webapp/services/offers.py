"""Individual orders of the order book (not only summed levels), and taking one of them: "buy from this offer" /
"sell to this bid".

The list comes from the chain: the best levels of the shared depth snapshot (webapp.services.book), then each
level's orders in time priority (OrderBook.levelOrders) and each order's record (OrderBook.order), read in two
JSON-RPC batches (energy_chain.calls.call_many).

Taking an order places a taker order on the other side at that order's price for up to its remaining amount, and
never leaves anything in the book: the taker carries an expiry a few seconds after the chain's latest block (it can
never fill later), and whatever did not fill at once is cancelled right after (its escrow returned). The contract
matches by price-time priority, so orders at a better price, and earlier orders at the same price, fill first (at
their own better price): what was actually filled, from which order, comes from the receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import to_checksum_address
from flask_babel import gettext as _

from energy_chain.calls import call_many
from energy_chain.codec import calldata
from energy_chain.enums import Side, Status
from energy_chain.orders import OrderBookClient
from webapp.errors import UserError
from webapp.models import User
from webapp.services import book, trading
from webapp.services.context import chain
from webapp.units import fmt_kwh

BOOK = book.BOOK
LEVELS = 3  # best price levels per side whose orders are listed
PER_LEVEL = 6  # orders listed per level (time priority: the ones that fill first)
TAKER_EXPIRY_SECONDS = 15  # a taker order cannot fill later than this after the chain's latest block
SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}


@dataclass(frozen=True)
class Offer:
    """One open order of the book as the market page lists it."""

    id: int
    side: str  # "buy" (a bid) | "sell" (an ask)
    owner: str
    price: int
    amount_wh: int
    remaining_wh: int
    expiry: int  # unix seconds, 0 = never
    level: int  # 0 = the best price level of its side
    position: int  # 0 = first in its level's time priority
    mine: bool

    @property
    def taker_side(self) -> str:
        return "buy" if self.side == "sell" else "sell"


@dataclass(frozen=True)
class TakeResult:
    """What taking an order did, from the receipts."""

    order_id: int  # the order chosen
    taker_side: str
    price: int
    asked_wh: int
    fills: tuple[dict, ...] = ()
    chosen_wh: int = 0  # filled from the chosen order
    other_wh: int = 0  # filled from orders ahead of it (better price or earlier at the same price)
    cancelled_wh: int = 0  # the unfilled rest, cancelled at once (never rested)
    later_wh: int = 0  # filled by another trader in the moment between the taker's placement and its cancel
    taker_ids: tuple[int, ...] = ()
    tx_hashes: tuple[str, ...] = field(default_factory=tuple)
    self_trade_cancelled: tuple[int, ...] = ()

    @property
    def filled_wh(self) -> int:
        """Filled by the taker's own transaction(s) (`later_wh` comes on top, at `price`)."""
        return self.chosen_wh + self.other_wh

    @property
    def cost(self) -> int:
        return sum(int(f["cost"]) for f in self.fills)


def _client() -> OrderBookClient:
    service = chain()
    service.contract(BOOK)  # raises a clear "not deployed" error first
    return OrderBookClient(service.client, BOOK)


def _latest_timestamp() -> int:
    service = chain()
    with service.guard():
        return int(service.client.w3.eth.get_block("latest")["timestamp"])


def listed(address: str | None, levels: int = LEVELS, per_level: int = PER_LEVEL) -> dict[str, list[Offer]]:
    """The orders of the best `levels` levels of each side ({"bids": [...], "asks": [...]}, best first, then time
    priority), at most `per_level` per level, open and not expired; `mine` marks those of `address`."""
    service = chain()
    out: dict[str, list[Offer]] = {"bids": [], "asks": []}
    if not service.has_contract(BOOK):
        return out
    with service.guard():
        client = _client()
        fns = client.contract.functions
        sides = [(name, side, [p for p, _a in book.levels(side)[:levels]])
                 for name, side in (("bids", Side.BUY), ("asks", Side.SELL))]  # fmt: skip
        wanted = [(name, side, lvl, price) for name, side, prices in sides for lvl, price in enumerate(prices)]
        pages = call_many(service.client, [fns.levelOrders(int(s), p, 0, per_level) for _n, s, _l, p in wanted])
        ids = [(w, pos, int(i)) for w, page in zip(wanted, pages, strict=True) if page.ok
               for pos, i in enumerate(page.value[0])]  # fmt: skip
        records = call_many(service.client, [fns.order(i) for _w, _pos, i in ids])
        now = _latest_timestamp()
    me = (address or "").lower()
    for ((name, side, lvl, _price), pos, _id), rec in zip(ids, records, strict=True):
        if not rec.ok:
            continue
        raw = rec.value
        owner = to_checksum_address(raw[1])  # eth-abi decodes addresses in lower case
        expiry, status = int(raw[7]), Status(raw[8])
        if status != Status.OPEN or (expiry and expiry <= now) or int(raw[5]) == 0:
            continue
        out[name].append(Offer(id=int(raw[0]), side=SIDE_NAMES[side], owner=owner, price=int(raw[3]),
                               amount_wh=int(raw[4]), remaining_wh=int(raw[5]), expiry=expiry, level=lvl,
                               position=pos, mine=owner.lower() == me))  # fmt: skip
    return out


def offer(order_id: int) -> Offer:
    """One open order by id (for the confirmation page), or UserError when it is gone."""
    service = chain()
    with service.guard():
        client = _client()
        if not 0 < order_id < int(client.contract.functions.nextOrderId().call()):  # order() reverts on those
            raise UserError(_("There is no order %(id)d.", id=order_id), "unknown_order", 404)
        o = client.order(order_id)
        now = _latest_timestamp()
    if o.status != Status.OPEN or o.remaining == 0 or (o.expiry and o.expiry <= now):
        raise UserError(_("Order #%(id)d is no longer open: it was filled, cancelled or has expired.", id=order_id),
                        "order_not_open", 409)  # fmt: skip
    return Offer(id=o.id, side=SIDE_NAMES[o.side], owner=o.owner, price=o.price, amount_wh=o.amount,
                 remaining_wh=o.remaining, expiry=o.expiry, level=0, position=0, mine=False)  # fmt: skip


@dataclass(frozen=True)
class TakerOrder:
    """The taker order that takes `order_id`: the one rule for custodial and browser-wallet users alike."""

    order_id: int  # the order chosen
    side: str  # the taker's side
    price: int  # the chosen order's price
    amount_wh: int
    expiry: int  # unix seconds: TAKER_EXPIRY_SECONDS after the chain's latest block


def taker_order(address: str, order_id: int, amount_wh: int | None = None) -> TakerOrder:
    """The taker order for buying from a sell order (or selling to a buy order) at its price, for up to its remaining
    amount (`amount_wh`, default all of it), expiring TAKER_EXPIRY_SECONDS after the latest block."""
    chosen = offer(order_id)
    if chosen.owner.lower() == address.lower():
        raise UserError(_("Order #%(id)d is your own: cancel it instead.", id=order_id), "own_order", 409)
    amount = chosen.remaining_wh if amount_wh is None else amount_wh
    if amount <= 0:
        raise UserError(_("The amount must be greater than zero."), "invalid_amount")
    if amount > chosen.remaining_wh:
        raise UserError(_("Order #%(id)d has only %(left)s left.", id=order_id, left=fmt_kwh(chosen.remaining_wh)),
                        "amount_too_large")  # fmt: skip
    return TakerOrder(order_id=order_id, side=chosen.taker_side, price=chosen.price, amount_wh=amount,
                      expiry=_latest_timestamp() + TAKER_EXPIRY_SECONDS)  # fmt: skip


def take(user: User, order_id: int, amount_wh: int | None = None) -> TakeResult:
    """Take one order with a taker order that never rests in the book (custodial: the server signs the taker order,
    then the cancel of whatever did not fill at once)."""
    t = taker_order(user.address, order_id, amount_wh)
    result = trading.place_order(user, t.side, t.price, t.amount_wh, wait=True, expiry_at=t.expiry)
    cancelled = later = 0
    if result.resting_id is not None and result.resting_wh:
        cancelled, later = _cancel_rest(user, result.resting_id, result.resting_wh)
    fills = tuple(result.fills)
    chosen_wh = sum(int(f["amount_wh"]) for f in fills if int(f["maker_id"]) == order_id)
    book.invalidate()
    return TakeResult(order_id=order_id, taker_side=t.side, price=t.price, asked_wh=t.amount_wh, fills=fills,
                      chosen_wh=chosen_wh, other_wh=result.filled_wh - chosen_wh, later_wh=later,
                      cancelled_wh=cancelled + result.unplaced_wh + result.dust_wh, taker_ids=result.order_ids,
                      tx_hashes=result.tx_hashes, self_trade_cancelled=result.self_trade_cancelled)  # fmt: skip


# ---------------------------------------------------------------------- browser wallets (EIP-1193)
# The same taker order, prepared for the wallet to sign (webapp.services.trading.prepare_order) and relayed through
# /api/v1/tx/raw. What did not fill at once cannot fill after its expiry, but its escrow stays reserved until the
# order is cancelled: so the result prepares that cancel too, for the wallet to sign as a second transaction.


def prepare_take(address: str, order_id: int, amount_wh: int | None = None) -> dict:
    """The unsigned taker order for a browser wallet, and what it is."""
    t = taker_order(address, order_id, amount_wh)
    tx = trading.prepare_order(address, t.side, t.price, t.amount_wh, t.expiry)
    return {"tx": tx, "order_id": t.order_id, "side": t.side, "price": t.price, "amount_wh": t.amount_wh,
            "expiry": t.expiry}  # fmt: skip


def taken(address: str, order_id: int, tx_hash: str) -> tuple[TakeResult, int | None, dict | None]:
    """What a browser wallet's mined taker order did, from its receipt: (the result; the taker order's id if part
    of it is still open (its unfilled rest); the unsigned cancelOrder for that rest, or None)."""
    placed = trading.placement(tx_hash)  # 404 unknown / not a placement; pending or failed: the status itself
    if placed.get("status") != "success":
        raise UserError(placed.get("message") or _("That transaction is not mined yet."), "not_mined", 409)
    taker_id = int(placed["order_id"])
    client = _client()
    with chain().guard():
        taker = client.order(taker_id)
    if taker.owner.lower() != address.lower():
        raise UserError(_("Order #%(id)d is not yours.", id=taker_id), "not_owner", 403)
    fills = tuple(placed["fills"])
    chosen_wh = sum(int(f["amount_wh"]) for f in fills if int(f["maker_id"]) == order_id)
    filled = int(placed["filled_wh"])
    rest = int(placed["resting_wh"] or 0)
    open_rest = taker.status == Status.OPEN and taker.remaining > 0
    later = rest - taker.remaining if open_rest else rest if taker.status == Status.FILLED else 0
    gone = rest if taker.status in (Status.CANCELLED, Status.EXPIRED) else 0  # cancelled or cleaned since: refunded
    result = TakeResult(order_id=order_id, taker_side=SIDE_NAMES[taker.side], price=taker.price,
                        asked_wh=taker.amount, fills=fills, chosen_wh=chosen_wh, other_wh=filled - chosen_wh,
                        later_wh=max(later, 0),
                        cancelled_wh=int(placed["unplaced_wh"] or 0) + int(placed["dust_wh"] or 0) + gone,
                        taker_ids=(taker_id,), tx_hashes=(tx_hash,),
                        self_trade_cancelled=tuple(placed["self_trade_cancelled"]))  # fmt: skip
    book.invalidate()
    if not open_rest:
        return result, None, None
    return result, taker_id, prepare_cancel(address, taker_id)


def prepare_cancel(address: str, taker_id: int) -> dict:
    """The unsigned cancelOrder(taker_id) for a browser wallet, simulated from its address first."""
    service = chain()
    with service.guard():
        client = _client()
        fn = client.contract.functions.cancelOrder(taker_id)
        gas = service.client.estimate_gas(fn, address)
        tx = service.client.legacy_tx(fn.address, calldata(fn), gas, service.client.pending_nonce(address))
    fields = {k: hex(tx[k]) for k in ("value", "gas", "gasPrice", "nonce", "chainId")}
    return {"from": address, "to": tx["to"], "data": "0x" + tx["data"].hex(), **fields, "type": "0x0"}


def _cancel_rest(user: User, taker_id: int, resting_wh: int) -> tuple[int, int]:
    """Cancel what of the taker order did not fill at once: (Wh cancelled, Wh that another trader's order filled
    in the moment between the placement and the cancel, at this order's price)."""
    client = _client()
    try:
        result = trading.cancel_order(user, taker_id, wait=True)
    except UserError:
        with chain().guard():
            o = client.order(taker_id)
        if o.status == Status.FILLED:
            return 0, resting_wh
        if o.status == Status.EXPIRED:  # someone removed it as expired: refunded, never filled further
            return resting_wh, 0
        raise
    service = chain()
    with service.guard():
        receipt = service.client.w3.eth.get_transaction_receipt(result.tx_hash)
    cancelled = sum(int(e.args["remaining"]) for e in client.decode(receipt)
                    if e.name == "OrderCancelled" and int(e.args["id"]) == taker_id)  # fmt: skip
    return cancelled, resting_wh - cancelled
