"""The deployment record `deployments/<chain-id>.json`: what every component reads to find the contracts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DeploymentMissing(FileNotFoundError):
    """No deployment record for this chain: run `make deploy`."""


@dataclass
class Deployment:
    """Addresses, ABIs and deploy blocks of the project's contracts on one chain."""

    chain_id: int
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    deploy_block: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def path_for(deployments_dir: Path, chain_id: int) -> Path:
        return Path(deployments_dir) / f"{chain_id}.json"

    @classmethod
    def load(cls, deployments_dir: Path, chain_id: int) -> Deployment:
        path = cls.path_for(deployments_dir, chain_id)
        if not path.exists():
            raise DeploymentMissing(f"no deployment record {path}: run `make deploy` for chain {chain_id}")
        data = json.loads(path.read_text())
        return cls(
            chain_id=int(data["chainId"]),
            contracts=data["contracts"],
            roles=data.get("roles", {}),
            deploy_block=int(data.get("deployBlock", 0)),
            extra=data.get("extra", {}),
        )

    def save(self, deployments_dir: Path) -> Path:
        """Write atomically, so a reader never sees half a record."""
        path = self.path_for(deployments_dir, self.chain_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "chainId": self.chain_id,
            "deployBlock": self.deploy_block,
            "roles": self.roles,
            "contracts": self.contracts,
            "extra": self.extra,
        }
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".deploy-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
        return path

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]["address"]
        except KeyError as exc:
            raise KeyError(f"{name} is not in the deployment record of chain {self.chain_id}") from exc

    def abi(self, name: str) -> list[dict[str, Any]]:
        return self.contracts[name]["abi"]

    def error_abis(self) -> list[dict[str, Any]]:
        return [item for c in self.contracts.values() for item in c["abi"] if item.get("type") == "error"]
