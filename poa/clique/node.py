"""Start and stop a single-signer clique node (ethereumjs client) on loopback, on free ports, with its own datadir.

Known limits of @ethereumjs/client 0.10.2 (deprecated upstream, pinned): berlin rules only (legacy transactions),
`eth_estimateGas` fails on clique headers (pass gas explicitly or set DEFAULT_GAS), ~130 tx/s.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from energy_chain.anvil import flags, free_port, wait_for_rpc
from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from energy_chain.devchain import dev_key
from poa.clique.genesis import DEFAULT_GAS_LIMIT, clique_genesis
from poa.keys import NodeKey

CLIQUE_DIR = PROJECT_ROOT / "poa" / "clique"
GENESIS_NAME = "clique.json"  # ethereumjs names the network (and its data folder) after the genesis file
DEV_ACCOUNTS = 10


def clique_binary() -> Path:
    path = CLIQUE_DIR / "node_modules" / ".bin" / "ethereumjs"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `make clique-setup` (npm ci --prefix poa/clique)")
    return path


def dev_addresses(count: int = DEV_ACCOUNTS) -> list[str]:
    """The anvil dev accounts, funded on the clique chain too so local roles and tests work unchanged."""
    return [NodeKey.from_hex(dev_key(i)).address for i in range(count)]


@dataclass
class CliqueNode:
    """A running clique node; `stop()` ends it and removes its datadir when the node made it."""

    rpc_port: int
    p2p_port: int
    chain_id: int
    datadir: Path
    signer: str
    process: subprocess.Popen
    owns_datadir: bool = False
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    def stop(self, timeout: float = 20) -> None:
        """Shut down cleanly (SIGINT; the client flushes its database), killing it if it takes too long."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._cleanup()

    def kill(self) -> None:
        """Stop abruptly (tests: nothing on disk is worth keeping)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        if self.owns_datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)


def prepare_datadir(
    datadir: Path,
    chain_id: int,
    funded: list[str],
    period_s: int,
    gas_limit: int,
) -> NodeKey:
    """Write the signer key and genesis once; a datadir that has them is reused (the chain continues)."""
    datadir.mkdir(parents=True, exist_ok=True)
    key_file, genesis_file = datadir / "signer.key", datadir / GENESIS_NAME
    if key_file.exists() and genesis_file.exists():
        return NodeKey.from_hex(key_file.read_text())
    signer = NodeKey.generate()
    signer.write(key_file, prefix=False)  # ethereumjs reads the key without 0x
    genesis = clique_genesis(chain_id, [signer.address], funded, period_s=period_s, gas_limit=gas_limit)
    genesis_file.write_text(json.dumps(genesis, indent=1))
    return signer


def clique_args(
    datadir: Path,
    rpc_port: int,
    p2p_port: int,
    bootnodes: list[str] | None = None,
    max_peers: int = 0,
    log_level: str = "warn",
) -> list[str]:
    """The node's command line. With `max_peers` 0 it accepts no peers; otherwise it dials exactly `bootnodes`
    (static peering: discovery off) and listens on 127.0.0.1 only (`--extIP`, honoured by patch_client fix 5a)."""
    options: dict[str, object] = {
        "--gethGenesis": datadir / GENESIS_NAME,
        "--dataDir": datadir / "chain",
        "--rpcAddr": "127.0.0.1",
        "--rpcPort": rpc_port,
        "--port": p2p_port,
        "--maxPeers": max_peers,
        "--discDns": "false",
        "--discV4": "false",
        "--unlock": datadir / "signer.key",
        "--logFile": "false",
        "--logLevel": log_level,
    }
    if max_peers:
        options["--extIP"] = "127.0.0.1"
        if bootnodes:
            options["--bootnodes"] = ",".join(bootnodes)
    return [str(clique_binary()), "--rpc", "--mine", "--isSingleNode", *flags(options)]


def start_clique(
    chain_id: int = LOCAL_CHAIN_ID,
    rpc_port: int | None = None,
    p2p_port: int | None = None,
    datadir: Path | None = None,
    funded: list[str] | None = None,
    period_s: int = 1,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    log_file: Path | None = None,
    timeout_s: float = 60,
) -> CliqueNode:
    """Start a clique node in the background and wait until it answers JSON-RPC.

    Without `datadir` the chain lives in a fresh temporary folder that `stop()`/`kill()` delete.
    `funded` defaults to the anvil dev accounts, so dev keys have balances as on the local chain.
    """
    owns = datadir is None
    datadir = Path(tempfile.mkdtemp(prefix="clique-")) if datadir is None else Path(datadir)
    signer = prepare_datadir(datadir, chain_id, funded if funded is not None else dev_addresses(), period_s, gas_limit)
    rpc_port, p2p_port = rpc_port or free_port(), p2p_port or free_port()
    args = clique_args(datadir, rpc_port, p2p_port)
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=datadir)
    node = CliqueNode(rpc_port, p2p_port, chain_id, datadir, signer.address, proc, owns, args)
    try:
        wait_for_rpc(node.url, timeout=timeout_s, process=proc)
    except Exception:
        node.kill()
        raise
    return node
