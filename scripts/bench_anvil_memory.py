"""anvil's memory under a steady stream of order-book transactions, per anvil configuration (issue #15: every
process's memory bounded; the one-hour soak saw anvil grow ~100 MB/min to 6.1 GB).

For each configuration: a fresh anvil (energy_chain.anvil, 1 s blocks, state dumped every 5 s as in make demo) on a
free port, the project's contracts deployed, a few funded dev traders placing buy orders and cancelling them a
second later, RATE tx/s in all (pipelined raw sends), anvil's RSS sampled every 10 s. Writes
reports/anvil-memory.json and prints the table (`--print` prints the table of the last report).

    make bench-anvil-memory                     # all configurations, BENCH_SECONDS (120) each
    python -m scripts.bench_anvil_memory --seconds 120 --rate 20 --only baseline keeper-64
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import deploy_local, fund_traders, user_signer
from energy_chain.orders import CANCEL_GAS, OrderBookClient, Side

REPORT = PROJECT_ROOT / "reports" / "anvil-memory.json"
SAMPLE_S = 10
TRADERS = 4
# name -> start_anvil options. "baseline" is the command line before the fix (no transaction keeper: anvil kept
# every block's transactions); a huge keeper stands in for "none".
CONFIGS: dict[str, dict[str, Any]] = {
    "baseline": {"tx_blocks": 10**9},
    "baseline-no-periodic-dump": {"tx_blocks": 10**9, "state_interval": 3600},
    "keeper-64": {"tx_blocks": 64, "history_states": 64},
    "keeper-64-no-periodic-dump": {"tx_blocks": 64, "history_states": 64, "state_interval": 3600},
}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def run(name: str, options: dict[str, Any], seconds: float, rate: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="anvil-mem-", dir=PROJECT_ROOT / "build") as tmp:
        node = start_anvil(block_time=1, state_dir=Path(tmp) / "chain", **options)
        try:
            client = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=Path(tmp) / "deployments"))
            deploy_local(client)
            book = OrderBookClient(client)
            signers = [user_signer(i) for i in range(TRADERS)]
            fund_traders(client, signers, book, tag=f"mem-{name}")
            nonces = {s.address: client.pending_nonce(s.address) for s in signers}
            pid = node.process.pid
            start_rss, t0 = rss_mb(pid), time.monotonic()
            samples = [(0.0, start_rss)]
            sent, refused, tick = 0, 0, 0
            placed: list[tuple[Any, str]] = []  # (signer, tx hash) of placements to cancel next second
            cancel = book.contract.functions.cancelOrder
            next_sample = t0 + SAMPLE_S
            while (now := time.monotonic()) - t0 < seconds:
                raws, placing = [], []
                # Last second's placements are cancelled: the book's storage stays flat, as in the soak's trading.
                found = client.wait_for_receipts([h for _, h in placed]) if placed else {}
                for s, h in placed:
                    order_id = book.place_result(found[h]).order_id
                    raws.append(s.sign(client.build_tx(cancel(order_id), s, CANCEL_GAS, nonce=nonces[s.address])))
                    nonces[s.address] += 1
                for i in range(rate // 2):
                    s = signers[(tick * rate + i) % TRADERS]
                    price = 100 + (tick * rate + i) % 5  # a few levels, no fills
                    raws.append(book.build_place_tx(s, Side.BUY, price, 1000, hint=0, nonce=nonces[s.address]))
                    placing.append(s)
                    nonces[s.address] += 1
                results = client.send_raw_batch(raws)
                hashes = [r for r in results[len(raws) - len(placing) :] if isinstance(r, str)]
                placed = list(zip(placing, hashes, strict=True))
                refused += sum(1 for r in results if not isinstance(r, str))
                sent += len(raws)
                tick += 1
                if now >= next_sample:
                    samples.append((round(now - t0, 1), round(rss_mb(pid), 1)))
                    next_sample += SAMPLE_S
                time.sleep(max(0.0, t0 + tick - time.monotonic()))
            elapsed = time.monotonic() - t0
            end_rss = rss_mb(pid)
            last = [r for r in results if isinstance(r, str)]
            found = client.wait_for_receipts(last)
            reverted = sum(1 for h in last if int(found[h]["status"], 16) != 1)
            if refused or reverted:
                bad = next((h for h in last if int(found[h]["status"], 16) != 1), None)
                why = client.explain_failure(bad) if bad else ""
                raise RuntimeError(f"{name}: {refused} refused, {reverted} of the last {len(last)} reverted: {why}")
            mined = client.w3.eth.block_number
        finally:
            node.stop()
    grown = end_rss - start_rss
    return {
        "config": name,
        "command_line_options": {k: v for k, v in options.items()},
        "seconds": round(elapsed, 1),
        "tx_sent": sent,
        "tx_refused": refused,
        "head_block": mined,
        "rss_start_mb": round(start_rss, 1),
        "rss_end_mb": round(end_rss, 1),
        "mb_per_minute": round(grown / (elapsed / 60), 1),
        "mb_per_1000_tx": round(grown / (sent / 1000), 2) if sent else None,
        # Growth over the second half alone: a bounded configuration flattens once its keeper window is full.
        "mb_per_minute_second_half": second_half_rate(samples),
        "samples_s_mb": samples,
    }


def second_half_rate(samples: list[tuple[float, float]]) -> float | None:
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    if len(half) < 2 or half[-1][0] == half[0][0]:
        return None
    return round((half[-1][1] - half[0][1]) / ((half[-1][0] - half[0][0]) / 60), 1)


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'config':26} {'s':>4} {'tx':>6} {'RSS start':>9} {'RSS end':>8} "
    head += f"{'MB/min':>7} {'2nd half':>8} {'MB/1k tx':>8}"
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['config']:26} {r['seconds']:>4.0f} {r['tx_sent']:>6} "
            f"{r['rss_start_mb']:>9.0f} {r['rss_end_mb']:>8.0f} "
            f"{r['mb_per_minute']:>7.1f} {r['mb_per_minute_second_half'] or 0:>8.1f} {r['mb_per_1000_tx'] or 0:>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--rate", type=int, default=20, help="transactions a second")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), default=None)
    parser.add_argument("--print", action="store_true", help="print the table of reports/anvil-memory.json and exit")
    ns = parser.parse_args(argv)
    if ns.print:
        print(table(json.loads(REPORT.read_text())["runs"]))
        return 0
    rows = []
    for name in ns.only or list(CONFIGS):
        rows.append(run(name, CONFIGS[name], ns.seconds, ns.rate))
        print(table(rows[-1:]), flush=True)
    report = json.loads(REPORT.read_text()) if ns.only and REPORT.exists() else {}
    # With --only, the other configurations' earlier runs stay in the report.
    kept = [r for r in report.get("runs", []) if r["config"] not in {r["config"] for r in rows}]
    report.update({"rate_tx_per_s": ns.rate, "block_time_s": 1, "runs": rows + kept})
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
