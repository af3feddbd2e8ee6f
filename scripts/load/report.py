"""The scenario report (reports/loadtest/<name>.json) and the summary table against the seed platform."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.load.scenarios import SEED_AVG_TPS, SEED_MAX_TPS, SEED_PEAK_TPS

FIELDS = ("scenario", "users", "duration_s", "offered_rps", "mined_tps", "failures", "p50_s", "p95_s", "p99_s")


@dataclass(frozen=True)
class Report:
    """Figures of the steady phase: request rate offered by the users, transactions mined per second (from blocks),
    failures of any kind over the whole run, submit → mined latency percentiles in seconds."""

    scenario: str
    users: int
    duration_s: float
    offered_rps: float
    mined_tps: float
    failures: int
    p50_s: float
    p95_s: float
    p99_s: float


def write_report(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=1) + "\n")


def read_report(path: Path) -> Report:
    data = json.loads(path.read_text())
    return Report(**{k: data[k] for k in FIELDS})


def summary_table(reports: list[Report]) -> str:
    """Seed figures, ours and the ratio (against the seed's best, 5.4 tx/s: the most conservative comparison)."""
    lines = [
        f"seed platform: {SEED_AVG_TPS} tx/s average, {SEED_PEAK_TPS} at peak concurrency, {SEED_MAX_TPS} at most",
        f"{'scenario':<12}{'users':>7}{'offered req/s':>15}{'mined tx/s':>12}{'seed tx/s':>11}{'ratio':>9}"
        f"{'p50 s':>8}{'p95 s':>8}{'p99 s':>8}{'failures':>10}",
    ]
    for r in reports:
        lines.append(
            f"{r.scenario:<12}{r.users:>7}{r.offered_rps:>15.1f}{r.mined_tps:>12.1f}{SEED_MAX_TPS:>11}"
            f"{r.mined_tps / SEED_MAX_TPS:>8.0f}x{r.p50_s:>8.2f}{r.p95_s:>8.2f}{r.p99_s:>8.2f}"
            f"{r.failures:>10}"
        )
    return "\n".join(lines)
