"""Compiled contracts (Brownie's build/ folder): ABIs and bytecode."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from energy_chain.config import PROJECT_ROOT

BUILD_DIR = PROJECT_ROOT / "build"


class ArtifactMissing(FileNotFoundError):
    """The contract was not compiled: run `make compile`."""


@cache
def load_artifact(name: str, build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    """Return Brownie's build artifact of contract or interface `name` (abi, bytecode, ...)."""
    for sub in ("contracts", "interfaces"):
        path = build_dir / sub / f"{name}.json"
        if path.exists():
            return json.loads(path.read_text())
    raise ArtifactMissing(f"no build artifact for {name} under {build_dir}: run `make compile`")


def all_error_abis(build_dir: Path = BUILD_DIR) -> list[dict[str, Any]]:
    """Every custom error declared in any compiled contract or interface (OpenZeppelin's included)."""
    errors: list[dict[str, Any]] = []
    for sub in ("contracts", "interfaces"):
        folder = build_dir / sub
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            abi = json.loads(path.read_text()).get("abi", [])
            errors.extend(item for item in abi if item.get("type") == "error")
    return errors
