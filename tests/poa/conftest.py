"""PoA tests: plain pytest (no Brownie plugin). The clique fixtures run one ethereumjs clique node per session.

The chain id is deliberately not the local 1337: deployment goes through the path a real PoA chain takes
(RPC_URL, CHAIN_ID, DEPLOYER_KEYSTORE + DEPLOYER_PASSWORD_FILE, OPERATOR_ADDRESS, ORACLE_ADDRESS, DEFAULT_GAS).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig, Deployment, Signer
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import dev_signer
from poa.clique.node import CliqueNode, clique_binary, start_clique

CLIQUE_CHAIN_ID = 4242
DEFAULT_GAS = 3_000_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clique: starts an ethereumjs clique PoA node (`make clique-setup` installs it)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the clique node; SKIP_CLIQUE=1 skips them (e.g. `SKIP_CLIQUE=1 make test`)."""
    skip = pytest.mark.skip(reason="SKIP_CLIQUE is set") if os.environ.get("SKIP_CLIQUE") else None
    for item in items:
        if "clique_node" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.clique)
        if skip is not None and item.get_closest_marker("clique") is not None:
            item.add_marker(skip)


@dataclass(frozen=True)
class CliqueDeployment:
    """The clique node, the environment the project was pointed at it with, and the resulting record."""

    node: CliqueNode
    env: dict[str, str]
    record: Deployment

    def config(self, **overrides: object) -> ChainConfig:
        values: dict[str, object] = {
            "rpc_url": self.node.url,
            "chain_id": self.node.chain_id,
            "deployments_dir": Path(self.env["DEPLOYMENTS_DIR"]),
            "default_gas": DEFAULT_GAS,
        }
        values.update(overrides)
        return ChainConfig(**values)  # type: ignore[arg-type]

    def client(self, **overrides: object) -> ChainClient:
        return ChainClient(self.config(**overrides))


@pytest.fixture(scope="session")
def clique_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliqueNode]:
    try:
        clique_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    log = tmp_path_factory.mktemp("clique-log") / "node.log"
    node = start_clique(chain_id=CLIQUE_CHAIN_ID, log_file=log)
    yield node
    node.kill()


def project_env(node: CliqueNode, secrets: Path, deployments: Path) -> dict[str, str]:
    """What an operator exports to point the project at a PoA chain: no key in plain text, roles separated."""
    files = {}
    for role, index in (("deployer", 0), ("operator", 1), ("oracle", 2)):
        keystore, password = secrets / f"{role}.json", secrets / f"{role}.password"
        password.write_text(f"{role} horse battery staple")
        keystore.write_text(json.dumps(dev_signer(index).encrypt(password.read_text())))
        files[role] = (str(keystore), str(password))
    return {
        "RPC_URL": node.url,
        "CHAIN_ID": str(node.chain_id),
        "DEPLOYER_KEYSTORE": files["deployer"][0],
        "DEPLOYER_PASSWORD_FILE": files["deployer"][1],
        "OPERATOR_ADDRESS": dev_signer(1).address,
        "OPERATOR_KEYSTORE": files["operator"][0],
        "OPERATOR_PASSWORD_FILE": files["operator"][1],
        "ORACLE_ADDRESS": dev_signer(2).address,
        "ORACLE_KEYSTORE_FILE": files["oracle"][0],
        "ORACLE_PASSWORD_FILE": files["oracle"][1],
        "DEFAULT_GAS": str(DEFAULT_GAS),
        "DEPLOYMENTS_DIR": str(deployments),
    }


def run_project(module_args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `python -m <module_args>` from the project root with only `env` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", *module_args],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def clique_deployment(clique_node: CliqueNode, tmp_path_factory: pytest.TempPathFactory) -> CliqueDeployment:
    """`python -m scripts.deploy` run unchanged against the clique chain, configured only by environment."""
    env = project_env(clique_node, tmp_path_factory.mktemp("secrets"), tmp_path_factory.mktemp("deployments"))
    run = run_project(["scripts.deploy"], env)
    assert run.returncode == 0, run.stdout + run.stderr
    return CliqueDeployment(clique_node, env, Deployment.load(Path(env["DEPLOYMENTS_DIR"]), clique_node.chain_id))


@pytest.fixture
def client(clique_deployment: CliqueDeployment) -> ChainClient:
    return clique_deployment.client()


# Fresh signers per test: each reads its nonce from the node, so no test inherits another's counter.
@pytest.fixture
def operator() -> Signer:
    return dev_signer(1)


@pytest.fixture
def oracle() -> Signer:
    return dev_signer(2)
