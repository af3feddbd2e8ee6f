"""Order-book trading shared by the market page and the API: place, cancel, prepare (browser wallets), history.

The placement path is kept lean for load: the key is already unlocked in memory, the nonce is counted locally,
the level hint is read from the chain at placement (OrderBook.findHint: a depth snapshot is stale under load), the
gas limit is the bound for any reachable book (place_gas), one simulation catches reverts with their reason
(PREFLIGHT; off: no simulation, the outcome then comes from /api/v1/tx/<hash>), and the receipt is awaited only when
the caller asks (wait=True).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from energy_chain.approvals import approve_and_retry
from energy_chain.codec import calldata
from energy_chain.orders import CANCEL_GAS, DEFAULT_MAX_FILLS, OrderBookClient, Side, cost, place_gas
from webapp.chain.messages import register
from webapp.errors import TransactionRejected, UserError
from webapp.extensions import db
from webapp.models import Meter, Order, Trade, User
from webapp.services import book
from webapp.services.context import chain, signer_for
from webapp.text import Text

BOOK = book.BOOK
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
MAX_FILLS = DEFAULT_MAX_FILLS  # resting orders one placement visits at most (ORDER_BOOK_MAX_FILLS)
DEPTH_LEVELS = book.DEPTH_LEVELS

register({
    "OrderBookInsufficientBalance": Text("Insufficient balance: you have {balance} but this order needs {needed}."),
    "OrderBookInsufficientAllowance": Text("The market may not move enough of your tokens yet "
                                           "(allowance {allowance}, needed {needed}). Try again in a moment."),
    "OrderBookPriceTooHigh": Text("Price out of range: at most {maxPrice}."),
    "OrderBookAmountBelowMinimum": Text("The amount is below the market minimum of {minAmount}."),
    "OrderBookAmountTooLarge": Text("The amount is above the market maximum of {maxAmount}."),
    "OrderBookZeroCost": Text("Price times amount rounds to zero: raise the price or the amount."),
    "OrderBookZeroPrice": Text("Price out of range: it must be greater than zero."),
    "OrderBookZeroAmount": Text("The amount must be greater than zero."),
    "OrderBookExpired": Text("The expiry is already in the past."),
    "OrderBookExpiryTooLarge": Text("The expiry is too far in the future."),
    "OrderBookTransferFailed": Text("A token transfer was refused; your order was not placed."),
    "OrderBookOrderNotOpen": Text("Order {orderId} is no longer open."),
    "OrderBookNotOwner": Text("Order {orderId} is not yours."),
    "OrderBookUnknownOrder": Text("There is no order {orderId}."),
})  # fmt: skip


@dataclass(frozen=True)
class OrderResult:
    """What a placement did, read from its receipts' events (one transaction, or a sweep continued in follow-ups).

    `order_id` is the first order placed; when a sweep reached the per-transaction fill cap the contract cancelled
    its remainder (reason CapReached) and the service placed that remainder again as a new order, so `order_ids`
    lists every order of the sweep and `resting_id` the one left in the book (if any). `resting_wh` rests in the
    book, `unplaced_wh` was cancelled by the cap after the last follow-up allowed, `dust_wh` was below the market
    minimum and did not rest."""

    tx_hash: str
    status: str  # "pending" | "success"
    order_id: int | None = None
    filled_wh: int = 0
    fills: tuple[dict[str, Any], ...] = ()
    order_ids: tuple[int, ...] = ()
    tx_hashes: tuple[str, ...] = ()
    resting_id: int | None = None
    resting_wh: int = 0
    unplaced_wh: int = 0
    dust_wh: int = 0
    self_trade_cancelled: tuple[int, ...] = ()
    message: str | None = None  # what a client must know beyond the figures (a sweep not continued)

    @property
    def cost(self) -> int:
        return sum(f["cost"] for f in self.fills)

    def as_dict(self) -> dict[str, Any]:
        """The API's answer. While pending nothing is known of the outcome yet: its figures are null, never 0."""
        known = self.status != "pending"
        figures = {"order_id": self.order_id, "filled_wh": self.filled_wh, "fills": list(self.fills),
                   "order_ids": list(self.order_ids), "tx_hashes": list(self.tx_hashes),
                   "resting_order_id": self.resting_id, "resting_wh": self.resting_wh,
                   "unplaced_wh": self.unplaced_wh, "dust_wh": self.dust_wh,
                   "self_trade_cancelled": list(self.self_trade_cancelled)}  # fmt: skip
        return {"tx_hash": self.tx_hash, "status": self.status,
                **{k: (v if known else None) for k, v in figures.items()}, "message": self.message}  # fmt: skip


# OrderCancelled reasons (IOrderBook.CancelReason)
CANCEL_OWNER, CANCEL_SELF_TRADE, CANCEL_CAP_REACHED, CANCEL_DUST = range(4)
# A sweep that reaches the fill cap continues in at most this many follow-up transactions (each visits MAX_FILLS).
SWEEP_FOLLOW_UPS = 4


def _token_for(side: Side) -> str:
    return "settlement" if side == Side.BUY else "energy"


def _client() -> OrderBookClient:
    service = chain()
    service.contract(BOOK)  # raises a clear "not deployed" error first
    return OrderBookClient(service.client, BOOK)


def _side(side: str) -> Side:
    if side not in SIDES:
        raise UserError("Side must be 'buy' or 'sell'.", "invalid_side")
    return SIDES[side]


def place_order(user: User, side: str, price: int, amount_wh: int, expiry_minutes: int | None = None,
                wait: bool = False, follow_ups: int | None = None,
                expiry_at: int | None = None) -> OrderResult:  # fmt: skip
    """Place an order. With `wait`, a sweep that the fill cap stopped while it still crosses continues: the
    remainder the contract cancelled (CapReached) is placed again, up to `follow_ups` more transactions, and the
    result says exactly what happened (from the receipts' events). Without `wait` only the first transaction is
    sent (its outcome, cap included, comes from /api/v1/tx/<hash>)."""
    s = _side(side)
    follow_ups = SWEEP_FOLLOW_UPS if follow_ups is None else follow_ups
    expiry = int(time.time()) + 60 * expiry_minutes if expiry_minutes else 0
    if expiry_at is not None:  # an absolute expiry (unix seconds; webapp.services.offers: a taker that never rests)
        expiry = expiry_at
    first = _place_once(user, s, price, amount_wh, expiry, wait)
    if isinstance(first, str):
        return OrderResult(tx_hash=first, status="pending", message=_not_waited(first))
    results = [first]
    while results[-1]["cap_cancelled_wh"] and len(results) <= follow_ups:
        follow = _place_once(user, s, price, results[-1]["cap_cancelled_wh"], expiry, True)
        assert not isinstance(follow, str)
        results.append(follow)
    book.invalidate()  # the next page shows these orders
    return _sweep_result(results, continued=True)


def _not_waited(tx_hash: str) -> str:
    return _("Sent; not mined yet. One transaction fills at most %(max_fills)d resting orders: if this order crosses "
             "more, the contract cancels its remainder (OrderCancelled, reason CapReached) and, because this request "
             "did not wait, the server does not place it again. GET /api/v1/orders/placement/%(tx_hash)s tells what "
             "was filled, what rests and what was not placed; send wait=true to have a capped sweep continued (up "
             "to %(follow_ups)d more transactions).", max_fills=MAX_FILLS, tx_hash=tx_hash,
             follow_ups=SWEEP_FOLLOW_UPS)  # fmt: skip


def _sweep_result(results: list[dict[str, Any]], continued: bool) -> OrderResult:
    """One OrderResult from a placement's transactions (`_placement` of each, in order). `continued`: the caller
    placed a capped remainder again (up to the follow-ups allowed), else nothing was placed after these."""
    first, last = results[0], results[-1]
    fills = tuple(f for r in results for f in r["fills"])
    message = None
    if last["cap_cancelled_wh"]:
        values = {"wh": last["cap_cancelled_wh"], "max_fills": MAX_FILLS, "n": len(results)}
        if continued:
            message = _("%(wh)d Wh was not placed: the sweep reached the fill cap (%(max_fills)d resting orders per "
                        "transaction) in transaction %(n)d, the last follow-up allowed, and the contract cancelled "
                        "the rest; place it again to continue.", **values)  # fmt: skip
        else:
            message = _("%(wh)d Wh was not placed: the sweep reached the fill cap (%(max_fills)d resting orders per "
                        "transaction) in transaction %(n)d and the contract cancelled the rest; it was not placed "
                        "again. Place it again to continue.", **values)  # fmt: skip
    return OrderResult(
        tx_hash=first["tx_hash"], status="success", order_id=first["order_id"],
        filled_wh=sum(f["amount_wh"] for f in fills), fills=fills,
        order_ids=tuple(r["order_id"] for r in results), tx_hashes=tuple(r["tx_hash"] for r in results),
        resting_id=last["order_id"] if last["resting_wh"] else None, resting_wh=last["resting_wh"],
        unplaced_wh=last["cap_cancelled_wh"], dust_wh=sum(r["dust_wh"] for r in results),
        self_trade_cancelled=tuple(i for r in results for i in r["self_trade"]), message=message,
    )  # fmt: skip


def placement(tx_hash: str) -> dict[str, Any]:
    """What one order-book placement transaction did (a placement sent without waiting): pending, failed (with the
    reason) or its outcome, the fill cap's cancellation included. Nothing is continued here."""
    service = chain()
    status = service.tx_status(tx_hash)  # 404 for a hash the node does not know
    if status["status"] != "success":
        return status
    client = _client()
    with service.guard():
        receipt = service.client.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    placed = [e for e in client.decode(receipt) if e.name == "OrderPlaced"]
    if not placed:
        raise UserError(_("That transaction placed no order in the order book."), "not_a_placement", 404)
    result = _sweep_result([_placement(client, receipt, int(placed[0].args["amount"]))], continued=False)
    return {**result.as_dict(), "block": status["block"]}


def _place_once(user: User, s: Side, price: int, amount_wh: int, expiry: int, wait: bool) -> str | dict[str, Any]:
    """One placeOrder transaction. Its hint is read from the chain now; one that goes stale before mining (levels
    landed in between) costs a little gas, never the order: the book's price index finds the position. A revert
    for any other reason is known here with `wait` or the preflight simulation; a transaction sent without either
    reports it at /api/v1/tx/<hash>."""
    signer = signer_for(user)
    service = chain()
    client = _client()
    token = _token_for(s)
    # The gas limit is the bound for any book the chain can reach before mining, never an estimate of today's book.
    gas = place_gas(MAX_FILLS)

    # The hint comes from the chain, not from the depth snapshot (stale under load, and only its first levels): a
    # good hint saves the walk; any hint places the order.
    with service.guard(token):
        hint = client.hint_for(s, price)

    def approve() -> None:
        with service.guard():
            client.ensure_approvals(signer)

    args = (int(s), price, amount_wh, expiry, MAX_FILLS, hint)

    def send() -> str | dict[str, Any]:
        if wait or current_app.config["PREFLIGHT"]:
            with service.guard(token):  # simulate first: a revert is reported at once and no nonce is spent
                service.client.estimate_gas(client.contract.functions.placeOrder(*args), signer.address)
        return service.send(signer, BOOK, "placeOrder", args, wait=wait, token=token, gas=gas)

    result = approve_and_retry(send, approve, (TransactionRejected,))
    if isinstance(result, str):
        return result
    return _placement(client, result, amount_wh)


def _placement(client: OrderBookClient, receipt: dict[str, Any], amount_wh: int) -> dict[str, Any]:
    """One placement's outcome from its receipt: its order, fills, and what happened to its remainder."""
    events = client.decode(receipt)
    order_id = next(int(e.args["id"]) for e in events if e.name == "OrderPlaced")
    fills = [{"maker_id": f.maker_id, "price": f.price, "amount_wh": f.amount, "cost": f.cost}
             for f in client.fills(events) if f.taker_id == order_id]  # fmt: skip
    filled = sum(f["amount_wh"] for f in fills)
    cap = dust = 0
    self_trade = []
    for e in events:
        if e.name != "OrderCancelled":
            continue
        if int(e.args["id"]) == order_id:
            reason = int(e.args["reason"])
            if reason == CANCEL_CAP_REACHED:
                cap += int(e.args["remaining"])
            elif reason == CANCEL_DUST:
                dust += int(e.args["remaining"])
        elif int(e.args["reason"]) == CANCEL_SELF_TRADE:
            self_trade.append(int(e.args["id"]))
    tx_hash = receipt["transactionHash"]
    tx_hash = tx_hash.to_0x_hex() if hasattr(tx_hash, "to_0x_hex") else str(tx_hash)
    return {"order_id": order_id, "tx_hash": tx_hash, "fills": fills, "cap_cancelled_wh": cap, "dust_wh": dust,
            "resting_wh": amount_wh - filled - cap - dust, "self_trade": self_trade}  # fmt: skip


def prepare_order(address: str, side: str, price: int, amount_wh: int, expiry: int = 0) -> dict[str, Any]:
    """The unsigned placeOrder transaction for a browser wallet (EIP-1193), simulated from its address first."""
    service = chain()
    s = _side(side)
    with service.guard(_token_for(s)):
        client = _client()
        hint = client.hint_for(s, price)
        fn = client.place_function(s, price, amount_wh, expiry, MAX_FILLS, hint)
        gas = service.client.estimate_gas(fn, address)
        tx = service.client.legacy_tx(fn.address, calldata(fn), gas, service.client.pending_nonce(address))
        fields = {k: hex(tx[k]) for k in ("value", "gas", "gasPrice", "nonce", "chainId")}
        return {"from": address, "to": tx["to"], "data": "0x" + tx["data"].hex(), **fields, "type": "0x0"}


def cancel_order(user: User, order_id: int, wait: bool = False) -> OrderResult:
    signer = signer_for(user)
    gas = None if (wait or current_app.config["PREFLIGHT"]) else CANCEL_GAS
    result = chain().send(signer, BOOK, "cancelOrder", (int(order_id),), wait=wait, gas=gas)
    if wait:
        book.invalidate()
    return _order_result(_client(), result)


def _order_result(client: OrderBookClient, result: str | dict[str, Any]) -> OrderResult:
    if isinstance(result, str):
        return OrderResult(tx_hash=result, status="pending")
    events = client.decode(result)
    placed = [int(e.args["id"]) for e in events if e.name == "OrderPlaced"]
    fills = tuple({"maker_id": f.maker_id, "price": f.price, "amount_wh": f.amount, "cost": f.cost}
                  for f in client.fills(events))  # fmt: skip
    tx_hash = result["transactionHash"]
    tx_hash = tx_hash.to_0x_hex() if hasattr(tx_hash, "to_0x_hex") else str(tx_hash)
    return OrderResult(tx_hash=tx_hash, status="success", order_id=placed[0] if placed else None,
                       filled_wh=sum(f["amount_wh"] for f in fills), fills=fills)  # fmt: skip


def depth(levels: int = DEPTH_LEVELS) -> dict[str, list[dict[str, int]]]:
    return book.depth(levels)


def escrow(orders: list[Order]) -> dict[str, int]:
    """What the book holds for these open orders (returned on cancel): energy of sells, money of buys."""
    return {
        "energy_wh": sum(o.remaining_wh for o in orders if o.side == "sell"),
        "money": sum(cost(o.price, o.remaining_wh) for o in orders if o.side == "buy"),
    }


def recent_trades(limit: int = 20, address: str | None = None) -> list[Trade]:
    query = select(Trade).order_by(Trade.block_number.desc(), Trade.log_index.desc()).limit(limit)
    if address:
        query = query.where(or_(Trade.buyer == address, Trade.seller == address))
    return list(db.session.scalars(query))


def open_orders(address: str, limit: int = 100) -> list[Order]:
    query = (select(Order).where(Order.maker == address, Order.status == "open")
             .order_by(Order.order_id.desc()).limit(limit))  # fmt: skip
    return list(db.session.scalars(query))


def order_history(address: str, limit: int = 100) -> list[Order]:
    query = select(Order).where(Order.maker == address).order_by(Order.order_id.desc()).limit(limit)
    return list(db.session.scalars(query))


def default_side(address: str) -> str:
    """The side an order form starts on: "sell" for a prosumer (a prosumer meter, or energy to sell and no money to
    buy with), else "buy"."""
    kinds = set(db.session.scalars(select(Meter.kind).where(Meter.owner == address, Meter.active.is_(True))))
    if "prosumer" in kinds:
        return "sell"
    if kinds:
        return "buy"
    try:
        balances = chain().balances(address)
    except UserError:
        return "buy"
    return "sell" if balances.energy_wh >= 1000 and balances.settlement_units < 1_000_000 else "buy"
