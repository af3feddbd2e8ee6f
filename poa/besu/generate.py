"""Write a Hyperledger Besu QBFT network for N validators: genesis, node keys, configs, start scripts, compose file.

    python -m poa.besu.generate --validators 4 --out var/besu-network [--hosts 10.0.0.11,10.0.0.12,...]

One folder per validator (node-K: key, key.pub, address, config.toml, start.sh) plus the shared genesis.json,
static-nodes.json, permissions_config.toml, docker-compose.yml, network.json (a summary), accounts/ (encrypted
keystores of the project's deployer, operator and oracle, funded in the genesis) and project.env, which points the
project's scripts at the network. Without --hosts every validator runs on 127.0.0.1 with its own ports (a trial
on one machine); with one host per validator each lab machine runs its own node on the standard ports.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account

from poa.besu.extradata import genesis_extra_data
from poa.keys import NodeKey

BESU_IMAGE = "hyperledger/besu:24.7.1"
# "ctical byzantine fault tolerance": the mixHash every IBFT 2.0/QBFT block carries.
BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
DEFAULT_GAS_LIMIT = 1_000_000_000  # gas is free; Besu stops filling a block when its selection time runs out
MAX_CONTRACT_SIZE = 2_147_483_647
P2P_PORT, RPC_PORT, METRICS_PORT = 30303, 8545, 9545
ROLES = ("deployer", "operator", "oracle")
FORKS = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
)


@dataclass(frozen=True)
class Validator:
    name: str
    key: NodeKey
    host: str
    p2p_port: int
    rpc_port: int
    metrics_port: int

    @property
    def enode(self) -> str:
        return self.key.enode(self.host, self.p2p_port)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.rpc_port}"


@dataclass(frozen=True)
class NetworkSpec:
    chain_id: int
    validators: int
    hosts: tuple[str, ...] = ()
    block_period_s: int = 2
    request_timeout_s: int = 4
    gas_limit: int = DEFAULT_GAS_LIMIT
    funded: tuple[str, ...] = ()
    image: str = BESU_IMAGE


def plan_validators(spec: NetworkSpec) -> list[Validator]:
    """Fresh keys; ports offset per validator only when validators share a host."""
    if spec.validators < 1:
        raise ValueError("a QBFT network needs at least one validator")
    hosts = spec.hosts or ("127.0.0.1",) * spec.validators
    if len(hosts) != spec.validators:
        raise ValueError(f"{len(hosts)} hosts given for {spec.validators} validators: give one host per validator")
    shared = len(set(hosts)) < len(hosts)
    return [
        Validator(
            f"node-{i + 1}",
            NodeKey.generate(),
            host,
            P2P_PORT + (i if shared else 0),
            RPC_PORT + (i if shared else 0),
            METRICS_PORT + (i if shared else 0),
        )
        for i, host in enumerate(hosts)
    ]


def besu_genesis(spec: NetworkSpec, validators: list[str], funded: list[str]) -> dict[str, Any]:
    """QBFT genesis, london rules with a zero base fee: legacy gasPrice-0 and type-2 zero-fee transactions both work."""
    return {
        "config": {
            "chainId": spec.chain_id,
            **dict.fromkeys(FORKS, 0),
            "zeroBaseFee": True,
            "contractSizeLimit": MAX_CONTRACT_SIZE,
            "qbft": {
                "blockperiodseconds": spec.block_period_s,
                "epochlength": 30000,
                "requesttimeoutseconds": spec.request_timeout_s,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(spec.gas_limit),
        "baseFeePerGas": "0x0",
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "extraData": genesis_extra_data(sorted(validators, key=lambda a: bytes.fromhex(a[2:]))),
        "alloc": {a[2:].lower(): {"balance": hex(10**24)} for a in funded},
    }


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def toml_lines(settings: dict[str, object]) -> str:
    return "".join(f"{k}={_toml_value(v)}\n" for k, v in settings.items())


def node_config(v: Validator, spec: NetworkSpec) -> str:
    """Besu's config file (option names without --); relative paths resolve from the node folder."""
    settings: dict[str, object] = {
        "data-path": "data",
        "genesis-file": "../genesis.json",
        "node-private-key-file": "key",
        "p2p-host": v.host,
        "p2p-interface": "0.0.0.0",
        "p2p-port": v.p2p_port,
        "discovery-enabled": False,  # peers come from static-nodes.json, admitted by the allowlist
        "static-nodes-file": "../static-nodes.json",
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": "../permissions_config.toml",
        "min-gas-price": 0,
        "target-gas-limit": spec.gas_limit,
        "revert-reason-enabled": True,
        "rpc-http-enabled": True,
        "rpc-http-host": "0.0.0.0",
        "rpc-http-port": v.rpc_port,
        "rpc-http-api": ["ETH", "NET", "WEB3", "QBFT", "TXPOOL"],
        "host-allowlist": sorted({"localhost", "127.0.0.1", v.host}),
        "metrics-enabled": True,
        "metrics-host": "0.0.0.0",
        "metrics-port": v.metrics_port,
        "sync-mode": "FULL",
    }
    return f"# Besu config of validator {v.name} ({v.key.address}); generated by poa.besu.generate\n" + toml_lines(
        settings
    )


def start_script(v: Validator) -> str:
    return f"""#!/bin/sh
# Validator {v.name} ({v.key.address}) of the lab QBFT network, without Docker.
# Needs Java 21 and Besu's release tarball (bin/besu on PATH, or BESU=/path/to/besu).
set -eu
cd "$(dirname "$0")"
exec "${{BESU:-besu}}" --config-file=config.toml "$@"
"""


def compose_file(validators: list[Validator], image: str) -> str:
    services = {
        v.name: {
            "image": f"${{BESU_IMAGE:-{image}}}",
            "container_name": f"besu-{v.name}",
            "network_mode": "host",  # the enodes carry the machines' own addresses and ports
            "working_dir": f"/network/{v.name}",
            "command": ["--config-file=config.toml"],
            "volumes": ["./:/network"],
            "user": "root",  # writes chain data into the mounted node folder whatever its owner's uid
            "restart": "unless-stopped",
        }
        for v in validators
    }
    header = (
        "# Lab machine K: copy this folder and run `docker compose up -d node-K`.\n"
        "# All validators on one machine (hosts 127.0.0.1): `docker compose up -d`.\n"
    )
    return header + yaml.safe_dump({"services": services}, sort_keys=False)


def write_account(folder: Path, role: str) -> tuple[str, Path, Path]:
    """A fresh key for a project role as an encrypted keystore plus its password file (both owner-only)."""
    account = Account.create()
    password = secrets.token_urlsafe(24)
    keystore, password_file = folder / f"{role}.json", folder / f"{role}.password"
    keystore.write_text(json.dumps(Account.encrypt(account.key, password, kdf="scrypt")))
    password_file.write_text(password)
    for path in (keystore, password_file):
        path.chmod(0o600)
    return account.address, keystore, password_file


def project_env(spec: NetworkSpec, rpc_url: str, accounts: dict[str, tuple[str, Path, Path]]) -> str:
    """The environment that points the project (deploy, oracle, webapp, load tests) at this network."""
    values = {
        "RPC_URL": rpc_url,
        "CHAIN_ID": spec.chain_id,
        "CONFIRMATIONS": 0,  # QBFT seals a block final: no reorgs to wait out
        "DEFAULT_GAS": 3_000_000,  # used only if eth_estimateGas fails (Besu estimates gas)
        "DEPLOYER_KEYSTORE": accounts["deployer"][1],
        "DEPLOYER_PASSWORD_FILE": accounts["deployer"][2],
        "OPERATOR_ADDRESS": accounts["operator"][0],
        "OPERATOR_KEYSTORE": accounts["operator"][1],
        "OPERATOR_PASSWORD_FILE": accounts["operator"][2],
        "ORACLE_ADDRESS": accounts["oracle"][0],
        "ORACLE_KEYSTORE_FILE": accounts["oracle"][1],
        "ORACLE_PASSWORD_FILE": accounts["oracle"][2],
    }
    header = "# Point the project at the QBFT network: set -a; . ./project.env; set +a; make deploy\n"
    return header + "".join(f"{k}={v}\n" for k, v in values.items())


def network_summary(spec: NetworkSpec, validators: list[Validator], accounts: dict) -> dict[str, Any]:
    return {
        "chainId": spec.chain_id,
        "consensus": "qbft",
        "blockPeriodSeconds": spec.block_period_s,
        "gasLimit": spec.gas_limit,
        "validators": [
            {"name": v.name, "address": v.key.address, "enode": v.enode, "rpcUrl": v.rpc_url, "metrics": v.metrics_port}
            for v in validators
        ],
        "accounts": {role: a[0] for role, a in accounts.items()},
    }


def write_network(out: Path, spec: NetworkSpec, force: bool = False) -> dict[str, Any]:
    """Generate everything into `out` and return the network summary (also written as network.json)."""
    out = out.resolve()
    if (out / "genesis.json").exists() and not force:
        raise FileExistsError(
            f"{out} already holds a network (its keys are not replaceable): use --force or another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    validators = plan_validators(spec)
    accounts_dir = out / "accounts"
    accounts_dir.mkdir(exist_ok=True)
    accounts = {role: write_account(accounts_dir, role) for role in ROLES}
    funded = [a[0] for a in accounts.values()] + list(spec.funded)
    genesis = besu_genesis(spec, [v.key.address for v in validators], funded)
    (out / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    enodes = [v.enode for v in validators]
    (out / "static-nodes.json").write_text(json.dumps(enodes, indent=2) + "\n")
    (out / "permissions_config.toml").write_text(toml_lines({"nodes-allowlist": enodes}))
    for v in validators:
        folder = out / v.name
        v.key.write(folder / "key")
        (folder / "key.pub").write_text("0x" + v.key.enode_id)
        (folder / "address").write_text(v.key.address)
        (folder / "config.toml").write_text(node_config(v, spec))
        script = folder / "start.sh"
        script.write_text(start_script(v))
        script.chmod(0o755)
    (out / "docker-compose.yml").write_text(compose_file(validators, spec.image))
    (out / "project.env").write_text(project_env(spec, validators[0].rpc_url, accounts))
    summary = network_summary(spec, validators, accounts)
    (out / "network.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m poa.besu.generate", description="Write a Besu QBFT network (zero gas) for N validators."
    )
    parser.add_argument("--validators", type=int, required=True, help="number of validators (4 tolerate 1 fault)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (refused if it holds a network)")
    parser.add_argument("--chain-id", type=int, default=2026)
    parser.add_argument("--hosts", default="", help="comma-separated host/IP per validator (default: all local)")
    parser.add_argument("--block-period", type=int, default=2, help="seconds between blocks")
    parser.add_argument("--gas-limit", type=int, default=DEFAULT_GAS_LIMIT)
    parser.add_argument("--fund", action="append", default=[], help="extra address to fund in the genesis")
    parser.add_argument("--image", default=BESU_IMAGE, help="Besu container image for docker-compose.yml")
    parser.add_argument("--force", action="store_true", help="overwrite an existing network (new keys!)")
    ns = parser.parse_args(argv)
    hosts = tuple(h.strip() for h in ns.hosts.split(",") if h.strip())
    spec = NetworkSpec(
        ns.chain_id,
        ns.validators,
        hosts,
        ns.block_period,
        gas_limit=ns.gas_limit,
        funded=tuple(ns.fund),
        image=ns.image,
    )
    try:
        summary = write_network(ns.out, spec, force=ns.force)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    if ns.validators < 4:
        print(f"note: {ns.validators} validator(s) tolerate no failure; QBFT needs 4 to survive one", file=sys.stderr)
    print(f"QBFT network for chain {spec.chain_id} with {ns.validators} validators in {ns.out.resolve()}")
    for v in summary["validators"]:
        print(f"  {v['name']}: {v['address']}  rpc {v['rpcUrl']}")
    print(f"point the project at it: set -a; . {ns.out.resolve() / 'project.env'}; set +a")
    return 0


if __name__ == "__main__":
    sys.exit(main())
