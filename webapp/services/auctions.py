"""Periodic double auction for pages and the API: current round and countdown, submit bids/asks, last clearing,
and the supply/demand curves of a round (energy_chain.clearing draws them from the booked orders)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from energy_chain.approvals import approve_and_retry
from energy_chain.auction import AuctionClient, hint_for
from energy_chain.clearing import Order as ClearingOrder
from energy_chain.clearing import Side, Tariffs, curves, effective_price
from webapp.chain.messages import register
from webapp.errors import TransactionRejected, UserError
from webapp.extensions import db
from webapp.models import AuctionOrder, AuctionRound, User
from webapp.services.context import chain, signer_for
from webapp.text import Text

AUCTION = "DoubleAuction"
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
PHASES = ["none", "open", "reveal", "ended", "closed", "clearing", "cleared"]

register({
    "DoubleAuctionWrongPhase": Text("This round is no longer taking orders; wait for the next one."),
    "DoubleAuctionNotCurrentRound": Text("That round has ended; the next round has started, try again."),
    "DoubleAuctionWrongMode": Text("This round takes sealed bids only."),
    "DoubleAuctionZeroAmount": Text("The amount must be greater than zero."),
    "DoubleAuctionOrderTooLarge": Text("Price out of range: price times amount is too large."),
    "DoubleAuctionNotOwner": Text("That auction order is not yours."),
    "DoubleAuctionInvalidTariffs": Text("The feed-in tariff must be below the retail price."),
    "DoubleAuctionAlreadyClaimed": Text("Auction order {orderId} was already settled."),
    "DoubleAuctionUnknownOrder": Text("There is no auction order {orderId}."),
    "DoubleAuctionUnknownRound": Text("There is no auction round {roundId}."),
    "DoubleAuctionWindowNotOver": Text("Round {roundId} is still open; it can be closed once its window is over."),
    "DoubleAuctionNotCommitted": Text("Auction order {orderId} is not a sealed commitment awaiting its reveal."),
    "DoubleAuctionCommitmentMismatch": Text("The revealed order does not match its commitment."),
    "DoubleAuctionDepositTooSmall": Text("The sealed deposit does not cover the revealed order: it needs {needed}."),
    "DoubleAuctionEmptyCommitment": Text("A sealed bid needs a commitment and a deposit."),
    "DoubleAuctionInvalidBatchLength": Text("Too many auction orders in one request ({length})."),
    "DoubleAuctionZeroPrice": Text("The price must be greater than zero."),
    "DoubleAuctionAmountBelowMinimum": Text("Auction orders must be at least {minAmountWh} Wh."),
    "DoubleAuctionNeverFillable": Text("This order could never trade: bids below the feed-in tariff ({feedInTariff})"
                                       " and asks above the retail price ({retailPrice}) meet no one."),
    "DoubleAuctionSelfTrade": Text("You already have an order on the other side of this round; one side per round."),
})  # fmt: skip


@dataclass(frozen=True)
class RoundView:
    round_id: int
    phase: str
    end: int
    seconds_left: int
    interval: int
    sealed: bool
    bid_count: int
    ask_count: int
    total_bid_wh: int
    total_ask_wh: int
    retail_price: int
    feed_in_tariff: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def client() -> AuctionClient:
    service = chain()
    service.contract(AUCTION)  # raises a clear "not deployed" error first
    return AuctionClient(service.client)


def current_round() -> RoundView:
    service = chain()
    with service.guard():
        auction = client()
        round_id = auction.current_round_id()
        interval, _reveal, sealed = auction.contract.functions.schedule().call()
        record = auction.round(round_id)
        phase = auction.phase(round_id)
        tariffs = auction.round_tariffs(round_id, record)
    end = int(record["end"]) or round_id + int(interval)
    now = int(time.time())
    return RoundView(
        round_id=round_id, phase=PHASES[phase] if phase < len(PHASES) else str(phase), end=end,
        seconds_left=max(0, end - now), interval=int(interval), sealed=bool(sealed),
        bid_count=int(record["bidCount"]), ask_count=int(record["askCount"]),
        total_bid_wh=int(record["totalBidWh"]), total_ask_wh=int(record["totalAskWh"]),
        retail_price=tariffs.retail, feed_in_tariff=tariffs.feed_in,
    )  # fmt: skip


def submit(user: User, side: str, price: int, amount_wh: int, wait: bool = False) -> dict[str, Any]:
    """Submit an open bid/ask to the current round; the hint comes from the round's book (one paged read)."""
    if side not in SIDES:
        raise UserError("Side must be 'buy' or 'sell'.", "invalid_side")
    signer = signer_for(user)
    service = chain()
    s = SIDES[side]
    with service.guard():
        auction = client()
        round_id = auction.current_round_id()
        tariffs = auction.round_tariffs(round_id)
        hint = hint_for(auction.book(round_id, s), s, effective_price(s, price, tariffs))
    args = (round_id, int(s), price, amount_wh, hint)
    token = "settlement" if s == Side.BID else "energy"

    def approve() -> None:
        with service.guard():
            for token_contract in ("EnergyToken", "SettlementToken"):
                auction.approve(token_contract, signer)

    result = approve_and_retry(
        lambda: service.send(signer, AUCTION, "submitOrder", args, wait=wait, token=token),
        approve,
        (TransactionRejected,),
    )
    if isinstance(result, str):
        return {"tx_hash": result, "status": "pending", "round_id": round_id}
    order_id = None
    for entry in result.get("logs", []):
        decoded = service.abi_index.decode_log(dict(entry))
        if decoded and decoded[1] == "OrderBooked":
            order_id = int(decoded[2]["orderId"])
    return {"tx_hash": result["transactionHash"].to_0x_hex(), "status": "success", "round_id": round_id,
            "order_id": order_id}  # fmt: skip


def last_cleared() -> AuctionRound | None:
    query = select(AuctionRound).where(AuctionRound.status == "cleared").order_by(AuctionRound.round_id.desc())
    return db.session.scalar(query.limit(1))


def recent_rounds(limit: int = 10) -> list[AuctionRound]:
    return list(db.session.scalars(select(AuctionRound).order_by(AuctionRound.round_id.desc()).limit(limit)))


def round_curves(rnd: AuctionRound) -> dict[str, list[tuple[int, int]]]:
    """Supply and demand step curves ((cumulative Wh, price) corners) of an indexed round."""
    orders = db.session.scalars(select(AuctionOrder).where(AuctionOrder.round_id == rnd.round_id))
    book = [ClearingOrder(o.order_id, SIDES[o.side], o.limit_price, o.amount_wh) for o in orders]
    return curves(book, Tariffs(rnd.retail_price, rnd.feed_in_tariff))


def my_orders(address: str, limit: int = 50) -> list[AuctionOrder]:
    query = select(AuctionOrder).where(AuctionOrder.owner == address).order_by(AuctionOrder.order_id.desc())
    return list(db.session.scalars(query.limit(limit)))


def grid_tariffs() -> Tariffs | None:
    """Today's grid tariffs (retail import, feed-in export) from the auction contract; None without one."""
    service = chain()
    if not service.has_contract(AUCTION):
        return None
    with service.guard():
        return Tariffs(*client().tariffs())
