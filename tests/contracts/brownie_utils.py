"""Small helpers for comparing Brownie values in assertions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def plain(value: Any) -> Any:
    """Brownie's Wei/HexString/EthAddress as plain int/str (Brownie's own __eq__ refuses some plain comparisons)."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def event_values(tx: Any, name: str, index: int = 0) -> list[Any]:
    """The values of the `index`-th event `name` in a transaction, as plain Python values."""
    return plain(list(tx.events[name][index].values()))


def confirming_past_anvils_receipt_gap(
    await_confirmation: Callable[..., None],
    receipt_of: Callable[[str], Any],
    rechecks: int = 20,
    pause_s: float = 0.05,
) -> Callable[..., None]:
    """Brownie's `TransactionReceipt._await_confirmation`, made to tell a mined transaction from a dropped one.

    Brownie reads the sender's nonce, then the receipt, and calls a transaction whose nonce is counted but whose
    receipt is missing "dropped" (the sender then raises "Tx dropped without known replacement"). anvil releases a
    block's state before it stores the block's receipts, so under load that read can fall in between for a transaction
    that is mined. Before a drop is believed, the receipt is asked for again for up to `rechecks` * `pause_s`;
    if it appears, Brownie confirms the transaction as usual. A transaction that really was dropped stays dropped.
    """
    import time

    def await_confirmation_past_gap(self: Any, block_number: Any = None, required_confs: int = 1) -> None:
        await_confirmation(self, block_number, required_confs)
        for _ in range(rechecks):
            if self.status != -2:
                return
            if receipt_of(self.txid) is not None:
                self.status = type(self.status)(-1)  # pending again (brownie's Status enum)
                await_confirmation(self, None, required_confs)
                return
            time.sleep(pause_s)

    return await_confirmation_past_gap


def run_state_machine(machine_cls: type, max_examples: int, steps: int) -> None:
    """Run a hypothesis RuleBasedStateMachine against the chain, rewinding the chain after every run.

    Brownie's own `state_machine` fixture cannot be used: the compiled (mypyc) Brownie 1.22.2 refuses the subclass it
    builds. The machine's __init__ must call `super().__init__()`; this wrapper snapshots the chain before each run and
    reverts it in teardown, so runs never see each other's state.
    """
    import brownie
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    class Isolated(machine_cls):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            brownie.chain.snapshot()
            super().__init__()

        def teardown(self) -> None:
            super().teardown()
            brownie.chain.revert()

    Isolated.__name__ = machine_cls.__name__
    run_state_machine_as_test(
        Isolated,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


class FastCalls:
    """Contract calls as plain JSON-RPC on Brownie's chain, for stateful tests with thousands of steps.

    Brownie's own transaction path traces every transaction and is ~10x slower; here a write is one
    eth_sendTransaction from an unlocked dev account (anvil automines) and many reads go in one batch.
    """

    def __init__(self) -> None:
        import brownie

        from energy_chain.artifacts import all_error_abis
        from energy_chain.errors import ErrorDecoder

        self.w3 = brownie.web3
        self.decoder = ErrorDecoder(all_error_abis())

    def send(self, contract: Any, fn: str, args: list[Any], sender: Any, gas: int = 2_000_000) -> dict[str, Any]:
        """Send and return the receipt; raise AssertionError naming the custom error if it reverts."""
        tx = {
            "from": str(sender),
            "to": contract.address,
            "data": getattr(contract, fn).encode_input(*args),
            "gas": gas,
            "gasPrice": 0,
        }
        error = self.revert_name(tx)
        if error is not None:
            raise AssertionError(f"{fn} reverted with {error}")
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_transaction(tx), poll_latency=0.01)
        assert receipt["status"] == 1, f"{fn} failed on chain"
        return dict(receipt)

    def revert_name(self, tx: dict[str, Any]) -> str | None:
        """Simulate `tx`; the custom error's name if it would revert, else None."""
        response = self.w3.provider.make_request(
            "eth_call", [{k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items()}, "latest"]
        )
        if "error" not in response:
            return None
        data = response["error"].get("data")
        decoded = self.decoder.decode(data) if isinstance(data, str) else None
        return decoded.name if decoded else response["error"].get("message", "revert")

    def expect_revert(self, contract: Any, fn: str, args: list[Any], sender: Any, error: str) -> None:
        tx = {
            "from": str(sender),
            "to": contract.address,
            "data": getattr(contract, fn).encode_input(*args),
            "gas": 2_000_000,
            "gasPrice": 0,
        }
        assert self.revert_name(tx) == error

    def read_uints(self, calls: list[tuple[Any, str, list[Any]]]) -> list[int]:
        """Many uint-returning view calls in one JSON-RPC batch."""
        batch = [
            ("eth_call", [{"to": c.address, "data": getattr(c, fn).encode_input(*args)}, "latest"])
            for c, fn, args in calls
        ]
        return [int(r["result"], 16) for r in self.w3.provider.make_batch_request(batch)]
