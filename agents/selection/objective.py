"""The single home of the selection objective (docs/selection.md): per-offer scores, the terms, the hard constraints.

`evaluate_amounts` computes every term straight from its definition; `linear_form` gives the same objective as
coefficients on amounts, chosen-offer and chosen-seller indicators, for the MILP and the fast decoders (GA, brute
force). A test checks both agree, so a change here changes every solver at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from agents.selection.model import EXTRA_SELLERS, TERMS, Instance

# Amount-weighted terms: the feature each is scored on and whether larger is better.
SCORED_TERMS: tuple[str, ...] = ("efficiency", "duration", "quality", "participation", "cost")


def _minmax(values: np.ndarray, usable: np.ndarray, larger_is_better: bool = False) -> np.ndarray:
    """0 for the best usable offer, 1 for the worst; all 0 when the usable offers are equal in this feature."""
    if not usable.any():
        return np.zeros_like(values)
    lo, hi = float(values[usable].min()), float(values[usable].max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros_like(values)
    scaled = (hi - values) / (hi - lo) if larger_is_better else (values - lo) / (hi - lo)
    return np.clip(scaled, 0.0, 1.0)


@dataclass(frozen=True)
class Structure:
    """What every term needs about an instance, computed once: target, scores, seller bookkeeping, normalisers."""

    target: int
    amounts: np.ndarray  # a_i (Wh)
    scores: dict[str, np.ndarray]  # sigma_term(i) in [0, 1]
    seller_of: np.ndarray  # seller index of each offer
    sellers: list[str]
    k_min: int  # fewest sellers covering the target
    seller_cap: int  # at most this many distinct sellers (hard)
    count_norm: int  # K: max of (k - k_min) under the cap
    remainder_norm: float  # R_max: max unsold remainder under the cap


def structure(instance: Instance) -> Structure:
    offers = instance.offers
    amounts = np.array([o.amount_wh for o in offers], dtype=float)
    usable = amounts > 0
    features = {
        "efficiency": (np.array([1.0 - o.efficiency for o in offers]), False),
        "duration": (np.array([o.duration_s for o in offers]), False),
        "quality": (np.array([o.quality for o in offers]), True),
        "participation": (np.log1p(np.array([o.participation for o in offers])), False),
        "cost": (np.array([o.price for o in offers]), False),
    }
    scores = {t: _minmax(v, usable, better) for t, (v, better) in features.items()}
    sellers = sorted({o.seller for o in offers})
    index = {s: j for j, s in enumerate(sellers)}
    seller_of = np.array([index[o.seller] for o in offers], dtype=int)
    totals = np.zeros(len(sellers))
    np.add.at(totals, seller_of, amounts)
    ranked = np.sort(totals[totals > 0])[::-1]
    target = instance.target_wh
    # First k whose k largest sellers hold the target (amounts are whole Wh, so the comparison is exact).
    k_min = 0 if target == 0 else int(np.searchsorted(np.cumsum(ranked), target, side="left") + 1)
    cap = k_min + EXTRA_SELLERS
    reachable = min(cap, len(ranked))
    return Structure(
        target=target,
        amounts=amounts,
        scores=scores,
        seller_of=seller_of,
        sellers=sellers,
        k_min=k_min,
        seller_cap=cap,
        count_norm=max(0, reachable - k_min),
        remainder_norm=max(0.0, float(ranked[:reachable].sum()) - target),
    )


@dataclass
class Evaluation:
    objective: float
    terms: dict[str, float]  # weighted contribution of each term
    raw: dict[str, float]  # each term before weighting, in [0, 1]
    contributions: dict[str, dict[str, float]]  # offer id -> term -> weighted contribution
    feasible: bool
    violations: list[str] = field(default_factory=list)


def evaluate_amounts(instance: Instance, chosen: Iterable[tuple[str, int]]) -> Evaluation:
    """Objective, weighted terms, per-offer contributions and hard-constraint check of one selection."""
    st = structure(instance)
    index = instance.index_of()
    x = np.zeros(len(instance.offers))
    for offer_id, amount in chosen:
        x[index[offer_id]] += amount
    w = instance.weights
    T = st.target
    picked = x > 0
    raw: dict[str, float] = dict.fromkeys(TERMS, 0.0)
    per_offer: dict[str, np.ndarray] = {t: np.zeros(len(x)) for t in TERMS}
    violations: list[str] = []

    overdraw = np.maximum(0.0, x - st.amounts)
    for i in np.flatnonzero(overdraw > 0):
        o = instance.offers[i]
        violations.append(f"offer {o.id} is given {int(x[i])} Wh but has only {o.amount_wh} Wh")
    if int(x.sum()) != T:
        violations.append(f"the selection buys {int(x.sum())} Wh, the target is {T} Wh (demand {instance.demand_wh})")
    k = len(set(st.seller_of[picked].tolist()))
    if k > st.seller_cap:
        violations.append(f"{k} sellers chosen, at most {st.seller_cap} (fewest possible {st.k_min} + {EXTRA_SELLERS})")

    if T > 0:
        per_offer["availability"] = overdraw / T
        for t in SCORED_TERMS:
            per_offer[t] = x * st.scores[t] / T
        remainder = np.where(picked, np.maximum(0.0, st.amounts - x), 0.0)
        rem_part = 0.5 * remainder / st.remainder_norm if st.remainder_norm > 0 else np.zeros(len(x))
        count_raw = 0.5 * max(0, k - st.k_min) / st.count_norm if st.count_norm > 0 else 0.0
        # The count half belongs to no single offer: shared equally by the chosen ones for the explanation.
        per_offer["surplus"] = rem_part + (picked * count_raw / max(1, int(picked.sum())))
        for t in TERMS:
            raw[t] = float(per_offer[t].sum())
        raw["surplus"] = float(rem_part.sum()) + count_raw
    terms = {t: w[t] * raw[t] for t in TERMS}
    contributions = {
        instance.offers[i].id: {t: float(w[t] * per_offer[t][i]) for t in TERMS} for i in np.flatnonzero(picked)
    }
    return Evaluation(
        objective=float(sum(terms.values())),
        terms=terms,
        raw=raw,
        contributions=contributions,
        feasible=not violations,
        violations=violations,
    )


@dataclass(frozen=True)
class LinearForm:
    """objective = per_wh @ x + per_offer @ y + per_seller * k + constant, for feasible x (y = x > 0, k sellers)."""

    st: Structure
    per_wh: np.ndarray
    per_offer: np.ndarray
    per_seller: float
    constant: float

    def value(self, x: np.ndarray) -> float:
        """The objective of feasible integer amounts `x` (one per offer), fast: for decoders, not for reporting."""
        picked = x > 0
        k = int(np.count_nonzero(np.bincount(self.st.seller_of[picked], minlength=len(self.st.sellers))))
        return float(self.per_wh @ x + self.per_offer @ picked + self.per_seller * k + self.constant)


def linear_form(instance: Instance) -> LinearForm:
    st = structure(instance)
    w = instance.weights
    n = len(instance.offers)
    T = st.target
    if T == 0:
        return LinearForm(st, np.zeros(n), np.zeros(n), 0.0, 0.0)
    per_wh = sum(w[t] * st.scores[t] for t in SCORED_TERMS) / T
    # R = sum_i y_i a_i - T (since sum x = T): the remainder half is linear in y.
    rem = 0.5 * w["surplus"] / st.remainder_norm if st.remainder_norm > 0 else 0.0
    cnt = 0.5 * w["surplus"] / st.count_norm if st.count_norm > 0 else 0.0
    per_offer = rem * st.amounts
    constant = -rem * T - cnt * st.k_min
    return LinearForm(st, np.asarray(per_wh, dtype=float), per_offer, cnt, constant)
