"""The issue's fault test: the oracle process reads real Modbus TCP meters (pymodbus server on 127.0.0.1) and mints
on a real anvil. The oracle is killed (SIGKILL) mid-batch, the chain is killed mid-run and restarted from its saved
state (losing its latest blocks), the oracle is started again; in the end every reading is minted exactly once and
the balances equal what the meters reported."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import free_port, start_anvil
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import deploy_local
from energy_chain.meters import meter_id
from meter_oracle.model import align
from tests.oracle.chain_checks import balance, recorded_events
from tests.oracle.conftest import instant_mining, register
from tests.oracle.modbus_meters import GENERIC, SUNSPEC, FakeMeter, FakeMeterServer

L = 2  # seconds per interval: many intervals in a short test
# serial -> (unit id, layout, export Wh per interval, import Wh per interval); multiples of 10 (SunSpec resolution)
METERS = {
    "FT-PROSUMER-1": (1, GENERIC, 70, 20),
    "FT-PROSUMER-2": (2, SUNSPEC, 130, 40),
    "FT-CONSUMER-3": (3, GENERIC, 0, 30),
    "FT-CONSUMER-4": (4, SUNSPEC, 10, 90),
}
BASE = 1_000_000
SAVE_EVERY_S = 3  # anvil saves its state this often: its crash loses the last seconds of blocks (and our mints)


class SteppingMeters:
    """Counters that step at each interval boundary (as a meter's register would settle), until frozen."""

    def __init__(self) -> None:
        self.t0 = align(time.time(), L)
        self.frozen_at: int | None = None

    def boundary(self) -> int:
        b = align(time.time(), L)
        return b if self.frozen_at is None else min(b, self.frozen_at)

    def value(self, serial: str, boundary: int) -> tuple[int, int]:
        _, _, exp, imp = METERS[serial]
        if self.frozen_at is not None:
            boundary = min(boundary, self.frozen_at)
        steps = (boundary - self.t0) // L
        return BASE + exp * steps, BASE + imp * steps

    def reader(self, serial: str) -> Callable[[], tuple[int, int]]:
        return lambda: self.value(serial, self.boundary())


class OracleProcess:
    """`python -m meter_oracle run` as a child process; its JSON log lines are read as they come."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meter_oracle", "run", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict] = queue.Queue()
        self._log = open(log_path, "a")  # noqa: SIM115 - closed by the reader thread
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._log.write(line)
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put({"msg": line.strip()})
        self._log.close()

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                entry = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.proc.poll() is None, f"oracle exited ({self.proc.returncode}) while waiting for {what}"
                continue
            if predicate(entry):
                return entry
        raise AssertionError(f"timed out waiting for {what}")

    def wait_mined(self, count: int, timeout: float = 30) -> None:
        for i in range(count):
            self.wait_for(lambda e: "mined in block" in e.get("msg", ""), timeout, f"mined batch {i + 1}/{count}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def scrape(port: int) -> dict[str, float]:
    """The oracle's Prometheus metrics (label-less samples)."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        name: float(value)
        for name, value in (
            line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#") and "{" not in line
        )
    }


def outbox_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT status, COUNT(*) FROM batches GROUP BY status").fetchall())
        rows.update(
            {f"readings_{k}": v for k, v in db.execute("SELECT status, COUNT(*) FROM readings GROUP BY status")}
        )
    return rows


@pytest.mark.slow
def test_oracle_and_chain_crash_every_reading_minted_exactly_once(tmp_path, keystore):
    meters = SteppingMeters()
    server = FakeMeterServer(
        [FakeMeter(unit, layout, meters.reader(serial)) for serial, (unit, layout, _, _) in METERS.items()]
    ).start()
    state_dir = tmp_path / "chain"
    chain = start_anvil(block_time=1, state_dir=state_dir, state_interval=SAVE_EVERY_S)
    oracle: OracleProcess | None = None
    try:
        deployments = tmp_path / "deployments"
        client = ChainClient(ChainConfig(rpc_url=chain.url, deployments_dir=deployments))
        with instant_mining(client):
            deploy_local(client)
            owners = register(client, list(METERS), period_s=L)
        time.sleep(SAVE_EVERY_S + 0.5)  # let anvil save deployment and meters

        outbox = tmp_path / "outbox.sqlite"
        config = tmp_path / "oracle.toml"
        metrics_port = free_port()
        meter_entries = "".join(
            f'[[source.meters]]\nserial = "{s}"\nhost = "127.0.0.1"\nport = {server.port}\nunit_id = {unit}\n'
            f'register_map = "{PROJECT_ROOT}/meter_oracle/config/registers/'
            f'{"generic-import-export" if layout == GENERIC else "sunspec-meter"}.toml"\n\n'
            for s, (unit, layout, _, _) in METERS.items()
        )
        config.write_text(
            f'[chain]\nrpc_url = "{chain.url}"\ndeployments_dir = "{deployments}"\n\n'
            f'[oracle]\ninterval_s = {L}\noutbox = "{outbox}"\nmetrics_port = {metrics_port}\nlog_level = "INFO"\n'
            "batch_size = 3\nmax_in_flight = 2\nbackoff_initial_s = 0.2\nbackoff_max_s = 1.0\nresend_after_s = 3.0\n\n"
            '[validation]\nmax_power_w = 1e9\n\n[source]\nkind = "modbus"\nread_delay_s = 0.2\n\n' + meter_entries
        )
        args = ["--config", str(config), "--keystore", str(keystore[0]), "--password-file", str(keystore[1])]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        log = tmp_path / "oracle.log"

        # 1. Oracle runs, then dies (SIGKILL) right after storing a signed batch, before its receipt.
        oracle = OracleProcess(args, env, log)
        oracle.wait_mined(3)
        oracle.wait_for(lambda e: "signed" in e.get("msg", ""), 20, "a batch being signed")
        oracle.kill()
        assert outbox_counts(outbox).get("signed", 0) >= 1, "the oracle should have died mid-batch"

        # 2. Restarted oracle resumes; then the chain crashes (SIGKILL, loses its unsaved blocks) and comes back.
        oracle = OracleProcess(args, env, log)
        oracle.wait_mined(3)
        metrics = scrape(metrics_port)
        assert metrics["oracle_mints_total"] > 0 and metrics["oracle_readings_total"] > 0
        assert "oracle_lag_seconds" in metrics and "oracle_outbox_pending" in metrics
        chain.kill()
        oracle.wait_for(lambda e: "chain unavailable" in e.get("msg", ""), 20, "the oracle noticing the chain is down")
        time.sleep(3 * L)  # meters keep counting; readings wait in the outbox
        chain = start_anvil(port=chain.port, block_time=1, state_dir=state_dir, state_interval=SAVE_EVERY_S)
        oracle.wait_mined(2)

        # 3. Meters stop counting; the oracle reads the final values, mints everything, and stops on SIGTERM.
        meters.frozen_at = align(time.time(), L) + L
        final_interval = meters.frozen_at - L
        deadline = time.monotonic() + 40
        client = ChainClient(ChainConfig(rpc_url=chain.url, deployments_dir=deployments))
        token = client.contract("EnergyToken")
        while time.monotonic() < deadline:
            counts = outbox_counts(outbox)
            done = all(token.functions.isRecorded(meter_id(s), final_interval).call() for s in METERS)
            if done and counts.get("readings_pending", 0) == 0 and counts.get("readings_batched", 0) == 0:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"oracle did not catch up: {outbox_counts(outbox)}")
        oracle.proc.send_signal(signal.SIGTERM)
        assert oracle.proc.wait(30) == 0  # clean shutdown
        oracle = None

        # Exactly once, nothing missing, balances equal the meters' counters.
        events = recorded_events(client)
        by_meter: dict[bytes, list[dict]] = {}
        for e in events:
            by_meter.setdefault(bytes(e["meterId"]), []).append(e)
        counts = outbox_counts(outbox)
        assert counts.get("readings_rejected", 0) == 0
        for serial, (_, _, exp, imp) in METERS.items():
            evs = by_meter[meter_id(serial)]
            intervals = sorted(int(e["interval"]) for e in evs)
            assert len(intervals) == len(set(intervals)), f"{serial}: an interval was recorded twice"
            assert intervals == list(range(intervals[0], intervals[-1] + L, L)), f"{serial}: intervals missing"
            assert intervals[-1] >= final_interval  # after the freeze: zero-energy intervals
            first, last = meters.value(serial, intervals[0]), meters.value(serial, intervals[-1] + L)
            reported_net = (last[0] - first[0]) - (last[1] - first[1])
            minted = sum(int(e["mintedWh"]) for e in evs)
            taken = sum(int(e["burnedWh"]) + int(e["gridWh"]) for e in evs)
            assert minted - taken == reported_net, serial
            assert balance(client, owners[serial]) == minted - sum(int(e["burnedWh"]) for e in evs)
            if exp > imp:
                assert balance(client, owners[serial]) == reported_net > 0
            else:
                assert balance(client, owners[serial]) == 0 and taken == -reported_net
        assert len(events) == counts["readings_minted"]
    finally:
        if oracle is not None and oracle.proc.poll() is None:
            oracle.kill()
        chain.stop()
        server.stop()
