"""`make gas`: measure the gas of every external state-changing function into reports/gas.json.

Each module in scripts/gas_cases/ exposes `measure(ctx: GasContext) -> list[dict]`; rows are
{"contract", "function", "case", "gas"}. The run uses its own anvil (automine, free port) and a fresh deployment.

GAS_ONLY=offer_settlement,mandate (module names, comma-separated) measures only those cases and updates their rows in
reports/gas.json, keeping every other row (`make gas` takes long on a shared machine).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3.contract.contract import ContractFunction

from energy_chain import ChainClient, ChainConfig, Deployment, Signer
from energy_chain.anvil import start_anvil
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import deploy_local, dev_signer
from scripts import gas_cases

REPORT = PROJECT_ROOT / "reports" / "gas.json"


@dataclass
class GasContext:
    """A fresh deployment on a private chain, with helpers to send a call and read its gas."""

    client: ChainClient
    deployment: Deployment
    rows: list[dict[str, Any]] = field(default_factory=list)

    def signer(self, index: int) -> Signer:
        """Dev account `index`: 0 admin, 1 operator, 2 oracle, 3+ users."""
        return dev_signer(index)

    def contract(self, name: str):
        return self.client.contract(name)

    def send(self, fn: ContractFunction, signer: Signer, gas: int = 15_000_000) -> dict[str, Any]:
        """Send with a generous explicit gas limit (no estimate) and return the receipt."""
        return self.client.transact(fn, signer, gas=gas)

    def measure(self, contract: str, function: str, case: str, fn: ContractFunction, signer: Signer) -> dict:
        """Send `fn` and record its gasUsed under (contract, function, case)."""
        receipt = self.send(fn, signer)
        row = {"contract": contract, "function": function, "case": case, "gas": int(receipt["gasUsed"])}
        self.rows.append(row)
        return receipt


def _only() -> set[str] | None:
    names = {n.strip() for n in os.environ.get("GAS_ONLY", "").split(",") if n.strip()}
    return names or None


def run(only: set[str] | None = None) -> list[dict[str, Any]]:
    chain = start_anvil(gas_limit=1_000_000_000)
    try:
        config = ChainConfig(rpc_url=chain.url, deployments_dir=Path(tempfile.mkdtemp(prefix="gas-")))
        client = ChainClient(config)
        deployment = deploy_local(client)
        rows: list[dict[str, Any]] = []
        for info in sorted(pkgutil.iter_modules(gas_cases.__path__), key=lambda m: m.name):
            if only is not None and info.name not in only:
                continue
            module = importlib.import_module(f"{gas_cases.__name__}.{info.name}")
            ctx = GasContext(client, deployment)
            module.measure(ctx)
            rows.extend(ctx.rows)
        return rows
    finally:
        chain.stop()


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`old` with each row measured again replaced in place (same contract, function and case), new ones appended."""
    key = lambda r: (r["contract"], r["function"], r["case"])  # noqa: E731
    fresh = {key(r): r for r in new}
    merged = [fresh.pop(key(r), r) for r in old]
    return merged + [r for r in new if key(r) in fresh]


def main() -> None:
    only = _only()
    rows = run(only)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    written = merge(json.loads(REPORT.read_text()), rows) if only and REPORT.exists() else rows
    REPORT.write_text(json.dumps(written, indent=1) + "\n")
    width = max(len(f"{r['contract']}.{r['function']}") for r in rows)
    for r in rows:
        print(f"{r['contract'] + '.' + r['function']:<{width}}  {r['gas']:>10,}  {r['case']}")
    print(f"{len(rows)} measurements written to {REPORT}")


if __name__ == "__main__":
    main()
