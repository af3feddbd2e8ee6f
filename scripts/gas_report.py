"""`make gas`: measure the gas of every external state-changing function into reports/gas.json.

Each module in scripts/gas_cases/ exposes `measure(ctx: GasContext) -> list[dict]`; rows are
{"contract", "function", "case", "gas"}. The run uses its own anvil (automine, free port) and a fresh deployment.
"""

from __future__ import annotations

import importlib
import json
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


def run() -> list[dict[str, Any]]:
    chain = start_anvil(gas_limit=1_000_000_000)
    try:
        config = ChainConfig(rpc_url=chain.url, deployments_dir=Path(tempfile.mkdtemp(prefix="gas-")))
        client = ChainClient(config)
        deployment = deploy_local(client)
        rows: list[dict[str, Any]] = []
        for info in sorted(pkgutil.iter_modules(gas_cases.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{gas_cases.__name__}.{info.name}")
            ctx = GasContext(client, deployment)
            module.measure(ctx)
            rows.extend(ctx.rows)
        return rows
    finally:
        chain.stop()


def main() -> None:
    rows = run()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(rows, indent=1) + "\n")
    width = max(len(f"{r['contract']}.{r['function']}") for r in rows)
    for r in rows:
        print(f"{r['contract'] + '.' + r['function']:<{width}}  {r['gas']:>10,}  {r['case']}")
    print(f"{len(rows)} measurements written to {REPORT}")


if __name__ == "__main__":
    main()
