"""A Verifier whose look-ups read the chain: MeterRegistry for a meter's owner, EnergyToken for a seller's energy."""

from __future__ import annotations

from typing import Any

from web3.exceptions import ContractLogicError

from agents.discovery.verify import Verifier
from energy_chain import ChainClient


def chain_verifier(client: ChainClient, contract: str | None = None, **kwargs: Any) -> Verifier:
    """Verifier for this deployment; `contract` defaults to the deployment's OfferSettlement address."""
    token = client.contract("EnergyToken")
    registry = client.contract("MeterRegistry")
    if contract is None:
        contract = client.deployment.address("OfferSettlement")

    def balance_of(address: str) -> int:
        return int(token.functions.balanceOf(address).call())

    def owner_of(meter_id: str) -> str | None:
        try:
            raw = bytes.fromhex(meter_id.removeprefix("0x"))
        except ValueError:
            return None
        if len(raw) != 32:
            return None
        try:
            return str(registry.functions.activeOwnerOf(raw).call())
        except ContractLogicError:  # unknown or inactive meter
            return None

    return Verifier(client.chain_id, contract, balance_of, owner_of, **kwargs)
