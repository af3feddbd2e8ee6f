"""The dataset checks on the hand-made community of test_kpis: silent on it, and each one fires on a broken copy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulation.checks import check_dataset
from simulation.dataset import read_intervals, write_intervals
from simulation.kpis import compute_kpis
from tests.simulation.test_kpis import RUN_META, T0, T1, community_rows

Key = tuple[str, str, str]


def frame(tmp_path: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    path = tmp_path / "intervals.csv"
    write_intervals(path, rows)
    return read_intervals(path)


def edited(changes: dict[Key, dict[str, int]]) -> list[dict[str, Any]]:
    rows = community_rows()
    for key, values in changes.items():
        matches = [r for r in rows if (r["design"], r["household"], r["interval_start"]) == key]
        assert len(matches) == 1, key
        matches[0].update(values)
    return rows


def violations(tmp_path: Path, rows: list[dict[str, Any]], meta: dict[str, Any] = RUN_META) -> list[str]:
    df = frame(tmp_path, rows)
    return check_dataset(df, compute_kpis(df, meta), meta)


def only(found: list[str], *parts: str) -> str:
    """The one violation mentioning every part (and fail listing them all otherwise)."""
    hits = [v for v in found if all(p in v for p in parts)]
    assert len(hits) == 1, f"{parts} in {found}"
    return hits[0]


def test_clean_dataset_has_no_violation(tmp_path: Path) -> None:
    assert violations(tmp_path, community_rows()) == []


def test_minted_is_the_surplus(tmp_path: Path) -> None:
    # 700 minted instead of 800, balances consistent with it: only the mint rule is broken.
    rows = edited(
        {
            ("order-book", "A", T0): {"minted_wh": 700, "token_balance_wh": 300},
            ("order-book", "A", T1): {"token_balance_wh": 0},
        }
    )
    found = violations(tmp_path, rows)
    assert found == [only(found, "design order-book household A interval 2026-06-01T12:00:00+08:00", "minted_wh 700")]


def test_deficit_is_burned_or_grid(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("order-book", "B", T0): {"grid_import_wh": 450}}))
    assert found == [only(found, "order-book household B interval 2026-06-01T12:00:00+08:00", "burned_wh 0 + grid")]


def test_token_balance_follows_the_flows(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("order-book", "B", T1): {"token_balance_wh": 10}}))
    assert found == [only(found, "order-book household B interval 2026-06-01T12:15:00+08:00", "token_balance_wh 10")]


def test_net_is_generation_minus_consumption_minus_battery(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("auction", "A", T0): {"net_wh": 790}}))
    only(found, "auction household A interval 2026-06-01T12:00:00+08:00", "net_wh 790 != generation 1000")


def test_bought_equals_sold_per_interval(tmp_path: Path) -> None:
    rows = edited(
        {
            ("order-book", "B", T0): {"bought_wh": 450, "token_balance_wh": 450},
            ("order-book", "B", T1): {"token_balance_wh": 50},
        }
    )
    found = violations(tmp_path, rows)
    only(found, "design order-book interval 2026-06-01T12:00:00+08:00", "Σbought_wh 450 != Σsold_wh 400")
    only(found, "design order-book", "fills add up to 400 Wh, Σbought = 450")  # and run.json's fills disagree
    assert len(found) == 2


def test_venue_never_pays_out_more_than_it_takes(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("auction", "B", T0): {"paid_units": 139_999}}))
    assert found == [only(found, "design auction", "Σpaid 139999 < Σreceived 140000")]


def test_rounding_below_one_unit_per_fill(tmp_path: Path) -> None:
    assert violations(tmp_path, edited({("auction", "B", T0): {"paid_units": 140_001}})) == []  # ceil - floor = 1
    found = violations(tmp_path, edited({("auction", "B", T0): {"paid_units": 140_002}}))
    assert found == [only(found, "design auction", "= 2 units, more than one unit per rounded fill (1 rounded fills)")]
    # An auction rounds once per filled order (bid and ask), which run.json may say as rounded_fills.
    meta = copy.deepcopy(RUN_META)
    meta["designs"]["auction"]["rounded_fills"] = 2
    assert violations(tmp_path, edited({("auction", "B", T0): {"paid_units": 140_002}}), meta) == []


def test_trades_need_a_trade_list(tmp_path: Path) -> None:
    meta = copy.deepcopy(RUN_META)
    del meta["designs"]["order-book"]["trades"]
    found = violations(tmp_path, community_rows(), meta)
    assert found == [only(found, "design order-book", "no trade list")]


def test_bills_plus_pool_cost_equal_community_bill(tmp_path: Path) -> None:
    df = frame(tmp_path, community_rows())
    kpis = compute_kpis(df, RUN_META)
    kpis["order-book+battery"]["pool_cost_units"] += 5
    found = check_dataset(df, kpis)
    assert found == [only(found, "design order-book+battery", "Σbill + pool_cost = 315005.000 units")]
    kpis["order-book+battery"]["bill"]["B"] = 0.0
    assert any("Σbill + pool_cost = -89995.000" in v for v in check_dataset(df, kpis))


def test_battery_only_in_battery_designs(tmp_path: Path) -> None:
    rows = edited({("grid-only", "A", T1): {"battery_wh": -300, "net_wh": 0, "burned_wh": 0, "token_balance_wh": 800}})
    found = violations(tmp_path, rows)
    assert found == [only(found, "grid-only household A interval 2026-06-01T12:15:00+08:00", "battery_wh = -300")]


def test_same_households_and_weather_in_every_design(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("auction", "A", T0): {"generation_wh": 1100, "consumption_wh": 300}}))
    only(found, "household A interval 2026-06-01T12:00:00+08:00: generation_wh differs", "auction=1100")
    only(found, "household A interval 2026-06-01T12:00:00+08:00: consumption_wh differs", "grid-only=200")
    assert len(found) == 2


def test_one_tariff_per_interval(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("auction", "B", T1): {"retail_units_per_kwh": 510_000}}))
    only(
        found,
        "design auction interval 2026-06-01T12:15:00+08:00",
        "retail_units_per_kwh differs between households (500000..510000)",
    )


def test_negative_amounts(tmp_path: Path) -> None:
    found = violations(tmp_path, edited({("order-book", "A", T1): {"paid_units": -5}}))
    only(found, "order-book household A interval 2026-06-01T12:15:00+08:00", "paid_units = -5 is negative")


def test_duplicate_and_missing_rows(tmp_path: Path) -> None:
    rows = community_rows()
    rows.append(dict(rows[0]))
    rows = [r for r in rows if (r["design"], r["household"], r["interval_start"]) != ("auction", "B", T1)]
    found = violations(tmp_path, rows)
    only(found, "design grid-only household A interval 2026-06-01T12:00:00+08:00: duplicate row")
    only(found, "design auction household B interval 2026-06-01T12:15:00+08:00: row missing")


def test_kpis_must_cover_every_design(tmp_path: Path) -> None:
    df = frame(tmp_path, community_rows())
    kpis = compute_kpis(df, RUN_META)
    del kpis["auction"]
    kpis["direct"] = kpis["order-book"]
    found = check_dataset(df, kpis)
    assert sorted(found) == ["design auction: missing from kpis", "design direct: in kpis but has no rows"]


@pytest.mark.parametrize("design", ["grid-only", "auction"])
def test_every_violation_is_reported(tmp_path: Path, design: str) -> None:
    # Two independent breaks in different rows: both are listed (the checks do not stop at the first).
    rows = edited({(design, "B", T0): {"grid_import_wh": 1}, (design, "B", T1): {"grid_import_wh": 2}})
    found = violations(tmp_path, rows)
    assert len(found) == 2 and all(f"design {design} household B" in v for v in found)


def test_fills_priced_within_the_grid_band(tmp_path: Path) -> None:
    meta = copy.deepcopy(RUN_META)
    meta["designs"]["order-book"]["trades"] = [[T0, 150_000, 300], [T0, 500_000, 100]]  # below feed-in; at retail
    meta["designs"]["auction"]["trades"] = [[T0, 500_001, 400]]
    found = violations(tmp_path, community_rows(), meta)
    only(found, "design order-book interval 2026-06-01T12:00:00+08:00", "fill of 300 Wh at 150000 units/kWh outside")
    only(found, "design auction interval 2026-06-01T12:00:00+08:00", "at 500001 units/kWh outside [feed-in 200000")
    assert len(found) == 2


def test_fills_in_intervals_the_dataset_has(tmp_path: Path) -> None:
    meta = copy.deepcopy(RUN_META)
    meta["designs"]["auction"]["trades"] = [["2026-06-01T13:00:00+08:00", 350_001, 400]]
    found = violations(tmp_path, community_rows(), meta)
    assert found == [only(found, "design auction interval 2026-06-01T13:00:00+08:00: a fill in run.json has no rows")]


def test_run_json_agrees_with_the_rows(tmp_path: Path) -> None:
    meta = copy.deepcopy(RUN_META)
    meta["households"] = 3
    meta["interval_s"] = 600  # the rows are 900 s apart
    del meta["designs"]["grid-only+battery"]
    found = violations(tmp_path, community_rows(), meta)
    assert sorted(found) == [
        "designs ['grid-only+battery'] have rows but no entry in run.json",
        "interval 2026-06-01T12:15:00+08:00: not a multiple of run.json's interval_s 600 after the previous",
        "run.json says 3 households, the rows have 2",
    ]
