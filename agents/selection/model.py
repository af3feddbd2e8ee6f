"""The selection problem's data: `Candidate` offers, the `Instance` (demand, weights, offers) and a `Selection`.

`Instance.from_json_dict` / `to_json_dict` are exactly the instance file format of docs/selection.md; parsing checks
every field and raises `InstanceError` with a sentence naming the field, so the CLI can print it and exit 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Term keys, in report order. `availability` is the hard constraint as a penalty term (0 for every feasible selection).
TERMS: tuple[str, ...] = ("availability", "surplus", "efficiency", "duration", "quality", "participation", "cost")

DEFAULT_WEIGHTS: dict[str, float] = {
    "availability": 1000.0,
    "surplus": 1.0,
    "efficiency": 1.0,
    "duration": 0.5,
    "quality": 1.0,
    "participation": 0.5,
    "cost": 2.0,
}

# "As few sellers as possible": at most this many sellers beyond the fewest that can cover the target (hard).
EXTRA_SELLERS = 3

OFFER_FIELDS: tuple[str, ...] = (
    "id",
    "seller",
    "amount_wh",
    "price",
    "efficiency",
    "duration_s",
    "quality",
    "participation",
)


class InstanceError(ValueError):
    """An instance or selection is malformed; the message says which field and why."""


class SelectionError(RuntimeError):
    """A solver could not return a selection that meets the hard constraints (a bug or a solver limit)."""


def _number(value: Any, where: str, *, lo: float = 0.0, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InstanceError(f"{where} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise InstanceError(f"{where} must be in [{lo:g}, {hi:g}], got {value!r}")
    return float(value)


def _whole(value: Any, where: str) -> int:
    """Whole Wh: an int, or a float with no fractional part (JSON writers differ)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InstanceError(f"{where} must be a whole number of Wh, got {value!r}")
    if value < 0:
        raise InstanceError(f"{where} must be >= 0, got {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InstanceError(f"{where} must be a non-empty string, got {value!r}")
    return value


@dataclass(frozen=True)
class Candidate:
    """One offer as the selection sees it (units: Wh, settlement units per kWh, seconds, shares in [0, 1])."""

    id: str
    seller: str
    amount_wh: int
    price: float
    efficiency: float
    duration_s: float
    quality: float
    participation: float

    def __post_init__(self) -> None:
        where = f"offer {self.id!r}"
        _text(self.id, "offer id")
        _text(self.seller, f"{where} seller")
        object.__setattr__(self, "amount_wh", _whole(self.amount_wh, f"{where} amount_wh"))
        object.__setattr__(self, "price", _number(self.price, f"{where} price"))
        # Efficiency 0 would mean nothing arrives; the feeder model never goes below 0.5.
        object.__setattr__(self, "efficiency", _number(self.efficiency, f"{where} efficiency", hi=1.0))
        if self.efficiency == 0.0:
            raise InstanceError(f"{where} efficiency must be > 0")
        object.__setattr__(self, "duration_s", _number(self.duration_s, f"{where} duration_s"))
        object.__setattr__(self, "quality", _number(self.quality, f"{where} quality", hi=1.0))
        object.__setattr__(self, "participation", _number(self.participation, f"{where} participation"))

    @classmethod
    def from_json_dict(cls, data: Any, index: int = 0) -> Candidate:
        if not isinstance(data, dict):
            raise InstanceError(f"offers[{index}] must be an object, got {type(data).__name__}")
        missing = [name for name in OFFER_FIELDS if name not in data]
        if missing:
            raise InstanceError(f"offers[{index}] lacks field(s): {', '.join(missing)}")
        unknown = sorted(set(data) - set(OFFER_FIELDS))
        if unknown:
            raise InstanceError(f"offers[{index}] has unknown field(s): {', '.join(unknown)}")
        return cls(**{name: data[name] for name in OFFER_FIELDS})

    def to_json_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in OFFER_FIELDS}


@dataclass(frozen=True)
class Instance:
    """A buyer's demand (Wh), the weight of each term and the candidate offers (ids unique)."""

    demand_wh: int
    weights: dict[str, float]
    offers: list[Candidate]

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand_wh", _whole(self.demand_wh, "demand_wh"))
        if not isinstance(self.weights, dict):
            raise InstanceError("weights must be an object with one number per term")
        missing = [t for t in TERMS if t not in self.weights]
        unknown = sorted(set(self.weights) - set(TERMS))
        if missing:
            raise InstanceError(f"weights lack term(s): {', '.join(missing)} (terms: {', '.join(TERMS)})")
        if unknown:
            raise InstanceError(f"weights name unknown term(s): {', '.join(unknown)} (terms: {', '.join(TERMS)})")
        object.__setattr__(self, "weights", {t: _number(self.weights[t], f"weights.{t}") for t in TERMS})
        object.__setattr__(self, "offers", list(self.offers))
        seen: set[str] = set()
        for offer in self.offers:
            if not isinstance(offer, Candidate):
                raise InstanceError(f"offers must be Candidate objects, got {type(offer).__name__}")
            if offer.id in seen:
                raise InstanceError(f"offer id {offer.id!r} appears twice")
            seen.add(offer.id)

    @property
    def available_wh(self) -> int:
        return sum(o.amount_wh for o in self.offers)

    @property
    def target_wh(self) -> int:
        """What the selection buys: the demand when supply allows, otherwise every available Wh."""
        return min(self.demand_wh, self.available_wh)

    def index_of(self) -> dict[str, int]:
        return {o.id: i for i, o in enumerate(self.offers)}

    @classmethod
    def from_json_dict(cls, data: Any) -> Instance:
        if not isinstance(data, dict):
            raise InstanceError(f"an instance must be a JSON object, got {type(data).__name__}")
        missing = [k for k in ("demand_wh", "weights", "offers") if k not in data]
        if missing:
            raise InstanceError(f"instance lacks field(s): {', '.join(missing)}")
        unknown = sorted(set(data) - {"demand_wh", "weights", "offers"})
        if unknown:
            raise InstanceError(f"instance has unknown field(s): {', '.join(unknown)}")
        if not isinstance(data["offers"], list):
            raise InstanceError("offers must be a list")
        offers = [Candidate.from_json_dict(o, i) for i, o in enumerate(data["offers"])]
        return cls(demand_wh=data["demand_wh"], weights=data["weights"], offers=offers)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "demand_wh": self.demand_wh,
            "weights": dict(self.weights),
            "offers": [o.to_json_dict() for o in self.offers],
        }


@dataclass
class Selection:
    """A solver's answer (or an evaluated selection): amounts per chosen offer, objective and weighted terms.

    `contributions[id][term]` is that offer's share of each weighted term (the trade's explanation);
    `solver_objective` is the solver's own value of the objective (MILP/GA), to compare with `objective`.
    """

    chosen: list[tuple[str, int]]
    objective: float
    terms: dict[str, float]
    solver: str
    time_ms: float
    feasible: bool = True
    violations: list[str] = field(default_factory=list)
    contributions: dict[str, dict[str, float]] = field(default_factory=dict)
    solver_objective: float | None = None

    @property
    def amounts(self) -> dict[str, int]:
        return dict(self.chosen)

    def to_json_dict(self, *, with_feasibility: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "chosen": [{"id": i, "amount_wh": a} for i, a in self.chosen],
            "objective": self.objective,
            "terms": dict(self.terms),
            "solver": self.solver,
            "time_ms": self.time_ms,
        }
        if with_feasibility:
            out["feasible"] = self.feasible
            out["violations"] = list(self.violations)
        return out


def parse_chosen(data: Any, instance: Instance) -> list[tuple[str, int]]:
    """A selection file: `{"chosen": [{"id", "amount_wh"}]}` (the CLI's output) or the bare list."""
    if isinstance(data, dict):
        if "chosen" not in data:
            raise InstanceError("a selection must have a 'chosen' list of {id, amount_wh}")
        data = data["chosen"]
    if not isinstance(data, list):
        raise InstanceError("'chosen' must be a list of {id, amount_wh}")
    known = instance.index_of()
    chosen: list[tuple[str, int]] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "id" not in item or "amount_wh" not in item:
            raise InstanceError(f"chosen[{i}] must be an object with 'id' and 'amount_wh'")
        offer_id = _text(item["id"], f"chosen[{i}].id")
        if offer_id not in known:
            raise InstanceError(f"chosen[{i}] names offer {offer_id!r}, which is not in the instance")
        if offer_id in seen:
            raise InstanceError(f"chosen[{i}] names offer {offer_id!r} twice")
        seen.add(offer_id)
        chosen.append((offer_id, _whole(item["amount_wh"], f"chosen[{i}].amount_wh")))
    return chosen
