"""Selection by a genetic algorithm (pygad), as the requirements name: one bit per offer, repaired, decoded exactly.

A chromosome says which offers are chosen. `repair` makes any bit string feasible (usable offers only, the seller
cap, enough energy for the target); `allocate` then gives the exact amounts for that set. pygad maximises, so the
fitness is -(objective + penalty), the penalty charging the raw chromosome's constraint violation (weighted like the
availability term) so the search drifts towards sets that need no repair. Seeded: same instance and seed, same answer.
"""

from __future__ import annotations

import numpy as np
import pygad

from agents.selection.allocate import allocate
from agents.selection.heuristic import add_order, largest_sellers, per_wh_with_remainder, polish, repair
from agents.selection.model import Instance, SelectionError
from agents.selection.objective import LinearForm, linear_form

GENERATIONS = 120
SATURATE = 25  # stop when the best fitness has not changed for this many generations


def _flip(offspring: np.ndarray, ga: pygad.GA) -> np.ndarray:
    """Bit-flip mutation, each gene with the GA's mutation probability.

    Draws from the GA's own seeded generator: this pygad keeps `numpy_random_generator` per GA and no longer seeds
    numpy's global state, so `np.random` here would make runs unrepeatable.
    """
    flips = ga.numpy_random_generator.random_sample(offspring.shape) < ga.mutation_probability
    offspring[flips] = 1 - offspring[flips]
    return offspring


def _seeds(form: LinearForm, rng: np.random.Generator, size: int) -> np.ndarray:
    """Initial population: greedy sets (cheapest-first, largest sellers, best single offer) and sparse random sets."""
    st = form.st
    n = len(st.amounts)
    rows = [repair(form, np.zeros(n), add_order(form))[0], largest_sellers(form)]
    single = np.flatnonzero(st.amounts >= st.target)
    if len(single):
        best = single[np.argmin(per_wh_with_remainder(form)[single])]
        rows.append(np.eye(n, dtype=bool)[best])
    p = min(0.5, 2.0 * max(1, st.k_min) / n)
    while len(rows) < size:
        rows.append(rng.random(n) < p)
    return np.array(rows[:size], dtype=int)


def solve_ga(instance: Instance, seed: int = 0, generations: int = GENERATIONS, polished: bool = True):
    """The best amounts found (one per offer) and their objective; `polished=False` skips the final hill-climb."""
    form = linear_form(instance)
    st = form.st
    n = len(instance.offers)
    if st.target == 0 or n == 0:
        return np.zeros(n), 0.0
    penalty_weight = instance.weights["availability"]
    cache: dict[bytes, tuple[float, np.ndarray]] = {}
    best: list = [np.inf, None]

    order = add_order(form)

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
        num_generations=generations,
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
    x = allocate(form, polish(form, best[1] > 0)) if polished else best[1]
    return x, form.value(x)
