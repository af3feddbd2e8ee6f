"""Random selection instances shaped like a community's offers, for the benchmark and the tests (seeded)."""

from __future__ import annotations

import random

from agents.selection.model import DEFAULT_WEIGHTS, TERMS, Candidate, Instance


def random_instance(n: int, seed: int, *, random_weights: bool = False, scarce: bool | None = None) -> Instance:
    """`n` offers from about 0.7 n sellers (some sellers hold two offers), demand a few offers' worth.

    `scarce=True` asks for more than all offers hold (everything is bought); None draws it with 10 % probability.
    `random_weights` draws each weight in [0, 3] (availability stays the default penalty).
    """
    rng = random.Random(seed)
    sellers = [f"0x{rng.getrandbits(160):040x}" for _ in range(max(1, round(0.7 * n)))]
    offers = []
    for i in range(n):
        offers.append(
            Candidate(
                id=f"0x{seed:08x}{i:04x}",
                seller=sellers[i % len(sellers)] if i < len(sellers) else rng.choice(sellers),
                amount_wh=rng.choice([0] + [rng.randrange(50, 3000)] * 19),  # ~5 % offers already used up
                price=round(rng.uniform(18.0, 40.0), 2),
                efficiency=round(rng.uniform(0.990, 0.999), 5),
                duration_s=round(rng.uniform(10.0, 900.0), 1),
                quality=round(rng.uniform(0.6, 1.0), 3),
                participation=rng.randrange(0, 80),
            )
        )
    total = sum(o.amount_wh for o in offers)
    if scarce is None:
        scarce = rng.random() < 0.1
    demand = total + rng.randrange(1, 2000) if scarce else rng.randrange(200, max(201, min(total, 6000)))
    weights = dict(DEFAULT_WEIGHTS)
    if random_weights:
        weights.update({t: round(rng.uniform(0.0, 3.0), 3) for t in TERMS if t != "availability"})
    return Instance(demand_wh=demand, weights=weights, offers=offers)
