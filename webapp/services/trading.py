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
from sqlalchemy import or_, select

from energy_chain.approvals import approve_and_retry
from energy_chain.codec import calldata
from energy_chain.orders import CANCEL_GAS, DEFAULT_MAX_FILLS, OrderBookClient, Side, cost, place_gas
from webapp.chain.messages import register
from webapp.errors import TransactionRejected, UserError
from webapp.extensions import db
from webapp.models import Order, Trade, User
from webapp.services import book
from webapp.services.context import chain, signer_for

BOOK = book.BOOK
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
MAX_FILLS = DEFAULT_MAX_FILLS  # resting orders one placement visits at most (ORDER_BOOK_MAX_FILLS)
DEPTH_LEVELS = book.DEPTH_LEVELS

register({
    "OrderBookInsufficientBalance": "Insufficient balance: you have {balance} but this order needs {needed}.",
    "OrderBookInsufficientAllowance": "The market may not move enough of your tokens yet "
    "(allowance {allowance}, needed {needed}). Try again in a moment.",
    "OrderBookPriceTooHigh": "Price out of range: at most {maxPrice}.",
    "OrderBookAmountBelowMinimum": "The amount is below the market minimum of {minAmount}.",
    "OrderBookAmountTooLarge": "The amount is above the market maximum of {maxAmount}.",
    "OrderBookZeroCost": "Price times amount rounds to zero: raise the price or the amount.",
    "OrderBookZeroPrice": "Price out of range: it must be greater than zero.",
    "OrderBookZeroAmount": "The amount must be greater than zero.",
    "OrderBookExpired": "The expiry is already in the past.",
    "OrderBookExpiryTooLarge": "The expiry is too far in the future.",
    "OrderBookTransferFailed": "A token transfer was refused; your order was not placed.",
    "OrderBookOrderNotOpen": "Order {orderId} is no longer open.",
    "OrderBookNotOwner": "Order {orderId} is not yours.",
    "OrderBookUnknownOrder": "There is no order {orderId}.",
    "OrderBookHintTooFar": "The book moved while placing the order; please try again.",
})  # fmt: skip


@dataclass(frozen=True)
class OrderResult:
    tx_hash: str
    status: str  # "pending" | "success"
    order_id: int | None = None
    filled_wh: int = 0
    fills: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"tx_hash": self.tx_hash, "status": self.status, "order_id": self.order_id,
                "filled_wh": self.filled_wh, "fills": list(self.fills)}  # fmt: skip


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
                wait: bool = False) -> OrderResult:  # fmt: skip
    s = _side(side)
    signer = signer_for(user)
    service = chain()
    client = _client()
    expiry = int(time.time()) + 60 * expiry_minutes if expiry_minutes else 0
    token = _token_for(s)
    with service.guard(token):
        # The hint comes from the chain, not from the depth snapshot: a snapshot is stale under load and holds only
        # its first levels, so a wall of levels deeper than it (or added since) made every order below it revert.
        hint = client.hint_for(s, price)
    args = (int(s), price, amount_wh, expiry, MAX_FILLS, hint)
    # The gas limit is the bound for any book the chain can reach before mining, never an estimate of today's book.
    gas = place_gas(MAX_FILLS)

    def approve() -> None:
        with service.guard():
            client.ensure_approvals(signer)

    def send() -> str | dict[str, Any]:
        if wait or current_app.config["PREFLIGHT"]:
            with service.guard(token):  # simulate first: a revert is reported at once and no nonce is spent
                service.client.estimate_gas(client.contract.functions.placeOrder(*args), signer.address)
        return service.send(signer, BOOK, "placeOrder", args, wait=wait, token=token, gas=gas)

    result = approve_and_retry(send, approve, (TransactionRejected,))
    if wait:
        book.invalidate()  # the next page shows this order
    return _order_result(client, result)


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
