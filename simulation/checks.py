"""Consistency checks of a simulation run's dataset (intervals.csv) against the token rules and its kpis.json.

`check_dataset(df, kpis, run_meta=None)` returns one message per violation (an empty list when everything holds);
each message names the design and, where it applies, the household and interval. Checked:

- schema: no duplicate (design, household, interval); every (design, household) has the same intervals; every design
  has the same households; energy, money and tariff columns are >= 0 (battery and net may be negative);
- per row: `net = generation - consumption - battery`, `minted = max(0, net)`, `burned + grid_import = max(0, -net)`,
  `token_balance = previous + minted - burned + bought - sold` (previous = 0 before the first interval);
- physics: generation and consumption of a (household, interval) are the same in every design; a design without
  battery has `battery_wh = 0`; the tariffs of a (design, interval) are the same for every household;
- per (design, interval): `Σbought = Σsold`;
- per design: `Σpaid >= Σreceived`, and the difference is at most one unit per rounded fill (kpis' `rounded_fills`,
  from run.json: a buyer's cost is rounded up and a seller's revenue down, each by less than one unit);
  the fills in run.json add up to Σbought; `Σbill + pool_cost = community grid bill + Σ(paid - received)`, with the
  community grid bill recomputed here from the rows (not taken from kpis.py), as are the bills' grid-import parts;
- with run.json: its household count and designs match the rows, interval starts are interval_s apart (or a
  multiple), and every fill of its trade lists is priced within [feed-in, retail] of its interval, positive, and in
  an interval the dataset has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simulation.dataset import has_battery, ordered_designs

NON_NEGATIVE = (
    "generation_wh",
    "consumption_wh",
    "minted_wh",
    "burned_wh",
    "grid_import_wh",
    "bought_wh",
    "sold_wh",
    "token_balance_wh",
    "paid_units",
    "received_units",
    "retail_units_per_kwh",
    "feed_in_units_per_kwh",
)
# kpis.json rounds money to 0.001 unit per household; the identity may differ by that much per household.
IDENTITY_TOLERANCE_UNITS = 0.001


def _where(row: Any) -> str:
    return f"design {row.design} household {row.household} interval {row.interval_start.isoformat()}"


def _row_checks(df: pd.DataFrame) -> list[str]:
    out: list[str] = []
    for c in NON_NEGATIVE:
        for row in df[df[c] < 0].itertuples():
            out.append(f"{_where(row)}: {c} = {getattr(row, c)} is negative")

    net = df["generation_wh"] - df["consumption_wh"] - df["battery_wh"]
    for row in df[df["net_wh"] != net].itertuples():
        out.append(
            f"{_where(row)}: net_wh {row.net_wh} != generation {row.generation_wh} - consumption "
            f"{row.consumption_wh} - battery {row.battery_wh}"
        )
    surplus = df["net_wh"].clip(lower=0)
    for row in df[df["minted_wh"] != surplus].itertuples():
        out.append(f"{_where(row)}: minted_wh {row.minted_wh} != max(0, net_wh {row.net_wh}) = {max(0, row.net_wh)}")
    deficit = (-df["net_wh"]).clip(lower=0)
    for row in df[df["burned_wh"] + df["grid_import_wh"] != deficit].itertuples():
        out.append(
            f"{_where(row)}: burned_wh {row.burned_wh} + grid_import_wh {row.grid_import_wh} != "
            f"max(0, -net_wh {row.net_wh}) = {max(0, -row.net_wh)}"
        )

    ordered = df.sort_values(["design", "household", "interval_start"], kind="stable")
    previous = ordered.groupby(["design", "household"], sort=False)["token_balance_wh"].shift(1, fill_value=0)
    expected = previous + ordered["minted_wh"] - ordered["burned_wh"] + ordered["bought_wh"] - ordered["sold_wh"]
    bad = ordered["token_balance_wh"] != expected
    for row, prev, exp in zip(ordered[bad].itertuples(), previous[bad], expected[bad], strict=True):
        out.append(
            f"{_where(row)}: token_balance_wh {row.token_balance_wh} != previous {prev} + minted {row.minted_wh} "
            f"- burned {row.burned_wh} + bought {row.bought_wh} - sold {row.sold_wh} = {exp}"
        )
    return out


def _shape_checks(df: pd.DataFrame) -> list[str]:
    out: list[str] = []
    keys = ["design", "household", "interval_start"]
    for row in df[df.duplicated(keys, keep="first")].itertuples():
        out.append(f"{_where(row)}: duplicate row")
    all_intervals = set(df["interval_start"].unique())
    for (design, household), g in df.groupby(["design", "household"], sort=True):
        missing = all_intervals - set(g["interval_start"].unique())
        for t in sorted(missing):
            out.append(f"design {design} household {household} interval {t.isoformat()}: row missing")
    all_households = set(df["household"].unique())
    for design, g in df.groupby("design", sort=True):
        for h in sorted(all_households - set(g["household"].unique())):
            out.append(f"design {design} household {h}: no rows (other designs have this household)")
    return out


def _physics_checks(df: pd.DataFrame) -> list[str]:
    out: list[str] = []
    for row in df[(df["battery_wh"] != 0) & ~df["design"].map(has_battery)].itertuples():
        out.append(f"{_where(row)}: battery_wh = {row.battery_wh} in a design without battery")
    per_key = df.groupby(["household", "interval_start"], sort=True)
    for c in ("generation_wh", "consumption_wh"):
        spread = per_key[c].agg(["min", "max"])
        bad_keys = spread.index[spread["min"] != spread["max"]]
        if len(bad_keys) == 0:
            continue
        bad = df.set_index(["household", "interval_start"]).loc[bad_keys, ["design", c]].sort_index()
        for (household, t), g in bad.groupby(level=[0, 1], sort=True):
            seen = ", ".join(f"{d}={v}" for d, v in g.itertuples(index=False))
            out.append(f"household {household} interval {t.isoformat()}: {c} differs between designs ({seen})")
    per_interval = df.groupby(["design", "interval_start"], sort=True)
    for c in ("retail_units_per_kwh", "feed_in_units_per_kwh"):
        spread = per_interval[c].agg(["min", "max"])
        for (design, t), r in spread[spread["min"] != spread["max"]].iterrows():
            out.append(
                f"design {design} interval {t.isoformat()}: {c} differs between households ({r['min']}..{r['max']})"
            )
    return out


def _interval_checks(df: pd.DataFrame) -> list[str]:
    sums = df.groupby(["design", "interval_start"], sort=True)[["bought_wh", "sold_wh"]].sum()
    bad = sums[sums["bought_wh"] != sums["sold_wh"]]
    return [
        f"design {design} interval {t.isoformat()}: Σbought_wh {r['bought_wh']} != Σsold_wh {r['sold_wh']}"
        for (design, t), r in bad.iterrows()
    ]


def _community_grid_bill_units(d: pd.DataFrame) -> float:
    per_t = d.groupby("interval_start").agg(
        net=("net_wh", "sum"), retail=("retail_units_per_kwh", "first"), feed_in=("feed_in_units_per_kwh", "first")
    )
    imported = per_t["net"].where(per_t["net"] < 0, 0).abs()
    exported = per_t["net"].where(per_t["net"] > 0, 0)
    return float((imported * per_t["retail"] - exported * per_t["feed_in"]).sum()) / 1000


def _design_checks(df: pd.DataFrame, kpis: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for design in ordered_designs(df["design"].unique()):
        d = df[df["design"] == design]
        k = kpis.get(design)
        if k is None:
            out.append(f"design {design}: missing from kpis")
            continue
        paid, received = int(d["paid_units"].sum()), int(d["received_units"].sum())
        bought = int(d["bought_wh"].sum())
        trades = k.get("rounded_fills")
        if paid < received:
            out.append(f"design {design}: Σpaid {paid} < Σreceived {received} (the venue paid out more than it took)")
        if trades is None:
            if bought > 0:
                out.append(f"design {design}: {bought} Wh traded but run.json has no trade list to bound the rounding")
        else:
            if paid - received > trades:
                out.append(
                    f"design {design}: Σpaid - Σreceived = {paid - received} units, "
                    f"more than one unit per rounded fill ({trades} rounded fills)"
                )
            if k.get("traded_wh") != bought:
                out.append(f"design {design}: run.json's fills add up to {k.get('traded_wh')} Wh, Σbought = {bought}")

        bills = k.get("bill") or {}
        if set(bills) != set(d["household"].unique()):
            out.append(
                f"design {design}: kpis bills cover {len(bills)} households, the rows {d['household'].nunique()}"
            )
        pool = k.get("pool_cost_units")
        if pool is None:
            out.append(f"design {design}: pool_cost_units missing from kpis")
            continue
        lhs = sum(bills.values()) + pool
        rhs = _community_grid_bill_units(d) + (paid - received)
        if abs(lhs - rhs) > IDENTITY_TOLERANCE_UNITS * (len(bills) + 1):
            out.append(
                f"design {design}: Σbill + pool_cost = {lhs:.3f} units != community grid bill + Σ(paid - received) "
                f"= {rhs:.3f} units"
            )
    for design in kpis:
        if design not in set(df["design"].unique()):
            out.append(f"design {design}: in kpis but has no rows")
    return out


def _trade_checks(df: pd.DataFrame, run_meta: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    tariffs = df.groupby(["design", "interval_start"])[["retail_units_per_kwh", "feed_in_units_per_kwh"]].max()
    tz = df["interval_start"].dt.tz
    for design, meta in run_meta.get("designs", {}).items():
        trades = meta.get("trades") or []
        if not trades:
            continue
        t = pd.DataFrame(trades, columns=["interval_start", "price", "amount"])
        t["interval_start"] = pd.to_datetime(t["interval_start"], format="ISO8601", utc=True).dt.tz_convert(tz)
        t["design"] = design
        joined = t.join(tariffs, on=["design", "interval_start"])
        for r in joined[joined["retail_units_per_kwh"].isna()].itertuples():
            out.append(f"design {design} interval {r.interval_start.isoformat()}: a fill in run.json has no rows")
        known = joined.dropna(subset=["retail_units_per_kwh"])
        outside = known[
            (known["price"] < known["feed_in_units_per_kwh"]) | (known["price"] > known["retail_units_per_kwh"])
        ]
        for r in outside.itertuples():
            out.append(
                f"design {design} interval {r.interval_start.isoformat()}: "
                f"fill of {r.amount} Wh at {r.price} units/kWh outside "
                f"[feed-in {int(r.feed_in_units_per_kwh)}, retail {int(r.retail_units_per_kwh)}]"
            )
        for r in t[t["amount"] <= 0].itertuples():
            out.append(f"design {design} interval {r.interval_start.isoformat()}: fill of {r.amount} Wh in run.json")
    return out


def _meta_checks(df: pd.DataFrame, run_meta: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    households = df["household"].nunique()
    if run_meta.get("households") not in (None, households):
        out.append(f"run.json says {run_meta['households']} households, the rows have {households}")
    missing = sorted(set(df["design"].unique()) - set(run_meta.get("designs", {})))
    if missing:
        out.append(f"designs {missing} have rows but no entry in run.json")
    interval_s = run_meta.get("interval_s")
    starts = pd.Series(df["interval_start"].unique()).sort_values()
    steps = starts.diff().dropna().dt.total_seconds()
    if interval_s and len(steps) and (steps % interval_s != 0).any():
        bad = starts.iloc[1:][(steps % interval_s != 0).to_numpy()].iloc[0]
        out.append(
            f"interval {bad.isoformat()}: not a multiple of run.json's interval_s {interval_s} after the previous"
        )
    return out


def check_dataset(df: pd.DataFrame, kpis: Mapping[str, Any], run_meta: Mapping[str, Any] | None = None) -> list[str]:
    """Every violation of the dataset's rules (see the module docstring); empty when all hold.

    With `run_meta` (run.json) also its agreement with the rows (households, designs, interval spacing) and every
    fill of its trade lists: priced within [feed-in, retail] of its interval, positive, in an interval the dataset has.
    """
    if df.empty:
        return ["the dataset has no rows"]
    out = _shape_checks(df) + _row_checks(df) + _physics_checks(df) + _interval_checks(df) + _design_checks(df, kpis)
    return out + (_meta_checks(df, run_meta) + _trade_checks(df, run_meta) if run_meta is not None else [])
