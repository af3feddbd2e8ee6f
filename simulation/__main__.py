"""`python -m simulation` (make simulate): simulate a community's day(s) under each market design.

Options also come from the environment (HOUSEHOLDS, DAYS, SEED, INTERVAL_S, DESIGNS, STRATEGY, RUN), as make passes
them. Output: reports/simulation/<run>/ (intervals.csv, run.json, and the report when simulation.report exists).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import date
from pathlib import Path

from energy_chain.config import PROJECT_ROOT
from household_model import generate_community
from simulation.run import run, summary
from simulation.spec import ALL_DESIGNS, DEFAULT_DATE, RunSpec

KNOWN_DESIGNS = (*ALL_DESIGNS, "direct")


DIRECT_IN_ALL_UP_TO = 50  # households: each direct buyer queries every meter's DHT record (N^2 lookups/interval)


def parse_designs(text: str, households: int) -> list[str]:
    names = [d.strip() for d in text.split(",") if d.strip()]
    if not names or names == ["all"]:
        return [*ALL_DESIGNS, "direct"] if households <= DIRECT_IN_ALL_UP_TO else list(ALL_DESIGNS)
    unknown = [d for d in names if d not in KNOWN_DESIGNS]
    if unknown:
        raise SystemExit(f"unknown design(s) {unknown}; choose from {', '.join(KNOWN_DESIGNS)} or 'all'")
    return names


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m simulation", description=__doc__.splitlines()[0])
    p.add_argument("--households", type=int, default=int(env.get("HOUSEHOLDS", 20)))
    p.add_argument("--days", type=int, default=int(env.get("DAYS", 1)))
    p.add_argument("--seed", type=int, default=int(env.get("SEED", 7)))
    p.add_argument("--interval-s", type=int, default=int(env.get("INTERVAL_S", 900)))
    p.add_argument("--intervals", type=int, default=int(env["INTERVALS"]) if env.get("INTERVALS") else None,
                   help="stop after this many intervals (default: the whole days)")  # fmt: skip
    p.add_argument("--start-hour", type=float, default=float(env.get("START_HOUR", 0)))
    p.add_argument("--date", type=date.fromisoformat, default=date.fromisoformat(env.get("DATE", str(DEFAULT_DATE))))
    p.add_argument(
        "--designs",
        default=env.get("DESIGNS", "all"),
        help=f"comma-separated, or 'all' (direct included up to {DIRECT_IN_ALL_UP_TO} households)",
    )
    p.add_argument("--strategy", default=env.get("STRATEGY", "sdr"), choices=("sdr", "ramp"))
    p.add_argument("--forecaster", default=env.get("FORECASTER", "clear-sky"), choices=("clear-sky", "persistence"))
    p.add_argument("--run", default=env.get("RUN") or None, help="run folder name (default: derived from the options)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "simulation")
    p.add_argument(
        "--jobs",
        type=int,
        default=int(env.get("JOBS", min(2, os.cpu_count() or 1))),
        help="designs simulated in parallel, each on its own chain (default: 2 on this 2-core machine)",
    )
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--quiet", action="store_true")
    ns = p.parse_args(argv)
    # SIGTERM (make, timeout, a bench) unwinds like Ctrl-C: every design's finally stops its anvil.
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(143))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    community = generate_community(ns.households, ns.seed, ns.interval_s)
    spec = RunSpec(community, ns.days, ns.interval_s, ns.seed, day=ns.date, strategy=ns.strategy,
                   forecaster=ns.forecaster, intervals=ns.intervals, start_hour=ns.start_hour)  # fmt: skip
    name = ns.run or f"h{ns.households}-d{ns.days}-s{ns.seed}-{ns.strategy}"
    run_dir = ns.out / name
    meta = run(
        spec, parse_designs(ns.designs, ns.households), run_dir, report=not ns.no_report, quiet=ns.quiet, jobs=ns.jobs
    )
    print(summary(meta))
    print(f"wrote {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
