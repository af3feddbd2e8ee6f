"""Start and stop a local anvil chain (zero gas, chain id 1337) for the demo and for tests.

`python -m energy_chain.anvil --port 8545 --state-dir .chain` runs one in the foreground with state on disk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from energy_chain.devchain import DEV_MNEMONIC

DEFAULT_GAS_LIMIT = 300_000_000  # ~3 750 order placements per 1 s block; see README "Throughput"
# Chain states kept for calls at past blocks and for replaying failed transactions (docs/architecture.md, "The
# chain's disk"): the last CHAIN_HISTORY_STATES blocks (~2 min at 1 s blocks), in memory only. Blocks, receipts
# and logs are all kept. Without pruning anvil offloads older states into ~/.foundry/anvil/tmp — outside the
# clone, gigabytes per long run, and left behind by a chain that is killed.
DEFAULT_HISTORY_STATES = 128
# Blocks whose transactions (with receipts, logs and anvil's call traces) stay in anvil's memory; 0 (the default)
# keeps every one, which the explorer, an index rebuilt from the deploy block and the simulator's checks against the
# chain's events need. anvil's RSS grew ~100 MB a minute under ~8 tx/s (6.1 GB in the one-hour soak,
# reports/soak.md); a keeper (CHAIN_TX_BLOCKS=N) cuts that growth by ~23 % but does not stop it
# (scripts/bench_anvil_memory.py, reports/anvil-memory.json): what bounds the demo's chain is the supervisor, which
# restarts it with its state above CHAIN_MAX_RSS_MB (scripts/supervise.py). With a keeper, a reader of logs
# (webapp/indexer) must not lag the head by more than N blocks, and old transactions are gone from state.json too.
DEFAULT_TX_BLOCKS = 0


def free_port() -> int:
    """A TCP port that nothing listens on right now (tests never assume 8545 is free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def anvil_binary() -> str:
    # The platform package's native binary, not node_modules/.bin/anvil: that is a node wrapper, and killing the
    # wrapper (AnvilProcess.kill) left anvil itself running as an orphan, still serving its port.
    for native in sorted((PROJECT_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(native, os.X_OK):
            return str(native)
    local = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if found is None:
        raise FileNotFoundError("anvil not found: run `make setup` (npm ci installs @foundry-rs/anvil)")
    return found


@dataclass
class AnvilProcess:
    """A running anvil; `stop()` ends it (and dumps state when started with a state dir)."""

    port: int
    process: subprocess.Popen
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # SIGINT lets anvil write its state file
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Stop abruptly, as a crash would (no state dump)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def anvil_args(
    port: int,
    block_time: float | None = None,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    chain_id: int = LOCAL_CHAIN_ID,
    accounts: int = 10,
    state_dir: Path | None = None,
    state_interval: int = 5,
    history_states: int | None = None,
    tx_blocks: int | None = None,
) -> list[str]:
    """anvil's command line: zero gas, chain id 1337, the dev mnemonic, pruned history, state in `state_dir`."""
    if history_states is None:
        history_states = int(os.environ.get("CHAIN_HISTORY_STATES", DEFAULT_HISTORY_STATES))
    if history_states < 1:
        raise ValueError(f"CHAIN_HISTORY_STATES must be at least 1, got {history_states}")
    if tx_blocks is None:
        tx_blocks = int(os.environ.get("CHAIN_TX_BLOCKS", DEFAULT_TX_BLOCKS))
    if 0 < tx_blocks < history_states:
        # A failed transaction is explained by replaying it (ChainClient.explain_failure): keep it as long as its state.
        raise ValueError(f"CHAIN_TX_BLOCKS must be at least CHAIN_HISTORY_STATES ({history_states}), got {tx_blocks}")
    options: dict[str, object] = {
        "--host": "127.0.0.1",
        "--port": port,
        "--chain-id": chain_id,
        "--gas-price": 0,
        "--base-fee": 0,
        "--gas-limit": gas_limit,
        "--accounts": accounts,
        "--mnemonic": DEV_MNEMONIC,
        "--code-size-limit": 0x10000,
        # States beyond the last `history_states` are dropped, never written to disk (so neither the home
        # directory nor anything else outside the clone ever receives them).
        "--prune-history": history_states,
    }
    if tx_blocks:  # transactions, receipts, logs and traces of the last `tx_blocks` blocks only (DEFAULT_TX_BLOCKS)
        options["--transaction-block-keeper"] = tx_blocks
    args = [anvil_binary(), "--disable-min-priority-fee", *flags(options)]
    if block_time:
        args += ["--block-time", str(block_time)]
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        # --state loads the file if present and dumps on exit; the interval bounds what a crash can lose. The dump
        # holds the current state, blocks and receipts — not one state per block (--preserve-historical-states
        # made it grow ~1 GB in 25 min of demo and a stop take 20 s).
        args += ["--state", str(state_dir / "state.json"), "--state-interval", str(state_interval)]
    return args


def flags(options: dict[str, object]) -> list[str]:
    """`{"--port": 8545}` as `["--port", "8545"]` (command lines stay one option a line, however formatted)."""
    return [str(item) for pair in options.items() for item in pair]


def wait_for_rpc(url: str, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"chain process exited with code {process.returncode} before answering at {url}")
        try:
            if requests.post(url, json=body, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no JSON-RPC answer at {url} after {timeout}s")


def start_anvil(
    port: int | None = None,
    log_file: Path | None = None,
    **kwargs: object,
) -> AnvilProcess:
    """Start anvil in the background and wait until it answers."""
    port = port or free_port()
    args = anvil_args(port, **kwargs)  # type: ignore[arg-type]
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    handle = AnvilProcess(port, proc, args)
    try:
        wait_for_rpc(handle.url, process=proc)
    except Exception:
        handle.kill()
        raise
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local zero-gas anvil chain (chain id 1337).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CHAIN_PORT", 8545)))
    parser.add_argument("--block-time", type=float, default=float(os.environ.get("BLOCK_TIME", 1)))
    parser.add_argument("--gas-limit", type=int, default=int(os.environ.get("GAS_LIMIT", DEFAULT_GAS_LIMIT)))
    parser.add_argument("--state-dir", type=Path, default=None, help="keep chain state here across restarts")
    ns = parser.parse_args(argv)
    args = anvil_args(ns.port, ns.block_time or None, ns.gas_limit, state_dir=ns.state_dir)
    print(
        f"anvil on http://127.0.0.1:{ns.port} (chain 1337, gas price 0, block time {ns.block_time}s, "
        f"gas limit {ns.gas_limit:,}, state {ns.state_dir or 'in memory'})",
        flush=True,
    )
    os.execv(args[0], args)  # replace this process: signals reach anvil directly
    return 0


if __name__ == "__main__":
    sys.exit(main())


def stop_interval_mining(rpc_url: str) -> None:
    """Stop anvil's interval miner (before a state dump: no block is mined after its snapshot). Best effort: a node
    that does not answer is already stopping."""
    try:
        body = {"jsonrpc": "2.0", "id": 1, "method": "evm_setIntervalMining", "params": [0]}
        requests.post(rpc_url, json=body, timeout=5)
    except requests.RequestException:
        pass
