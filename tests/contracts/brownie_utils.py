"""Small helpers for comparing Brownie values in assertions."""

from __future__ import annotations

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
