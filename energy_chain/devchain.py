"""Everything about the local development chain, in one place: its public mnemonic, which dev account plays which
role, the demo community — and the refusal to use any of it anywhere else.

The dev keys are derived from a mnemonic printed in every Foundry tutorial: anyone can spend from them. So every
function that hands them to a chain first checks that the chain is the local one: chain id 1337 *and* an RPC URL on
the loopback interface. Production code never imports this module (tests/architecture checks it); the demo,
scripts, tests and the dev-chain launchers do.

`python -m energy_chain.devchain keystore --role oracle --out F --password-file P` writes a dev account as an
encrypted keystore (how the demo hands the oracle its key, the same way production does).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from eth_account import Account

from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from energy_chain.signer import Signer

if TYPE_CHECKING:
    from energy_chain.client import ChainClient
    from energy_chain.deploy import Roles
    from energy_chain.deployment import Deployment

DEV_MNEMONIC = "test test test test test test test test test test test junk"
# Dev account index of each role; households of the demo and the tests start at FIRST_USER_INDEX. The automatic-
# trading agent of the demo (TradingMandate) has an index far above any household's (FIRST_USER_INDEX + n).
ROLE_INDEX = {"admin": 0, "operator": 1, "oracle": 2, "agent": 99_999}
ADMIN_INDEX, OPERATOR_INDEX, ORACLE_INDEX = ROLE_INDEX["admin"], ROLE_INDEX["operator"], ROLE_INDEX["oracle"]
FIRST_USER_INDEX = 3
DEMO_COMMUNITY = PROJECT_ROOT / "meter_oracle" / "config" / "demo-community.json"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class NotLocalChain(RuntimeError):
    """Dev-chain keys were asked for on a chain that is not the local one."""


def is_loopback_url(rpc_url: str) -> bool:
    """True when the URL's host is a loopback name or address (127.0.0.0/8, ::1)."""
    host = urlparse(rpc_url).hostname or ""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local(client: ChainClient) -> bool:
    """The chain is the local dev chain: chain id 1337 on a loopback RPC URL."""
    return is_loopback_url(client.config.rpc_url) and client.chain_id == LOCAL_CHAIN_ID


def require_local(client: ChainClient) -> None:
    """Raise NotLocalChain unless `client` talks to the local dev chain."""
    if not is_loopback_url(client.config.rpc_url):
        raise NotLocalChain(f"{client.config.rpc_url} is not on the loopback interface: dev keys are refused there")
    if client.chain_id != LOCAL_CHAIN_ID:
        raise NotLocalChain(f"chain {client.chain_id} is not the local chain {LOCAL_CHAIN_ID}: dev keys are refused")


@lru_cache(maxsize=64)
def dev_key(index: int) -> str:
    """Private key of dev account `index` (for launching the local chain itself; never for real value)."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.to_0x_hex()


def _index(role: str | int) -> int:
    if isinstance(role, int):
        return role
    try:
        return ROLE_INDEX[role]
    except KeyError:
        raise ValueError(f"unknown dev role {role!r}: one of {', '.join(ROLE_INDEX)} or an account index") from None


def dev_signer(role: str | int) -> Signer:
    """The dev account of `role` (admin, operator, oracle, agent) or index, unchecked (tests building a chain)."""
    return Signer.from_key(dev_key(_index(role)))


def user_signer(n: int) -> Signer:
    """The n-th household's dev account (0 = the first user)."""
    return dev_signer(FIRST_USER_INDEX + n)


def local_signer(client: ChainClient, role: str | int) -> Signer:
    """The dev account of `role`, after checking that `client` is on the local chain."""
    require_local(client)
    return dev_signer(role)


def local_roles(client: ChainClient) -> Roles:
    """Deployer and roles on the local chain: 0 admin/deployer, 1 operator, 2 oracle."""
    from energy_chain.deploy import Roles

    deployer = local_signer(client, "admin")
    return Roles(deployer, deployer.address, dev_signer("operator").address, dev_signer("oracle").address)


def deploy_local(client: ChainClient, quiet: bool = True) -> Deployment:
    """Deploy the contracts on the local chain with the dev roles (tests, benchmarks, the demo)."""
    from energy_chain.deploy import deploy_all

    return deploy_all(client, local_roles(client), quiet=quiet)


@contextmanager
def local_chain(deployments_dir: Path | None = None, **anvil_options: Any) -> Iterator[ChainClient]:
    """A fresh anvil on a free port with the contracts deployed (record in a temporary folder unless given);
    stopped cleanly on exit. For tests and benchmarks."""
    from energy_chain.anvil import start_anvil
    from energy_chain.client import ChainClient
    from energy_chain.config import ChainConfig

    node = start_anvil(**anvil_options)
    try:
        with tempfile.TemporaryDirectory(prefix="deployments-") as tmp:
            client = ChainClient(ChainConfig(rpc_url=node.url, deployments_dir=deployments_dir or Path(tmp)))
            deploy_local(client)
            yield client
    finally:
        node.stop()


def fund_traders(
    client: ChainClient, signers: Sequence[Signer], venue: Any, tag: str, wh: int = 10**9, units: int = 10**13
) -> None:
    """Give every signer energy (a meter each, one surplus reading), settlement units and approvals of `venue`
    (a market client with `.contract`, or an address), using the dev operator and oracle (tests, benchmarks)."""
    from web3 import Web3

    from energy_chain.approvals import APPROVE_GAS, approve_function
    from energy_chain.txbatch import send_signed

    operator, oracle = local_signer(client, "operator"), local_signer(client, "oracle")
    spender = venue if isinstance(venue, str) else venue.contract.address
    registry = client.contract("MeterRegistry")
    energy, money = client.contract("EnergyToken"), client.contract("SettlementToken")
    meters = [Web3.keccak(text=f"{tag}-{i}") for i in range(len(signers))]
    raws = []
    for meter, s in zip(meters, signers, strict=True):
        for fn in (registry.functions.registerMeter(meter, s.address), money.functions.topUp(s.address, units, meter)):
            raws.append(operator.sign(client.build_tx(fn, operator, 200_000)))
    send_signed(client, raws)
    ts = client.w3.eth.get_block("latest")["timestamp"] - 60
    for start in range(0, len(meters), 200):
        part = [(m, ts, wh, 0) for m in meters[start : start + 200]]
        send_signed(client, [oracle.sign(client.build_tx(energy.functions.recordReadings(part), oracle, 30_000_000))])
    approvals = [
        s.sign(client.build_tx(approve_function(client, token, spender), s, APPROVE_GAS))
        for s in signers
        for token in ("EnergyToken", "SettlementToken")
    ]
    send_signed(client, approvals)


def write_keystore(role: str | int, out: Path, password_file: Path) -> Signer:
    """Save a dev account as an encrypted keystore (a fresh password file is made when none exists)."""
    signer = dev_signer(role)
    if not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
        password_file.chmod(0o600)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(signer.encrypt(password_file.read_text().strip())))
    out.chmod(0o600)
    return signer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m energy_chain.devchain", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ks = sub.add_parser("keystore", help="write a dev account as an encrypted keystore")
    ks.add_argument("--role", required=True, help="admin, operator, oracle or an account index")
    ks.add_argument("--out", type=Path, required=True)
    ks.add_argument("--password-file", type=Path, required=True)
    ns = parser.parse_args(argv)
    role: str | int = int(ns.role) if ns.role.isdigit() else ns.role
    signer = write_keystore(role, ns.out, ns.password_file)
    print(f"keystore {ns.out} for dev account {ns.role} {signer.address} (password in {ns.password_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
