"""A clique network of N signers on 127.0.0.1: one genesis naming every signer, static peering, a datadir each.

Every node runs the same patched ethereumjs client as the single-signer chain (`poa/clique/node.py`), listens on
loopback only (RPC and p2p on free ports) and dials the nodes started before it; discovery is off, so the network
is exactly the nodes listed. A node's p2p identity lives in its datadir, so a killed signer restarted on the same
datadir rejoins as itself (on fresh ports: nothing assumes the old ones are still free) and syncs the blocks it
missed from its peers.

Clique keeps sealing while more than half of the signers are live: a signer may seal at most one block in any
floor(N/2)+1 consecutive blocks ("recently signed"), so 2 of 3 signers alternate when the third is gone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from energy_chain.anvil import free_port, wait_for_rpc
from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from poa.clique.genesis import DEFAULT_GAS_LIMIT, clique_genesis
from poa.clique.node import GENESIS_NAME, CliqueNode, clique_args, dev_addresses
from poa.keys import NodeKey

NETWORK_FILE = "network.json"
MIN_SIGNERS = 2  # one signer is the single-node chain (`start_clique`)


def rpc(url: str, method: str, params: list | None = None, timeout: float = 5) -> object:
    """One JSON-RPC call; raises on a transport or JSON-RPC error."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    answer = requests.post(url, json=body, timeout=timeout).json()
    if "error" in answer:
        raise RuntimeError(f"{method} at {url}: {answer['error']}")
    return answer["result"]


def write_network(root: Path, signers: int, chain_id: int, funded: list[str], period_s: int, gas_limit: int) -> None:
    """Keys and one shared genesis for `signers` nodes in root/node-K; refuses a root that already holds a network."""
    if (root / NETWORK_FILE).exists():
        raise FileExistsError(f"{root / NETWORK_FILE} exists: reuse it (start_clique_network) or choose another root")
    keys = [NodeKey.generate() for _ in range(signers)]
    genesis = clique_genesis(chain_id, [k.address for k in keys], funded, period_s=period_s, gas_limit=gas_limit)
    for index, key in enumerate(keys):
        datadir = root / f"node-{index}"
        key.write(datadir / "signer.key", prefix=False)  # ethereumjs reads the key without 0x
        (datadir / GENESIS_NAME).write_text(json.dumps(genesis, indent=1))
    summary = {"chain_id": chain_id, "period_s": period_s, "signers": [k.address for k in keys]}
    (root / NETWORK_FILE).write_text(json.dumps(summary, indent=1))


@dataclass
class CliqueNetwork:
    """Running signers of one clique chain. `kill(i)`/`restart(i)` for fault tests; `stop()` ends them all."""

    root: Path
    chain_id: int
    signers: list[str]
    nodes: list[CliqueNode | None]
    enodes: list[str]
    owns_root: bool = False
    log_dir: Path | None = None
    log_level: str = "warn"
    restarts: list[int] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        """RPC URLs of the live nodes."""
        return [n.url for n in self.nodes if n is not None and n.process.poll() is None]

    def node(self, index: int) -> CliqueNode:
        node = self.nodes[index]
        if node is None:
            raise RuntimeError(f"signer {index} is not running")
        return node

    def datadir(self, index: int) -> Path:
        return self.root / f"node-{index}"

    def start(self, index: int, timeout_s: float = 90) -> CliqueNode:
        """Start signer `index` on fresh ports, dialling every other signer whose enode is known."""
        if self.nodes[index] is not None and self.nodes[index].process.poll() is None:
            raise RuntimeError(f"signer {index} is already running")
        datadir = self.datadir(index)
        rpc_port, p2p_port = free_port(), free_port()
        bootnodes = [e for i, e in enumerate(self.enodes) if e and i != index]
        args = clique_args(datadir, rpc_port, p2p_port, bootnodes, len(self.signers), self.log_level)
        log = self.log_dir / f"node-{index}.log" if self.log_dir else None
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=datadir)
        signer = NodeKey.from_hex((datadir / "signer.key").read_text()).address
        node = CliqueNode(rpc_port, p2p_port, self.chain_id, datadir, signer, proc, False, args)
        self.nodes[index] = node
        try:
            wait_for_rpc(node.url, timeout=timeout_s, process=proc)
            self.enodes[index] = _enode(node.url)
        except Exception:
            node.kill()
            raise
        return node

    def kill(self, index: int) -> None:
        """SIGKILL signer `index` (a crash: nothing flushed); its datadir stays for `restart`."""
        self.node(index).kill()

    def restart(self, index: int, timeout_s: float = 90) -> CliqueNode:
        self.restarts.append(index)
        return self.start(index, timeout_s)

    def wait_for_peers(self, timeout_s: float = 60) -> None:
        """Until every live node sees every other live node."""
        deadline = time.monotonic() + timeout_s
        want = len(self.urls) - 1
        while time.monotonic() < deadline:
            counts = [int(str(rpc(u, "net_peerCount")), 16) for u in self.urls]
            if min(counts) >= want:
                return
            time.sleep(0.5)
        raise TimeoutError(f"peers not connected after {timeout_s}s: net_peerCount {counts}, want {want} each")

    def stop(self, timeout: float = 20) -> None:
        """Stop every node (SIGINT, then SIGKILL) and delete the root if this network made it."""
        try:
            for node in self.nodes:
                if node is not None:
                    node.stop(timeout)
        finally:
            for node in self.nodes:
                if node is not None and node.process.poll() is None:
                    node.process.kill()
                    node.process.wait()
            if self.owns_root:
                shutil.rmtree(self.root, ignore_errors=True)


def _enode(url: str) -> str:
    enode = str(rpc(url, "admin_nodeInfo")["enode"])  # type: ignore[index]
    if "@127.0.0.1:" not in enode:
        raise RuntimeError(f"node at {url} does not listen on loopback: {enode} (is patch_client fix 5 applied?)")
    return enode


def start_clique_network(
    signers: int = 3,
    chain_id: int = LOCAL_CHAIN_ID,
    root: Path | None = None,
    funded: list[str] | None = None,
    period_s: int = 1,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    log_dir: Path | None = None,
    log_level: str = "warn",
    timeout_s: float = 90,
) -> CliqueNetwork:
    """Start `signers` clique signers on 127.0.0.1 and wait until they are fully peered.

    `root` holds node-K datadirs and network.json; a root that has them is restarted as it is (the chain
    continues). Without `root` a fresh folder under var/ in the clone is used and deleted by `stop()`.
    """
    if signers < MIN_SIGNERS:
        raise ValueError(f"a clique network needs at least {MIN_SIGNERS} signers (got {signers}); use start_clique")
    owns = root is None
    if root is None:
        (PROJECT_ROOT / "var").mkdir(exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="clique-net-", dir=PROJECT_ROOT / "var"))
    root = Path(root).resolve()
    if not (root / NETWORK_FILE).exists():
        root.mkdir(parents=True, exist_ok=True)
        write_network(root, signers, chain_id, dev_addresses() if funded is None else funded, period_s, gas_limit)
    summary = json.loads((root / NETWORK_FILE).read_text())
    if len(summary["signers"]) != signers or summary["chain_id"] != chain_id:
        raise ValueError(f"{root} holds a {len(summary['signers'])}-signer network of chain {summary['chain_id']}, "
                         f"not {signers} signers of chain {chain_id}")  # fmt: skip
    network = CliqueNetwork(root, chain_id, summary["signers"], [None] * signers, [""] * signers, owns, log_dir,
                            log_level)  # fmt: skip
    try:
        for index in range(signers):  # in order: each node dials the ones already listening
            network.start(index, timeout_s)
        network.wait_for_peers(timeout_s)
    except Exception:
        network.stop()
        raise
    return network


def block_signer(block: dict) -> str:
    """The clique signer of a block as JSON-RPC returns it (berlin header): ecrecover of its seal."""
    import rlp
    from eth_keys import keys
    from eth_utils import keccak, to_checksum_address

    def raw(key: str) -> bytes:
        value = block[key]
        return bytes(value) if not isinstance(value, str) else bytes.fromhex(value.removeprefix("0x"))

    def num(key: str) -> int:
        value = block[key]
        return int(value, 16) if isinstance(value, str) else int(value)

    extra = raw("extraData")
    fields = [raw("parentHash"), raw("sha3Uncles"), raw("miner"), raw("stateRoot"), raw("transactionsRoot"),
              raw("receiptsRoot"), raw("logsBloom"), num("difficulty"), num("number"), num("gasLimit"),
              num("gasUsed"), num("timestamp"), extra[:-65], raw("mixHash"), raw("nonce")]  # fmt: skip
    seal = bytearray(extra[-65:])
    seal[64] = seal[64] - 27 if seal[64] >= 27 else seal[64]
    key = keys.Signature(bytes(seal)).recover_public_key_from_msg_hash(keccak(rlp.encode(fields)))
    return to_checksum_address(key.to_canonical_address())


def main(argv: list[str] | None = None) -> int:
    """`python -m poa.clique.network`: run N signers in the foreground until Ctrl-C (state kept in --root)."""
    import argparse
    import os
    import signal

    parser = argparse.ArgumentParser(description="Run a clique network of N signers on 127.0.0.1.")
    parser.add_argument("--signers", type=int, default=int(os.environ.get("CLIQUE_SIGNERS", 3)))
    parser.add_argument("--chain-id", type=int, default=int(os.environ.get("CHAIN_ID", LOCAL_CHAIN_ID)))
    parser.add_argument("--period", type=int, default=1, help="seconds between blocks")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT / "var" / "clique-network")
    ns = parser.parse_args(argv)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # taken by sigwait below
    root = ns.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    network = start_clique_network(ns.signers, ns.chain_id, root, period_s=ns.period, log_dir=root)
    try:
        for index, node in enumerate(network.nodes):
            assert node is not None
            print(f"signer {index}: {node.signer} RPC {node.url} log {root / f'node-{index}.log'}", flush=True)
        print(f"chain {ns.chain_id}, state in {root}; point the project at any signer: RPC_URL=<url> "
              f"CHAIN_ID={ns.chain_id} DEFAULT_GAS=3000000. Ctrl-C stops all.", flush=True)  # fmt: skip
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        network.stop()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
