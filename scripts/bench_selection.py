"""`make bench-selection`: the selection solvers on random instances of 5, 20, 100 and 500 offers.

Per size: GA objective / MILP objective (1 = the GA found the optimum), solve time p50/p95 of each solver (wall
clock, as `Selection.time_ms`, and CPU time of this process, which a loaded shared machine disturbs less), and on
instances of 1-12 offers whether the MILP equals brute force. Goal: MILP <= 50 ms at 100 offers. Writes
reports/selection-bench.json and prints the figures. Instances: `agents.selection.generate.random_instance` with
random weights, seeded, so a rerun draws the same instances.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.selection import solve
from agents.selection.brute import MAX_OFFERS
from agents.selection.generate import random_instance

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "selection-bench.json"
SIZES = (5, 20, 100, 500)
MILP_GOAL_MS = 50.0
TOLERANCE = 1e-6


def _pct(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "max": round(max(values), 2),
    }


def _timed(instance, solver: str, seed: int):
    cpu = time.process_time()
    sel = solve(instance, solver=solver, seed=seed)
    return sel, (time.process_time() - cpu) * 1000.0


def bench_size(n: int, count: int, seed: int) -> dict[str, Any]:
    milp_ms, milp_cpu, ga_ms, ga_cpu, ratios = [], [], [], [], []
    for k in range(count):
        instance = random_instance(n, seed * 1_000_003 + n * 1000 + k, random_weights=True)
        m, m_cpu = _timed(instance, "milp", seed)
        g, g_cpu = _timed(instance, "ga", seed + k)
        if not (m.feasible and g.feasible):
            raise SystemExit(f"infeasible answer on n={n} #{k}: {m.violations or g.violations}")
        milp_ms.append(m.time_ms)
        milp_cpu.append(m_cpu)
        ga_ms.append(g.time_ms)
        ga_cpu.append(g_cpu)
        ratios.append(g.objective / m.objective if m.objective > 0 else (1.0 if g.objective <= TOLERANCE else np.inf))
    return {
        "instances": count,
        "ga_over_milp": {
            "mean": round(statistics.fmean(ratios), 6),
            "max": round(max(ratios), 6),
            "share_equal": round(sum(r <= 1 + TOLERANCE for r in ratios) / count, 3),
        },
        "milp_ms": _pct(milp_ms),
        "ga_ms": _pct(ga_ms),
        "milp_cpu_ms": _pct(milp_cpu),
        "ga_cpu_ms": _pct(ga_cpu),
    }


def bench_brute(count: int, seed: int) -> dict[str, Any]:
    equal, worst, by_size = 0, 0.0, {}
    for k in range(count):
        n = 1 + k % MAX_OFFERS
        instance = random_instance(n, seed * 7_000_001 + k, random_weights=k % 2 == 0)
        diff = abs(solve(instance, "milp").objective - solve(instance, "brute").objective)
        ok = diff <= TOLERANCE
        equal += ok
        worst = max(worst, diff)
        by_size.setdefault(str(n), [0, 0])
        by_size[str(n)][0] += ok
        by_size[str(n)][1] += 1
    return {
        "instances": count,
        "offers": f"1-{MAX_OFFERS}",
        "equal": equal,
        "all_equal": equal == count,
        "max_abs_diff": worst,
        "tolerance": TOLERANCE,
        "equal_by_offers": {n: f"{ok}/{total}" for n, (ok, total) in sorted(by_size.items(), key=lambda i: int(i[0]))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20, help="random instances per size (500 offers: half)")
    parser.add_argument("--brute", type=int, default=120, help="random instances of 1-12 offers against brute force")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.instances < 1 or args.brute < 1:
        parser.error("--instances and --brute must be >= 1")
    started = time.time()
    sizes = {}
    for n in SIZES:
        sizes[str(n)] = bench_size(n, max(1, args.instances // 2) if n >= 500 else args.instances, args.seed)
        s = sizes[str(n)]
        print(
            f"{n:4d} offers: GA/MILP mean {s['ga_over_milp']['mean']:.4f} max {s['ga_over_milp']['max']:.4f}"
            f" (equal {s['ga_over_milp']['share_equal']:.0%}) | MILP p50 {s['milp_ms']['p50']:.1f} ms"
            f" p95 {s['milp_ms']['p95']:.1f} ms (cpu p50 {s['milp_cpu_ms']['p50']:.1f}) | GA p50"
            f" {s['ga_ms']['p50']:.1f} ms p95 {s['ga_ms']['p95']:.1f} ms (cpu p50 {s['ga_cpu_ms']['p50']:.1f})",
            flush=True,
        )
    brute = bench_brute(args.brute, args.seed)
    print(
        f"MILP == brute force on {brute['equal']}/{brute['instances']} instances of 1-{MAX_OFFERS} offers"
        f" (max |diff| {brute['max_abs_diff']:.2e})"
    )
    at100 = sizes["100"]["milp_ms"]
    report = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "sizes": sizes,
        "brute_force": brute,
        "goal": {
            "milp_ms_at_100_offers": MILP_GOAL_MS,
            "milp_p50_ms": at100["p50"],
            "milp_p95_ms": at100["p95"],
            "milp_cpu_p50_ms": sizes["100"]["milp_cpu_ms"]["p50"],
            "met_p50": at100["p50"] <= MILP_GOAL_MS,
            "met_p95": at100["p95"] <= MILP_GOAL_MS,
        },
        "wall_s": round(time.time() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"MILP at 100 offers: p50 {at100['p50']:.1f} ms, p95 {at100['p95']:.1f} ms (goal <= {MILP_GOAL_MS:.0f} ms)")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
