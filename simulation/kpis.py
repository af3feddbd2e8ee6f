"""Community KPIs of a simulation run, per design: the content of kpis.json.

`compute_kpis(df, run_meta)` takes the frame `simulation.dataset.read_intervals` returns and the run.json object, and
returns `{design: {kpi: value}}` in report order. Sums run over the design's whole run; "per interval" quantities are
computed per interval_start first. Money is in settlement units (1 000 000 = RM 1), prices in units/kWh, energy in Wh.

Physical exchange with the grid: per interval the community imports `max(0, -Σnet)` and exports `max(0, Σnet)`
(households' surpluses and deficits cancel inside the feeder first).

| KPI | definition |
|---|---|
| `self_sufficiency` | 1 - Σphysical_import / Σconsumption |
| `self_consumption` | 1 - Σphysical_export / Σgeneration |
| `local_share` | Σburned / Σmax(0, -net): share of the households' deficits served from tokens |
| `bill` | per household: Σpaid - Σreceived + Σgrid_import x retail/1000 - token_balance_at_end x feed_in_at_end/1000 |
| `grid_only_bill` | per household: Σ over intervals of max(0, -net0) x retail/1000 - max(0, net0) x feed_in/1000 (1) |
| `savings_pct` | 100 x (Σgrid_only_bill - Σbill) / abs(Σgrid_only_bill): > 0 when households pay less in total |
| `households_worse_off` | households whose bill exceeds grid_only_bill by more than `WORSE_OFF_TOLERANCE_UNITS` |
| `pool_cost_units` | community grid bill - Σgrid_import x retail/1000 + Σtoken_balance_at_end x feed_in/1000 (2) |
| `mean_local_price` | volume-weighted mean price of the local fills (run.json trades; else 1000 x Σpaid / Σbought) |
| `peak_import_wh` | the largest physical import of one interval |
| `forecast_mape`, `transactions`, `gas_used`, `wall_s` | as run.json gives them for the design |

(1) net0 is the household's net without battery, market or banking. It is taken as `generation_wh - consumption_wh`
of the same row: the battery is the only thing between that and `net_wh`, and every design sees the same households
and weather, so it equals `net_wh` of the same household in the design without battery (`simulation.checks` verifies
that generation and consumption agree across designs and that designs without battery have `battery_wh = 0`).

(2) The community grid bill is Σ over intervals of physical_import x retail/1000 - physical_export x feed_in/1000.
Households pay retail for what EnergyToken recorded as grid import; tokens left at the end are energy the pool
exported (and was credited for at feed-in) but still owes them, valued here at feed-in. So
Σbill + pool_cost = community grid bill + Σ(paid - received), the last term being the rounding of local trades.

A ratio whose base is 0 is None (null in JSON), as in GSY-e's kpi.py. Extra keys, for the checks and the report:
`households`; `savings_units` (Σgrid_only_bill - Σbill, savings_pct's numerator, which reads better when prosumers'
negative grid-only bills make the base small); `trades` (fills in run.json, None without a trade list);
`rounded_fills` (run.json's, else `trades`: payments rounded, the bound on Σpaid - Σreceived); `traded_wh`;
`local_volume_wh` (Σbought); `trade_rounding_units` (Σpaid - Σreceived); `bills_total_units`,
`grid_only_bills_total_units`, `community_grid_bill_units`; `consumption_wh`, `generation_wh`, `physical_import_wh`,
`physical_export_wh`, `grid_import_wh`, `burned_wh`; `battery_net_wh` (Σbattery_wh: energy put into batteries and
not taken out by the end, losses included; bills do not value it, so a short run can leave battery owners worse off).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.dataset import ordered_designs

WORSE_OFF_TOLERANCE_UNITS = 1.0  # one settlement unit (RM 0.000001): the rounding of a fill is not a loss
RATIO_DIGITS = 6
PCT_DIGITS = 4


def _ratio(numerator: float, base: float) -> float | None:
    return None if base == 0 else numerator / base


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _units(milli_units: int | float) -> float:
    # Money is summed exactly in milli-units (Wh x units/kWh) and divided once at the end.
    return round(float(milli_units) / 1000, 3)


def interval_exchange(d: pd.DataFrame) -> pd.DataFrame:
    """One design's community exchange with the grid per interval: net, import, export (Wh) and the tariffs."""
    g = d.groupby("interval_start", sort=True).agg(
        net_wh=("net_wh", "sum"),
        retail=("retail_units_per_kwh", "max"),
        feed_in=("feed_in_units_per_kwh", "max"),
    )
    g["import_wh"] = (-g["net_wh"]).clip(lower=0)
    g["export_wh"] = g["net_wh"].clip(lower=0)
    return g


def _trade_stats(meta: Mapping[str, Any]) -> tuple[int | None, int | None, float | None]:
    """(number of fills, Wh traded, volume-weighted price) from a design's run.json trade list."""
    trades = meta.get("trades")
    if trades is None:
        return None, None, None
    volume = sum(t[2] for t in trades)
    value = sum(t[1] * t[2] for t in trades)
    return len(trades), int(volume), (value / volume if volume else None)


def design_kpis(d: pd.DataFrame, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The KPIs of one design's rows (see the module docstring)."""
    d = d.sort_values(["household", "interval_start"], kind="stable")
    ex = interval_exchange(d)
    consumption = int(d["consumption_wh"].sum())
    generation = int(d["generation_wh"].sum())
    physical_import = int(ex["import_wh"].sum())
    physical_export = int(ex["export_wh"].sum())
    deficits = int((-d["net_wh"]).clip(lower=0).sum())
    burned = int(d["burned_wh"].sum())

    # Per household, in milli-units (exact integers).
    trade_m = (d["paid_units"] - d["received_units"]) * 1000
    grid_m = d["grid_import_wh"] * d["retail_units_per_kwh"]
    net0 = d["generation_wh"] - d["consumption_wh"]
    grid_only_m = net0.clip(upper=0).abs() * d["retail_units_per_kwh"] - net0.clip(lower=0) * d["feed_in_units_per_kwh"]
    last = d.groupby("household", sort=True).tail(1).set_index("household")
    left_m = last["token_balance_wh"] * last["feed_in_units_per_kwh"]
    per_h = (
        pd.DataFrame({"household": d["household"], "trade": trade_m, "grid": grid_m, "grid_only": grid_only_m})
        .groupby("household", sort=True)
        .sum()
    )
    bill_m = per_h["trade"] + per_h["grid"] - left_m.reindex(per_h.index)
    community_m = int((ex["import_wh"] * ex["retail"] - ex["export_wh"] * ex["feed_in"]).sum())
    pool_m = community_m - int(grid_m.sum()) + int(left_m.sum())

    bills_total = int(bill_m.sum())
    grid_only_total = int(per_h["grid_only"].sum())
    worse_off = int(((bill_m - per_h["grid_only"]) > WORSE_OFF_TOLERANCE_UNITS * 1000).sum())
    savings = _ratio(100 * (grid_only_total - bills_total), abs(grid_only_total))

    n_trades, traded_wh, trade_price = _trade_stats(meta)
    bought = int(d["bought_wh"].sum())
    if trade_price is None and n_trades is None:
        trade_price = _ratio(1000 * int(d["paid_units"].sum()), bought)
    ss = _ratio(physical_import, consumption)
    sc = _ratio(physical_export, generation)
    return {
        "self_sufficiency": _round(None if ss is None else 1 - ss, RATIO_DIGITS),
        "self_consumption": _round(None if sc is None else 1 - sc, RATIO_DIGITS),
        "local_share": _round(_ratio(burned, deficits), RATIO_DIGITS),
        "bill": {str(h): _units(v) for h, v in bill_m.items()},
        "grid_only_bill": {str(h): _units(v) for h, v in per_h["grid_only"].items()},
        "savings_pct": _round(savings, PCT_DIGITS),
        "savings_units": _units(grid_only_total - bills_total),
        "households_worse_off": worse_off,
        "pool_cost_units": _units(pool_m),
        "mean_local_price": _round(trade_price, 3),
        "peak_import_wh": int(ex["import_wh"].max()) if len(ex) else 0,
        "forecast_mape": meta.get("forecast_mape"),
        "transactions": meta.get("transactions"),
        "gas_used": meta.get("gas_used"),
        "wall_s": meta.get("wall_s"),
        "households": len(per_h),
        "trades": n_trades,
        "rounded_fills": meta.get("rounded_fills", n_trades),
        "traded_wh": traded_wh,
        "local_volume_wh": bought,
        "trade_rounding_units": int(d["paid_units"].sum() - d["received_units"].sum()),
        "bills_total_units": _units(bills_total),
        "grid_only_bills_total_units": _units(grid_only_total),
        "community_grid_bill_units": _units(community_m),
        "consumption_wh": consumption,
        "generation_wh": generation,
        "physical_import_wh": physical_import,
        "physical_export_wh": physical_export,
        "grid_import_wh": int(d["grid_import_wh"].sum()),
        "burned_wh": burned,
        "battery_net_wh": int(d["battery_wh"].sum()),
    }


def compute_kpis(df: pd.DataFrame, run_meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{design: {kpi: value}}` for every design in `df`, in report order (kpis.json)."""
    designs_meta: Mapping[str, Any] = run_meta.get("designs", {})
    return {
        design: design_kpis(df[df["design"] == design], designs_meta.get(design, {}))
        for design in ordered_designs(df["design"].unique())
    }


def write_kpis(path: str | Path, kpis: Mapping[str, Any]) -> Path:
    path = Path(path)
    path.write_text(json.dumps(kpis, indent=1) + "\n", encoding="utf-8")
    return path
