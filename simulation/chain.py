"""The simulator's own anvil: its clock is simulated time, blocks are mined on demand, nothing leaves the run folder.

Started on a free port with the genesis timestamp before the simulated day, FIFO transaction order (a batch of
pre-signed transactions executes in the order it was sent, so results are reproducible), history pruned to a few
states in memory (no state cache on disk) and HOME pointed inside the run folder so anvil writes nothing elsewhere.
The simulator owns this chain, so it may set block timestamps (`evm_mine` with a timestamp).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from energy_chain.anvil import AnvilProcess, anvil_args, free_port, wait_for_rpc
from energy_chain.blocks import JsonRpc
from simulation.pipeline import Pipeline

GAS_LIMIT = 2_000_000_000  # one block holds a whole community's orders (~1 900 placements of 20 fills)
SEND_CHUNK = 500  # per JSON-RPC batch (set-up: anvil answers a batch's calls concurrently, order not kept)
PIPELINE_CHUNK = 2000  # per pipelined connection (market phases: served in order)
KEEP_STATES = 8  # states in memory (eth_call at the head only); measured: 64 -> 8 saves ~35 MiB per 200 homes
KEEP_TX_BLOCKS = 64  # blocks whose transactions and logs stay readable; the simulator reads only its latest ones
BALANCE_OF = "0x70a08231"  # balanceOf(address)


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the simulator dies, even by SIGKILL (no orphans)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ChainRefused(RuntimeError):
    """The node refused a transaction (bad nonce, malformed): a bug in the simulator, never a market outcome."""


class SimChain:
    def __init__(self, folder: Path, genesis_ts: int, keep_states: int = KEEP_STATES,
                 keep_tx_blocks: int | None = KEEP_TX_BLOCKS) -> None:  # fmt: skip
        """`keep_tx_blocks`: blocks whose transactions, receipts and logs anvil keeps (None: all of them)."""
        self.keep_states, self.keep_tx_blocks = keep_states, keep_tx_blocks
        self.folder = Path(folder)
        self.genesis_ts = genesis_ts
        self.last_ts = genesis_ts
        self.process: AnvilProcess | None = None
        self.rpc: JsonRpc | None = None
        self.pipeline: Pipeline | None = None
        self.blocks: list[int] = []  # blocks mined on demand (the run's blocks)
        self.transactions = 0  # in blocks mined on demand
        self.gas_used = 0
        self._mined_txs: dict[int, list[str]] = {}
        self._mined_gas: dict[int, int] = {}

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def start(self) -> SimChain:
        home = self.folder / "anvil-home"
        home.mkdir(parents=True, exist_ok=True)
        port = free_port()
        args = [
            *anvil_args(port, gas_limit=GAS_LIMIT, history_states=self.keep_states),
            "--timestamp", str(self.genesis_ts),
            "--order", "fifo",
            "--cache-path", str(self.folder / "anvil-cache"),
        ]  # fmt: skip
        if self.keep_tx_blocks is not None:
            args += ["--transaction-block-keeper", str(self.keep_tx_blocks)]
        env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
        log = (self.folder / "anvil.log").open("ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                preexec_fn=_die_with_parent)  # fmt: skip
        log.close()
        self.process = AnvilProcess(port, proc, args)
        try:
            wait_for_rpc(self.url, process=proc)
        except Exception:
            self.process.kill()
            raise
        self.rpc = JsonRpc(self.url, timeout=600)
        self.pipeline = Pipeline(self.url)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # in memory only: nothing to dump
            self.process = None

    @property
    def pid(self) -> int | None:
        return self.process.process.pid if self.process else None

    # ------------------------------------------------------------------ mining
    def automine(self, on: bool) -> None:
        assert self.rpc is not None
        self.rpc.call("evm_setAutomine", [on])

    def mine(self, ts: int) -> list[int]:
        """Mine everything pending in blocks stamped `ts` (or just after the previous block); returns their numbers."""
        assert self.rpc is not None
        mined = []
        while True:
            self.last_ts = max(ts, self.last_ts)
            self.rpc.call("evm_mine", [self.last_ts])  # alone: anvil answers a batch's calls concurrently
            replies = self.rpc.batch([("eth_blockNumber", []), ("txpool_status", [])])
            if any("result" not in r for r in replies):
                raise RuntimeError(f"reading the head after mining at {self.last_ts} failed: {replies}")
            mined.append(int(replies[0]["result"], 16))
            pending = replies[1]["result"]
            if int(pending["pending"], 16) == 0 and int(pending["queued"], 16) == 0:
                break
            if len(mined) > 1000:
                raise RuntimeError("transactions stay pending after 1 000 blocks (nonce gap?)")
        self.blocks.extend(mined)
        # Count transactions and gas now: anvil forgets old blocks' transactions (--transaction-block-keeper).
        self._mined_txs, self._mined_gas = {}, {}
        for n, reply in zip(mined, self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in mined]),
                            strict=True):  # fmt: skip
            block = reply["result"]
            self._mined_txs[n] = [str(h).lower() for h in block["transactions"]]
            self._mined_gas[n] = int(block["gasUsed"], 16)
            self.transactions += len(block["transactions"])
            self.gas_used += self._mined_gas[n]
        return mined

    def send(self, raws: Sequence[bytes]) -> list[str]:
        """Send pre-signed transactions in order (JSON-RPC batches); raises ChainRefused if the node refuses any."""
        assert self.rpc is not None
        hashes: list[str] = []
        for start in range(0, len(raws), SEND_CHUNK):
            part = raws[start : start + SEND_CHUNK]
            replies = self.rpc.batch([("eth_sendRawTransaction", ["0x" + bytes(r).hex()]) for r in part])
            for reply in replies:
                if "result" not in reply:
                    raise ChainRefused(f"node refused a transaction: {reply.get('error', reply)}")
                hashes.append(str(reply["result"]).lower())
        return hashes

    def absorb(self, first: int, last: int) -> None:
        """Count blocks mined outside `mine` (automine phases) into the run's blocks, transactions and gas."""
        assert self.rpc is not None
        numbers = list(range(first, last + 1))
        for start in range(0, len(numbers), 100):
            part = numbers[start : start + 100]
            for reply in self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part]):
                block = reply["result"]
                self.transactions += len(block["transactions"])
                self.gas_used += int(block["gasUsed"], 16)
                self.last_ts = max(self.last_ts, int(block["timestamp"], 16))
        self.blocks.extend(numbers)

    def _mined_order(self, blocks: Sequence[int], hashes: Sequence[str]) -> list[str]:
        mined = [h for n in blocks for h in self._mined_txs[n]]
        ours = set(hashes)
        return [h for h in mined if h in ours]

    def send_in_order(self, raws: Sequence[bytes]) -> list[str]:
        """Send pipelined on one connection: the node adds them to its (FIFO) pool exactly in this order."""
        assert self.pipeline is not None
        hashes: list[str] = []
        for start in range(0, len(raws), PIPELINE_CHUNK):
            part = raws[start : start + PIPELINE_CHUNK]
            for reply in self.pipeline.calls([("eth_sendRawTransaction", ["0x" + bytes(r).hex()]) for r in part]):
                if "result" not in reply:
                    raise ChainRefused(f"node refused a transaction: {reply.get('error', reply)}")
                hashes.append(str(reply["result"]).lower())
        return hashes

    def execute(self, raws: Sequence[bytes], ts: int, ordered: bool = True) -> tuple[list[str], list[int]]:
        """Send and mine; returns (tx hashes, block numbers).

        With `ordered` (market phases: the order decides who matches whom, and so the run's reproducibility) the
        transactions are pipelined on one connection, which anvil serves in order, and the mined order is checked.
        Otherwise (set-up) they go in concurrent JSON-RPC batches.
        """
        if not raws:
            return [], []
        hashes = self.send_in_order(raws) if ordered else self.send(raws)
        blocks = self.mine(ts)
        if ordered and self._mined_order(blocks, hashes) != hashes:
            raise ChainRefused("the node mined transactions out of the order sent: the run would not be reproducible")
        return hashes, blocks

    # ------------------------------------------------------------------ reading
    def logs(self, blocks: Sequence[int], address: str | None = None) -> list[dict[str, Any]]:
        assert self.rpc is not None
        if not blocks:
            return []
        query: dict[str, Any] = {"fromBlock": hex(min(blocks)), "toBlock": hex(max(blocks))}
        if address:
            query["address"] = address
        wanted = {hex(b) for b in blocks}  # exactly these blocks, never a neighbour inside the range
        return [log for log in self.rpc.call("eth_getLogs", [query]) if log["blockNumber"] in wanted]

    def balances(self, tokens: Sequence[str], holders: Sequence[str], chunk: int = 1000) -> list[list[int]]:
        """ERC-20 balanceOf of every holder on every token, in batched eth_calls: [token][holder]."""
        assert self.rpc is not None
        calls = [("eth_call", [{"to": t, "data": BALANCE_OF + bytes.fromhex(h[2:].lower().rjust(64, "0")).hex()},
                               "latest"]) for t in tokens for h in holders]  # fmt: skip
        values: list[int] = []
        for start in range(0, len(calls), chunk):
            for reply in self.rpc.batch(calls[start : start + chunk]):
                if "result" not in reply:
                    raise RuntimeError(f"balanceOf failed: {reply}")
                values.append(int(reply["result"], 16))
        n = len(holders)
        return [values[i * n : (i + 1) * n] for i in range(len(tokens))]
