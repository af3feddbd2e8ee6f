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
POLISH_CANDIDATES = 40


def _flip(offspring: np.ndarray, ga: pygad.GA) -> np.ndarray:
    """Bit-flip mutation, each gene with the GA's mutation probability (numpy's global RNG, seeded by pygad)."""
    flips = np.random.random(offspring.shape) < ga.mutation_probability
    offspring[flips] = 1 - offspring[flips]
    return offspring


def _per_wh_with_remainder(form: LinearForm) -> np.ndarray:
    """How attractive an offer is to add: its per-Wh coefficient plus its remainder cost spread over its energy."""
    a = np.maximum(form.st.amounts, 1.0)
    return form.per_wh + form.per_offer / a


def _add_order(form: LinearForm) -> np.ndarray:
    return np.argsort(_per_wh_with_remainder(form), kind="stable")


def _largest_sellers(form: LinearForm) -> np.ndarray:
    """All offers of the k_min largest sellers: always covers the target (the definition of k_min)."""
    st = form.st
    totals = np.zeros(len(st.sellers))
    np.add.at(totals, st.seller_of, st.amounts)
    keep = np.argsort(-totals, kind="stable")[: st.k_min]
    return np.isin(st.seller_of, keep) & (st.amounts > 0)


def repair(form: LinearForm, bits: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, float]:
    """A feasible chosen set near `bits`, and the raw set's violation (share of target missing + extra sellers).

    `order` is `_add_order(form)`: missing energy is added from the most attractive offers first.
    """
    st = form.st
    T, m = st.target, len(st.sellers)
    picked = (bits > 0.5) & (st.amounts > 0)
    held = np.bincount(st.seller_of[picked], weights=st.amounts[picked], minlength=m)
    count = int(np.count_nonzero(held))
    violation = max(0.0, T - float(held.sum())) / T + max(0, count - st.seller_cap) / st.seller_cap
    if count > st.seller_cap:  # keep the sellers holding most of the chosen energy
        keep = np.zeros(m, dtype=bool)
        keep[np.argsort(-held, kind="stable")[: st.seller_cap]] = True
        picked &= keep[st.seller_of]
    covered = float(st.amounts[picked].sum())
    if covered < T:
        chosen_seller = np.zeros(m, dtype=bool)
        chosen_seller[st.seller_of[picked]] = True
        for j in order:
            if covered >= T:
                break
            if picked[j] or st.amounts[j] <= 0:
                continue
            if not chosen_seller[st.seller_of[j]]:
                if int(chosen_seller.sum()) >= st.seller_cap:
                    continue
                chosen_seller[st.seller_of[j]] = True
            picked[j] = True
            covered += st.amounts[j]
    if picked.sum() > T:  # each chosen offer needs >= 1 Wh: keep the T cheapest (each has >= 1 Wh, so they cover T)
        idx = np.flatnonzero(picked)
        picked[:] = False
        picked[idx[np.argsort(form.per_wh[idx], kind="stable")[:T]]] = True
    if not covers(form, picked):
        picked = _largest_sellers(form)
    return picked, violation


def _value(form: LinearForm, picked: np.ndarray) -> float:
    return form.value(allocate(form, picked)) if covers(form, picked) else np.inf


def polish(form: LinearForm, picked: np.ndarray) -> np.ndarray:
    """Hill-climb the GA's best set by single moves (drop one, add one, swap one for one) until none improves.

    The GA finds the region; the last few bit flips that matter are rarely made by random mutation on many genes.
    """
    picked = picked.copy()
    best = _value(form, picked)
    usable = np.flatnonzero(form.st.amounts > 0)
    improved = True
    while improved:
        improved = False
        inside = [int(i) for i in np.flatnonzero(picked)]
        outside_all = usable[~picked[usable]]
        # Only the most attractive outsiders are tried (and those of sellers already chosen): keeps a pass
        # at |S| x POLISH_CANDIDATES moves on 500 offers instead of |S| x 500.
        rank = _per_wh_with_remainder(form)[outside_all]
        near = outside_all[np.argsort(rank, kind="stable")[:POLISH_CANDIDATES]]
        same = outside_all[np.isin(form.st.seller_of[outside_all], form.st.seller_of[picked])]
        outside = [int(j) for j in np.union1d(near, same)]
        moves = [(i, None) for i in inside] + [(None, j) for j in outside] + [(i, j) for i in inside for j in outside]
        for drop, add in moves:
            trial = picked.copy()
            if drop is not None:
                trial[drop] = False
            if add is not None:
                trial[add] = True
            value = _value(form, trial)
            if value < best - 1e-12:
                picked, best, improved = trial, value, True
                break
    return picked


def _seeds(form: LinearForm, rng: np.random.Generator, size: int) -> np.ndarray:
    """Initial population: greedy sets (cheapest-first, largest sellers, best single offer) and sparse random sets."""
    st = form.st
    n = len(st.amounts)
    rows = [repair(form, np.zeros(n), _add_order(form))[0], _largest_sellers(form)]
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

    order = _add_order(form)

    def fitness(_ga: pygad.GA, solution: np.ndarray, _idx: int) -> float:
        picked, violation = repair(form, solution, order)
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
        mutation_type=_flip,
        mutation_probability=min(0.3, 2.0 / n),
        keep_elitism=2,
        stop_criteria=f"saturate_{SATURATE}",
        random_seed=seed,
        suppress_warnings=True,
    )
    ga.run()
    if best[1] is None:
        raise SelectionError("the genetic algorithm evaluated no selection")
    x = allocate(form, polish(form, best[1] > 0))
    return x, form.value(x)
