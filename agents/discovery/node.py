"""DiscoveryNode: one meter's DHT node behind a synchronous facade (publish its offers, gather the community's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from agents.discovery.config import DhtConfig
from agents.discovery.loop import LoopThread
from agents.discovery.protocol import RecordServer
from agents.discovery.record import Record, RecordError, normalise_meter_id, record_key, sign_record
from agents.discovery.verify import STAT_KEYS, Verifier
from energy_chain.offers import SignedOffer

log = logging.getLogger(__name__)


class DiscoveryNode:
    """A Kademlia node on UDP `host:port` (port 0: any free port; read `.port` after `start()`).

    verifier: checks records both as a storing node (envelope) and as a buyer (envelope, offers, balance).
    key: the seller's private key; needed only to `publish` (the record envelope is signed with it).
    clock: unix seconds for issued_at/expires_at and the storing node's expiry checks (the simulator injects its own).
    loop: a shared LoopThread (several nodes in one process); by default the node runs its own.
    max_parallel_lookups: record lookups one gather runs at once (the rest queue).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bootstrap: Iterable[tuple[str, int]] = (),
        verifier: Verifier | None = None,
        *,
        key: str | bytes | None = None,
        record_ttl_s: int = 300,
        rpc_timeout_s: float = 2.0,
        ksize: int = 20,
        alpha: int = 3,
        clock: Callable[[], float] = time.time,
        loop: LoopThread | None = None,
        op_timeout_s: float = 60.0,
        max_parallel_lookups: int = 16,
    ) -> None:
        if verifier is None:
            raise ValueError("DiscoveryNode needs a Verifier (chain id, contract, balance and owner look-ups)")
        if record_ttl_s < 3:
            raise ValueError(f"record_ttl_s must be >= 3 (it is republished every third), got {record_ttl_s}")
        if record_ttl_s > verifier.max_ttl_s:
            raise ValueError(f"record_ttl_s {record_ttl_s} exceeds the verifier's max_ttl_s {verifier.max_ttl_s}")
        self.host, self._port = host, port
        self.bootstrap_peers = list(bootstrap)
        self.verifier = verifier
        self._key = key
        self.seller = Account.from_key(key).address if key is not None else None
        self.record_ttl_s = record_ttl_s
        self.clock = clock
        self.op_timeout_s = op_timeout_s
        self._own_loop = loop is None
        self._loop = loop
        self.server = RecordServer(
            verifier,
            clock,
            ksize=ksize,
            alpha=alpha,
            rpc_timeout_s=rpc_timeout_s,
            max_parallel_lookups=max_parallel_lookups,
        )
        self._published: dict[str, list[SignedOffer]] = {}
        self._sellers: dict[str, str] = {}  # meter -> whose record it is (this node's seller, or one it is agent of)
        self._last_seq = 0
        self._seen_seq: dict[str, int] = {}
        self._stats: Counter[str] = Counter({k: 0 for k in STAT_KEYS})
        self._lock = threading.Lock()
        self._republisher: asyncio.Task[None] | None = None
        self.running = False
        self.last_gather: dict[str, float] = {}  # timing of the latest gather: network_s, verify_s

    @classmethod
    def from_env(cls, verifier: Verifier, key: str | bytes | None = None, **kwargs: Any) -> DiscoveryNode:
        cfg = DhtConfig.from_env()
        return cls(
            cfg.host,
            cfg.port,
            cfg.bootstrap,
            verifier,
            key=key,
            record_ttl_s=cfg.record_ttl_s,
            rpc_timeout_s=cfg.rpc_timeout_s,
            ksize=cfg.ksize,
            alpha=cfg.alpha,
            max_parallel_lookups=cfg.max_parallel_lookups,
            **kwargs,
        )

    # --- lifecycle -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self._port)

    def start(self) -> DiscoveryNode:
        """Listen, then join through the bootstrap peers (unanswered peers are skipped; none answering is fine for
        the first node of a network)."""
        if self.running:
            return self
        if self._loop is None:
            self._loop = LoopThread(f"dht-{self.host}:{self._port}")
        try:
            self._loop.run(self._start(), self.op_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.running = True
        return self

    async def _start(self) -> None:
        await self.server.listen(self._port, interface=self.host)
        self._port = int(self.server.transport.get_extra_info("sockname")[1])
        if self.bootstrap_peers:
            await self.server.bootstrap(self.bootstrap_peers)
        self._republisher = asyncio.ensure_future(self._republish_loop())

    def stop(self) -> None:
        """Close the socket and stop republishing; this node's records then expire at their expires_at."""
        self.running = False
        if self._loop is not None and not self._loop.loop.is_closed():
            with contextlib.suppress(Exception):
                self._loop.run(self._stop(), 10)
            if self._own_loop:
                self._loop.close()

    async def _stop(self) -> None:
        if self._republisher is not None:
            self._republisher.cancel()
        self.server.stop()

    def __enter__(self) -> DiscoveryNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- publishing ------------------------------------------------------------------------------------------

    def publish(self, meter_id: str, offers: list[SignedOffer], seller: str | None = None) -> Record:
        """Sign and store the record of `meter_id` holding `offers` (replacing the previous one); it is
        republished every record_ttl_s/3 while this node runs. An empty list withdraws every offer.

        With `seller`, this node's key is that seller's mandated agent (an agent service publishing for the
        households it trades for): the record is the seller's, signed by the agent, and so are its offers."""
        if self._key is None or self.seller is None:
            raise ValueError("this DiscoveryNode was started without a key: it can gather but not publish")
        owner = to_checksum_address(seller) if seller is not None else self.seller
        for o in offers:
            signer = o.recover_signer() if o.offer.seller == owner else None
            if signer != (self.seller if seller is not None else owner):
                raise ValueError(f"offer {o.offer_hash} is not signed by this node's key for seller {owner}")
        meter = normalise_meter_id(meter_id)
        self._sellers[meter] = owner
        record = self._sign(meter, offers)
        self._published[meter] = list(offers)
        self._run(self._store(record))
        return record

    def withdraw(self, meter_id: str, seller: str | None = None) -> None:
        """Publish an empty record (kademlia has no delete) and stop republishing it."""
        self.publish(meter_id, [], seller)
        self._published.pop(normalise_meter_id(meter_id), None)
        self._sellers.pop(normalise_meter_id(meter_id), None)

    def _sign(self, meter: str, offers: list[SignedOffer]) -> Record:
        assert self._key is not None
        # Wall-clock milliseconds keep seq growing across restarts without storing it.
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1_000_000)
        now = int(self.clock())
        seller = self._sellers.get(meter)
        return sign_record(
            meter,
            offers,
            self._key,
            self._last_seq,
            now,
            now + self.record_ttl_s,
            self.verifier.chain_id,
            seller=seller if seller != self.seller else None,
        )

    async def _store(self, record: Record) -> bool:
        key, value = record_key(record.meter), record.encode()
        self.server.storage[key] = value  # also the holder of last resort while the network is small
        return bool(await self.server.set_digest(key, value))

    async def _republish_loop(self) -> None:
        while True:
            await asyncio.sleep(self.record_ttl_s / 3)
            now = int(self.clock())
            for meter, offers in list(self._published.items()):
                live = [o for o in offers if o.offer.valid_until > now]
                self._published[meter] = live
                try:
                    await self._store(self._sign(meter, live))
                except Exception:  # one failed round must not end republishing
                    log.exception("republishing the record of %s failed", meter)

    # --- gathering -------------------------------------------------------------------------------------------

    def gather(self, meter_ids: list[str], now: int) -> list[SignedOffer]:
        """Look up every meter's record in parallel and return the offers that verify at `now`.

        Per meter the newest valid record wins; forged, stale (expired or older than a seq already seen),
        oversized, malformed and unfunded records or offers are skipped and counted in `stats`."""
        meters = list(dict.fromkeys(normalise_meter_id(m) for m in meter_ids))
        t0 = time.perf_counter()
        found = self._run(self._lookup_all(meters))
        t1 = time.perf_counter()
        balances: dict[str, int] = {}
        offers: list[SignedOffer] = []
        with self._lock:
            self._stats["lookups"] += len(meters)
            for meter, values in zip(meters, found, strict=True):
                offers.extend(self._best_offers(meter, values, now, balances))
        self.last_gather = {"meters": len(meters), "network_s": t1 - t0, "verify_s": time.perf_counter() - t1}
        return offers

    async def _lookup_all(self, meters: list[str]) -> list[list[Any]]:
        results = await asyncio.gather(*(self.server.lookup(record_key(m)) for m in meters), return_exceptions=True)
        out: list[list[Any]] = []
        for meter, result in zip(meters, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("lookup of meter %s failed: %r", meter, result)
                out.append([])
            else:
                out.append(result)
        return out

    def _best_offers(self, meter: str, values: list[Any], now: int, balances: dict[str, int]) -> list[SignedOffer]:
        valid: list[Record] = []
        for value in values:
            try:
                valid.append(self.verifier.check_record(value, meter, now))
            except RecordError as exc:
                self._stats[exc.reason] += 1
                log.info("ignored a record of meter %s: %s", meter, exc)
        if not values:
            self._stats["missing"] += 1
        if not valid:
            return []
        best = max(valid, key=lambda r: r.seq)
        seen = self._seen_seq.get(meter, 0)
        self._stats["stale"] += sum(1 for r in valid if r.seq < best.seq)
        if best.seq < seen:
            self._stats["stale"] += 1  # a replay: this node saw a newer record of the meter before
            return []
        self._seen_seq[meter] = best.seq
        return self.verifier.usable_offers(best, now, self._stats, balances)

    @property
    def stats(self) -> dict[str, int]:
        """Counters since start: found (offers returned), forged, stale, oversized, malformed, unfunded, plus
        lookups and missing (meters without any record) and the records this node refused to store (refused_*)."""
        with self._lock:
            out = dict(self._stats)
        out.update({f"refused_{k}": v for k, v in self.server.refused.items()})
        return out

    @property
    def rpc_counts(self) -> dict[str, int]:
        """RPCs this node sent, by name (find_node, find_value, store, ping)."""
        return dict(self.server.rpc_counts)

    def _run(self, coro: Any) -> Any:
        if self._loop is None or not self.running:
            coro.close()
            raise RuntimeError("DiscoveryNode is not running: call start() first")
        return self._loop.run(coro, self.op_timeout_s)
