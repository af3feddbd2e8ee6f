"""The order book as the load generator sees it: one order client per process, from the deployment record."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from energy_chain import ChainClient, ChainConfig
from energy_chain.orders import OrderBookClient


@cache
def order_client() -> OrderBookClient:
    """Built lazily inside Locust (after gevent patched sockets), shared by every chain user of the process."""
    config = ChainConfig.from_env(
        rpc_url=os.environ["LOADTEST_RPC_URL"], deployments_dir=Path(os.environ["DEPLOYMENTS_DIR"])
    )
    return OrderBookClient(ChainClient(config))


def order_book_abi_and_address() -> tuple[list[dict[str, Any]], str]:
    contract = order_client().contract
    return contract.abi, contract.address
