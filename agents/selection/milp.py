"""Exact selection as a mixed-integer linear programme (HiGHS through `highspy`).

Variables: u_i = x_i / T (share of the target from offer i, continuous: shares keep coefficients near 1), y_i binary
(offer chosen), z_s binary (seller chosen). Objective and constraints are those of docs/selection.md, with the
coefficients from `objective.linear_form`. HiGHS answers in floating point, so the answer is rounded to whole Wh and
re-checked against the hard constraints by `objective.evaluate_amounts` before anyone sees it.
"""

from __future__ import annotations

import os
import sys

import highspy
import numpy as np

from agents.selection.allocate import allocate
from agents.selection.heuristic import greedy
from agents.selection.model import Instance, SelectionError
from agents.selection.objective import evaluate_amounts, linear_form

# HiGHS stops at a 1e-4 relative gap by default; the tests compare with brute force at 1e-6.
MIP_REL_GAP = 1e-9
TIME_LIMIT_S = 30.0
# Shares u = x / T: HiGHS's default 1e-7 feasibility tolerance would be 1e-7 * T Wh; tighter keeps the rounding honest.
# Presolve off: on these small, already tight models it costs more than it saves (at 100 offers it halved HiGHS's
# p95, 37 -> 18 ms CPU; docs/selection.md).
HIGHS_OPTIONS: dict[str, object] = {
    "threads": 1,
    "primal_feasibility_tolerance": 1e-9,
    "mip_feasibility_tolerance": 1e-9,
    "presolve": "off",
}


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


_banner_shown = False


def _csc(row: np.ndarray, col: np.ndarray, val: np.ndarray, n_rows: int, n_cols: int):
    """Column-wise sparse matrix as HiGHS takes it (start, index, value), from triplets without importing scipy."""
    order = np.lexsort((row, col))
    start = np.searchsorted(col[order], np.arange(n_cols + 1)).astype(np.int32)
    return start, row[order].astype(np.int32), val[order].astype(float), n_rows


def _new_highs() -> highspy.Highs:
    """A silent Highs object. The process's first construction prints a licence banner on fd 1 whatever the options
    (ERGO-Code/HiGHS#1702, #2749), which would corrupt `python -m agents.select`'s JSON: that one goes to /dev/null."""
    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h


def _run_highs(c, rows, lo, hi, upper, integrality, start_values) -> tuple[np.ndarray | None, str]:
    """One HiGHS run through highspy (its options reach further than scipy's wrapper): values (None if none), status."""
    lp = highspy.HighsLp()
    start, index, value, n_rows = rows
    lp.num_col_, lp.num_row_ = len(c), n_rows
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, np.zeros(len(c)), upper
    lp.row_lower_, lp.row_upper_ = (
        np.where(np.isinf(lo), -highspy.kHighsInf, lo),
        np.where(np.isinf(hi), highspy.kHighsInf, hi),
    )
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(c), n_rows
    lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous for v in integrality]
    h = _new_highs()
    h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    h.setOptionValue("time_limit", TIME_LIMIT_S)
    for key, option in HIGHS_OPTIONS.items():
        h.setOptionValue(key, option)
    h.passModel(lp)
    warm = highspy.HighsSolution()
    warm.col_value, warm.value_valid = list(start_values), True
    h.setSolution(warm)
    h.run()
    status = h.getModelStatus()
    text = h.modelStatusToString(status)
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        return None, text
    if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None, text
    return np.array(h.getSolution().col_value), text


def solve_milp(instance: Instance) -> tuple[np.ndarray, float]:
    """Optimal integer amounts (one per offer) and the solver's own objective value (constant included)."""
    form = linear_form(instance)
    st = form.st
    n, m, T = len(instance.offers), len(st.sellers), st.target
    if T == 0 or n == 0:
        return np.zeros(n), 0.0
    a = st.amounts
    # Big-M = the offer's energy, but never more than the whole target: a tighter relaxation, fewer branches.
    big_m = np.minimum(a, T) / T
    i = np.arange(n)
    u, y, z = i, n + i, 2 * n + st.seller_of  # column of each offer's u, y and its seller's z
    # Rows: [0, n) u_i - M_i y_i <= 0 (only a chosen offer delivers), [n, 2n) u_i - y_i / T >= 0 (a chosen offer
    # gives >= 1 Wh), [2n, 3n) y_i - z_s(i) <= 0, 3n: sum u = 1, 3n + 1: sum z <= seller cap.
    row = np.concatenate([i, i, n + i, n + i, 2 * n + i, 2 * n + i, np.full(n, 3 * n), np.full(m, 3 * n + 1)])
    col = np.concatenate([u, y, u, y, y, z, u, 2 * n + np.arange(m)])
    val = np.concatenate(
        [np.ones(n), -big_m, np.ones(n), np.full(n, -1.0 / T), np.ones(n), -np.ones(n), np.ones(n + m)]
    )
    rows = _csc(row, col, val, 3 * n + 2, 2 * n + m)
    lo = np.concatenate([np.full(n, -np.inf), np.zeros(n), np.full(n, -np.inf), [1.0], [-np.inf]])
    hi = np.concatenate([np.zeros(n), np.full(n, np.inf), np.zeros(n), [1.0], [float(st.seller_cap)]])
    c = np.concatenate([form.per_wh * T, form.per_offer, np.full(m, form.per_seller)])
    upper = np.concatenate([a / T, (a > 0).astype(float), np.ones(m)])  # u_i <= a_i / T: availability
    integrality = np.concatenate([np.zeros(n), np.ones(n), np.ones(m)])
    # Warm start from the greedy set: HiGHS begins with a good incumbent and prunes more of the tree.
    greedy_set = greedy(form)
    seller_used = np.zeros(m)
    seller_used[st.seller_of[greedy_set]] = 1.0
    start_values = np.concatenate([allocate(form, greedy_set) / T, greedy_set.astype(float), seller_used])
    values, message = _run_highs(c, rows, lo, hi, upper, integrality, start_values)
    if values is None:
        raise SelectionError(f"HiGHS found no selection: {message}")
    own = float(c @ values) + form.constant
    picked = values[n : 2 * n] > 0.5
    x = _round_to_target(values[:n] * T, picked, a, form.per_wh, T)
    check = evaluate_amounts(instance, [(o.id, int(v)) for o, v in zip(instance.offers, x, strict=True) if v > 0])
    if not check.feasible:
        raise SelectionError("the MILP answer breaks a hard constraint after rounding: " + "; ".join(check.violations))
    return x, own
