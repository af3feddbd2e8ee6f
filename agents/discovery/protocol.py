"""kademlia's Server and protocol, hardened for signed records and instrumented.

What upstream (kademlia 2.2.3) does and why it is changed here:
- `rpc_store` overwrites any key with any value: storing nodes here keep a value only if its envelope verifies for
  the key (right meter, signed by its owner, unexpired, small) and its `seq` is above the stored one.
- `get` returns the local copy first and the crawl keeps the most common value: `lookup` here returns every distinct
  value seen (local and remote) and the buyer keeps the newest valid one.
- `welcome_if_new` hashes the already-hashed key again, so it hands records to the wrong new nodes; fixed.
- Outgoing RPCs are counted per name (`rpc_counts`) for the messages-per-query figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

from kademlia.crawling import ValueSpiderCrawl
from kademlia.network import Server
from kademlia.node import Node
from kademlia.protocol import KademliaProtocol
from kademlia.storage import ForgetfulStorage

from agents.discovery.record import RecordError, record_key
from agents.discovery.verify import Verifier

log = logging.getLogger(__name__)
RECV_BUFFER_BYTES = 4 * 1024 * 1024


class RecordProtocol(KademliaProtocol):
    def __init__(self, source_node: Node, storage: ForgetfulStorage, ksize: int, server: RecordServer) -> None:
        super().__init__(source_node, storage, ksize)
        self._wait_timeout = server.rpc_timeout_s
        self.server = server
        self._handoffs: set[asyncio.Future[Any]] = set()
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # bursts of answers to a parallel gather overflow the default ~200 KB buffer
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    async def _solve_datagram(self, datagram: bytes, address: Any) -> None:
        # Upstream lets a garbled datagram or a bad request end as "Task exception was never retrieved"; a stopped
        # node may still be answering when its socket closes. Both are the network's noise, not our errors.
        if self.closed:
            return
        try:
            await super()._solve_datagram(datagram, address)
        except Exception as exc:
            if not self.closed:
                log.debug("ignored a bad datagram from %s: %r", address, exc)

    async def _accept_request(self, msg_id: bytes, data: Any, address: Any) -> None:
        try:
            await super()._accept_request(msg_id, data, address)
        except Exception as exc:
            if not self.closed:
                log.debug("ignored a bad request from %s: %r", address, exc)

    def rpc_store(self, sender: Any, nodeid: bytes, key: bytes, value: Any) -> bool:
        source = Node(nodeid, sender[0], sender[1])
        self.welcome_if_new(source)
        reason = self.server.refuse_reason(key, value)
        if reason is not None:
            self.server.refused[reason] += 1
            log.debug("refused store of %s from %s: %s", key.hex(), sender, reason)
            return False
        self.storage[key] = value
        return True

    def welcome_if_new(self, node: Node) -> None:
        # Upstream, with the key used as stored (already a digest) instead of digest(key).
        if not self.router.is_new_node(node):
            return
        for key, value in self.storage:
            keynode = Node(key)
            neighbors = self.router.find_neighbors(keynode)
            if neighbors:
                new_node_close = node.distance_to(keynode) < neighbors[-1].distance_to(keynode)
                this_closest = self.source_node.distance_to(keynode) < neighbors[0].distance_to(keynode)
            if not neighbors or (new_node_close and this_closest):
                task = asyncio.ensure_future(self.call_store(node, key, value))
                self._handoffs.add(task)
                task.add_done_callback(self._handoffs.discard)
        self.router.add_contact(node)

    async def call_find_node(self, node_to_ask: Node, node_to_find: Node) -> Any:
        self.server.rpc_counts["find_node"] += 1
        return await super().call_find_node(node_to_ask, node_to_find)

    async def call_find_value(self, node_to_ask: Node, node_to_find: Node) -> Any:
        self.server.rpc_counts["find_value"] += 1
        return await super().call_find_value(node_to_ask, node_to_find)

    async def call_ping(self, node_to_ask: Node) -> Any:
        self.server.rpc_counts["ping"] += 1
        return await super().call_ping(node_to_ask)

    async def call_store(self, node_to_ask: Node, key: bytes, value: Any) -> Any:
        self.server.rpc_counts["store"] += 1
        return await super().call_store(node_to_ask, key, value)


class CollectingCrawl(ValueSpiderCrawl):
    """A value crawl that returns every distinct value of the first round that found any (no most-common vote,
    no caching of an unverified value at the nearest node)."""

    async def _handle_found_values(self, values: list[Any]) -> list[Any]:
        return list(dict.fromkeys(v for v in values if isinstance(v, str | bytes)))

    async def find(self) -> list[Any] | None:
        return await self._find(self.protocol.call_find_value)


class RecordServer(Server):
    """A kademlia node that stores only records that verify (see module docstring)."""

    def __init__(
        self,
        verifier: Verifier,
        clock: Callable[[], float],
        ksize: int = 20,
        alpha: int = 3,
        rpc_timeout_s: float = 2.0,
        storage_ttl_s: int = 3600,
        max_parallel_lookups: int = 16,
    ) -> None:
        super().__init__(ksize=ksize, alpha=alpha, storage=ForgetfulStorage(ttl=storage_ttl_s))
        self.verifier = verifier
        self.clock = clock
        self.rpc_timeout_s = rpc_timeout_s
        self.rpc_counts: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.max_parallel_lookups = max_parallel_lookups
        self._lookup_slots: asyncio.Semaphore | None = None

    def _create_protocol(self) -> RecordProtocol:
        return RecordProtocol(self.node, self.storage, self.ksize, self)

    def refuse_reason(self, key: bytes, value: Any) -> str | None:
        """Why this node will not store `value` under `key` (None: it will)."""
        if not isinstance(key, bytes) or len(key) != 20:
            return "malformed"
        try:
            record = self.verifier.check_record(value, None, int(self.clock()))
        except RecordError as exc:
            return exc.reason
        if record_key(record.meter) != key:
            return "forged"
        held = self.storage.get(key)
        if held is not None:
            try:
                current = self.verifier.check_record(held, record.meter, int(self.clock()))
            except RecordError:
                return None  # what we hold is no longer valid (expired): the new record replaces it
            if record.seq < current.seq or (record.seq == current.seq and value != held):
                return "stale"
        return None

    async def lookup(self, key: bytes) -> list[Any]:
        """Every distinct value for `key` from this node's storage and the first answering round of the crawl.

        At most max_parallel_lookups crawls run at once: hundreds at a time flood the node's own socket with
        answers, RPCs time out and the routing table sheds live contacts (measured: 36 % found at 200 nodes)."""
        if self._lookup_slots is None:
            self._lookup_slots = asyncio.Semaphore(self.max_parallel_lookups)
        async with self._lookup_slots:
            return await self._lookup(key)

    async def _lookup(self, key: bytes) -> list[Any]:
        values: list[Any] = []
        local = self.storage.get(key)
        if local is not None:
            values.append(local)
        nearest = self.protocol.router.find_neighbors(Node(key))
        if nearest:
            crawl = CollectingCrawl(self.protocol, Node(key), nearest, self.ksize, self.alpha)
            found = await crawl.find()
            values.extend(found or [])
        return list(dict.fromkeys(values))
