"""Exhaustive search over every subset of the offers (<= 12): the exact answer the tests hold the solvers to."""

from __future__ import annotations

import itertools

import numpy as np

from agents.selection.allocate import allocate, covers
from agents.selection.model import Instance, SelectionError
from agents.selection.objective import linear_form

MAX_OFFERS = 12


def solve_brute(instance: Instance) -> tuple[np.ndarray, float]:
    """Optimal amounts (one per offer) and their objective; ties keep the first subset in enumeration order."""
    n = len(instance.offers)
    if n > MAX_OFFERS:
        raise SelectionError(f"brute force takes at most {MAX_OFFERS} offers, the instance has {n}")
    form = linear_form(instance)
    best_x, best = np.zeros(n), float("inf")
    if form.st.target == 0:
        return best_x, 0.0
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            picked = np.zeros(n, dtype=bool)
            picked[list(subset)] = True
            if not covers(form, picked):
                continue
            x = allocate(form, picked)
            value = form.value(x)
            if value < best - 1e-12:
                best_x, best = x, value
    if best == float("inf"):
        raise SelectionError("no subset of the offers meets the target under the hard constraints")
    return best_x, best
