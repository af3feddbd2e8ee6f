"""The indexer's engine: follow the chain into the database (blocks, transactions, decoded events of the project's
contracts) and start again when the chain or the deployment changed; each event's rows come from its projection
(webapp.indexer.projections).

Cheap by design: one eth_getLogs per batch of blocks (filtered to our contracts), then one batched request for
the header and receipts of only those blocks that had our events. Progress (last block and its hash) is stored
with the data in the same database transaction, so a restart resumes where it stopped; a chain that was reset
(hash mismatch, head behind) or a new deployment record starts the index again from the deployment block.

Started by `python -m webapp serve` as a background thread (WEBAPP_INDEXER), or alone: `python -m webapp index`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from typing import Any

from eth_utils import to_checksum_address
from flask import Flask
from sqlalchemy import delete, update

from energy_chain.deployment import DeploymentMissing
from webapp.chain.service import CONNECTION_ERRORS, ChainService
from webapp.extensions import db
from webapp.indexer import state
from webapp.indexer.projections import PROJECTIONS, BatchContext
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

    @staticmethod
    def last_indexed() -> int | None:
        return state.last_indexed()

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
        if state.get("deployment") != fingerprint:
            if last is not None:
                log.info("deployment changed: indexing again from block %d", client.deployment.deploy_block)
            self.reset()
            last = None
        elif last is not None and (last > head or self._hash_of(last) != state.get("last_hash")):
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
        state.put("deployment", fingerprint)
        state.put("last_block", str(end))
        state.put("last_hash", blocks[end]["hash"])
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
        session.merge(ChainBlock(number=number, hash=block["hash"], timestamp=_int(block["timestamp"]),
                                 tx_count=len(receipts)))  # fmt: skip
        inputs = {t["hash"]: t.get("input") for t in block.get("transactions", []) if isinstance(t, dict)}
        for r in receipts:
            tx_hash = r["transactionHash"]
            to = r.get("to")
            session.merge(ChainTx(
                hash=tx_hash, block_number=number, tx_index=_int(r["transactionIndex"]),
                from_addr=_checksum(r["from"]), to_addr=_checksum(to) if to else _checksum(r.get("contractAddress")),
                contract=index.contract_name(to), method=index.method(to, inputs.get(tx_hash)),
                status=_int(r["status"]), gas_used=_int(r["gasUsed"]),
            ))  # fmt: skip
            for entry in r.get("logs", []):
                decoded = index.decode_log(entry)
                if decoded is None:
                    continue
                contract, name, args = decoded
                addresses = [v for v in args.values() if isinstance(v, str) and len(v) == 42 and v.startswith("0x")]
                addresses += [None, None, None]
                meta = {"block": number, "tx_hash": tx_hash, "log_index": _int(entry["logIndex"]),
                        "timestamp": ctx.timestamps.get(number, 0),
                        "contract_address": _checksum(entry["address"])}  # fmt: skip
                session.add(ChainEvent(
                    block_number=number, tx_hash=tx_hash, log_index=meta["log_index"], contract=contract, name=name,
                    args_json=json.dumps(args), a0=addresses[0], a1=addresses[1], a2=addresses[2],
                ))  # fmt: skip
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
    return to_checksum_address(address) if address else None
