"""`python -m poa.clique`: run a single-signer clique chain in the foreground (state kept in --datadir).

Point the project at it with RPC_URL=http://127.0.0.1:<port> CHAIN_ID=<id> DEFAULT_GAS=3000000.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from poa.clique.genesis import DEFAULT_GAS_LIMIT
from poa.clique.node import clique_args, dev_addresses, prepare_datadir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a single-signer clique PoA chain (ethereumjs, berlin rules).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLIQUE_PORT", 8545)))
    parser.add_argument("--p2p-port", type=int, default=int(os.environ.get("CLIQUE_P2P_PORT", 30303)))
    parser.add_argument("--chain-id", type=int, default=int(os.environ.get("CHAIN_ID", LOCAL_CHAIN_ID)))
    parser.add_argument("--period", type=int, default=1, help="seconds between blocks")
    parser.add_argument("--gas-limit", type=int, default=DEFAULT_GAS_LIMIT)
    parser.add_argument("--datadir", type=Path, default=PROJECT_ROOT / "var" / "clique")
    ns = parser.parse_args(argv)
    ns.datadir = ns.datadir.resolve()
    signer = prepare_datadir(ns.datadir, ns.chain_id, dev_addresses(), ns.period, ns.gas_limit)
    args = clique_args(ns.datadir, ns.port, ns.p2p_port)
    print(
        f"clique on http://127.0.0.1:{ns.port} (chain {ns.chain_id}, signer {signer.address}, "
        f"period {ns.period}s, state {ns.datadir}); set DEFAULT_GAS: eth_estimateGas does not work here",
        flush=True,
    )
    os.execv(args[0], args)  # replace this process: signals reach the node directly
    return 0


if __name__ == "__main__":
    sys.exit(main())
