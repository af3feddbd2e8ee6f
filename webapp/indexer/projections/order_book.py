"""Projections of OrderBook: orders (placed, filled down, cancelled, expired) and trades (fills)."""

from __future__ import annotations

from typing import Any

from energy_chain.orders import Side
from webapp.indexer.projections import BatchContext, projection
from webapp.models import Order, Trade


@projection("OrderBook", "OrderPlaced")
def _order_placed(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.merge(Order(
        order_id=int(args["id"]), side="buy" if int(args["side"]) == Side.BUY else "sell", maker=args["owner"],
        price=int(args["price"]), amount_wh=int(args["amount"]), remaining_wh=int(args["amount"]), status="open",
        block_number=meta["block"], tx_hash=meta["tx_hash"], timestamp=meta["timestamp"],
    ))  # fmt: skip
    ctx.session.flush()


def _reduce(ctx: BatchContext, order_id: int, amount: int) -> None:
    order = ctx.session.get(Order, order_id)
    if order is not None:
        order.remaining_wh = max(0, order.remaining_wh - amount)
        if order.remaining_wh == 0:
            order.status = "filled"


@projection("OrderBook", "OrderFilled")
def _order_filled(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    taker_buys = int(args["takerSide"]) == Side.BUY
    maker_id, taker_id, amount = int(args["makerId"]), int(args["takerId"]), int(args["amount"])
    ctx.session.add(Trade(
        venue="book",
        buy_order_id=taker_id if taker_buys else maker_id, sell_order_id=maker_id if taker_buys else taker_id,
        buyer=args["taker"] if taker_buys else args["maker"], seller=args["maker"] if taker_buys else args["taker"],
        price=int(args["price"]), amount_wh=amount, block_number=meta["block"], tx_hash=meta["tx_hash"],
        log_index=meta["log_index"], timestamp=meta["timestamp"],
    ))  # fmt: skip
    _reduce(ctx, maker_id, amount)
    _reduce(ctx, taker_id, amount)


def _close(ctx: BatchContext, order_id: int, status: str) -> None:
    order = ctx.session.get(Order, order_id)
    if order is not None:
        order.status = status


@projection("OrderBook", "OrderCancelled")
def _order_cancelled(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    _close(ctx, int(args["id"]), "cancelled")


@projection("OrderBook", "OrderExpired")
def _order_expired(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    _close(ctx, int(args["id"]), "expired")
