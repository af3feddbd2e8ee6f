"""Chain throughput: pre-signed legacy ERC-20 transfers sent in JSON-RPC batches; mined tx/s from the blocks.

    python -m poa.bench --chain clique            # a fresh clique node  -> reports/bench-clique.json
    python -m poa.bench --chain anvil             # anvil, 1 s blocks    -> reports/bench-anvil.json
    python -m poa.bench --rpc-url URL --name lab  # any zero-gas chain   -> reports/bench-lab.json

Needs no funded account: on a zero-gas chain fresh keys deploy their own SettlementToken and transfer it.
Progress is read from the recipient's balance (one eth_call), not from receipts: ethereumjs re-executes a whole
block for every receipt query.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.anvil import start_anvil
from energy_chain.artifacts import load_artifact
from energy_chain.config import PROJECT_ROOT
from poa.keys import NodeKey

REPORTS = PROJECT_ROOT / "reports"
TRANSFER_GAS = 80_000
SETUP_GAS = 300_000


@dataclass(frozen=True)
class BenchResult:
    name: str
    client: str
    chain_id: int
    block_gas_limit: int
    workload: str
    senders: int
    txs_sent: int
    txs_rejected: int
    txs_mined: int
    gas_per_tx: int
    submit_seconds: float
    submit_tx_per_s: float
    blocks_with_txs: int
    max_txs_per_block: int
    median_block_interval_s: float
    mined_window_s: int
    mined_tx_per_s: float
    measured_at: str
    machine: str


@contextmanager
def chain(kind: str, rpc_url: str | None, gas_limit: int) -> Iterator[tuple[str, str]]:
    """Yield (rpc url, client description) of the chain to measure, starting and stopping it when it is ours."""
    if rpc_url:
        yield rpc_url, "external"
        return
    if kind == "anvil":
        node = start_anvil(block_time=1, gas_limit=gas_limit)
        try:
            yield node.url, "anvil 1.7.1, 1 s blocks"
        finally:
            node.stop()
    else:
        from poa.clique import start_clique  # needs `make clique-setup`

        clique = start_clique(gas_limit=gas_limit)
        try:
            yield clique.url, "ethereumjs client 0.10.2, clique, 1 s period, 1 signer"
        finally:
            clique.kill()


def _fresh_signer() -> Signer:
    return Signer.from_key(NodeKey.generate().private_key)


def prepare(client: ChainClient, senders: list[Signer]) -> Any:
    """Deploy a token owned by a fresh key and give every sender a balance."""
    owner = _fresh_signer()
    address, _ = client.deploy("SettlementToken", [owner.address, owner.address], owner)
    token = client.w3.eth.contract(address=address, abi=load_artifact("SettlementToken")["abi"])
    nonces = owner.reserve(len(senders), client.pending_nonce)
    raws = [
        owner.sign(client.build_tx(token.functions.topUp(s.address, 10**12, b"\0" * 32), owner, SETUP_GAS, n))
        for s, n in zip(senders, nonces, strict=True)
    ]
    hashes = client.send_raw_batch(raws)
    bad = [h for h in hashes if not isinstance(h, str)]
    if bad:
        raise RuntimeError(f"top-ups refused: {bad[:3]}")
    client.wait_for_receipts(hashes, timeout_s=120)  # type: ignore[arg-type]
    return token


def presign(client: ChainClient, token: Any, senders: list[Signer], per_sender: int, recipient: str) -> list[bytes]:
    """Round-robin over senders so every batch carries each sender's nonces in order."""
    base = [client.pending_nonce(s.address) for s in senders]
    return [
        s.sign(client.build_tx(token.functions.transfer(recipient, 1), s, TRANSFER_GAS, nonce=base[i] + k))
        for k in range(per_sender)
        for i, s in enumerate(senders)
    ]


def send_all(
    client: ChainClient, raws: list[bytes], batch: int, max_pending: int, mined: Callable[[], int]
) -> tuple[int, float]:
    """Send in batches, keeping at most `max_pending` unmined; return (rejected count, seconds spent sending)."""
    rejected, sent = 0, 0
    start = time.monotonic()
    for i in range(0, len(raws), batch):
        while sent - rejected - mined() > max_pending:
            time.sleep(0.1)
        results = client.send_raw_batch(raws[i : i + batch])
        rejected += sum(1 for r in results if not isinstance(r, str))
        sent += len(results)
    return rejected, time.monotonic() - start


def block_stats(client: ChainClient, first: int, last: int) -> tuple[list[int], list[int]]:
    blocks = [client.w3.eth.get_block(n) for n in range(first, last + 1)]
    return [len(b["transactions"]) for b in blocks], [int(b["timestamp"]) for b in blocks]


def run(args: argparse.Namespace) -> BenchResult:
    with chain(args.chain, args.rpc_url, args.gas_limit) as (url, description):
        client = ChainClient(
            ChainConfig(rpc_url=url, chain_id=args.chain_id, deployments_dir=Path("/nonexistent"), timeout_s=300)
        )
        senders = [_fresh_signer() for _ in range(args.senders)]
        token = prepare(client, senders)
        recipient = _fresh_signer().address
        raws = presign(client, token, senders, args.txs // args.senders, recipient)

        def mined() -> int:
            return int(token.functions.balanceOf(recipient).call())

        start_block = client.w3.eth.block_number
        rejected, submit_s = send_all(client, raws, args.batch, args.max_pending, mined)
        expected = len(raws) - rejected
        deadline = time.monotonic() + args.timeout
        while mined() < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        done = mined()
        last_block = client.w3.eth.block_number
        counts, stamps = block_stats(client, start_block, last_block)
        busy = [i for i, c in enumerate(counts) if c]
        first_busy, last_busy = (busy[0], busy[-1]) if busy else (0, 0)
        # from the block before the first busy one: its timestamp is when the first transactions could start
        window = max(1, stamps[last_busy] - stamps[max(0, first_busy - 1)])
        intervals = [b - a for a, b in itertools.pairwise(stamps)]
        gas_used = client.w3.eth.get_block(start_block + last_busy)["gasUsed"]
        return BenchResult(
            name=args.name or args.chain,
            client=description,
            chain_id=client.chain_id,
            block_gas_limit=int(client.w3.eth.get_block("latest")["gasLimit"]),
            workload="ERC-20 transfer (SettlementToken) to one recipient, pre-signed legacy txs, gasPrice 0",
            senders=len(senders),
            txs_sent=len(raws),
            txs_rejected=rejected,
            txs_mined=done,
            gas_per_tx=int(gas_used // max(1, counts[last_busy])),
            submit_seconds=round(submit_s, 2),
            submit_tx_per_s=round(len(raws) / submit_s, 1),
            blocks_with_txs=len(busy),
            max_txs_per_block=max(counts, default=0),
            median_block_interval_s=statistics.median(intervals) if intervals else 0.0,
            mined_window_s=window,
            mined_tx_per_s=round(done / window, 1),
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            machine=f"{platform.machine()}, {os.cpu_count()} cores shared by node and sender",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure mined transactions per second of a zero-gas chain.")
    parser.add_argument("--chain", choices=("clique", "anvil"), default="clique", help="start this chain fresh")
    parser.add_argument("--rpc-url", help="measure this chain instead (it must accept gasPrice-0 legacy txs)")
    parser.add_argument("--chain-id", type=int, default=None)
    parser.add_argument("--name", help="report name (reports/bench-<name>.json); default: the chain kind")
    parser.add_argument("--txs", type=int, default=3000, help="transactions to send in total")
    parser.add_argument("--senders", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100, help="transactions per JSON-RPC batch")
    parser.add_argument("--max-pending", type=int, default=600, help="unmined transactions allowed in flight")
    parser.add_argument("--gas-limit", type=int, default=300_000_000, help="block gas limit of a chain we start")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the last transactions")
    args = parser.parse_args(argv)
    result = run(args)
    REPORTS.mkdir(exist_ok=True)
    out = REPORTS / f"bench-{result.name}.json"
    out.write_text(json.dumps(asdict(result), indent=2) + "\n")
    print(json.dumps(asdict(result), indent=2))
    print(f"wrote {out}")
    return 0 if result.txs_mined == result.txs_sent - result.txs_rejected else 1


if __name__ == "__main__":
    sys.exit(main())
