"""Selection by a genetic algorithm (pygad), as the requirements name: one bit per offer, repaired, decoded exactly.

A chromosome says which offers are chosen. `repair` makes any bit string feasible (usable offers only, the seller
cap, enough energy for the target); `allocate` then gives the exact amounts for that set. pygad maximises, so the
fitness is -(objective + penalty), the penalty charging the raw chromosome's constraint violation (weighted like the
availability term) so the search drifts towards sets that need no repair. Seeded: same instance and seed, same answer.
"""

from __future__ import annotations

import numpy as np
import pygad

from agents.selection.allocate import allocate, covers
from agents.selection.model import Instance, SelectionError
from agents.selection.objective import LinearForm, linear_form

GENERATIONS = 120
SATURATE = 25  # stop when the best fitness has not changed for this many generations


def _per_wh_with_remainder(form: LinearForm) -> np.ndarray:
    """How attractive an offer is to add: its per-Wh coefficient plus its remainder cost spread over its energy."""
    a = np.maximum(form.st.amounts, 1.0)
    return form.per_wh + form.per_offer / a


def _largest_sellers(form: LinearForm) -> np.ndarray:
    """All offers of the k_min largest sellers: always covers the target (the definition of k_min)."""
    st = form.st
    totals = np.zeros(len(st.sellers))
    np.add.at(totals, st.seller_of, st.amounts)
    keep = np.argsort(-totals, kind="stable")[: st.k_min]
    return np.isin(st.seller_of, keep) & (st.amounts > 0)


def repair(form: LinearForm, bits: np.ndarray) -> tuple[np.ndarray, float]:
    """A feasible chosen set near `bits`, and the raw set's violation (share of target missing + extra sellers)."""
    st = form.st
    T = st.target
    picked = (bits > 0.5) & (st.amounts > 0)
    sellers = np.unique(st.seller_of[picked])
    violation = max(0.0, T - float(st.amounts[picked].sum())) / T + max(0, len(sellers) - st.seller_cap) / st.seller_cap
    if len(sellers) > st.seller_cap:  # keep the sellers holding most of the chosen energy
        held = np.array([st.amounts[picked & (st.seller_of == s)].sum() for s in sellers])
        keep = sellers[np.argsort(-held, kind="stable")[: st.seller_cap]]
        picked &= np.isin(st.seller_of, keep)
    rank = _per_wh_with_remainder(form)
    while float(st.amounts[picked].sum()) < T:
        open_ = ~picked & (st.amounts > 0)
        if len(np.unique(st.seller_of[picked])) >= st.seller_cap:
            open_ &= np.isin(st.seller_of, st.seller_of[picked])
        if not open_.any():
            picked = _largest_sellers(form)
            break
        candidates = np.flatnonzero(open_)
        picked[candidates[np.argmin(rank[candidates])]] = True
    if picked.sum() > T:  # each chosen offer needs >= 1 Wh: keep the T cheapest (each has >= 1 Wh, so they cover T)
        idx = np.flatnonzero(picked)
        picked[:] = False
        picked[idx[np.argsort(form.per_wh[idx], kind="stable")[:T]]] = True
    if not covers(form, picked):
        picked = _largest_sellers(form)
    return picked, violation


def _seeds(form: LinearForm, rng: np.random.Generator, size: int) -> np.ndarray:
    """Initial population: greedy sets (cheapest-first, largest sellers, best single offer) and sparse random sets."""
    st = form.st
    n = len(st.amounts)
    rows = [repair(form, np.zeros(n))[0], _largest_sellers(form)]
    single = np.flatnonzero(st.amounts >= st.target)
    if len(single):
        best = single[np.argmin(_per_wh_with_remainder(form)[single])]
        rows.append(np.eye(n, dtype=bool)[best])
    p = min(0.5, 2.0 * max(1, st.k_min) / n)
    while len(rows) < size:
        rows.append(rng.random(n) < p)
    return np.array(rows[:size], dtype=int)


def solve_ga(instance: Instance, seed: int = 0) -> tuple[np.ndarray, float]:
    """The best amounts found (one per offer) and their objective."""
    form = linear_form(instance)
    st = form.st
    n = len(instance.offers)
    if st.target == 0 or n == 0:
        return np.zeros(n), 0.0
    penalty_weight = instance.weights["availability"]
    cache: dict[bytes, tuple[float, np.ndarray]] = {}
    best: list = [np.inf, None]

    def fitness(_ga: pygad.GA, solution: np.ndarray, _idx: int) -> float:
        picked, violation = repair(form, solution)
        key = np.packbits(picked).tobytes()
        if key not in cache:
            x = allocate(form, picked)
            cache[key] = (form.value(x), x)
        value, x = cache[key]
        if value < best[0]:
            best[0], best[1] = value, x
        return -(value + penalty_weight * violation)

    pop = min(60, max(12, 2 * n))
    rng = np.random.default_rng(seed)
    ga = pygad.GA(
        num_generations=GENERATIONS,
        num_parents_mating=max(2, pop // 2),
        fitness_func=fitness,
        initial_population=_seeds(form, rng, pop),
        gene_type=int,
        gene_space=[0, 1],
        parent_selection_type="tournament",
        K_tournament=3,
        crossover_type="uniform",
        mutation_type="random",
        mutation_by_replacement=True,
        mutation_probability=min(0.3, 2.0 / n),
        keep_elitism=2,
        stop_criteria=f"saturate_{SATURATE}",
        random_seed=seed,
        suppress_warnings=True,
    )
    ga.run()
    if best[1] is None:
        raise SelectionError("the genetic algorithm evaluated no selection")
    return best[1], float(best[0])
