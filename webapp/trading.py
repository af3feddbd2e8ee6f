"""Order-book trading shared by the market page and the API: place, cancel, depth, recent trades.

The placement path is kept lean for load: the key is already unlocked in memory, the nonce is counted locally,
the level hint comes from a depth snapshot shared by all requests for up to a second (DEPTH_CACHE_SECONDS), one
simulation catches reverts with their reason (PREFLIGHT; off: a fixed gas limit and no simulation, the outcome then
comes from /api/v1/tx/<hash>), and the receipt is awaited only when the caller asks (wait=True).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from energy_chain.orders import CANCEL_GAS, DEFAULT_MAX_FILLS, place_gas
from webapp.chain.messages import register
from webapp.errors import TransactionRejected, UserError
from webapp.extensions import db
from webapp.models import Order, Trade, User
from webapp.views.helpers import chain, signer_for

BOOK = "OrderBook"
SIDES = {"buy": 0, "sell": 1}
SIDE_NAMES = {0: "buy", 1: "sell"}
MAX_FILLS = DEFAULT_MAX_FILLS  # resting orders one placement visits at most (ORDER_BOOK_MAX_FILLS)
DEPTH_LEVELS = 12
SNAPSHOT_LEVELS = 64  # levels per side kept in the shared snapshot (hints and the book shown on pages)


class DepthCache:
    """The best SNAPSHOT_LEVELS levels of each side, read at most once per `ttl` seconds by all requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sides: dict[int, tuple[float, list[tuple[int, int]]]] = {}

    def levels(self, side: int, ttl: float) -> list[tuple[int, int]]:
        now = time.monotonic()
        cached = self._sides.get(side)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        with self._lock:
            cached = self._sides.get(side)
            if cached is not None and now - cached[0] < ttl:
                return cached[1]
            rows = [(int(p), int(a)) for p, a in chain().call(BOOK, "depth", side, SNAPSHOT_LEVELS)]
            self._sides[side] = (time.monotonic(), rows)
            return rows

    def invalidate(self) -> None:
        with self._lock:
            self._sides.clear()


def _cache() -> DepthCache:
    return current_app.extensions.setdefault("depth_cache", DepthCache())


def _ttl() -> float:
    return float(current_app.config["DEPTH_CACHE_SECONDS"])


def hint_from_levels(side: int, price: int, levels: list[tuple[int, int]]) -> int:
    """The nearest existing level at or better than `price` on `side` (levels best first); 0 if none.

    A stale or truncated snapshot still gives a valid starting point: the contract walks from the hint.
    """
    better = [p for p, _ in levels if (p >= price if side == SIDES["buy"] else p <= price)]
    return better[-1] if better else 0

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


def _token_for(side: int) -> str:
    return "settlement" if side == SIDES["buy"] else "energy"


def place_order(user: User, side: str, price: int, amount_wh: int, expiry_minutes: int | None = None,
                wait: bool = False) -> OrderResult:  # fmt: skip
    if side not in SIDES:
        raise UserError("Side must be 'buy' or 'sell'.", "invalid_side")
    side_id = SIDES[side]
    signer = signer_for(user)
    service = chain()
    expiry = int(time.time()) + 60 * expiry_minutes if expiry_minutes else 0
    # The hint comes from the chain now, not from the depth snapshot: a snapshot is stale under load and holds only
    # SNAPSHOT_LEVELS levels, so a wall of levels deeper than it (or added since) made every order below it revert.
    hint = int(service.call(BOOK, "findHint", side_id, price))
    args = (side_id, price, amount_wh, expiry, MAX_FILLS, hint)
    token = _token_for(side_id)
    # The gas limit is the bound for any book the chain can reach before mining, never an estimate of today's book.
    gas = place_gas(MAX_FILLS)
    try:
        if wait or current_app.config["PREFLIGHT"]:
            with service.guard(token):  # simulate first: a revert is reported at once and no nonce is spent
                service.client.estimate_gas(service.contract(BOOK).functions.placeOrder(*args), signer.address)
        result = service.send(signer, BOOK, "placeOrder", args, wait=wait, token=token, gas=gas)
    except TransactionRejected as exc:
        if exc.error_name != "OrderBookInsufficientAllowance":
            raise
        # First order of a new wallet whose approval is not mined yet, or was never sent: approve, then retry.
        for token_contract in ("EnergyToken", "SettlementToken"):
            service.approve(signer, token_contract, BOOK, wait=True)
        result = service.send(signer, BOOK, "placeOrder", args, wait=wait, token=token, gas=gas)
    if wait:
        _cache().invalidate()  # the next page shows this order
    return _order_result(result)


def prepare_order(address: str, side: str, price: int, amount_wh: int, expiry: int = 0) -> dict[str, Any]:
    """The unsigned placeOrder transaction for a browser wallet (EIP-1193), simulated from its address first."""
    service = chain()
    side_id = SIDES[side]
    with service.guard(_token_for(side_id)):
        hint = int(service.call(BOOK, "findHint", side_id, price))
        fn = service.contract(BOOK).functions.placeOrder(side_id, price, amount_wh, expiry, MAX_FILLS, hint)
        gas = service.client.estimate_gas(fn, address)
        nonce = service.client.pending_nonce(address)
        return {"from": address, "to": fn.address, "data": fn._encode_transaction_data(), "value": "0x0",
                "gas": hex(gas), "gasPrice": hex(service.client.config.gas_price), "nonce": hex(nonce),
                "chainId": hex(service.client.chain_id), "type": "0x0"}  # fmt: skip


def cancel_order(user: User, order_id: int, wait: bool = False) -> OrderResult:
    signer = signer_for(user)
    gas = None if (wait or current_app.config["PREFLIGHT"]) else CANCEL_GAS
    result = chain().send(signer, BOOK, "cancelOrder", (int(order_id),), wait=wait, gas=gas)
    if wait:
        _cache().invalidate()
    return _order_result(result)


def _order_result(result: str | dict[str, Any]) -> OrderResult:
    if isinstance(result, str):
        return OrderResult(tx_hash=result, status="pending")
    index = chain().abi_index
    order_id, fills = None, []
    for entry in result.get("logs", []):
        decoded = index.decode_log(dict(entry))
        if decoded is None or decoded[0] != BOOK:
            continue
        _, name, args = decoded
        if name == "OrderPlaced":
            order_id = int(args["id"])
        elif name == "OrderFilled":
            fills.append({"maker_id": int(args["makerId"]), "price": int(args["price"]),
                          "amount_wh": int(args["amount"]), "cost": int(args["cost"])})  # fmt: skip
    tx_hash = result["transactionHash"]
    tx_hash = tx_hash.to_0x_hex() if hasattr(tx_hash, "to_0x_hex") else str(tx_hash)
    return OrderResult(tx_hash=tx_hash, status="success", order_id=order_id,
                       filled_wh=sum(f["amount_wh"] for f in fills), fills=tuple(fills))  # fmt: skip


def depth(levels: int = DEPTH_LEVELS) -> dict[str, list[dict[str, int]]]:
    """Aggregated bids (best = highest first) and asks (best = lowest first), from the shared snapshot."""
    out: dict[str, list[dict[str, int]]] = {}
    for name, side_id in (("bids", SIDES["buy"]), ("asks", SIDES["sell"])):
        rows = _cache().levels(side_id, _ttl())[:levels]
        out[name] = [{"price": p, "amount_wh": a} for p, a in rows]
    return out


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
