"""Projections of OfferSettlement: each fill of a signed direct offer is a trade (venue "offer")."""

from __future__ import annotations

from typing import Any

from webapp.indexer.projections import BatchContext, projection
from webapp.models import Trade


@projection("OfferSettlement", "OfferFilled")
def _offer_filled(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.add(Trade(
        venue="offer", buy_order_id=None, sell_order_id=None, buyer=args["buyer"], seller=args["seller"],
        price=int(args["price"]), amount_wh=int(args["amountWh"]), block_number=meta["block"],
        tx_hash=meta["tx_hash"], log_index=meta["log_index"], timestamp=meta["timestamp"],
    ))  # fmt: skip
