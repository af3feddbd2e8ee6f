"""`make bench-simulate`: wall time, transactions and peak memory of whole simulation runs, per community size.

Each size runs `python -m simulation` (all designs, 1 day by default) as a child process while a sampler sums the
memory (PSS) of that process and all its descendants (workers, anvils) every half second: the peak of that sum is
`peak_memory_mib`. Results go to reports/simulation/bench.json as a list of
{households, days, designs, wall_s, transactions, peak_memory_mib, cpu_s, load_avg, ...}, one entry per size
(a new measurement of a size replaces the old one). Wall time depends on what else runs on the machine: the
1-minute load average at start and end is recorded beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from energy_chain.config import PROJECT_ROOT

OUT = PROJECT_ROOT / "reports" / "simulation" / "bench.json"


def tree_memory(proc: psutil.Process) -> int:
    """Proportional set size of the process and its descendants: forked workers share their parent's pages, which
    a sum of RSS would count once per process."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_full_info().pss
    return total


def measure(households: int, days: int, seed: int, designs: str, out_dir: Path, jobs: int) -> dict[str, Any]:
    name = f"bench-h{households}-d{days}-s{seed}" + ("" if designs == "all" else "-" + designs.replace(",", "-"))
    cmd = [sys.executable, "-m", "simulation", "--households", str(households), "--days", str(days), "--seed",
           str(seed), "--designs", designs, "--run", name, "--out", str(out_dir), "--quiet",
           "--jobs", str(jobs)]  # fmt: skip
    load0 = os.getloadavg()[0]
    started = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ps = psutil.Process(child.pid)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            with contextlib.suppress(psutil.Error):
                peak[0] = max(peak[0], tree_memory(ps))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = child.communicate()
    finally:
        done.set()
        sampler.join()
    wall = time.monotonic() - started
    if child.returncode != 0:
        raise SystemExit(f"simulation of {households} households failed (exit {child.returncode})")
    print(output, end="")
    meta = json.loads((out_dir / name / "run.json").read_text())
    usage = psutil.Process().cpu_times()
    return {
        "households": households,
        "days": days,
        "designs": list(meta["designs"]),
        "jobs": jobs,
        "wall_s": round(wall, 1),
        "transactions": sum(d["transactions"] for d in meta["designs"].values()),
        "setup_transactions": sum(d.get("setup_transactions", 0) for d in meta["designs"].values()),
        "gas_used": sum(d["gas_used"] for d in meta["designs"].values()),
        "per_design_wall_s": {k: d["wall_s"] for k, d in meta["designs"].items()},
        "peak_memory_mib": round(peak[0] / 2**20, 1),
        "children_cpu_s": round(usage.children_user + usage.children_system, 1),
        "load_avg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "seed": seed,
        "run": name,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulation.bench", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 1000])
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--designs", default="all")
    p.add_argument("--jobs", type=int, default=2, help="designs simulated in parallel")
    p.add_argument("--out", type=Path, default=OUT)
    ns = p.parse_args(argv)
    results: list[dict[str, Any]] = json.loads(ns.out.read_text()) if ns.out.exists() else []
    for size in ns.sizes:
        entry = measure(size, ns.days, ns.seed, ns.designs, ns.out.parent, ns.jobs)
        key = (size, ns.days, tuple(entry["designs"]))
        results = [r for r in results if (r["households"], r["days"], tuple(r["designs"])) != key] + [entry]
        results.sort(key=lambda r: (r["households"], r["days"]))
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"{size} households x {ns.days} day(s): {entry['wall_s']} s wall, {entry['transactions']} transactions, "
              f"peak {entry['peak_memory_mib']} MiB (load {entry['load_avg_1m']})", flush=True)  # fmt: skip
    print(f"wrote {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
