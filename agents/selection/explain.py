"""Why each chosen offer was chosen, for the trade's record and the dashboard.

Per chosen offer: its score on every scored criterion (0 = the best offer in the instance, 1 = the worst), its
weighted contribution to each term (lower is better; they add up to the objective), and the `reasons`: the weighted
criteria on which it ranked in the best quarter, strongest first. Plain dicts, so they go into JSON as they are.
"""

from __future__ import annotations

from typing import Any

from agents.selection.model import Instance, Selection
from agents.selection.objective import SCORED_TERMS, structure

BEST_QUARTER = 0.25


def explain(instance: Instance, selection: Selection) -> dict[str, dict[str, Any]]:
    """`{offer_id: {"amount_wh", "seller", "scores", "contributions", "reasons", "sellers_chosen", "summary"}}`."""
    st = structure(instance)
    index = instance.index_of()
    w = instance.weights
    sellers = len({instance.offers[index[i]].seller for i, _ in selection.chosen})
    out: dict[str, dict[str, Any]] = {}
    for offer_id, amount in selection.chosen:
        i = index[offer_id]
        scores = {t: round(float(st.scores[t][i]), 4) for t in SCORED_TERMS}
        reasons = sorted(
            (t for t in SCORED_TERMS if w[t] > 0 and scores[t] <= BEST_QUARTER),
            key=lambda t: (-(w[t] * (1 - scores[t])), t),
        )
        if sellers == st.k_min:
            reasons.append("surplus")  # as few sellers as the demand allows
        summary = ", ".join(reasons) if reasons else "needed to cover the demand"
        out[offer_id] = {
            "amount_wh": amount,
            "seller": instance.offers[i].seller,
            "scores": scores,
            "contributions": selection.contributions.get(offer_id, {}),
            "reasons": reasons,
            "sellers_chosen": sellers,
            "summary": f"chosen for {summary}" if reasons else summary,
        }
    return out
