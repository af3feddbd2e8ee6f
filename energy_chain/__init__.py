"""The one place that talks to the chain: configuration, deployment record, signing, nonces, errors, anvil."""

from energy_chain.client import ChainClient, TxFailed
from energy_chain.config import ChainConfig
from energy_chain.deployment import Deployment
from energy_chain.signer import Signer

__all__ = ["ChainClient", "ChainConfig", "Deployment", "Signer", "TxFailed"]
