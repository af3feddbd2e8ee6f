"""`solve` and `evaluate`: the one interface in front of the solvers (docs/selection.md)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from agents.selection.model import Instance, InstanceError, Selection, SelectionError
from agents.selection.objective import evaluate_amounts

SOLVERS = ("milp", "ga", "brute")


def _selection(instance: Instance, chosen: list[tuple[str, int]], solver: str, ms: float, own: float | None):
    ev = evaluate_amounts(instance, chosen)
    return Selection(
        chosen=chosen,
        objective=ev.objective,
        terms=ev.terms,
        solver=solver,
        time_ms=ms,
        feasible=ev.feasible,
        violations=ev.violations,
        contributions=ev.contributions,
        solver_objective=own,
    )


def solve(instance: Instance, solver: str = "milp", seed: int = 0) -> Selection:
    """The best selection by `solver` ("milp" exact, "ga" heuristic, "brute" exact for <= 12 offers).

    `chosen` lists (offer id, Wh) in the instance's offer order; an empty list when there is nothing to buy.
    """
    if solver not in SOLVERS:
        raise InstanceError(f"unknown solver {solver!r} (one of {', '.join(SOLVERS)})")
    # Solvers imported on use: pygad and highspy take a second to import, which `--evaluate` and bad input skip.
    started = time.perf_counter()
    if solver == "milp":
        from agents.selection.milp import solve_milp

        x, own = solve_milp(instance)
    elif solver == "ga":
        from agents.selection.ga import solve_ga

        x, own = solve_ga(instance, seed=seed)
    else:
        from agents.selection.brute import solve_brute

        x, own = solve_brute(instance)
    ms = (time.perf_counter() - started) * 1000.0
    chosen = [(o.id, int(v)) for o, v in zip(instance.offers, np.rint(x), strict=True) if v > 0]
    selection = _selection(instance, chosen, solver, ms, own)
    if not selection.feasible:  # never hand out a selection that breaks a hard constraint
        raise SelectionError(f"{solver} returned an infeasible selection: " + "; ".join(selection.violations))
    return selection


def evaluate(instance: Instance, chosen: Iterable[tuple[str, int]]) -> Selection:
    """Objective, terms and feasibility of a given selection (ids must be the instance's, amounts whole Wh >= 0)."""
    known = instance.index_of()
    listed: list[tuple[str, int]] = []
    for offer_id, amount in chosen:
        if offer_id not in known:
            raise InstanceError(f"offer {offer_id!r} is not in the instance")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InstanceError(f"amount for offer {offer_id!r} must be a whole number of Wh >= 0, got {amount!r}")
        if amount > 0:
            listed.append((offer_id, amount))
    return _selection(instance, listed, "evaluate", 0.0, None)
