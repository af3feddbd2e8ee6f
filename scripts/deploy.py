"""Deploy the project's contracts (or find them already deployed) and write deployments/<chain-id>.json.

Run: `make deploy` (local chain) or `RPC_URL=… CHAIN_ID=… DEPLOYER_KEYSTORE=… make deploy` (a PoA chain).
Contracts that the record names and whose code is on chain are kept, so running it again changes nothing;
contracts added to CONTRACTS later are deployed on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from energy_chain import ChainClient, ChainConfig, Deployment
from energy_chain.artifacts import load_artifact
from energy_chain.deployment import DeploymentMissing
from scripts.roles import Roles, resolve_roles

ORDER_BOOK_MIN_WH = 10  # minimum order size against dust spam (admin can change it: setMinAmount)

# Deploy order and constructor arguments; each builder sees the addresses deployed so far and the roles.
ArgsBuilder = Callable[[dict[str, str], Roles], list[Any]]
CONTRACTS: list[tuple[str, ArgsBuilder]] = [
    ("MeterRegistry", lambda a, r: [r.admin, r.operator]),
    ("EnergyToken", lambda a, r: [r.admin, r.oracle, a["MeterRegistry"]]),
    ("SettlementToken", lambda a, r: [r.admin, r.operator]),
    # Grid retail 0.50 MYR/kWh and feed-in 0.20 MYR/kWh (mgMYR units per kWh); the operator changes them on chain.
    ("DoubleAuction", lambda a, r: [r.admin, r.operator, a["EnergyToken"], a["SettlementToken"], 500_000, 200_000]),
    ("OrderBook", lambda a, r: [r.admin, a["EnergyToken"], a["SettlementToken"], ORDER_BOOK_MIN_WH]),
    # Direct trading of signed offers (issue 13); its minimum fill is the order book's minimum order size.
    ("OfferSettlement", lambda a, r: [a["EnergyToken"], a["SettlementToken"], ORDER_BOOK_MIN_WH]),
]


def _existing(client: ChainClient) -> Deployment | None:
    try:
        return Deployment.load(client.config.deployments_dir, client.chain_id)
    except DeploymentMissing:
        return None


def deploy_all(client: ChainClient, roles: Roles | None = None, quiet: bool = False) -> Deployment:
    """Deploy what is missing and return the complete, saved deployment record."""
    client.check_chain_id()
    roles = roles or resolve_roles(client.chain_id)
    record = _existing(client) or Deployment(chain_id=client.chain_id, roles=roles.as_record())
    addresses = {name: c["address"] for name, c in record.contracts.items()}
    first_block = None
    for name, build_args in CONTRACTS:
        known = record.contracts.get(name)
        abi = load_artifact(name)["abi"]
        if known and len(client.w3.eth.get_code(known["address"])) > 0:
            known["abi"] = abi  # keep the ABI in step with the compiled source
            continue
        address, block = client.deploy(name, build_args(addresses, roles), roles.deployer)
        addresses[name] = address
        record.contracts[name] = {"address": address, "abi": abi, "block": block}
        first_block = block if first_block is None else min(first_block, block)
        if not quiet:
            print(f"deployed {name:<16} at {address} (block {block})")
    if first_block is not None and (record.deploy_block == 0 or not _existing(client)):
        record.deploy_block = first_block
    record.save(client.config.deployments_dir)
    client.use_deployment(record)
    return record


def main() -> None:
    client = ChainClient(ChainConfig.from_env())
    record = deploy_all(client)
    path = Deployment.path_for(client.config.deployments_dir, client.chain_id)
    print(f"deployment record: {path} (chain {record.chain_id}, contracts: {', '.join(record.contracts)})")


if __name__ == "__main__":
    main()
