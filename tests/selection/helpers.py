"""Small instance builders for the selection tests."""

from __future__ import annotations

from agents.selection import DEFAULT_WEIGHTS, TERMS, Candidate, Instance


def offer(id_: str, seller: str | None = None, amount_wh: int = 1000, **kw) -> Candidate:
    fields = {"price": 30.0, "efficiency": 0.995, "duration_s": 60.0, "quality": 1.0, "participation": 5}
    fields.update(kw)
    return Candidate(id=id_, seller=seller or f"seller-{id_}", amount_wh=amount_wh, **fields)


def instance(demand_wh: int, offers: list[Candidate], only: str | None = None, **weights: float) -> Instance:
    """Default weights, or with `only` every soft term 0 except that one (availability keeps its penalty)."""
    w = dict(DEFAULT_WEIGHTS)
    if only is not None:
        w = {t: (w["availability"] if t == "availability" else (1.0 if t == only else 0.0)) for t in TERMS}
    w.update(weights)
    return Instance(demand_wh=demand_wh, weights=w, offers=offers)
