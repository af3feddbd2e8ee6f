"""Guards that keep the services chain-agnostic: no dev-chain-only RPC methods, EIP-1559 fields or fixed endpoints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from energy_chain.config import PROJECT_ROOT

# Code that runs against whatever chain RPC_URL names, load tests included (gas tooling runs its own anvil).
SERVICE_DIRS = ("energy_chain", "meter_oracle", "webapp", "scripts", "poa", "tests/load")
DEV_ONLY = ("scripts/gas_report.py", "scripts/gas_cases/", "energy_chain/anvil.py")
DEV_RPC = re.compile(r"""["'](anvil_|evm_|hardhat_|ganache_)\w+["']""")
FEE_MARKET = re.compile(r"""["'](maxFeePerGas|maxPriorityFeePerGas)["']""")
FIXED_ENDPOINT = re.compile(r"""["']https?://(127\.0\.0\.1|localhost):8545["']""")


def service_files() -> list[Path]:
    files = [p for d in SERVICE_DIRS for p in (PROJECT_ROOT / d).rglob("*.py") if "node_modules" not in p.parts]
    return [p for p in files if not any(p.relative_to(PROJECT_ROOT).as_posix().startswith(x) for x in DEV_ONLY)]


def offenders(pattern: re.Pattern[str], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in service_files():
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line) and rel not in allowed:
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_the_guard_sees_the_services():
    names = {p.relative_to(PROJECT_ROOT).as_posix() for p in service_files()}
    assert {"energy_chain/client.py", "scripts/deploy.py", "poa/bench.py"} <= names
    assert "scripts/gas_report.py" not in names


@pytest.mark.parametrize("probe", ['make_request("evm_mine", [])', "rpc('anvil_setBalance')"])
def test_the_guard_recognises_dev_methods(probe: str):
    assert DEV_RPC.search(probe)


def test_services_use_no_dev_chain_rpc_methods():
    assert offenders(DEV_RPC) == []


def test_services_send_no_eip1559_fee_fields():
    """Clique (berlin) rejects type-2 transactions: every transaction is legacy with gasPrice."""
    assert offenders(FEE_MARKET) == []


def test_the_rpc_endpoint_is_configured_in_one_place():
    assert offenders(FIXED_ENDPOINT, allowed=("energy_chain/config.py",)) == []
