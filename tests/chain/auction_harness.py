"""A private anvil with the full deployment and funded traders, for the double-auction chain tests.

Orders go out as pre-signed legacy transactions in one JSON-RPC batch (explicit nonce, gas, chainId), so
hundreds of random books fit in a short test run. Time is moved with evm_setNextBlockTimestamp.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3.logs import DISCARD

from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.anvil import AnvilProcess, start_anvil
from energy_chain.approvals import APPROVE_GAS, approve_function
from energy_chain.auction import GAS_CLEAR_BASE, GAS_CLEAR_STEP, GAS_SUBMIT, AuctionClient
from energy_chain.codec import calldata
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.meters import meter_id
from energy_chain.txbatch import send_calls

FUNDS = 10**15  # Wh of energy and units of money per trader: far above any test book
TRADERS = range(3, 13)  # dev accounts 3..12


@dataclass
class AuctionChain:
    """Chain, clients and funded traders; `interval` is the auction window set for the tests."""

    anvil: AnvilProcess
    client: ChainClient
    auction: AuctionClient
    traders: list[Signer]
    interval: int
    operator: Signer = field(default_factory=lambda: dev_signer(1))
    keeper: Signer = field(default_factory=lambda: dev_signer(13))

    @property
    def contract(self) -> Any:
        return self.auction.contract

    def rpc(self, method: str, *params: Any) -> Any:
        return self.client.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]

    def latest_timestamp(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def set_time(self, timestamp: int) -> None:
        """Mine one empty block at `timestamp` (later blocks follow it)."""
        self.rpc("evm_setNextBlockTimestamp", timestamp)
        self.rpc("evm_mine")

    def start_new_round(self) -> int:
        """Move to the start of the next window; returns its round id."""
        now = self.latest_timestamp()
        start = now - now % self.interval + self.interval
        self.set_time(start)
        return start

    def end_round(self, round_id: int, reveal_seconds: int = 0) -> None:
        self.set_time(round_id + self.interval + reveal_seconds)

    def send_batch(self, calls: list[tuple[Any, Signer, int]]) -> list[dict[str, Any]]:
        """Pre-signed, in order; receipts (status and gasUsed as ints) in call order, failures included."""
        return send_calls(self.client, calls, check=False)

    def send_one(self, fn: Any, signer: Signer, gas: int) -> dict[str, Any]:
        """One transaction, its formatted receipt (events decodable); raises TxFailed on revert."""
        return self.client.transact(fn, signer, gas=gas)

    def call_many(self, fns: list[Any], output_type: str) -> list[Any]:
        """eth_call every function in one JSON-RPC batch; decode each result as `output_type`."""
        requests = [("eth_call", [{"to": fn.address, "data": "0x" + calldata(fn).hex()}, "latest"]) for fn in fns]
        responses = self.client.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        return [self.client.w3.codec.decode([output_type], bytes.fromhex(r["result"][2:]))[0] for r in responses]

    def submit_calls(
        self, round_id: int, orders: list[tuple[int, int, int, int, int]]
    ) -> list[tuple[Any, Signer, int]]:
        """(trader index, side, price, amount, hint) → calls."""
        fns = self.contract.functions
        return [
            (fns.submitOrder(round_id, side, price, amount, hint), self.traders[t], GAS_SUBMIT)
            for t, side, price, amount, hint in orders
        ]

    def close_and_clear(self, round_id: int, max_steps: int) -> int:
        """Close, then clear in transactions of `max_steps`; returns the number of clear transactions."""
        fns = self.contract.functions
        self.send_one(fns.closeRound(round_id), self.keeper, 100_000)
        for n in range(1, 100_000):
            gas = GAS_CLEAR_BASE + GAS_CLEAR_STEP * max_steps
            receipt = self.send_one(fns.clearRound(round_id, max_steps), self.keeper, gas)
            if self.contract.events.RoundCleared().process_receipt(receipt, errors=DISCARD):
                return n
        raise AssertionError("clearing did not finish")

    def stop(self) -> None:
        self.anvil.stop()


def start_auction_chain(interval: int = 3600, traders: int = len(TRADERS), min_amount: int = 1) -> AuctionChain:
    """Anvil on a free port, everything deployed, traders funded with both tokens and approved; the auction's
    minimum order size set to `min_amount` Wh (the tests' books are Wh-sized)."""
    anvil = start_anvil(gas_limit=300_000_000, accounts=20)
    try:
        config = ChainConfig(rpc_url=anvil.url, deployments_dir=Path(tempfile.mkdtemp(prefix="auction-")))
        client = ChainClient(config)
        deploy_local(client)
        auction = AuctionClient(client)
        admin, operator, oracle = dev_signer(0), dev_signer(1), dev_signer(2)
        signers = [dev_signer(i) for i in list(TRADERS)[:traders]]
        chain = AuctionChain(anvil, client, auction, signers, interval, operator)
        registry, energy, money = (client.contract(n) for n in ("MeterRegistry", "EnergyToken", "SettlementToken"))
        ts = chain.latest_timestamp() - 10
        setup: list[tuple[Any, Signer, int]] = [
            (auction.contract.functions.setSchedule(interval, 600, False), admin, 100_000),
            (auction.contract.functions.setMinAmount(min_amount), admin, 100_000),
        ]
        for i, s in enumerate(signers):
            mid = meter_id(f"AUCTION-TEST-{i}")
            setup += [
                (registry.functions.registerMeter(mid, s.address), operator, 200_000),
                (energy.functions.recordReading((mid, ts, FUNDS, 0)), oracle, 300_000),
                (money.functions.topUp(s.address, FUNDS, b"\x00" * 31 + bytes([i])), operator, 200_000),
                (approve_function(client, "EnergyToken", auction.contract.address), s, APPROVE_GAS),
                (approve_function(client, "SettlementToken", auction.contract.address), s, APPROVE_GAS),
            ]
        receipts = chain.send_batch(setup)
        assert all(r["status"] == 1 for r in receipts), "auction test set-up failed"
        return chain
    except Exception:
        anvil.stop()
        raise
