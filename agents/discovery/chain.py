"""A Verifier whose look-ups read the chain: MeterRegistry for a meter's owner, EnergyToken for a seller's energy,
TradingMandate (when deployed) for the agent allowed to sign a seller's direct offers."""

from __future__ import annotations

from typing import Any

from web3.exceptions import ContractLogicError

from agents.discovery.verify import Verifier
from energy_chain import ChainClient
from energy_chain.mandate import VENUE_DIRECT, MandateClient


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

    agent_of = None
    if "TradingMandate" in client.deployment.contracts:
        mandates = MandateClient(client)

        def agent_of(seller: str) -> str | None:
            terms = mandates.terms_of(seller)
            return terms.agent if terms is not None and terms.allows(VENUE_DIRECT) else None

    return Verifier(client.chain_id, contract, balance_of, owner_of, agent_of, **kwargs)
