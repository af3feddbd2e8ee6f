"""Contract tests: Brownie on a private anvil started on a free port (never 8545), deployed once per module."""

from __future__ import annotations

import sys
import types

import pytest

from energy_chain.anvil import start_anvil

NETWORK_ID = "p2p-test-anvil"
_chain = None


@pytest.hookimpl(trylast=True)  # after Brownie's own configure, which resets the network choice
def pytest_configure(config: pytest.Config) -> None:
    """Start our own anvil (zero gas, chain 1337) and make it Brownie's development network for this run."""
    global _chain
    if hasattr(config, "workerinput") or _chain is not None:
        return
    # Imported here, not at the top: Brownie hashes this file's top-level imports and chokes on compiled modules.
    from brownie._config import CONFIG

    _chain = start_anvil(gas_limit=300_000_000, accounts=10)
    CONFIG.networks[NETWORK_ID] = {
        "id": NETWORK_ID,
        "name": "anvil started by the test run",
        "host": _chain.url,
        "cmd": "anvil",  # marks it a development network: Brownie attaches and uses evm snapshots
        "cmd_settings": {"port": _chain.port, "chain_id": 1337, "gas_price": 0, "base_fee": 0, "accounts": 10},
        "timeout": 60,
    }
    CONFIG.argv["network"] = NETWORK_ID


class _CallerFrameOnly:
    """Stands in for `inspect` in brownie.network.rpc: its `internal` decorator (on snapshot, revert, sleep and mine)
    calls `inspect.stack()[1].frame` to warn about direct calls; inspect.stack() reads the source line of every frame
    on the stack (~10 ms under Hypothesis' deep stacks), and Brownie takes a snapshot after every transaction (its undo
    buffer). Same frame, same warning, without reading any source."""

    @staticmethod
    def stack(context: int = 1) -> list:
        # frame 0: this function, 1: the decorator's `wrapped`, 2: whoever called the rpc method
        return [None, types.SimpleNamespace(frame=sys._getframe(2))]


@pytest.fixture(scope="session", autouse=True)
def _lean_rpc() -> None:
    """Once Brownie has connected: each of its RPC calls one round trip, not three; its snapshots cheap; a mined
    transaction never taken for dropped (brownie_utils.confirming_past_anvils_receipt_gap)."""
    import importlib

    import brownie

    # the module: `brownie.network.rpc` as an attribute is the Rpc() instance
    importlib.import_module("brownie.network.rpc").inspect = _CallerFrameOnly
    provider = brownie.web3.provider
    # web3's validation middleware asks eth_chainId before (and after) every eth_call and transaction; the chain id
    # of our anvil never changes. Only never-changing answers are cached: blocks and transactions are not (snapshots
    # rewind them).
    provider.cacheable_requests = {"eth_chainId", "web3_clientVersion", "net_version"}
    provider.cache_allowed_requests = True

    from brownie.network.transaction import TransactionReceipt
    from web3.exceptions import TransactionNotFound

    from tests.contracts.brownie_utils import confirming_past_anvils_receipt_gap

    def receipt_of(txid: str):
        try:
            return brownie.web3.eth.get_transaction_receipt(txid)
        except TransactionNotFound:
            return None

    TransactionReceipt._await_confirmation = confirming_past_anvils_receipt_gap(
        TransactionReceipt._await_confirmation, receipt_of
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    global _chain
    if _chain is not None:
        _chain.stop()  # a clean stop: anvil removes what it made
        _chain = None


# --------------------------------------------------------------------------- actors
@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def operator(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def oracle(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[9]


# --------------------------------------------------------------------------- contracts
@pytest.fixture(scope="module")
def registry(MeterRegistry, admin, operator):
    return MeterRegistry.deploy(admin, operator, {"from": admin, "gas_price": 0})


@pytest.fixture(scope="module")
def energy(EnergyToken, registry, admin, oracle):
    return EnergyToken.deploy(admin, oracle, registry, {"from": admin, "gas_price": 0})


@pytest.fixture(scope="module")
def money(SettlementToken, admin, operator):
    return SettlementToken.deploy(admin, operator, {"from": admin, "gas_price": 0})


@pytest.fixture(autouse=True)
def isolate(fn_isolation):
    """Rewind the chain after every test so tests never depend on each other."""
