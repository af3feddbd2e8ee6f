"""Deploy the project's contracts (or find them already deployed) and save the deployment record.

Contracts that the record names and whose code is on chain are kept, so deploying again changes nothing; contracts
added to CONTRACTS later are deployed on the next run. Who deploys and who holds which role comes from `Roles`:
`roles_from_env` on a real chain (an encrypted keystore, never a plaintext key); the local dev chain's public
accounts come from energy_chain.devchain.local_roles (tests and the demo only).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from energy_chain.artifacts import load_artifact
from energy_chain.client import ChainClient
from energy_chain.deployment import Deployment, DeploymentMissing
from energy_chain.signer import Signer

ORDER_BOOK_MIN_WH = 10  # minimum order size against dust spam (admin can change it: setMinAmount)
# Grid retail 0.50 MYR/kWh and feed-in 0.20 MYR/kWh (mgMYR units per kWh); the operator changes them on chain.
AUCTION_RETAIL, AUCTION_FEED_IN = 500_000, 200_000


@dataclass(frozen=True)
class Roles:
    """The deployer's key and the addresses that get the admin, operator and oracle roles."""

    deployer: Signer
    admin: str
    operator: str
    oracle: str

    def as_record(self) -> dict[str, str]:
        return {"admin": self.admin, "operator": self.operator, "oracle": self.oracle}


def roles_from_env(chain_id: int) -> Roles:
    """DEPLOYER_KEYSTORE + DEPLOYER_PASSWORD_FILE deploy; OPERATOR_ADDRESS and ORACLE_ADDRESS get the roles
    (default: the deployer; separate them in production)."""
    keystore = os.environ.get("DEPLOYER_KEYSTORE")
    password_file = os.environ.get("DEPLOYER_PASSWORD_FILE")
    if not keystore or not password_file:
        raise SystemExit(
            f"chain {chain_id}: set DEPLOYER_KEYSTORE and DEPLOYER_PASSWORD_FILE "
            "(and OPERATOR_ADDRESS, ORACLE_ADDRESS) to deploy there"
        )
    deployer = Signer.from_keystore_files(keystore, password_file)
    return Roles(
        deployer,
        deployer.address,
        os.environ.get("OPERATOR_ADDRESS", deployer.address),
        os.environ.get("ORACLE_ADDRESS", deployer.address),
    )


# Deploy order and constructor arguments; each builder sees the addresses deployed so far and the roles.
ArgsBuilder = Callable[[dict[str, str], Roles], list[Any]]
CONTRACTS: list[tuple[str, ArgsBuilder]] = [
    ("MeterRegistry", lambda a, r: [r.admin, r.operator]),
    ("EnergyToken", lambda a, r: [r.admin, r.oracle, a["MeterRegistry"]]),
    ("SettlementToken", lambda a, r: [r.admin, r.operator]),
    (
        "DoubleAuction",
        lambda a, r: [r.admin, r.operator, a["EnergyToken"], a["SettlementToken"], AUCTION_RETAIL, AUCTION_FEED_IN],
    ),
    ("OrderBook", lambda a, r: [r.admin, a["EnergyToken"], a["SettlementToken"], ORDER_BOOK_MIN_WH]),
    # Direct trading of signed offers; its minimum fill is the order book's minimum order size.
    ("OfferSettlement", lambda a, r: [a["EnergyToken"], a["SettlementToken"], ORDER_BOOK_MIN_WH]),
]


def _existing(client: ChainClient) -> Deployment | None:
    try:
        return Deployment.load(client.config.deployments_dir, client.chain_id)
    except DeploymentMissing:
        return None


def deploy_all(client: ChainClient, roles: Roles | None = None, quiet: bool = False) -> Deployment:
    """Deploy what is missing and return the complete, saved deployment record (roles default: roles_from_env)."""
    client.check_chain_id()
    roles = roles or roles_from_env(client.chain_id)
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
