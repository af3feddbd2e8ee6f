"""KPIs of a two-household, two-interval community worked out on paper (the numbers in the comments).

Household A is a prosumer (1 000 Wh of PV in the first interval), B a consumer. Retail 500 000 units/kWh (RM 0.50),
feed-in 200 000. Physically (no battery): interval 0 the community exports 800 - 500 = 300 Wh, interval 1 it imports
300 + 400 = 700 Wh. Σconsumption = 1 400, Σgeneration = 1 000. Without battery, market or banking, A's grid-only bill
is 300 x 0.5 - 800 x 0.2 = -10 000 units and B's 900 x 0.5 = 450 000 units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulation.dataset import COLUMNS, read_intervals, write_intervals
from simulation.kpis import compute_kpis, write_kpis

T0 = "2026-06-01T12:00:00+08:00"
T1 = "2026-06-01T12:15:00+08:00"
RETAIL, FEED_IN = 500_000, 200_000

# design, household, interval, generation, consumption, battery, net, minted, burned, grid, bought, sold, balance,
# paid, received. Every value written out by hand (not derived), so the checks' tests can break single ones.
ROWS: list[tuple[Any, ...]] = [
    # grid-only: no trades; A's surplus is banked as tokens and 300 of them burned against its evening deficit.
    ("grid-only", "A", T0, 1000, 200, 0, 800, 800, 0, 0, 0, 0, 800, 0, 0),
    ("grid-only", "A", T1, 0, 300, 0, -300, 0, 300, 0, 0, 0, 500, 0, 0),
    ("grid-only", "B", T0, 0, 500, 0, -500, 0, 0, 500, 0, 0, 0, 0, 0),
    ("grid-only", "B", T1, 0, 400, 0, -400, 0, 0, 400, 0, 0, 0, 0, 0),
    # grid-only+battery: A stores its surplus, uses 300 of it; what is left in the battery at the end is worth nothing.
    ("grid-only+battery", "A", T0, 1000, 200, 800, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("grid-only+battery", "A", T1, 0, 300, -300, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("grid-only+battery", "B", T0, 0, 500, 0, -500, 0, 0, 500, 0, 0, 0, 0, 0),
    ("grid-only+battery", "B", T1, 0, 400, 0, -400, 0, 0, 400, 0, 0, 0, 0, 0),
    # order-book: A sells 400 Wh to B at 350 000 units/kWh (140 000 units); B's tokens are burned in interval 1.
    ("order-book", "A", T0, 1000, 200, 0, 800, 800, 0, 0, 0, 400, 400, 0, 140_000),
    ("order-book", "A", T1, 0, 300, 0, -300, 0, 300, 0, 0, 0, 100, 0, 0),
    ("order-book", "B", T0, 0, 500, 0, -500, 0, 0, 500, 400, 0, 400, 140_000, 0),
    ("order-book", "B", T1, 0, 400, 0, -400, 0, 400, 0, 0, 0, 0, 0, 0),
    # order-book+battery: A stores 500, sells the other 300 to B, then its battery covers 270 of its 300 Wh load.
    ("order-book+battery", "A", T0, 1000, 200, 500, 300, 300, 0, 0, 0, 300, 0, 0, 105_000),
    ("order-book+battery", "A", T1, 0, 300, -270, -30, 0, 0, 30, 0, 0, 0, 0, 0),
    ("order-book+battery", "B", T0, 0, 500, 0, -500, 0, 0, 500, 300, 0, 300, 105_000, 0),
    ("order-book+battery", "B", T1, 0, 400, 0, -400, 0, 300, 100, 0, 0, 0, 0, 0),
    # auction: as order-book at 350 001 units/kWh: B pays ceil(140 000.4) = 140 001, A receives floor = 140 000.
    ("auction", "A", T0, 1000, 200, 0, 800, 800, 0, 0, 0, 400, 400, 0, 140_000),
    ("auction", "A", T1, 0, 300, 0, -300, 0, 300, 0, 0, 0, 100, 0, 0),
    ("auction", "B", T0, 0, 500, 0, -500, 0, 0, 500, 400, 0, 400, 140_001, 0),
    ("auction", "B", T1, 0, 400, 0, -400, 0, 400, 0, 0, 0, 0, 0, 0),
]

RUN_META: dict[str, Any] = {
    "seed": 1,
    "households": 2,
    "days": 1,
    "interval_s": 900,
    "designs": {
        "grid-only": {"transactions": 4, "gas_used": 400_000, "wall_s": 0.5, "forecast_mape": None},
        "grid-only+battery": {"transactions": 4, "gas_used": 400_000, "wall_s": 0.5, "forecast_mape": None},
        "order-book": {
            "transactions": 6,
            "gas_used": 700_000,
            "wall_s": 1.5,
            "forecast_mape": 0.2,
            "trades": [[T0, 350_000, 400]],
        },
        "order-book+battery": {
            "transactions": 6,
            "gas_used": 700_000,
            "wall_s": 1.5,
            "forecast_mape": 0.2,
            "trades": [[T0, 350_000, 300]],
        },
        "auction": {
            "transactions": 8,
            "gas_used": 900_000,
            "wall_s": 2.5,
            "forecast_mape": 0.25,
            "trades": [[T0, 350_001, 400]],
        },
    },
}


def community_rows(rows: list[tuple[Any, ...]] = ROWS) -> list[dict[str, Any]]:
    """The rows as intervals.csv mappings (tariffs added)."""
    return [dict(zip(COLUMNS, (*r, RETAIL, FEED_IN), strict=True)) for r in rows]


def community_frame(tmp_path: Path, rows: list[tuple[Any, ...]] = ROWS) -> pd.DataFrame:
    """Round trip through intervals.csv, the path real runs take."""
    path = tmp_path / "intervals.csv"
    write_intervals(path, community_rows(rows))
    return read_intervals(path)


@pytest.fixture
def kpis(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return compute_kpis(community_frame(tmp_path), RUN_META)


def test_designs_in_report_order(kpis: dict[str, dict[str, Any]]) -> None:
    assert list(kpis) == ["grid-only", "grid-only+battery", "order-book", "order-book+battery", "auction"]


def test_grid_only(kpis: dict[str, dict[str, Any]]) -> None:
    k = kpis["grid-only"]
    assert k["self_sufficiency"] == 0.5  # 1 - 700/1400
    assert k["self_consumption"] == 0.7  # 1 - 300/1000
    assert k["local_share"] == 0.25  # burned 300 / deficits 1200
    assert k["bill"] == {"A": -100_000.0, "B": 450_000.0}  # A: 500 tokens left x 0.2; B: 900 Wh x 0.5
    assert k["grid_only_bill"] == {"A": -10_000.0, "B": 450_000.0}
    assert k["savings_pct"] == pytest.approx(100 * 90_000 / 440_000, abs=1e-4)
    assert k["savings_units"] == 90_000.0
    assert k["households_worse_off"] == 0
    # The pool charged B retail for 500 Wh that physically came from A: 700 x 0.5 - 300 x 0.2 = 290 000 community
    # bill, 450 000 collected, 100 000 owed for A's tokens.
    assert k["community_grid_bill_units"] == 290_000.0
    assert k["pool_cost_units"] == -60_000.0
    assert k["mean_local_price"] is None  # no trade list, nothing bought
    assert k["peak_import_wh"] == 700
    assert k["trades"] is None
    assert (k["transactions"], k["gas_used"], k["wall_s"], k["forecast_mape"]) == (4, 400_000, 0.5, None)


def test_order_book(kpis: dict[str, dict[str, Any]]) -> None:
    k = kpis["order-book"]
    assert (k["self_sufficiency"], k["self_consumption"]) == (0.5, 0.7)  # same physics as grid-only
    assert k["local_share"] == round(700 / 1200, 6)
    assert k["bill"] == {"A": -160_000.0, "B": 390_000.0}  # A: -140 000 - 100 x 0.2; B: 140 000 + 500 x 0.5
    assert k["savings_pct"] == pytest.approx(100 * 210_000 / 440_000, abs=1e-4)
    assert k["pool_cost_units"] == 60_000.0  # 290 000 - 250 000 + 20 000
    assert k["mean_local_price"] == 350_000
    assert (k["trades"], k["traded_wh"], k["local_volume_wh"], k["trade_rounding_units"]) == (1, 400, 400, 0)
    assert k["peak_import_wh"] == 700


def test_battery_changes_physical_flows(kpis: dict[str, dict[str, Any]]) -> None:
    k = kpis["order-book+battery"]
    # Imports: 200 then 430 Wh, no export.
    assert k["self_sufficiency"] == round(1 - 630 / 1400, 6)
    assert k["self_consumption"] == 1.0
    assert k["local_share"] == round(300 / 930, 6)
    assert k["bill"] == {"A": -90_000.0, "B": 405_000.0}
    assert k["pool_cost_units"] == 0.0  # 315 000 - 315 000 + 0
    assert k["peak_import_wh"] == 430
    assert k["households_worse_off"] == 0


def test_household_worse_off_with_unused_battery(kpis: dict[str, dict[str, Any]]) -> None:
    k = kpis["grid-only+battery"]
    assert k["bill"] == {"A": 0.0, "B": 450_000.0}  # A's 500 Wh left in the battery earn nothing
    assert k["households_worse_off"] == 1
    assert k["savings_pct"] == pytest.approx(-100 * 10_000 / 440_000, abs=1e-4)
    assert k["self_sufficiency"] == round(1 - 900 / 1400, 6)
    assert k["local_share"] == 0.0


def test_auction_rounding(kpis: dict[str, dict[str, Any]]) -> None:
    k = kpis["auction"]
    assert k["bill"] == {"A": -160_000.0, "B": 390_001.0}
    assert k["trade_rounding_units"] == 1
    assert k["mean_local_price"] == 350_001
    assert sum(k["bill"].values()) + k["pool_cost_units"] == k["community_grid_bill_units"] + 1


def test_bills_plus_pool_equal_community_bill(kpis: dict[str, dict[str, Any]]) -> None:
    for k in kpis.values():
        total = sum(k["bill"].values()) + k["pool_cost_units"]
        assert total == pytest.approx(k["community_grid_bill_units"] + k["trade_rounding_units"], abs=1e-6)


def test_zero_bases_give_none(tmp_path: Path) -> None:
    # A night with nobody consuming or generating: every ratio's base is 0.
    rows = [("grid-only", "A", T0, *[0] * 12), ("grid-only", "A", T1, *[0] * 12)]
    k = compute_kpis(community_frame(tmp_path, rows), {"designs": {}})["grid-only"]
    for name in ("self_sufficiency", "self_consumption", "local_share", "savings_pct", "mean_local_price"):
        assert k[name] is None, name
    assert k["transactions"] is None  # the design is not in run.json
    assert k["peak_import_wh"] == 0


def test_price_falls_back_to_paid_over_bought(tmp_path: Path) -> None:
    meta = {"designs": {"order-book": {k: v for k, v in RUN_META["designs"]["order-book"].items() if k != "trades"}}}
    k = compute_kpis(community_frame(tmp_path), meta)["order-book"]
    assert k["mean_local_price"] == 350_000  # 1000 x 140 000 / 400
    assert k["trades"] is None


def test_kpis_json_round_trip(tmp_path: Path, kpis: dict[str, dict[str, Any]]) -> None:
    import json

    path = write_kpis(tmp_path / "kpis.json", kpis)
    assert json.loads(path.read_text()) == kpis
