"""Greedy pieces shared by the GA and the MILP's warm start: repair a set to feasibility, hill-climb a set.

`repair` turns any chosen set into one that meets the hard constraints; `polish` improves a set by single moves
(drop, add, swap) until none helps. Both decode sets with the exact `allocate`, so values are true objectives.
"""

from __future__ import annotations

import numpy as np

from agents.selection.allocate import allocate, covers
from agents.selection.objective import LinearForm

POLISH_CANDIDATES = 40


def greedy(form: LinearForm) -> np.ndarray:
    """A good feasible set fast: cheapest-first repair of the empty set, then hill-climbed."""
    return polish(form, repair(form, np.zeros(len(form.st.amounts)), add_order(form))[0])


def per_wh_with_remainder(form: LinearForm) -> np.ndarray:
    """How attractive an offer is to add: its per-Wh coefficient plus its remainder cost spread over its energy."""
    a = np.maximum(form.st.amounts, 1.0)
    return form.per_wh + form.per_offer / a


def add_order(form: LinearForm) -> np.ndarray:
    return np.argsort(per_wh_with_remainder(form), kind="stable")


def largest_sellers(form: LinearForm) -> np.ndarray:
    """All offers of the k_min largest sellers: always covers the target (the definition of k_min)."""
    st = form.st
    totals = np.zeros(len(st.sellers))
    np.add.at(totals, st.seller_of, st.amounts)
    keep = np.argsort(-totals, kind="stable")[: st.k_min]
    return np.isin(st.seller_of, keep) & (st.amounts > 0)


def repair(form: LinearForm, bits: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, float]:
    """A feasible chosen set near `bits`, and the raw set's violation (share of target missing + extra sellers).

    `order` is `add_order(form)`: missing energy is added from the most attractive offers first.
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
        picked = largest_sellers(form)
    return picked, violation


def _value(form: LinearForm, picked: np.ndarray) -> float:
    return form.value(allocate(form, picked)) if covers(form, picked) else np.inf


class _SetValue:
    """`_value` of small chosen sets given as ascending index lists, in plain Python: `covers`, then `allocate`'s
    rule (1 Wh each, the rest to the lowest per-Wh coefficient first, ties to the earlier offer), then the linear
    form. A polish move costs a few microseconds this way instead of tens (numpy's per-call overhead dominates on
    sets of a few offers)."""

    def __init__(self, form: LinearForm) -> None:
        st = form.st
        self.target, self.cap = st.target, st.seller_cap
        self.amounts, self.seller_of = st.amounts.tolist(), st.seller_of.tolist()
        self.per_wh, self.per_offer = form.per_wh.tolist(), form.per_offer.tolist()
        self.per_seller, self.constant = form.per_seller, form.constant

    def __call__(self, idx: list[int]) -> float:
        count, a = len(idx), self.amounts
        if count == 0:
            return self.constant if self.target == 0 else np.inf
        if count > self.target or any(a[i] <= 0 for i in idx) or sum(a[i] for i in idx) < self.target:
            return np.inf
        sellers = len({self.seller_of[i] for i in idx})
        if sellers > self.cap:
            return np.inf
        left, value = self.target - count, 0.0
        for i in sorted(idx, key=self.per_wh.__getitem__):  # stable: ties keep index order
            take = min(left, a[i] - 1.0) if left > 0 else 0.0
            left -= take
            value += self.per_wh[i] * (1.0 + take) + self.per_offer[i]
        return value + self.per_seller * sellers + self.constant


def polish(form: LinearForm, picked: np.ndarray) -> np.ndarray:
    """Hill-climb the GA's best set by single moves (drop one, add one, swap one for one) until none improves.

    The GA finds the region; the last few bit flips that matter are rarely made by random mutation on many genes.
    Moves are valued by `_SetValue` (the same value as `_value`, without numpy's per-call overhead).
    """
    picked = picked.copy()
    value_of = _SetValue(form)
    best = _value(form, picked)
    usable = np.flatnonzero(form.st.amounts > 0)
    improved = True
    while improved:
        improved = False
        inside = [int(i) for i in np.flatnonzero(picked)]
        outside_all = usable[~picked[usable]]
        # Only the most attractive outsiders are tried (and those of sellers already chosen): keeps a pass
        # at |S| x POLISH_CANDIDATES moves on 500 offers instead of |S| x 500.
        rank = per_wh_with_remainder(form)[outside_all]
        near = outside_all[np.argsort(rank, kind="stable")[:POLISH_CANDIDATES]]
        same = outside_all[np.isin(form.st.seller_of[outside_all], form.st.seller_of[picked])]
        outside = [int(j) for j in np.union1d(near, same)]
        moves = [(i, None) for i in inside] + [(None, j) for j in outside] + [(i, j) for i in inside for j in outside]
        for drop, add in moves:
            idx = [i for i in inside if i != drop]
            if add is not None:
                idx = sorted([*idx, add])
            value = value_of(idx)
            if value < best - 1e-12:
                picked = np.zeros_like(picked)
                picked[idx] = True
                best, improved = value, True
                break
    return picked
