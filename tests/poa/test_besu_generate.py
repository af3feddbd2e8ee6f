"""The generated Besu QBFT network: validator set in the genesis, keys, peering, free gas, and the project's scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from eth_account import Account

from energy_chain import ChainConfig, Deployment
from energy_chain.config import PROJECT_ROOT
from energy_chain.deploy import roles_from_env
from poa.besu.extradata import QbftExtraData
from poa.besu.generate import NetworkSpec, main, write_network
from poa.clique.node import clique_binary, start_clique
from poa.keys import NodeKey

CHAIN_ID = 2026
VALIDATORS = 4


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("besu") / "net"
    write_network(out, NetworkSpec(chain_id=CHAIN_ID, validators=VALIDATORS))
    return out


def read_json(path: Path):
    return json.loads(path.read_text())


def read_env(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def node_dirs(network: Path) -> list[Path]:
    return sorted(network.glob("node-*"))


def node_config(folder: Path) -> dict:
    return tomllib.loads((folder / "config.toml").read_text())


def test_genesis_extra_data_decodes_to_the_validator_set(network: Path):
    extra = QbftExtraData.decode(read_json(network / "genesis.json")["extraData"])
    addresses = [(d / "address").read_text() for d in node_dirs(network)]
    assert len(addresses) == VALIDATORS
    assert set(extra.validators) == set(addresses)
    assert list(extra.validators) == sorted(addresses, key=lambda a: bytes.fromhex(a[2:]))
    assert (extra.vote, extra.round, extra.seals) == (None, 0, ())
    assert [v["address"] for v in read_json(network / "network.json")["validators"]] == addresses


def test_each_node_key_matches_its_address_and_enode(network: Path):
    static_nodes = read_json(network / "static-nodes.json")
    for folder, enode in zip(node_dirs(network), static_nodes, strict=True):
        key = NodeKey.from_hex((folder / "key").read_text())
        config = node_config(folder)
        assert key.address == (folder / "address").read_text()
        assert (folder / "key.pub").read_text() == "0x" + key.enode_id
        assert enode == f"enode://{key.enode_id}@{config['p2p-host']}:{config['p2p-port']}"


def test_genesis_is_a_zero_gas_qbft_chain(network: Path):
    genesis = read_json(network / "genesis.json")
    config = genesis["config"]
    assert config["chainId"] == CHAIN_ID
    assert config["zeroBaseFee"] is True and config["londonBlock"] == 0
    assert config["qbft"]["blockperiodseconds"] >= 1 and config["qbft"]["requesttimeoutseconds"] > 1
    assert int(genesis["gasLimit"], 16) >= 300_000_000
    assert int(genesis["baseFeePerGas"], 16) == 0
    assert bytes.fromhex(genesis["mixHash"][2:]) == b"ctical byzantine fault tolerance"


def test_node_configs_set_free_gas_and_closed_peering(network: Path):
    configs = [node_config(d) for d in node_dirs(network)]
    for folder, config in zip(node_dirs(network), configs, strict=True):
        assert config["min-gas-price"] == 0
        assert config["discovery-enabled"] is False and config["permissions-nodes-config-file-enabled"] is True
        for option in ("genesis-file", "node-private-key-file", "static-nodes-file", "permissions-nodes-config-file"):
            assert (folder / config[option]).is_file(), option
        assert "ETH" in config["rpc-http-api"] and "QBFT" in config["rpc-http-api"]
    # one machine: every node needs its own ports
    for port in ("p2p-port", "rpc-http-port", "metrics-port"):
        assert len({c[port] for c in configs}) == VALIDATORS, port


def test_allowlist_admits_exactly_the_static_nodes(network: Path):
    allowlist = tomllib.loads((network / "permissions_config.toml").read_text())["nodes-allowlist"]
    assert allowlist == read_json(network / "static-nodes.json")


def test_compose_runs_one_service_per_validator(network: Path):
    services = yaml.safe_load((network / "docker-compose.yml").read_text())["services"]
    assert sorted(services) == [d.name for d in node_dirs(network)]
    for name, service in services.items():
        assert service["working_dir"] == f"/network/{name}"
        assert service["command"] == ["--config-file=config.toml"]
        assert service["network_mode"] == "host"


def test_start_scripts_are_executable_shell(network: Path):
    for folder in node_dirs(network):
        script = folder / "start.sh"
        assert script.stat().st_mode & 0o111
        assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
        assert "--config-file=config.toml" in script.read_text()


def test_secrets_are_readable_by_their_owner_only(network: Path):
    secrets = [d / "key" for d in node_dirs(network)] + sorted((network / "accounts").iterdir())
    assert len(secrets) == VALIDATORS + 6
    assert all(path.stat().st_mode & 0o077 == 0 for path in secrets)


def test_project_accounts_decrypt_and_are_funded(network: Path):
    accounts = read_json(network / "network.json")["accounts"]
    alloc = read_json(network / "genesis.json")["alloc"]
    for role, address in accounts.items():
        keystore = read_json(network / "accounts" / f"{role}.json")
        password = (network / "accounts" / f"{role}.password").read_text()
        assert Account.from_key(Account.decrypt(keystore, password)).address == address
        assert int(alloc[address[2:].lower()]["balance"], 16) > 0


def test_project_env_configures_chain_and_roles(network: Path, monkeypatch: pytest.MonkeyPatch):
    env = read_env(network / "project.env")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = ChainConfig.from_env()
    accounts = read_json(network / "network.json")["accounts"]
    roles = roles_from_env(config.chain_id)  # type: ignore[arg-type]
    assert (config.chain_id, config.rpc_url, config.confirmations) == (CHAIN_ID, "http://127.0.0.1:8545", 0)
    assert config.default_gas == 3_000_000
    assert (roles.deployer.address, roles.operator, roles.oracle) == (
        accounts["deployer"],
        accounts["operator"],
        accounts["oracle"],
    )


def test_one_host_per_machine_uses_standard_ports(tmp_path: Path):
    hosts = tuple(f"10.0.0.{i}" for i in range(11, 15))
    summary = write_network(tmp_path / "lab", NetworkSpec(chain_id=CHAIN_ID, validators=4, hosts=hosts))
    assert [v["rpcUrl"] for v in summary["validators"]] == [f"http://{h}:8545" for h in hosts]
    assert all(v["enode"].endswith(f"@{h}:30303") for v, h in zip(summary["validators"], hosts, strict=True))
    assert read_env(tmp_path / "lab" / "project.env")["RPC_URL"] == "http://10.0.0.11:8545"
    assert node_config(tmp_path / "lab" / "node-2")["host-allowlist"] == ["10.0.0.12", "127.0.0.1", "localhost"]


def test_an_existing_network_is_not_overwritten(network: Path):
    before = (network / "node-1" / "key").read_text()
    with pytest.raises(FileExistsError):
        write_network(network, NetworkSpec(chain_id=CHAIN_ID, validators=VALIDATORS))
    assert (network / "node-1" / "key").read_text() == before


def test_cli_refuses_a_host_count_that_does_not_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as info:
        main(["--validators", "3", "--hosts", "a,b", "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    assert "one host per validator" in capsys.readouterr().err
    assert not (tmp_path / "x" / "genesis.json").exists()


def test_cli_writes_a_single_validator_network_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--validators", "1", "--chain-id", "777", "--out", str(tmp_path / "one")]) == 0
    genesis = read_json(tmp_path / "one" / "genesis.json")
    assert genesis["config"]["chainId"] == 777
    assert len(QbftExtraData.decode(genesis["extraData"]).validators) == 1
    assert "tolerate no failure" in capsys.readouterr().err


@pytest.mark.clique
def test_project_env_deploys_the_contracts(network: Path, tmp_path: Path):
    """Besu cannot run here: a clique node with the network's chain id and funded accounts stands in for it."""
    try:
        clique_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    env = read_env(network / "project.env")
    accounts = read_json(network / "network.json")["accounts"]
    node = start_clique(chain_id=CHAIN_ID, funded=list(accounts.values()))
    try:
        env.update(RPC_URL=node.url, DEPLOYMENTS_DIR=str(tmp_path))
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}
        run = subprocess.run(
            [sys.executable, "-m", "scripts.deploy"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        node.kill()
    record = Deployment.load(tmp_path, CHAIN_ID)
    assert record.roles == {
        "admin": accounts["deployer"],
        "operator": accounts["operator"],
        "oracle": accounts["oracle"],
    }
    assert {"MeterRegistry", "EnergyToken", "SettlementToken"} <= set(record.contracts)
