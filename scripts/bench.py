"""`make bench`: the chain-direct ceiling of order placement — pre-signed placeOrder transactions from many senders,
sent in JSON-RPC batches; mined transactions per second counted from the blocks.

    python -m scripts.bench                      # starts its own anvil (1 s blocks, 300M gas) on a free port
    RPC_URL=http://host:8545 python -m scripts.bench   # any chain with the contracts deployed (deployment record)

Writes reports/bench.json with mined_tps, submitted, mined, failures, gas_limit, block_time_s, gas_per_tx and exits
non-zero on any failure (refused at submission, reverted, or never mined). Every order is a resting bid on a grid of
price levels (no matching), so every placement does the same work: escrow, enqueue, store the order.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from web3.contract import Contract

from energy_chain.blocks import BlockFollower, JsonRpc, MinedBlock, mined_rate
from energy_chain.codec import calldata as calldata_of
from energy_chain.config import PROJECT_ROOT
from energy_chain.events import event_topic
from energy_chain.orders import DEFAULT_MAX_FILLS, Side, cost, place_gas
from energy_chain.signer import Signer
from scripts.load_setup import Market, account_keys, fund_traders, local_market

REPORT = PROJECT_ROOT / "reports" / "bench.json"
SEED_MAX_TPS = 5.4  # the seed platform's best figure (Locust, web path)
BASE_PRICE = 150_000  # 0.15 MYR/kWh in settlement units; bids on PRICE_LEVELS levels 1 000 units apart
PRICE_LEVELS = 20
AMOUNT_WH = 100


@dataclass(frozen=True)
class BenchReport:
    mined_tps: float
    submitted: int
    mined: int
    failures: int
    gas_limit: int
    block_time_s: float
    gas_per_tx: int


def presign(market: Market, signers: list[Signer], per_sender: int) -> list[bytes]:
    """Round-robin over senders, so each batch carries every sender's nonces in increasing order."""
    client, book = market.client, market.book
    calldata = {  # only PRICE_LEVELS distinct calls: encode each once
        p: calldata_of(book.place_function(Side.BUY, p, AMOUNT_WH, 0, DEFAULT_MAX_FILLS, 0))
        for p in (BASE_PRICE + 1000 * k for k in range(PRICE_LEVELS))
    }
    to, gas = book.contract.address, place_gas(DEFAULT_MAX_FILLS)
    starts = [s.reserve(per_sender, client.pending_nonce).start for s in signers]
    raws = []
    for k in range(per_sender):
        for i, s in enumerate(signers):
            price = BASE_PRICE + 1000 * ((i + k) % PRICE_LEVELS)
            raws.append(s.sign(client.legacy_tx(to, calldata[price], gas, starts[i] + k)))
    return raws


class Sender:
    """Sends batches from several threads while keeping at most `max_pending` accepted-but-unmined transactions.

    Each thread owns a disjoint group of senders, so every sender's nonces still arrive in order; threads overlap
    one batch's JSON encoding with the node's work on another (the node validates and pools transactions in
    parallel). The main thread follows the blocks.
    """

    def __init__(self, rpc_url: str, follower: BlockFollower, batch: int, max_pending: int) -> None:
        self.rpc_url, self.follower = rpc_url, follower
        self.batch, self.max_pending = batch, max_pending
        self.ours: set[str] = set()
        self.refused = 0
        self.blocks: list[MinedBlock] = []
        self.mined_ours = 0
        self._lock = threading.Lock()
        self._last_print = 0.0
        self.errors: list[BaseException] = []

    def observe(self) -> None:
        for b in self.follower.poll():
            self.blocks.append(b)
            with self._lock:
                self.mined_ours += sum(1 for h in b.tx_hashes if h in self.ours)

    def progress(self, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_print >= 2:
            self._last_print = now
            last = self.blocks[-1] if self.blocks else None
            block = ""
            if last:
                block = f"block {last.number}: {last.tx_count} txs, gas {last.gas_used / last.gas_limit:.0%}"
            print(
                f"  sent {len(self.ours) + self.refused:>7}/{total}  mined {self.mined_ours:>7}  "
                f"refused {self.refused}  {block}",
                flush=True,
            )

    def _send_group(self, raws: list[bytes]) -> None:
        rpc = JsonRpc(self.rpc_url, timeout=120)
        try:
            for start in range(0, len(raws), self.batch):
                while len(self.ours) - self.mined_ours > self.max_pending:
                    time.sleep(0.02)
                part = raws[start : start + self.batch]
                replies = rpc.batch([("eth_sendRawTransaction", ["0x" + r.hex()]) for r in part])
                with self._lock:
                    for reply in replies:
                        if isinstance(reply.get("result"), str):
                            self.ours.add(reply["result"].lower())
                        else:
                            self.refused += 1
                            if self.refused <= 3:
                                print(f"  refused: {reply.get('error', reply)}", file=sys.stderr)
        except BaseException as exc:  # reported by send(); the other threads carry on
            self.errors.append(exc)

    def send(self, groups: list[list[bytes]]) -> None:
        total = sum(len(g) for g in groups)
        threads = [threading.Thread(target=self._send_group, args=(g,), daemon=True) for g in groups]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            self.observe()
            self.progress(total)
            time.sleep(0.1)
        if self.errors:
            raise RuntimeError(f"sending failed: {self.errors[0]!r}") from self.errors[0]

    def drain(self, total: int, idle_timeout: float) -> None:
        """Wait until everything accepted is mined, or nothing new was mined for `idle_timeout` seconds."""
        last_change, last_count = time.monotonic(), self.mined_ours
        while self.mined_ours < len(self.ours) and time.monotonic() - last_change < idle_timeout:
            time.sleep(0.2)
            self.observe()
            if self.mined_ours != last_count:
                last_change, last_count = time.monotonic(), self.mined_ours
            self.progress(total)
        self.progress(total, force=True)


def verify(rpc: JsonRpc, book: Contract, blocks: list[MinedBlock], ours: set[str]) -> tuple[int, int]:
    """(succeeded, reverted) among our mined transactions: a placement that succeeded logged OrderPlaced."""
    busy = [b for b in blocks if any(h in ours for h in b.tx_hashes)]
    if not busy:
        return 0, 0
    placed_filter = {"address": book.address, "topics": [event_topic(book.abi, "OrderPlaced")]}
    follower = BlockFollower(rpc, placed_filter, start=busy[0].number)
    ok = reverted = 0
    for b in busy:
        (checked,) = follower.fetch([b.number])
        mine = [h for h in checked.tx_hashes if h in ours]
        placed = sum(1 for h in mine if h in (checked.logged or ()))
        ok += placed
        reverted += len(mine) - placed
    return ok, reverted


def gas_per_tx(blocks: list[MinedBlock], counts: list[int]) -> int:
    """Gas per placement from the blocks made only of our placements (the node's own blocks hold none)."""
    pure = [b for b, c in zip(blocks, counts, strict=True) if c and c == b.tx_count]
    return round(sum(b.gas_used for b in pure) / sum(b.tx_count for b in pure)) if pure else 0


def run(args: argparse.Namespace) -> BenchReport:
    with local_market(args.rpc_url, gas_limit=args.gas_limit) as market:
        print(
            f"chain {market.rpc_url} (chain id {market.client.chain_id}), OrderBook {market.book.contract.address}",
            flush=True,
        )
        signers = [Signer.from_key(k) for k in account_keys(args.senders, f"bench:{secrets.token_hex(4)}")]
        per_sender = max(1, args.txs // args.senders)
        escrow = sum(cost(BASE_PRICE + 1000 * k, AMOUNT_WH) for k in range(PRICE_LEVELS)) * (per_sender // 2 + 1)
        t0 = time.monotonic()
        fund_traders(market, signers, units=escrow * 2, energy_wh=0, tag="bench")
        print(f"funded {len(signers)} senders in {time.monotonic() - t0:.1f}s", flush=True)
        t0 = time.monotonic()
        groups = [presign(market, signers[g :: args.threads], per_sender) for g in range(args.threads)]
        submitted = sum(len(g) for g in groups)
        print(
            f"pre-signed {submitted} placements in {time.monotonic() - t0:.1f}s; sending in batches of "
            f"{args.batch} from {args.threads} threads",
            flush=True,
        )
        rpc = JsonRpc(market.rpc_url, timeout=120)
        # start at the current head: the block before our first gives the window's start and a block interval
        head = rpc.call("eth_getBlockByNumber", ["latest", False])
        follower = BlockFollower(rpc, start=int(head["number"], 16))
        sender = Sender(market.rpc_url, follower, args.batch, args.max_pending)
        sender.send(groups)
        sender.drain(submitted, args.idle_timeout)
        blocks = sender.blocks
        counts = [sum(1 for h in b.tx_hashes if h in sender.ours) for b in blocks]
        _, window = mined_rate(blocks, counts)
        ok, reverted = verify(rpc, market.book.contract, blocks, sender.ours)
        dropped = len(sender.ours) - ok - reverted
        busy = [b for b, c in zip(blocks, counts, strict=True) if c]
        # Block period: mean spacing of block timestamps since the head before the run (a small run may fit in one
        # block; single intervals jitter by a second when building a full block outlasts the period).
        stamps = [int(head["timestamp"], 16)] + [b.timestamp for b in blocks]
        print(
            f"{ok} placements mined in {window:.0f}s over {len(busy)} blocks (max {max(counts, default=0)} per "
            f"block); reverted {reverted}, dropped {dropped}, refused {sender.refused}",
            flush=True,
        )
        return BenchReport(
            mined_tps=round(ok / window, 1) if window else 0.0,
            submitted=submitted,
            mined=ok,
            failures=sender.refused + reverted + dropped,
            gas_limit=blocks[-1].gas_limit if blocks else 0,
            block_time_s=round((stamps[-1] - stamps[0]) / (len(stamps) - 1), 2) if len(stamps) > 1 else 0.0,
            gas_per_tx=gas_per_tx(blocks, counts),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rpc-url", default=os.environ.get("RPC_URL") or None, help="chain to measure (default: start a fresh anvil)"
    )
    parser.add_argument("--txs", type=int, default=int(os.environ.get("BENCH_TXS", 60_000)))
    parser.add_argument("--senders", type=int, default=int(os.environ.get("BENCH_SENDERS", 200)))
    parser.add_argument("--batch", type=int, default=200, help="transactions per JSON-RPC batch")
    parser.add_argument("--threads", type=int, default=2, help="sending threads (disjoint groups of senders)")
    parser.add_argument("--max-pending", type=int, default=8000, help="accepted but unmined transactions in flight")
    parser.add_argument("--gas-limit", type=int, default=int(os.environ.get("GAS_LIMIT", 300_000_000)))
    parser.add_argument("--idle-timeout", type=float, default=20, help="give up when nothing is mined this long")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(report), indent=1) + "\n")
    print(json.dumps(asdict(report), indent=1))
    print(f"\n  {'':<28}{'seed':>10}{'ours':>12}{'ratio':>10}")
    print(
        f"  {'mined tx/s (chain direct)':<28}{SEED_MAX_TPS:>10}{report.mined_tps:>12}"
        f"{report.mined_tps / SEED_MAX_TPS:>9.0f}x"
    )
    print(f"written {args.out}")
    if report.failures:
        print(f"FAILED: {report.failures} transactions failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
