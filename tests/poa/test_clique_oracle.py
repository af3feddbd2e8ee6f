"""The meter oracle, run unchanged (its CLI, configured by environment) against the clique chain."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from energy_chain import ChainClient, Signer
from energy_chain.meters import meter_id
from tests.poa.conftest import CliqueDeployment, run_project

pytestmark = pytest.mark.clique
INTERVAL = 60
INTERVALS = 8
SURPLUS_PER_INTERVAL, DEFICIT_PER_INTERVAL = 30, 12


def write_recording(path: Path, now: int, serials: list[str]) -> None:
    """Cumulative counters every interval, ending a minute before `now`: one exporter, one importer."""
    first = (now // INTERVAL - INTERVALS - 1) * INTERVAL
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["timestamp", "serial", "export_wh", "import_wh"])
        for k in range(INTERVALS + 1):
            out.writerow([first + k * INTERVAL, serials[0], 1_000 + SURPLUS_PER_INTERVAL * k, 500])
            out.writerow([first + k * INTERVAL, serials[1], 0, 2_000 + DEFICIT_PER_INTERVAL * k])


def test_oracle_mints_each_interval_once(client: ChainClient, clique_deployment: CliqueDeployment, tmp_path: Path):
    producer, consumer = (Signer.from_key(bytes([0x51, i]) + bytes(30)).address for i in range(2))
    serials = [f"poa-oracle-{tmp_path.name}-{i}" for i in range(2)]
    env = clique_deployment.env
    registered = run_project(
        ["scripts.register_meters", "--meter", f"{serials[0]}={producer}", "--meter", f"{serials[1]}={consumer}"], env
    )
    assert registered.returncode == 0, registered.stdout + registered.stderr

    now = int(client.w3.eth.get_block("latest")["timestamp"])
    recording = tmp_path / "meters.csv"
    write_recording(recording, now, serials)
    oracle_env = {
        **env,
        "ORACLE_OUTBOX": str(tmp_path / "outbox.sqlite"),
        "ORACLE_METRICS_PORT": "0",
        "ORACLE_INTERVAL_S": str(INTERVAL),
        "ORACLE_BACKFILL_HOURS": "0.5",
        "ORACLE_SPEED": "1000",
        "ORACLE_LOG_FORMAT": "text",
    }
    run = run_project(["meter_oracle", "run", "--replay", str(recording), "--exit-when-done"], oracle_env, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    energy = client.contract("EnergyToken")
    assert energy.functions.balanceOf(producer).call() == SURPLUS_PER_INTERVAL * INTERVALS
    assert energy.functions.balanceOf(consumer).call() == 0  # its deficit came from the grid
    recorded = energy.events.ReadingRecorded().get_logs(
        from_block=0, argument_filters={"meterId": [meter_id(s) for s in serials]}
    )
    keys = [(e.args.meterId, e.args.interval) for e in recorded]
    assert len(keys) == len(set(keys)) == 2 * INTERVALS
    assert sum(e.args.gridWh for e in recorded) == DEFICIT_PER_INTERVAL * INTERVALS
