"""Seller selection for direct trading: which offers to fill, for how many Wh (docs/selection.md).

`solve(instance, solver="milp" | "ga" | "brute", seed=0)` and `evaluate(instance, chosen)` return a `Selection`;
`objective.py` is the single home of the objective; `features.py` turns fill history into offer features.
"""

from agents.selection.api import SOLVERS, evaluate, solve
from agents.selection.model import (
    DEFAULT_WEIGHTS,
    EXTRA_SELLERS,
    TERMS,
    Candidate,
    Instance,
    InstanceError,
    Selection,
    SelectionError,
    parse_chosen,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "EXTRA_SELLERS",
    "SOLVERS",
    "TERMS",
    "Candidate",
    "Instance",
    "InstanceError",
    "Selection",
    "SelectionError",
    "evaluate",
    "parse_chosen",
    "solve",
]
