"""End to end, small: `make bench` and a 6-user Locust scenario (web and chain traders) on their own chain and two
web servers sharing one PostgreSQL database (started here); the reports have the agreed fields, everything
submitted was mined, nothing failed. ~60 s."""

from __future__ import annotations

import json
import subprocess
import sys

from energy_chain.config import PROJECT_ROOT
from scripts.load.report import FIELDS
from tests.postgres_server import PostgresServer

BENCH_FIELDS = {"mined_tps", "submitted", "mined", "failures", "gas_limit", "block_time_s", "gas_per_tx"}


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_bench_mines_every_placement(tmp_path):
    out = tmp_path / "bench.json"
    done = _run(["scripts.bench", "--txs", "2000", "--senders", "20", "--out", str(out)], timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report) == BENCH_FIELDS
    assert report["submitted"] == report["mined"] == 2000
    assert report["failures"] == 0
    assert report["gas_limit"] == 300_000_000
    assert 0.5 <= report["block_time_s"] <= 2.0  # 1 s blocks, measured from timestamps (1 s resolution)
    assert 80_000 < report["gas_per_tx"] < 200_000  # a resting bid: escrow transfer, queue append, order storage
    assert report["mined_tps"] > 0


def test_smoke_scenario_web_and_chain_users(tmp_path):
    with PostgresServer.started() as pg:
        done = _run(["scripts.loadtest", "--scenario", "smoke", "--web-instances", "2", "--report-dir", str(tmp_path),
                     "--run-dir", str(tmp_path / "run"), "--database-url", pg.create_database("load")],
                    timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "smoke.json").read_text())
    assert list(report) == list(FIELDS)
    assert report["scenario"] == "smoke"
    assert report["users"] == 6
    assert report["failures"] == 0
    assert report["mined_tps"] > 0
    assert 0 < report["p50_s"] <= report["p95_s"] <= report["p99_s"] < 10
    stats = (tmp_path / "smoke_stats.csv").read_text()
    for name in ("POST /api/v1/orders", "eth_sendRawTransaction placeOrder", "MINED"):
        assert name in stats  # web and chain users both ran, and their transactions were seen mined
    assert (tmp_path / "smoke.html").exists()
    assert "mined tx/s" in done.stdout  # the summary table against the seed
