"""Send the outbox's readings to EnergyToken.recordReadings in batches, exactly once, whatever crashes.

Protocol (each step survives a crash of the oracle or of the chain at any point):
1. take up to `batch_size` pending readings and the next nonce; sign the batch transaction (explicit nonce, gas,
   gasPrice 0); store hash and raw bytes in the outbox and bind the readings to it — all before sending;
2. broadcast; poll receipts; status 1 marks the readings minted, status 0 puts them back (after setting aside
   readings of meters the registry no longer accepts);
3. after any error, and at start, reconcile with the chain: the account's mined nonce count says which stored
   batches can still be in the chain. Batches at or above it (including "mined" ones the chain lost when it was
   restored from an older state) are rebroadcast with the very same bytes — a nonce is used once, so a batch is
   mined at most once. A stored batch below it without a receipt lost its nonce to another transaction: its
   readings are queued again. Nonce gaps (a batch that reverted, then the chain rolled back) get a no-op filler.
The contract skips (meter, interval) pairs it already recorded, so even a misbehaving second oracle cannot double-mint.
Retries wait with capped exponential backoff while the chain is down; readings stay safe in the outbox meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from energy_chain import ChainClient, Signer
from energy_chain.client import CHAIN_UNAVAILABLE
from energy_chain.codec import as_bytes
from energy_chain.events import EventDecoder
from meter_oracle.config import OracleConfig
from meter_oracle.metrics import Metrics
from meter_oracle.model import Reading
from meter_oracle.outbox import Batch, Outbox
from meter_oracle.registry import ChainMeterDirectory
from meter_oracle.validation import ACTIVE

log = logging.getLogger("meter_oracle.submitter")

READINGS_TYPE = "(bytes32,uint64,uint128,uint128)[]"  # IEnergyToken.Reading[]
RECORD_SELECTOR = function_signature_to_4byte_selector(f"recordReadings({READINGS_TYPE})")
HARMLESS_SEND_ERRORS = ("already known", "already imported", "known transaction")
# A batch whose nonce the chain counts but whose receipt is missing is asked for again this often, this far apart,
# before it is called dropped (see Submitter._receipts_of_counted).
RECEIPT_RECHECKS = 5
RECEIPT_RECHECK_S = 0.1


class WrongChain(RuntimeError):
    """The outbox was written for another chain or deployment (e.g. the chain was reset): refuse to send."""


@dataclass
class Backoff:
    """Capped exponential backoff: initial, 2x, 4x ... up to `maximum`, reset after a success."""

    initial: float = 0.5
    maximum: float = 10.0
    _current: float = 0.0

    def next(self) -> float:
        self._current = self.initial if self._current == 0 else min(self._current * 2, self.maximum)
        return self._current

    def reset(self) -> None:
        self._current = 0.0


class Submitter:
    def __init__(
        self,
        client: ChainClient,
        signer: Signer,
        outbox: Outbox,
        metrics: Metrics,
        config: OracleConfig,
        directory: ChainMeterDirectory | None = None,
        clock: Callable[[], float] = time.time,
        on_sent: Callable[[Batch], None] | None = None,
    ) -> None:
        self.client = client
        self.signer = signer
        self.outbox = outbox
        self.metrics = metrics
        self.config = config
        self.directory = directory or ChainMeterDirectory(client)
        self.clock = clock
        self.on_sent = on_sent
        self.backoff = Backoff(config.backoff_initial_s, config.backoff_max_s)
        self._next_nonce: int | None = None
        self._need_reconcile = True
        self._sent_at: dict[int, float] = {}
        self._gauges_at = 0.0
        self._identity_checked = False
        self._events: EventDecoder | None = None
        self.fatal: Exception | None = None

    # ------------------------------------------------------------------ main loop
    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; the chain being unreachable or refusing a request is retried with capped
        backoff. Anything else is a bug or a broken outbox and propagates: retrying it would hide it forever."""
        while not stop.is_set():
            try:
                worked = self.step()
                self.backoff.reset()
                stop.wait(0.05 if worked else 0.25)
            except WrongChain as exc:
                log.error("%s", exc)
                self.fatal = exc
                stop.set()
            except CHAIN_UNAVAILABLE as exc:  # node unreachable, RPC error: nothing is lost, it is in the outbox
                self.metrics.rpc_errors.inc()
                self._need_reconcile = True
                delay = self.backoff.next()
                log.warning(
                    "chain unavailable (%s: %s); retrying in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                    extra={"retry_in_s": delay},
                )
                stop.wait(delay)
        self.update_gauges(force=True)

    def step(self) -> bool:
        """One round: reconcile if needed, collect receipts, send new batches. True when something happened."""
        if self._need_reconcile:
            self.reconcile()
            self._need_reconcile = False
        worked = self.poll_receipts()
        worked = self.fill() or worked
        self.resend_stale()
        self.update_gauges()
        return worked

    def drain(self, timeout_s: float = 60.0) -> bool:
        """Run until nothing is pending or batched (tests, benchmarks, shutdown); True when drained."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.step()
                self.backoff.reset()
            except CHAIN_UNAVAILABLE as exc:
                self._need_reconcile = True
                log.warning("chain unavailable while draining (%s)", exc)
                time.sleep(self.backoff.next())
                continue
            counts = self.outbox.counts()
            if counts["pending"] == 0 and counts["batched"] == 0:
                return True
            time.sleep(0.1)
        return False

    # ------------------------------------------------------------------ sending
    def _take_nonce(self) -> int:
        if self._next_nonce is None:
            self.reconcile()
        assert self._next_nonce is not None
        nonce = self._next_nonce
        self._next_nonce += 1
        return nonce

    def fill(self) -> bool:
        """Sign, store and send new batches while fewer than `max_in_flight` are unconfirmed."""
        slots = self.config.max_in_flight - len(self.outbox.batches("signed"))
        sent = False
        token = self.client.contract("EnergyToken")
        while slots > 0:
            readings = self.outbox.pending(self.config.batch_size)
            if not readings:
                break
            nonce = self._take_nonce()
            gas = self.config.gas_base + self.config.gas_per_reading * len(readings)
            raw = self.signer.sign(self._record_tx(token.address, readings, gas, nonce))
            tx_hash = Web3.keccak(raw).to_0x_hex()
            try:
                batch_id = self.outbox.create_batch(readings, nonce, tx_hash, raw)
            except Exception:
                self._need_reconcile = True  # the nonce was taken but not stored: count again from the chain
                raise
            batch = Batch(batch_id, nonce, tx_hash, raw, len(readings), "signed", self.clock())
            log.info(
                "batch %d signed: %d readings, nonce %d",
                batch_id,
                len(readings),
                nonce,
                extra={"batch": batch_id, "nonce": nonce, "tx": tx_hash, "size": len(readings)},
            )
            self._broadcast([batch])
            if self.on_sent is not None:
                self.on_sent(batch)
            slots -= 1
            sent = True
        return sent

    def _record_tx(self, token: str, readings: list[Reading], gas: int, nonce: int) -> dict[str, Any]:
        """recordReadings(readings) as the project's legacy transaction, ABI-encoded directly: web3's
        contract-function encoding took ~0.35 s for a batch of 200 readings."""
        data = RECORD_SELECTOR + abi_encode([READINGS_TYPE], [[r.as_tuple() for r in readings]])
        return self.client.legacy_tx(token, data, gas, nonce)

    def _broadcast(self, batches: list[Batch]) -> None:
        if not batches:
            return
        results = self.client.send_raw_batch([b.raw_tx for b in batches])
        now = self.clock()
        for batch, result in zip(batches, results, strict=True):
            self._sent_at[batch.id] = now
            if isinstance(result, str):
                self.metrics.batches.labels("sent").inc()
                log.info("batch %d sent", batch.id, extra={"batch": batch.id, "nonce": batch.nonce, "tx": result})
                continue
            message = str(result.get("message", result)) if isinstance(result, dict) else str(result)
            if any(text in message.lower() for text in HARMLESS_SEND_ERRORS):
                continue
            # e.g. "nonce too low": this nonce is used; reconciling finds out by whom
            log.warning(
                "node refused batch %d (nonce %d): %s", batch.id, batch.nonce, message, extra={"batch": batch.id}
            )
            self._need_reconcile = True

    def resend_stale(self) -> None:
        """Rebroadcast batches the node seems to have forgotten (it restarted, or dropped them)."""
        now = self.clock()
        stale = [
            b for b in self.outbox.batches("signed") if now - self._sent_at.get(b.id, 0.0) > self.config.resend_after_s
        ]
        if stale:
            self.metrics.batches.labels("rebroadcast").inc(len(stale))
            log.info("rebroadcasting %d batches without a receipt", len(stale))
            self._broadcast(stale)

    # ------------------------------------------------------------------ receipts
    def poll_receipts(self) -> bool:
        in_flight = self.outbox.batches("signed")
        if not in_flight:
            return False
        receipts = self.client.get_receipts([b.tx_hash for b in in_flight])
        depth = self.client.config.confirmations
        head = self.client.w3.eth.block_number if depth else 0
        done = False
        for batch in in_flight:
            receipt = receipts.get(batch.tx_hash)
            if receipt is None or (depth and head - int(receipt["blockNumber"], 16) < depth):
                continue
            self._apply_receipt(batch, receipt)
            done = True
        return done

    def _apply_receipt(self, batch: Batch, receipt: dict[str, Any]) -> None:
        block = int(receipt["blockNumber"], 16) if isinstance(receipt["blockNumber"], str) else receipt["blockNumber"]
        status = int(receipt["status"], 16) if isinstance(receipt["status"], str) else int(receipt["status"])
        self._sent_at.pop(batch.id, None)
        if status == 1:
            recorded, minted_wh, deficit_wh, skipped, refused = self._count_events(receipt)
            if refused:  # set aside before the batch is marked: they were not minted and never will be
                self.outbox.reject_readings(refused, "refused by the meter registry when minting")
                self.metrics.rejections.labels("meter_not_active_at_mint").inc(len(refused))
            self.outbox.mark_mined(batch.id, block, self.clock())
            self.metrics.batches.labels("mined").inc()
            self.metrics.mints.inc(recorded)
            self.metrics.minted_wh.inc(minted_wh)
            self.metrics.deficit_wh.inc(deficit_wh)
            log.info(
                "batch %d mined in block %d: %d recorded, %d already recorded",
                batch.id,
                block,
                recorded,
                skipped,
                extra={"batch": batch.id, "block": block, "recorded": recorded, "skipped": skipped},
            )
            return
        self._handle_revert(batch, block)

    def _handle_revert(self, batch: Batch, block: int) -> None:
        """Set aside readings of meters the registry no longer accepts; queue the others again."""
        reason = self._revert_reason(batch.tx_hash)
        readings = self.outbox.batch_readings(batch.id)
        serials = sorted({r.serial for r in readings})
        self.directory.refresh(serials)
        status = {s: self.directory.status(s) for s in serials}
        bad = [(r.meter_id, r.interval) for r in readings if status[r.serial] != ACTIVE]
        if bad:
            self.outbox.reject_readings(bad, f"meter not active on chain when minting ({reason})")
            self.metrics.rejections.labels("meter_not_active_at_mint").inc(len(bad))
        # A block timestamp behind our clock is transient; other reverts count against the readings.
        self.outbox.requeue(batch.id, "reverted", reason, count_attempt="IntervalInFuture" not in reason)
        exhausted = self._reject_exhausted()
        self.metrics.batches.labels("reverted").inc()
        log.warning(
            "batch %d reverted in block %d: %s (%d readings set aside, %d retried too often)",
            batch.id,
            block,
            reason,
            len(bad),
            exhausted,
            extra={"batch": batch.id},
        )

    def _reject_exhausted(self) -> int:
        n = self.outbox.reject_exhausted(self.config.max_attempts, "reverted too often")
        if n:
            self.metrics.rejections.labels("reverted_too_often").inc(n)
        return n

    def _revert_reason(self, tx_hash: str) -> str:
        """The decoded custom error of a reverted batch (replayed at the state it met), e.g.
        "EnergyTokenMeterNotActive(...)"; "unknown" when the node gives no revert data (out of gas)."""
        return str(self.client.explain_failure(tx_hash).error or "unknown")

    def _count_events(self, receipt: dict[str, Any]) -> tuple[int, int, int, int, list[tuple[bytes, int]]]:
        """(readings recorded, Wh minted, Wh deficit, duplicates skipped, (meter, interval) of readings the registry
        refused) from a recordReadings receipt's logs."""
        token = self.client.contract("EnergyToken")
        if self._events is None or self._events.address != token.address.lower():
            self._events = EventDecoder(token.abi, token.address)
        recorded = minted = deficit = skipped = 0
        refused: list[tuple[bytes, int]] = []
        for event in self._events.decode(receipt):
            if event.name == "ReadingRecorded":
                recorded += 1
                minted += int(event.args["mintedWh"])
                deficit += int(event.args["burnedWh"]) + int(event.args["gridWh"])
            elif event.name == "ReadingDuplicateSkipped":
                skipped += 1
            elif event.name == "ReadingSkipped":
                refused.append((as_bytes(event.args["meterId"]), int(event.args["interval"])))
        return recorded, minted, deficit, skipped, refused

    # ------------------------------------------------------------------ reconciling with the chain
    def reconcile(self) -> None:
        """Bring the outbox's batches in line with what the chain holds (see the module docstring)."""
        self._check_identity()
        address = self.signer.address
        mined_count = int(self.client.w3.eth.get_transaction_count(address, "latest"))
        for batch in self.outbox.batches("mined", min_nonce=mined_count):
            self.outbox.unmine(batch.id)
            self.metrics.batches.labels("rolled_back").inc()
            log.warning(
                "batch %d (nonce %d) is no longer in the chain: sending it again",
                batch.id,
                batch.nonce,
                extra={"batch": batch.id},
            )
        signed = self.outbox.batches("signed")
        below = [b for b in signed if b.nonce < mined_count]
        receipts = self._receipts_of_counted([b.tx_hash for b in below])
        for batch in below:
            receipt = receipts.get(batch.tx_hash)
            if receipt is not None:
                self._apply_receipt(batch, receipt)
            else:
                self.outbox.requeue(
                    batch.id, "dropped", f"nonce {batch.nonce} was used by another transaction", count_attempt=False
                )
                self.metrics.batches.labels("dropped").inc()
                log.warning(
                    "batch %d lost its nonce %d to another transaction; its readings wait again", batch.id, batch.nonce
                )
        resend = self.outbox.batches("signed", min_nonce=mined_count)
        top = self.outbox.max_nonce()
        self._fill_gaps(mined_count, {b.nonce for b in resend}, top)
        if resend:
            log.info("rebroadcasting %d unconfirmed batches from nonce %d", len(resend), resend[0].nonce)
            self._broadcast(resend)
        pending_count = int(self.client.w3.eth.get_transaction_count(address, "pending"))
        self._next_nonce = max(pending_count, mined_count, (top + 1) if top is not None else 0)

    def _receipts_of_counted(self, tx_hashes: list[str]) -> dict[str, dict[str, Any] | None]:
        """Receipts of transactions whose nonces the chain already counts. anvil makes a block's state (the nonce)
        visible a moment before it stores the block's receipts, so a missing receipt is asked for again before its
        batch is taken for dropped (its readings would be sent a second time and the log would say something false)."""
        receipts = self.client.get_receipts(tx_hashes)
        for _ in range(RECEIPT_RECHECKS):
            missing = [h for h, r in receipts.items() if r is None]
            if not missing:
                break
            time.sleep(RECEIPT_RECHECK_S)
            receipts.update(self.client.get_receipts(missing))
        return receipts

    def _check_identity(self) -> None:
        """Remember which chain and deployment this outbox talks to; refuse another one (a reset chain would
        otherwise look like a huge rollback and get the old batches replayed)."""
        if self._identity_checked:
            return
        deployment = self.client.deployment
        block = self.client.w3.eth.get_block(deployment.deploy_block)
        token = self.client.contract("EnergyToken").address
        identity = f"{self.client.chain_id}:{token}:{block['hash'].hex()}"
        stored = self.outbox.get("chain_identity")
        if stored is None:
            self.outbox.put("chain_identity", identity)
        elif stored != identity:
            raise WrongChain(
                f"outbox {self.outbox.path} belongs to chain/deployment {stored}, not {identity}: "
                "the chain was reset or the configuration points elsewhere; move the outbox away to start afresh"
            )
        self._identity_checked = True

    def _fill_gaps(self, mined_count: int, ours: set[int], top: int | None) -> None:
        """Nonces between the chain's count and our highest stored one that no stored batch will use get a no-op."""
        if top is None:
            return
        gaps = [n for n in range(mined_count, top + 1) if n not in ours]
        if not gaps:
            return
        raws = [self.signer.sign(self.client.legacy_tx(self.signer.address, b"", 21_000, n)) for n in gaps]
        self.client.send_raw_batch(raws)
        log.warning("filled nonce gaps %s with no-op transactions", gaps)

    # ------------------------------------------------------------------ gauges
    def update_gauges(self, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._gauges_at < 1.0:
            return
        self._gauges_at = now
        counts = self.outbox.counts()
        self.metrics.pending.set(counts["pending"] + counts["batched"])
        oldest = self.outbox.oldest_unminted_interval()
        self.metrics.lag.set(0 if oldest is None else max(0.0, now - (oldest + self.config.interval_s)))
        latest = self.outbox.latest_minted_interval()
        if latest is not None:
            self.metrics.last_minted.set(latest)
