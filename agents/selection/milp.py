"""Exact selection as a mixed-integer linear programme (HiGHS through `scipy.optimize.milp`).

Variables: u_i = x_i / T (share of the target from offer i, continuous: shares keep coefficients near 1), y_i binary
(offer chosen), z_s binary (seller chosen). Objective and constraints are those of docs/selection.md, with the
coefficients from `objective.linear_form`. HiGHS answers in floating point, so the answer is rounded to whole Wh and
re-checked against the hard constraints by `objective.evaluate_amounts` before anyone sees it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, hstack, vstack

from agents.selection.model import Instance, SelectionError
from agents.selection.objective import evaluate_amounts, linear_form

# HiGHS stops at a 1e-4 relative gap by default; the tests compare with brute force at 1e-6.
MIP_REL_GAP = 1e-9
TIME_LIMIT_S = 30.0


def _round_to_target(x: np.ndarray, picked: np.ndarray, amounts: np.ndarray, per_wh: np.ndarray, target: int):
    """Whole Wh on the chosen offers (each in [1, a_i]); rounding drift moves to the lowest-coefficient offers."""
    x = np.where(picked, np.clip(np.rint(x), 1.0, amounts), 0.0)
    drift = int(target - x.sum())
    order = np.flatnonzero(picked)[np.argsort(per_wh[picked], kind="stable")]
    for i in order if drift > 0 else order[::-1]:
        if drift == 0:
            break
        room = (amounts[i] - x[i]) if drift > 0 else -(x[i] - 1.0)
        step = min(drift, room) if drift > 0 else max(drift, room)
        x[i] += step
        drift -= int(step)
    return x


def solve_milp(instance: Instance) -> tuple[np.ndarray, float]:
    """Optimal integer amounts (one per offer) and the solver's own objective value (constant included)."""
    form = linear_form(instance)
    st = form.st
    n, m, T = len(instance.offers), len(st.sellers), st.target
    if T == 0 or n == 0:
        return np.zeros(n), 0.0
    a = st.amounts
    eye = coo_array((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, n))
    diag = lambda v: coo_array((v, (np.arange(n), np.arange(n))), shape=(n, n))  # noqa: E731
    seller = coo_array((np.ones(n), (np.arange(n), st.seller_of)), shape=(n, m))
    zeros_nm, zeros_nn = coo_array((n, m)), coo_array((n, n))
    rows = vstack(
        [
            hstack([eye, diag(-a / T), zeros_nm]),  # u_i <= (a_i/T) y_i: a chosen offer has the energy
            hstack([eye, diag(-np.ones(n) / T), zeros_nm]),  # u_i >= y_i / T: a chosen offer gives >= 1 Wh
            hstack([zeros_nn, eye, -seller]),  # y_i <= z_s(i)
            hstack([coo_array(np.ones((1, n))), coo_array((1, n)), coo_array((1, m))]),  # sum u = 1
            hstack([coo_array((1, n)), coo_array((1, n)), coo_array(np.ones((1, m)))]),  # sum z <= cap
        ]
    ).tocsr()
    lo = np.concatenate([np.full(n, -np.inf), np.zeros(n), np.full(n, -np.inf), [1.0], [-np.inf]])
    hi = np.concatenate([np.zeros(n), np.full(n, np.inf), np.zeros(n), [1.0], [float(st.seller_cap)]])
    c = np.concatenate([form.per_wh * T, form.per_offer, np.full(m, form.per_seller)])
    upper = np.concatenate([a / T, (a > 0).astype(float), np.ones(m)])
    integrality = np.concatenate([np.zeros(n), np.ones(n), np.ones(m)])
    res = milp(
        c,
        constraints=LinearConstraint(rows, lo, hi),
        bounds=Bounds(np.zeros(2 * n + m), upper),
        integrality=integrality,
        options={"mip_rel_gap": MIP_REL_GAP, "time_limit": TIME_LIMIT_S, "presolve": True},
    )
    if res.x is None or res.status not in (0, 1):
        raise SelectionError(f"HiGHS found no selection: {res.message}")
    picked = res.x[n : 2 * n] > 0.5
    x = _round_to_target(res.x[:n] * T, picked, a, form.per_wh, T)
    check = evaluate_amounts(instance, [(o.id, int(v)) for o, v in zip(instance.offers, x, strict=True) if v > 0])
    if not check.feasible:
        raise SelectionError("the MILP answer breaks a hard constraint after rounding: " + "; ".join(check.violations))
    return x, float(res.fun) + form.constant
