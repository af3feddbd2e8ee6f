"""Amounts for a fixed set of chosen offers: exact, because with the set fixed the objective is linear in x.

Every chosen offer gets its minimum 1 Wh, then the rest of the target goes to the chosen offers with the lowest
per-Wh coefficient first (a single equality with bounds: the greedy order is optimal and integral). Brute force and
the GA decode their sets with it; the MILP does not need it.
"""

from __future__ import annotations

import numpy as np

from agents.selection.objective import LinearForm


def covers(form: LinearForm, picked: np.ndarray) -> bool:
    """Can this set meet the target under the hard constraints (enough energy, >= 1 Wh each, seller cap)?"""
    st = form.st
    count = int(picked.sum())
    if count == 0:
        return st.target == 0
    if count > st.target or (st.amounts[picked] <= 0).any():
        return False
    if np.count_nonzero(np.bincount(st.seller_of[picked], minlength=len(st.sellers))) > st.seller_cap:
        return False
    return float(st.amounts[picked].sum()) >= st.target


def allocate(form: LinearForm, picked: np.ndarray) -> np.ndarray:
    """Optimal integer amounts for the chosen set `picked` (bool per offer); the set must satisfy `covers`."""
    st = form.st
    x = np.zeros(len(picked))
    idx = np.flatnonzero(picked)
    x[idx] = 1.0
    left = st.target - len(idx)
    # Stable sort: ties go to the earlier offer, so every solver decodes a set the same way.
    for i in idx[np.argsort(form.per_wh[idx], kind="stable")]:
        if left <= 0:
            break
        take = min(left, st.amounts[i] - 1.0)
        x[i] += take
        left -= take
    return x
