"""Both venues share one Side convention, one value bound and one getter style; no contract file is oversized."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_chain.artifacts import load_artifact
from energy_chain.config import PROJECT_ROOT
from energy_chain.enums import Side

VENUES = ("IOrderBook", "IDoubleAuction")
MAX_CONTRACT_LINES = 450  # "about 400": heavy logic lives in contracts/libraries/


def _functions(name: str) -> dict[str, dict]:
    return {item["name"]: item for item in load_artifact(name)["abi"] if item.get("type") == "function"}


def _side_types(name: str) -> set[str]:
    types = set()
    for item in load_artifact(name)["abi"]:
        for arg in item.get("inputs", []) + item.get("outputs", []):
            for leaf in [arg, *arg.get("components", [])]:
                if leaf["name"] == "side":
                    types.add(leaf["internalType"])
    return types


def test_both_venues_use_one_side_enum() -> None:
    assert _side_types("IOrderBook") == _side_types("IDoubleAuction") == {"enum Side"}
    assert (Side.BUY, Side.SELL) == (Side.BID, Side.ASK) == (0, 1)


@pytest.mark.parametrize("venue", VENUES)
def test_same_bound_and_getters(venue: str) -> None:
    fns = _functions(venue)
    for getter in ("maxPrice", "maxAmount", "maxHintSteps", "energyToken", "settlementToken", "nextOrderId"):
        assert getter in fns, f"{venue} lacks {getter}()"
    assert not [n for n in fns if n.isupper()], "constants are exposed through camelCase getters"


def test_bound_is_one_constant() -> None:
    text = (PROJECT_ROOT / "interfaces" / "MarketTypes.sol").read_text()
    assert "uint256 constant MARKET_MAX_VALUE = type(uint40).max;" in text
    for src in ("contracts/OrderBook.sol", "contracts/libraries/ClearingMath.sol"):
        assert "MARKET_MAX_VALUE" in (PROJECT_ROOT / src).read_text()


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "contracts").glob("*.sol")), ids=lambda p: p.name)
def test_no_contract_exceeds_the_line_budget(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_CONTRACT_LINES
