"""Fixtures of the oracle tests (plain pytest, no Brownie): a private anvil, a fresh deployment, the oracle key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.anvil import AnvilProcess, start_anvil
from energy_chain.devchain import FIRST_USER_INDEX, OPERATOR_INDEX, ORACLE_INDEX, deploy_local, dev_signer
from scripts.register_meters import register_meters


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    chain = start_anvil(block_time=1)
    try:
        yield chain
    finally:
        chain.stop()


@contextmanager
def instant_mining(client: ChainClient) -> Iterator[None]:
    """Mine each transaction at once inside the block (a deployment: ~0.7 s instead of ~9 s of waiting for 1 s
    blocks); then the chain is back on 1 s blocks, as the tests expect (e.g. batches still unconfirmed when the
    oracle crashes)."""
    client.w3.provider.make_request("evm_setAutomine", [True])
    yield
    client.w3.provider.make_request("evm_setIntervalMining", [1])


@pytest.fixture
def client(anvil: AnvilProcess, tmp_path: Path) -> ChainClient:
    """A client of a fresh deployment (record in tmp_path/deployments) on the 1 s-block chain (deployed at once)."""
    c = ChainClient(ChainConfig(rpc_url=anvil.url, deployments_dir=tmp_path / "deployments"))
    with instant_mining(c):
        deploy_local(c)
    return c


@pytest.fixture
def oracle_signer() -> Signer:
    return dev_signer(ORACLE_INDEX)


@pytest.fixture
def keystore(tmp_path: Path) -> tuple[Path, Path]:
    """The oracle's key as an encrypted keystore plus password file, as in production."""
    password = tmp_path / "oracle.pass"
    password.write_text("correct horse battery staple\n")
    keyfile = tmp_path / "oracle-key.json"
    keyfile.write_text(json.dumps(dev_signer(ORACLE_INDEX).encrypt("correct horse battery staple")))
    return keyfile, password


def register(
    client: ChainClient, serials: list[str], first_user: int = FIRST_USER_INDEX, period_s: int = 60
) -> dict[str, str]:
    """Register each serial to its own user (dev accounts first_user, first_user+1, ...) with the oracle's interval
    as the meter's period (as scripts.register_meters does); returns serial -> owner."""
    owners = {s: dev_signer(first_user + i).address for i, s in enumerate(serials)}
    register_meters(client, dev_signer(OPERATOR_INDEX), list(owners.items()), period_s=period_s)
    return owners
