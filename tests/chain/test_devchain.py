"""energy_chain.devchain hands out the public dev keys only to the local chain: chain id 1337 on a loopback URL."""

from __future__ import annotations

import pytest

from energy_chain import ChainClient, ChainConfig
from energy_chain.devchain import NotLocalChain, dev_signer, is_local, is_loopback_url, local_signer, require_local


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8545", True),
        ("http://127.8.9.10:1", True),
        ("http://localhost:8545", True),
        ("http://[::1]:8545", True),
        ("http://10.0.0.5:8545", False),
        ("https://rpc.lab.example:443", False),
        ("http://127.0.0.1.nip.io:8545", False),
        ("not a url", False),
    ],
)
def test_loopback_urls(url, loopback):
    assert is_loopback_url(url) is loopback


def client(url: str, chain_id: int) -> ChainClient:
    return ChainClient(ChainConfig(rpc_url=url, chain_id=chain_id))  # chain_id given: nothing is asked of a node


def test_the_local_chain_gets_the_dev_keys():
    local = client("http://127.0.0.1:8545", 1337)
    assert is_local(local)
    require_local(local)
    assert local_signer(local, "oracle").address == dev_signer(2).address


@pytest.mark.parametrize(("url", "chain_id"), [("http://127.0.0.1:8545", 4242), ("http://10.0.0.5:8545", 1337)])
def test_any_other_chain_is_refused(url, chain_id):
    other = client(url, chain_id)
    assert not is_local(other)
    with pytest.raises(NotLocalChain):
        local_signer(other, "operator")


def test_unknown_roles_are_named():
    with pytest.raises(ValueError, match="unknown dev role 'validator'"):
        dev_signer("validator")
