"""Projections of DoubleAuction: rounds (opened, closed, cleared, grid fallback), booked orders, claims as trades."""

from __future__ import annotations

from typing import Any

from energy_chain.clearing import Side
from webapp.indexer.projections import BatchContext, projection
from webapp.models import AuctionOrder, AuctionRound, Trade


def _round(ctx: BatchContext, round_id: int) -> AuctionRound:
    row = ctx.session.get(AuctionRound, round_id)
    if row is None:
        row = AuctionRound(round_id=round_id, end=0, sealed=False, retail_price=0, feed_in_tariff=0, status="open")
        ctx.session.add(row)
        ctx.session.flush()
    return row


@projection("DoubleAuction", "RoundOpened")
def _round_opened(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    row = _round(ctx, int(args["roundId"]))
    row.end, row.sealed = int(args["end"]), bool(args["sealedBids"])
    row.retail_price, row.feed_in_tariff = int(args["retailPrice"]), int(args["feedInTariff"])


@projection("DoubleAuction", "RoundClosed")
def _round_closed(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    _round(ctx, int(args["roundId"])).status = "closed"


@projection("DoubleAuction", "RoundCleared")
def _round_cleared(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    row = _round(ctx, int(args["roundId"]))
    row.status, row.clearing_price, row.volume_wh = "cleared", int(args["clearingPrice"]), int(args["volumeWh"])


@projection("DoubleAuction", "GridFallbackRecorded")
def _grid_fallback(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    row = _round(ctx, int(args["roundId"]))
    row.imported_wh, row.exported_wh = int(args["importedWh"]), int(args["exportedWh"])


@projection("DoubleAuction", "OrderBooked")
def _auction_booked(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.merge(AuctionOrder(
        order_id=int(args["orderId"]), round_id=int(args["roundId"]), owner=args["owner"],
        side="buy" if int(args["side"]) == Side.BID else "sell", limit_price=int(args["limitPrice"]),
        price=int(args["price"]), amount_wh=int(args["amountWh"]), claimed=False, tx_hash=meta["tx_hash"],
    ))  # fmt: skip
    ctx.session.flush()


@projection("DoubleAuction", "OrderClaimed")
def _auction_claimed(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    order = ctx.session.get(AuctionOrder, int(args["orderId"]))
    fill, money = int(args["fillWh"]), int(args["money"])
    if order is not None:
        order.fill_wh, order.money, order.claimed = fill, money, True
    if fill == 0:
        return
    rnd = ctx.session.get(AuctionRound, int(args["roundId"]))
    pool = meta.get("contract_address") or "0x0000000000000000000000000000000000000000"
    bid = int(args["side"]) == Side.BID
    ctx.session.add(Trade(
        venue="auction", buy_order_id=int(args["orderId"]) if bid else None,
        sell_order_id=None if bid else int(args["orderId"]), buyer=args["owner"] if bid else pool,
        seller=pool if bid else args["owner"], price=rnd.clearing_price if rnd and rnd.clearing_price else 0,
        amount_wh=fill, block_number=meta["block"], tx_hash=meta["tx_hash"], log_index=meta["log_index"],
        timestamp=meta["timestamp"],
    ))  # fmt: skip
