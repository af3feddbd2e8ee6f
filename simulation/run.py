"""Run every design on the same community and weather, write intervals.csv + run.json, then the report."""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import sys
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simulation.dataset import IntervalWriter, write_run_meta
from simulation.design import ROW_COLUMNS, DesignResult, DesignRun
from simulation.spec import Physics, RunSpec

log = logging.getLogger("simulation")


class Progress:
    """tqdm when installed and attached to a terminal-ish stream, else a plain line every few percent."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self._last_pct = -1
        try:
            from tqdm import tqdm

            self._bar: Any = tqdm(total=total, desc=label, unit="interval", file=sys.stderr, leave=True,
                                  mininterval=1.0)  # fmt: skip
        except ImportError:
            self._bar = None

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = 100 * self.done // max(self.total, 1)
        if pct >= self._last_pct + 5:
            self._last_pct = pct
            print(f"{self.label}: {pct}% ({self.done}/{self.total} intervals)", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def iso_of(tz: str):
    zone = ZoneInfo(tz)
    cache: dict[int, str] = {}

    def iso(t: int) -> str:
        if t not in cache:
            cache[t] = datetime.fromtimestamp(t, zone).isoformat()
        return cache[t]

    return iso


def write_dataset(path: Path, spec: RunSpec, physics: Physics, results: Sequence[DesignResult]) -> int:
    iso = iso_of(spec.tz)
    retail, feed_in = spec.tariffs.retail, spec.tariffs.feed_in
    names = [h.name for h in spec.community.households]
    with IntervalWriter(path, tz=spec.tz) as writer:
        for r in results:
            cols = {c: r.columns[c].tolist() for c in ROW_COLUMNS}
            gen, use = physics.generation.tolist(), physics.consumption.tolist()
            for i, name in enumerate(names):
                for k in range(spec.n_intervals):
                    row: dict[str, object] = {
                        "design": r.design,
                        "household": name,
                        "interval_start": iso(spec.interval_start(k)),
                        "generation_wh": gen[i][k],
                        "consumption_wh": use[i][k],
                        "retail_units_per_kwh": retail,
                        "feed_in_units_per_kwh": feed_in,
                    }
                    for c in ROW_COLUMNS:
                        row[c] = cols[c][i][k]
                    writer.write(row)
        return writer.rows


def peak_memory_mib() -> float:
    """Peak resident memory of this process plus its finished children (anvil), MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + children) / 1024, 1)


_QUEUE: Any = None  # a worker's channel for progress (set by the pool's initializer)


def _init_worker(queue: Any) -> None:
    global _QUEUE
    _QUEUE = queue


def _one_design(spec: RunSpec, physics: Physics, design: str, folder: Path) -> DesignResult:
    queue = _QUEUE
    tick = (lambda n: queue.put(n)) if queue is not None else None
    return DesignRun(spec, physics, design, folder, tick, iso_of(spec.tz)).run()


def _parallel(spec: RunSpec, physics: Physics, designs: Sequence[str], run_dir: Path, jobs: int,
              quiet: bool) -> list[DesignResult]:  # fmt: skip
    """Designs in `jobs` worker processes (each with its own anvil); results in the order of `designs`."""
    done: dict[str, DesignResult] = {}
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    progress = Progress(len(designs) * (spec.n_intervals + 1), f"{len(designs)} designs x {jobs} jobs")
    if quiet:
        progress.close()
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(queue,)) as pool:
        futures = {pool.submit(_one_design, spec, physics, d, run_dir / "chains" / d): d for d in designs}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            ticks = 0
            while not queue.empty():
                ticks += queue.get()
            if ticks and not quiet:
                progress.update(ticks)
            for future in finished:
                done[futures[future]] = future.result()
    if not quiet:
        progress.close()
    return [done[d] for d in designs]


def run(spec: RunSpec, designs: Sequence[str], run_dir: Path, report: bool = True, quiet: bool = False,
        inspect: Any = None, jobs: int = 1) -> dict[str, Any]:  # fmt: skip
    """Simulate `designs` (in `jobs` processes; one when `inspect` must see the chains) and write the run folder;
    returns run.json's content."""
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    physics = Physics.of(spec)
    results: list[DesignResult] = []
    iso = iso_of(spec.tz)
    if jobs > 1 and inspect is None and len(designs) > 1:
        results = _parallel(spec, physics, designs, run_dir, jobs, quiet)
    for design in designs if not results else ():
        progress = Progress(spec.n_intervals + 1, f"{design:>18}") if not quiet else None
        runner = DesignRun(spec, physics, design, run_dir / "chains" / design,
                           progress.update if progress else None, iso)  # fmt: skip
        try:
            results.append(runner.run(inspect))
        finally:
            if progress:
                progress.close()
    rows = write_dataset(run_dir / "intervals.csv", spec, physics, results)
    meta: dict[str, Any] = {
        "seed": spec.seed,
        "households": len(spec.community.households),
        "days": spec.days,
        "interval_s": spec.interval_s,
        "intervals": spec.n_intervals,
        "timezone": spec.tz,
        "start": iso(spec.start_ts),
        "strategy": spec.strategy,
        "forecaster": spec.forecaster,
        "retail_units_per_kwh": spec.tariffs.retail,
        "feed_in_units_per_kwh": spec.tariffs.feed_in,
        "rows": rows,
        "batteries": sum(1 for h in spec.community.households if h.battery),
        "prosumers": sum(1 for h in spec.community.households if h.kind == "prosumer"),
        "wall_s": round(time.monotonic() - started, 2),
        "peak_memory_mib": peak_memory_mib(),
        "jobs": jobs,
        "designs": {r.design: r.meta() for r in results},
    }
    write_run_meta(run_dir / "run.json", meta)
    if report:
        write_report(run_dir)
    return meta


def write_report(run_dir: Path) -> None:
    try:
        from simulation.report import write_report as report
    except ImportError:
        log.warning("simulation.report is not there yet: wrote intervals.csv and run.json only")
        return
    report(run_dir)


def summary(meta: dict[str, Any]) -> str:
    lines = [f"{meta['households']} households, {meta['days']} day(s), {meta['interval_s']} s intervals, "
             f"seed {meta['seed']}: {meta['wall_s']} s wall, peak memory {meta['peak_memory_mib']} MiB"]  # fmt: skip
    for name, d in meta["designs"].items():
        lines.append(f"  {name:<20} {d['transactions']:>7} txs {d['gas_used'] / 1e6:>9.1f} Mgas {d['wall_s']:>7.1f} s"
                     f"  fills {d['rounded_fills']:>6}  forecast wMAPE {d['forecast_mape']}")  # fmt: skip
    return "\n".join(lines)


def dumps(meta: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in meta.items() if k != "designs"}, indent=1)
