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

# Community day of the trading mandate's daily cap: UTC+8 (Malaysia) unless MANDATE_DAY_OFFSET_S says otherwise.
MANDATE_DAY_OFFSET_S = int(os.environ.get("MANDATE_DAY_OFFSET_S", 8 * 3600))
# Venues that call TradingMandate.authorize, with their venue bits (energy_chain.mandate.VENUE_*).
MANDATED_VENUES: list[tuple[str, int]] = [("OrderBook", 1), ("DoubleAuction", 2), ("OfferSettlement", 4)]
# Venues without an admin role, whose deployer sets the mandate (OfferSettlement: setMandate by its deployer, once).
DEPLOYER_SETS_MANDATE = frozenset({"OfferSettlement"})
SET_MANDATE_GAS = 100_000
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
    # Bounds of automatic-trading agents; registers the venues that ask it (each venue is pointed at it below).
    (
        "TradingMandate",
        lambda a, r: [
            r.admin,
            a["EnergyToken"],
            MANDATE_DAY_OFFSET_S,
            [a[name] for name, _ in MANDATED_VENUES],
            [bit for _, bit in MANDATED_VENUES],
        ],
    ),
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
    _wire_mandate(client, record, roles, quiet)
    if first_block is not None and (record.deploy_block == 0 or not _existing(client)):
        record.deploy_block = first_block
    record.save(client.config.deployments_dir)
    client.use_deployment(record)
    return record


def _wire_mandate(client: ChainClient, record: Deployment, roles: Roles, quiet: bool) -> None:
    """Point each mandated venue at the deployment's TradingMandate (admin's setMandate), where it is not yet.

    Sent by the deployer, which must hold the venues' admin role (it does when it is the admin: roles_from_env and
    the dev chain); OfferSettlement has no admin and lets its deployer set it once. A venue deployed before it had
    "for owner" entry points is left as it is, with a note.
    """
    mandate = record.contracts["TradingMandate"]["address"]
    for name, _ in MANDATED_VENUES:
        c = record.contracts[name]
        venue = client.w3.eth.contract(address=c["address"], abi=c["abi"])
        try:
            current = venue.functions.mandate().call()
        except Exception:  # older bytecode without mandate(): redeploy (make reset) for automatic trading
            if not quiet:
                print(f"{name} at {c['address']} predates TradingMandate: automatic trading needs a new deployment")
            continue
        if current.lower() == mandate.lower():
            continue
        if int(current, 16) != 0:  # set once (IMandatedVenue): a new TradingMandate needs new venues too
            print(f"{name} asks TradingMandate {current}, not {mandate}: redeploy the venues (make reset)")
            continue
        if name not in DEPLOYER_SETS_MANDATE and roles.deployer.address.lower() != roles.admin.lower():
            print(f"{name}: the admin {roles.admin} must call setMandate({mandate})")
            continue
        client.transact(venue.functions.setMandate(mandate), roles.deployer, gas=SET_MANDATE_GAS)
        if not quiet:
            print(f"{name:<16} now asks TradingMandate {mandate}")
