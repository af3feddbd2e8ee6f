"""Run one command against a throwaway clique chain: `python -m poa.clique.with_node -- CMD ARGS...`.

Starts a fresh single-signer clique node on free ports, runs CMD with RPC_URL, CHAIN_ID, DEFAULT_GAS and a
temporary DEPLOYMENTS_DIR in its environment (so the demo's deployments/1337.json is never touched), stops the
node and exits with CMD's status. Example: `make bench` of order placements on clique:
    python -m poa.clique.with_node -- python -m scripts.bench --out reports/bench-clique-orders.json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from poa.clique.node import start_clique

DEFAULT_GAS = 3_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a command against a fresh clique chain.")
    parser.add_argument("--chain-id", type=int, default=LOCAL_CHAIN_ID)
    parser.add_argument("--gas-limit", type=int, default=300_000_000)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    ns = parser.parse_args(argv)
    command = ns.command[1:] if ns.command[:1] == ["--"] else ns.command
    if not command:
        parser.error("give the command after --")
    with tempfile.TemporaryDirectory(prefix="clique-run-") as tmp:
        node = start_clique(chain_id=ns.chain_id, gas_limit=ns.gas_limit, log_file=Path(tmp) / "node.log")
        env = {
            **os.environ,
            "RPC_URL": node.url,
            "CHAIN_ID": str(ns.chain_id),
            "DEFAULT_GAS": str(DEFAULT_GAS),
            "DEPLOYMENTS_DIR": str(Path(tmp) / "deployments"),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        print(f"clique node {node.url} (chain {ns.chain_id}); running: {' '.join(command)}", flush=True)
        try:
            return subprocess.run(command, env=env, cwd=PROJECT_ROOT).returncode
        finally:
            node.kill()  # throwaway chain: nothing to flush


if __name__ == "__main__":
    sys.exit(main())
