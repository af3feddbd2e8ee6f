"""The instance file format: exact round trip, and a clear InstanceError for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.selection import DEFAULT_WEIGHTS, Instance, InstanceError, parse_chosen

EXAMPLE = Path(__file__).resolve().parents[2] / "agents" / "config" / "selection-example.json"


def _example() -> dict:
    return json.loads(EXAMPLE.read_text())


def test_example_round_trips_exactly() -> None:
    data = _example()
    assert Instance.from_json_dict(data).to_json_dict() == data
    assert set(data["weights"]) == set(DEFAULT_WEIGHTS)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("demand_wh"), "lacks field\\(s\\): demand_wh"),
        (lambda d: d.update(extra=1), "unknown field"),
        (lambda d: d.update(demand_wh=-5), "demand_wh must be >= 0"),
        (lambda d: d.update(demand_wh=12.5), "whole number of Wh"),
        (lambda d: d.update(demand_wh=True), "whole number of Wh"),
        (lambda d: d["weights"].pop("quality"), "weights lack term\\(s\\): quality"),
        (lambda d: d["weights"].update(speed=1.0), "unknown term\\(s\\): speed"),
        (lambda d: d["weights"].update(cost=-1), "weights.cost must be in"),
        (lambda d: d["weights"].update(cost=float("nan")), "finite number"),
        (lambda d: d.update(offers={}), "offers must be a list"),
        (lambda d: d["offers"].append(dict(d["offers"][0])), "appears twice"),
        (lambda d: d["offers"][0].pop("price"), "lacks field\\(s\\): price"),
        (lambda d: d["offers"][0].update(colour="red"), "unknown field\\(s\\): colour"),
        (lambda d: d["offers"][0].update(amount_wh=-1), "amount_wh must be >= 0"),
        (lambda d: d["offers"][0].update(efficiency=1.2), "efficiency must be in"),
        (lambda d: d["offers"][0].update(efficiency=0), "efficiency must be > 0"),
        (lambda d: d["offers"][0].update(quality=1.5), "quality must be in"),
        (lambda d: d["offers"][0].update(duration_s="slow"), "duration_s must be a finite number"),
        (lambda d: d["offers"][0].update(participation=-2), "participation must be in"),
        (lambda d: d["offers"][0].update(id=""), "offer id must be a non-empty string"),
        (lambda d: d["offers"].__setitem__(0, 7), "offers\\[0\\] must be an object"),
    ],
)
def test_bad_instances_are_refused_with_a_clear_message(mutate, message: str) -> None:
    data = _example()
    mutate(data)
    with pytest.raises(InstanceError, match=message):
        Instance.from_json_dict(data)


def test_whole_float_amounts_are_accepted() -> None:
    data = _example()
    data["demand_wh"] = 2400.0
    assert Instance.from_json_dict(data).demand_wh == 2400


def test_parse_chosen_accepts_cli_output_and_refuses_nonsense() -> None:
    inst = Instance.from_json_dict(_example())
    first = inst.offers[0].id
    assert parse_chosen({"chosen": [{"id": first, "amount_wh": 10}]}, inst) == [(first, 10)]
    assert parse_chosen([{"id": first, "amount_wh": 10}], inst) == [(first, 10)]
    for bad, message in [
        ({"picked": []}, "must have a 'chosen' list"),
        ({"chosen": [{"id": "nope", "amount_wh": 1}]}, "not in the instance"),
        ({"chosen": [{"id": first}]}, "'id' and 'amount_wh'"),
        ({"chosen": [{"id": first, "amount_wh": 1}, {"id": first, "amount_wh": 2}]}, "twice"),
        ({"chosen": [{"id": first, "amount_wh": 1.5}]}, "whole number"),
    ]:
        with pytest.raises(InstanceError, match=message):
            parse_chosen(bad, inst)
