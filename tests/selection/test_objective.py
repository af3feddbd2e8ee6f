"""The objective's definition: each term's direction and range, the hard constraints, the linear form's agreement."""

from __future__ import annotations

import numpy as np
import pytest

from agents.selection import TERMS, evaluate, solve
from agents.selection.generate import random_instance
from agents.selection.objective import evaluate_amounts, linear_form
from tests.selection.helpers import instance, offer


@pytest.mark.parametrize(
    ("term", "better", "worse"),
    [
        ("cost", {"price": 20.0}, {"price": 35.0}),
        ("efficiency", {"efficiency": 0.998}, {"efficiency": 0.990}),
        ("duration", {"duration_s": 30.0}, {"duration_s": 600.0}),
        ("quality", {"quality": 0.99}, {"quality": 0.6}),
        ("participation", {"participation": 0}, {"participation": 40}),
    ],
)
def test_each_term_prefers_the_better_offer(term: str, better: dict, worse: dict) -> None:
    # Listed worse-first so a solver that ignored the term (ties -> first offer) would pick the wrong one.
    inst = instance(800, [offer("w", **worse), offer("b", **better)], only=term)
    for solver in ("milp", "brute", "ga"):
        sel = solve(inst, solver)
        assert sel.chosen == [("b", 800)], (solver, sel.chosen)
        assert sel.terms[term] == pytest.approx(0.0)
    worst = evaluate(inst, [("w", 800)])
    assert worst.terms[term] == pytest.approx(1.0)  # all energy from the worst offer: the term's top


def test_not_price_alone_quality_can_outweigh_a_lower_price() -> None:
    cheap_unreliable = offer("cheap", price=25.0, quality=0.5)
    dearer_reliable = offer("dear", price=27.0, quality=1.0)
    inst = instance(500, [cheap_unreliable, dearer_reliable], only="cost", quality=3.0)
    assert solve(inst).chosen == [("dear", 500)]
    assert solve(instance(500, [cheap_unreliable, dearer_reliable], only="cost")).chosen == [("cheap", 500)]


def test_one_seller_if_possible() -> None:
    # Two sellers could cover the demand exactly; one seller covers it alone with a remainder.
    offers = [offer("a", amount_wh=600), offer("b", amount_wh=400), offer("big", amount_wh=1200)]
    sel = solve(instance(1000, offers, only="surplus"))
    assert sel.chosen == [("big", 1000)]
    assert sel.terms["surplus"] == pytest.approx(0.5 * 200 / (2200 - 1000))  # remainder half only: k == k_min


def test_fewest_sellers_when_one_is_not_enough() -> None:
    offers = [offer(f"o{i}", amount_wh=300) for i in range(6)] + [offer("x", amount_wh=700)]
    sel = solve(instance(1000, offers, only="surplus"))
    assert len(sel.chosen) == 2 and dict(sel.chosen)["x"] == 700  # 700 + 300, exact fit, two sellers
    assert sel.terms["surplus"] == pytest.approx(0.0)


def test_offers_of_one_seller_count_as_one_seller() -> None:
    offers = [offer("s1a", "S1", 500), offer("s1b", "S1", 500), offer("s2", "S2", 1000, price=31.0)]
    sel = solve(instance(1000, offers, only="surplus"))
    assert {i for i, _ in sel.chosen} in ({"s1a", "s1b"}, {"s2"})
    assert sel.terms["surplus"] == pytest.approx(0.0)


def test_demand_beyond_supply_buys_everything() -> None:
    offers = [offer("a", amount_wh=300), offer("b", amount_wh=200), offer("empty", amount_wh=0)]
    inst = instance(10_000, offers)
    assert inst.target_wh == 500
    for solver in ("milp", "ga", "brute"):
        assert sorted(solve(inst, solver).chosen) == [("a", 300), ("b", 200)]


def test_nothing_to_buy_is_the_empty_selection() -> None:
    for inst in (instance(0, [offer("a")]), instance(500, [offer("a", amount_wh=0)]), instance(500, [])):
        for solver in ("milp", "ga", "brute"):
            sel = solve(inst, solver)
            assert sel.chosen == [] and sel.objective == 0.0 and sel.feasible


def test_evaluate_reports_broken_hard_constraints() -> None:
    offers = [offer(f"o{i}", amount_wh=1000) for i in range(8)]
    inst = instance(2000, offers)
    over = evaluate(inst, [("o0", 1500), ("o1", 500)])
    assert not over.feasible and any("has only 1000 Wh" in v for v in over.violations)
    assert over.terms["availability"] == pytest.approx(inst.weights["availability"] * 500 / 2000)
    short = evaluate(inst, [("o0", 1000)])
    assert not short.feasible and any("target is 2000" in v for v in short.violations)
    spread = evaluate(inst, [(f"o{i}", 250) for i in range(8)])  # 8 sellers, k_min 2 -> cap 5
    assert not spread.feasible and any("sellers chosen" in v for v in spread.violations)
    ok = evaluate(inst, [("o0", 1000), ("o1", 1000)])
    assert ok.feasible and ok.violations == [] and ok.terms["availability"] == 0.0


def test_terms_are_in_unit_range_and_sum_to_the_objective() -> None:
    for seed in range(30):
        inst = random_instance(9, seed, random_weights=True)
        sel = solve(inst, "milp")
        ev = evaluate_amounts(inst, sel.chosen)
        for t in TERMS:
            assert -1e-12 <= ev.raw[t] <= 1 + 1e-12, (seed, t, ev.raw[t])
        assert sel.objective == pytest.approx(sum(sel.terms.values()))
        # Per-offer contributions (the trade's explanation) add up to each term.
        for t in TERMS:
            assert sum(c[t] for c in sel.contributions.values()) == pytest.approx(sel.terms[t], abs=1e-12)


def test_linear_form_equals_the_direct_evaluation() -> None:
    rng = np.random.default_rng(3)
    for seed in range(40):
        inst = random_instance(10, 500 + seed, random_weights=True)
        form = linear_form(inst)
        # A random feasible selection: random set, exact amounts; if it does not cover, the solver's answer.
        from agents.selection.allocate import allocate, covers

        picked = rng.random(10) < 0.5
        x = allocate(form, picked) if covers(form, picked) else None
        if x is None:
            continue
        chosen = [(o.id, int(v)) for o, v in zip(inst.offers, x, strict=True) if v > 0]
        ev = evaluate_amounts(inst, chosen)
        assert ev.feasible
        assert form.value(x) == pytest.approx(ev.objective, abs=1e-9)


def test_tiny_demand_with_many_offers_per_seller() -> None:
    # 1-3 Wh wanted, sellers with several offers each: each chosen offer must still get >= 1 Wh.
    offers = [offer(f"s{s}o{o}", f"S{s}", amount_wh=2, price=20.0 + s + o) for s in range(3) for o in range(3)]
    for demand in (1, 2, 3):
        inst = instance(demand, offers)
        for solver in ("milp", "ga", "brute"):
            sel = solve(inst, solver)
            assert sum(wh for _, wh in sel.chosen) == demand and all(wh >= 1 for _, wh in sel.chosen)


def test_explanation_names_the_criteria_that_chose_an_offer() -> None:
    from agents.selection.explain import explain

    offers = [offer("dear", price=35.0, quality=0.7), offer("good", price=21.0, quality=1.0, duration_s=600.0)]
    inst = instance(900, offers)
    sel = solve(inst)
    why = explain(inst, sel)
    assert list(why) == ["good"]
    assert why["good"]["scores"]["cost"] == 0.0 and why["good"]["scores"]["duration"] == 1.0
    assert why["good"]["reasons"][0] == "cost"  # the heaviest weighted criterion it is best on
    assert "quality" in why["good"]["reasons"] and "duration" not in why["good"]["reasons"]
    assert why["good"]["summary"].startswith("chosen for cost")
    assert sum(why["good"]["contributions"].values()) == pytest.approx(sel.objective)
