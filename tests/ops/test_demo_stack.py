"""The real demo stack under the supervisor on free ports (python -m scripts.supervise demo --free-ports): it comes
up, the households' agents decide for all eight demo households, a killed oracle is restarted, two quick SIGINTs
stop everything and the chain still writes its state. ~1-2 min."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from energy_chain.config import PROJECT_ROOT
from scripts.supervise import PidFiles, group_members, start_time


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_real_demo_restarts_a_killed_oracle_and_stops_completely(tmp_path: Path):
    demo_dir, chain_dir = tmp_path / "demo", tmp_path / "chain"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DEMO_DIR": str(demo_dir), "CHAIN_DIR": str(chain_dir),
           "DEPLOYMENTS_DIR": str(tmp_path / "deployments"), "ORACLE_BACKFILL_HOURS": "0.2",
           "DATABASE_URL": f"sqlite:///{demo_dir / 'webapp.sqlite'}", "WEBAPP_SCRYPT_N": "1024"}  # fmt: skip
    out = tmp_path / "supervisor.out"
    args = [sys.executable, "-m", "scripts.supervise", "demo", "--free-ports"]
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=out.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    pids = PidFiles(demo_dir)
    groups: set[int] = set()
    try:
        line = wait_for(lambda: re.search(r"dashboard on (http://\S+);", out.read_text()), 240, "the dashboard")
        assert requests.get(f"{line.group(1)}/api/v1/health", timeout=10).ok
        records = {r["name"]: r for r in pids.records()}
        assert set(records) == {"supervisor", "chain", "oracle", "agents", "keeper", "web"}
        assert "automatic trading: the demo households' agents trade for them" in out.read_text()
        # the agents trade for the demo households under the mandates the seed granted (one decision each)
        log = demo_dir / "agents" / "decisions.jsonl"

        def owners() -> set[str]:
            lines = log.read_text().splitlines() if log.exists() else []
            return {json.loads(x)["owner"] for x in lines if '"decision"' in x}

        wait_for(lambda: len(owners()) == 8, 120, "the agents' first decision for each of the 8 households")
        groups = {r["pgid"] for n, r in records.items() if n != "supervisor"}
        os.kill(records["oracle"]["pid"], signal.SIGKILL)
        wait_for(lambda: "oracle restarted" in out.read_text(), 30, "the oracle's restart")
        oracle = json.loads(pids.path("oracle").read_text())
        assert oracle["pid"] != records["oracle"]["pid"] and start_time(oracle["pid"]) == oracle["start_time"]
        groups.add(oracle["pgid"])
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # the impatient second Ctrl-C
        assert proc.wait(60) == 0
        assert [p for g in groups for p in group_members(g)] == []
        assert (chain_dir / "state.json").stat().st_size > 0
        assert list((demo_dir / "pids").glob("*.pid")) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        for g in groups:
            for p in group_members(g):
                os.kill(p, signal.SIGKILL)
