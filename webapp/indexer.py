"""Follow the chain into the database: blocks, transactions and decoded events of the project's contracts.

Cheap by design: one eth_getLogs per batch of blocks (filtered to our contracts), then one batched request for
the header and receipts of only those blocks that had our events. Progress (last block and its hash) is stored
with the data in the same database transaction, so a restart resumes where it stopped; a chain that was reset
(hash mismatch, head behind) or a new deployment record starts the index again from the deployment block.

Runs as a background thread of the server, or alone: `python -m webapp index`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import delete, select, update

from energy_chain.deployment import DeploymentMissing
from webapp.chain.service import CONNECTION_ERRORS, ChainService
from webapp.extensions import db
from webapp.models import (
    AuctionOrder,
    AuctionRound,
    ChainBlock,
    ChainEvent,
    ChainTx,
    IndexerState,
    Meter,
    Order,
    Reading,
    Trade,
)

log = logging.getLogger(__name__)

Projection = Callable[["BatchContext", dict[str, Any], dict[str, Any]], None]
PROJECTIONS: dict[tuple[str, str], Projection] = {}


def projection(contract: str, event: str) -> Callable[[Projection], Projection]:
    """Register a function that turns one decoded event into rows of the history tables."""

    def wrap(fn: Projection) -> Projection:
        PROJECTIONS[(contract, event)] = fn
        return fn

    return wrap


class BatchContext:
    """What a projection may use: the session and the block timestamps of the batch."""

    def __init__(self, timestamps: dict[int, int]) -> None:
        self.session = db.session
        self.timestamps = timestamps


def _hex(n: int) -> str:
    return hex(n)


def _int(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


class Indexer:
    def __init__(self, app: Flask, service: ChainService) -> None:
        self.app = app
        self.service = service
        self.batch_blocks = int(app.config["INDEXER_BATCH_BLOCKS"])
        self.poll_seconds = float(app.config["INDEXER_POLL_SECONDS"])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # the thread and synchronous catch-ups (after a page's own tx) take turns
        self.last_error: str | None = None

    # ------------------------------------------------------------------ state
    @staticmethod
    def _get(key: str) -> str | None:
        row = db.session.get(IndexerState, key)
        return row.value if row else None

    @staticmethod
    def _set(key: str, value: str) -> None:
        row = db.session.get(IndexerState, key)
        if row is None:
            db.session.add(IndexerState(key=key, value=value))
        else:
            row.value = value

    @staticmethod
    def last_indexed() -> int | None:
        row = db.session.get(IndexerState, "last_block")
        return int(row.value) if row else None

    def _fingerprint(self) -> str:
        d = self.service.client.deployment
        return f"{d.chain_id}:" + ",".join(f"{n}={c['address']}" for n, c in sorted(d.contracts.items()))

    def reset(self) -> None:
        """Forget everything indexed (the chain was reset or redeployed); seed data on meters is kept."""
        for model in (ChainEvent, ChainTx, ChainBlock, Reading, Order, Trade, AuctionRound, AuctionOrder, IndexerState):
            db.session.execute(delete(model))
        db.session.execute(update(Meter).values(owner=None, active=False, registered_block=None))
        db.session.commit()

    # ------------------------------------------------------------------ one step
    def run_once(self) -> int:
        """Index up to INDEXER_BATCH_BLOCKS new blocks; returns how many blocks were covered."""
        self.service.refresh_deployment()
        client = self.service.client
        w3 = client.w3
        head = int(w3.eth.block_number)
        fingerprint = self._fingerprint()
        last = self.last_indexed()
        if self._get("deployment") != fingerprint:
            if last is not None:
                log.info("deployment changed: indexing again from block %d", client.deployment.deploy_block)
            self.reset()
            last = None
        elif last is not None and (last > head or self._hash_of(last) != self._get("last_hash")):
            log.warning("chain was reset under the index (block %d): indexing again", last)
            self.reset()
            last = None
        start = (last + 1) if last is not None else client.deployment.deploy_block
        if start > head:
            return 0
        end = min(head, start + self.batch_blocks - 1)
        index = self.service.abi_index
        logs = w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": index.addresses})
        by_block: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for entry in logs:
            by_block[int(entry["blockNumber"])].append(dict(entry))
        blocks, receipts = self._fetch_blocks(sorted(by_block), end)
        timestamps = {n: _int(b["timestamp"]) for n, b in blocks.items()}
        ctx = BatchContext(timestamps)
        for number in sorted(by_block):
            self._store_block(ctx, number, blocks[number], receipts[number])
        self._set("deployment", fingerprint)
        self._set("last_block", str(end))
        self._set("last_hash", blocks[end]["hash"])
        db.session.commit()
        return end - start + 1

    def _hash_of(self, number: int) -> str | None:
        block = self.service.client.w3.eth.get_block(number)
        return block["hash"].to_0x_hex() if block else None

    def _fetch_blocks(self, numbers: list[int], end: int) -> tuple[dict[int, dict], dict[int, list[dict]]]:
        """Blocks (with transactions) of `numbers`, the header of `end`, and receipts of `numbers`: one batch."""
        requests = [("eth_getBlockByNumber", [_hex(n), True]) for n in numbers]
        requests += [("eth_getBlockReceipts", [_hex(n)]) for n in numbers]
        if end not in numbers:
            requests.append(("eth_getBlockByNumber", [_hex(end), False]))
        responses = self.service.client.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if isinstance(responses, dict):
            raise RuntimeError(f"batch refused: {responses}")
        results = [r.get("result") for r in responses]
        k = len(numbers)
        blocks = dict(zip(numbers, results[:k], strict=True))
        receipts = dict(zip(numbers, results[k : 2 * k], strict=True))
        if end not in numbers:
            blocks[end] = results[2 * k]
        return blocks, receipts

    def _store_block(self, ctx: BatchContext, number: int, block: dict, receipts: list[dict]) -> None:
        index = self.service.abi_index
        session = db.session
        session.merge(
            ChainBlock(number=number, hash=block["hash"], timestamp=_int(block["timestamp"]), tx_count=len(receipts))
        )
        inputs = {t["hash"]: t.get("input") for t in block.get("transactions", []) if isinstance(t, dict)}
        for r in receipts:
            tx_hash = r["transactionHash"]
            to = r.get("to")
            session.merge(
                ChainTx(
                    hash=tx_hash,
                    block_number=number,
                    tx_index=_int(r["transactionIndex"]),
                    from_addr=_checksum(r["from"]),
                    to_addr=_checksum(to) if to else _checksum(r.get("contractAddress")),
                    contract=index.contract_name(to),
                    method=index.method(to, inputs.get(tx_hash)),
                    status=_int(r["status"]),
                    gas_used=_int(r["gasUsed"]),
                )
            )
            for entry in r.get("logs", []):
                decoded = index.decode_log(entry)
                if decoded is None:
                    continue
                contract, name, args = decoded
                addresses = [v for v in args.values() if isinstance(v, str) and len(v) == 42 and v.startswith("0x")]
                addresses += [None, None, None]
                meta = {
                    "block": number,
                    "tx_hash": tx_hash,
                    "log_index": _int(entry["logIndex"]),
                    "timestamp": ctx.timestamps.get(number, 0),
                    "contract_address": _checksum(entry["address"]),
                }
                session.add(
                    ChainEvent(
                        block_number=number,
                        tx_hash=tx_hash,
                        log_index=meta["log_index"],
                        contract=contract,
                        name=name,
                        args_json=json.dumps(args),
                        a0=addresses[0],
                        a1=addresses[1],
                        a2=addresses[2],
                    )
                )
                handler = PROJECTIONS.get((contract, name))
                if handler is not None:
                    handler(ctx, args, meta)

    # ------------------------------------------------------------------ loop
    def catch_up(self) -> int:
        """Index until the head; returns the number of blocks covered."""
        total = 0
        with self._lock:
            while True:
                n = self.run_once()
                total += n
                if n < self.batch_blocks:
                    return total

    def sync(self) -> None:
        """Catch up now (after a page waited for its own transaction), so the next page shows it. Never raises."""
        try:
            self.catch_up()
        except Exception as exc:
            db.session.rollback()
            self._note_error(f"{type(exc).__name__}: {exc}")

    def run_forever(self) -> None:
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    self.catch_up()
                    self.last_error = None
                except (DeploymentMissing, *CONNECTION_ERRORS) as exc:
                    self._note_error(f"{type(exc).__name__}: {exc}")
                except Exception as exc:  # keep following; the next poll retries the same blocks
                    db.session.rollback()
                    log.exception("indexer step failed")
                    self._note_error(f"{type(exc).__name__}: {exc}")
                finally:
                    db.session.remove()
            self._stop.wait(self.poll_seconds)

    def _note_error(self, message: str) -> None:
        if message != self.last_error:
            log.warning("indexer waiting: %s", message)
        self.last_error = message

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _checksum(address: str | None) -> str | None:
    from eth_utils import to_checksum_address

    return to_checksum_address(address) if address else None


def _bytes32(v: str) -> str:
    return v.lower()


# ---------------------------------------------------------------------- projections of the foundation contracts
@projection("MeterRegistry", "MeterRegistered")
def _meter_registered(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, _bytes32(args["meterId"])) or Meter(meter_id=_bytes32(args["meterId"]))
    meter.owner, meter.active, meter.registered_block = args["owner"], True, meta["block"]
    ctx.session.add(meter)


@projection("MeterRegistry", "MeterDeactivated")
def _meter_deactivated(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, _bytes32(args["meterId"]))
    if meter is not None:
        meter.active = False


@projection("MeterRegistry", "MeterActivated")
def _meter_activated(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, _bytes32(args["meterId"]))
    if meter is not None:
        meter.active = True


@projection("MeterRegistry", "MeterReassigned")
def _meter_reassigned(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    meter = ctx.session.get(Meter, _bytes32(args["meterId"]))
    if meter is not None:
        meter.owner = args["newOwner"]


@projection("EnergyToken", "ReadingRecorded")
def _reading(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.add(
        Reading(
            meter_id=_bytes32(args["meterId"]),
            interval=int(args["interval"]),
            owner=args["owner"],
            minted_wh=int(args["mintedWh"]),
            burned_wh=int(args["burnedWh"]),
            grid_wh=int(args["gridWh"]),
            block_number=meta["block"],
        )
    )


# ---------------------------------------------------------------------- order book
_BUY = 0


@projection("OrderBook", "OrderPlaced")
def _order_placed(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    ctx.session.merge(
        Order(
            order_id=int(args["id"]),
            side="buy" if int(args["side"]) == _BUY else "sell",
            maker=args["owner"],
            price=int(args["price"]),
            amount_wh=int(args["amount"]),
            remaining_wh=int(args["amount"]),
            status="open",
            block_number=meta["block"],
            tx_hash=meta["tx_hash"],
            timestamp=meta["timestamp"],
        )
    )
    ctx.session.flush()


def _reduce(ctx: BatchContext, order_id: int, amount: int) -> None:
    order = ctx.session.get(Order, order_id)
    if order is not None:
        order.remaining_wh = max(0, order.remaining_wh - amount)
        if order.remaining_wh == 0:
            order.status = "filled"


@projection("OrderBook", "OrderFilled")
def _order_filled(ctx: BatchContext, args: dict[str, Any], meta: dict[str, Any]) -> None:
    taker_buys = int(args["takerSide"]) == _BUY
    maker_id, taker_id, amount = int(args["makerId"]), int(args["takerId"]), int(args["amount"])
    ctx.session.add(
        Trade(
            venue="book",
            buy_order_id=taker_id if taker_buys else maker_id,
            sell_order_id=maker_id if taker_buys else taker_id,
            buyer=args["taker"] if taker_buys else args["maker"],
            seller=args["maker"] if taker_buys else args["taker"],
            price=int(args["price"]),
            amount_wh=amount,
            block_number=meta["block"],
            tx_hash=meta["tx_hash"],
            log_index=meta["log_index"],
            timestamp=meta["timestamp"],
        )
    )
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


# ---------------------------------------------------------------------- double auction
_BID = 0


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
    ctx.session.merge(
        AuctionOrder(
            order_id=int(args["orderId"]),
            round_id=int(args["roundId"]),
            owner=args["owner"],
            side="buy" if int(args["side"]) == _BID else "sell",
            limit_price=int(args["limitPrice"]),
            price=int(args["price"]),
            amount_wh=int(args["amountWh"]),
            claimed=False,
            tx_hash=meta["tx_hash"],
        )
    )
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
    bid = int(args["side"]) == _BID
    ctx.session.add(
        Trade(
            venue="auction",
            buy_order_id=int(args["orderId"]) if bid else None,
            sell_order_id=None if bid else int(args["orderId"]),
            buyer=args["owner"] if bid else pool,
            seller=pool if bid else args["owner"],
            price=rnd.clearing_price if rnd and rnd.clearing_price else 0,
            amount_wh=fill,
            block_number=meta["block"],
            tx_hash=meta["tx_hash"],
            log_index=meta["log_index"],
            timestamp=meta["timestamp"],
        )
    )


def select_latest_events(limit: int = 10) -> list[ChainEvent]:
    return list(db.session.scalars(select(ChainEvent).order_by(ChainEvent.id.desc()).limit(limit)))
