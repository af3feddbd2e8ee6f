"""The report's figures (PNG), drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state).

`write_plots(df, kpis, out_dir, run_meta=None)` writes, and returns the paths of:
- `community_energy.png`: community generation, consumption and physical grid exchange per interval (average kW),
  and the grid import EnergyToken recorded (billed at retail) per design;
- `local_prices.png`: local trade prices over the day per design, between the feed-in and retail tariffs;
- `bills.png`: each household's bill against its grid-only bill, one panel per design;
- `kpis.png`: the KPIs side by side per design.
Times are local wall-clock time of the run's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulation.dataset import base_design, has_battery, ordered_designs

DPI = 110
UNITS_PER_RM = 1_000_000
BASE_COLORS = {"grid-only": "#6b6b6b", "order-book": "#1f77b4", "auction": "#ff7f0e", "direct": "#2ca02c"}
FALLBACK_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
FILES = ("community_energy.png", "local_prices.png", "bills.png", "kpis.png")


def design_color(design: str) -> str:
    base = base_design(design)
    if base in BASE_COLORS:
        return BASE_COLORS[base]
    return FALLBACK_COLORS[sum(map(ord, base)) % len(FALLBACK_COLORS)]


def _line_style(design: str) -> dict[str, Any]:
    return {"color": design_color(design), "linestyle": "--" if has_battery(design) else "-", "label": design}


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _local_times(times: pd.Series | pd.Index) -> pd.DatetimeIndex:
    """Wall-clock local times (tz dropped) so the axis reads as the community's clock."""
    idx = pd.DatetimeIndex(times)
    return idx.tz_localize(None) if idx.tz is not None else idx


def _interval_hours(df: pd.DataFrame, run_meta: Mapping[str, Any] | None) -> float:
    if run_meta and run_meta.get("interval_s"):
        return float(run_meta["interval_s"]) / 3600
    step = pd.Series(df["interval_start"].unique()).sort_values().diff().min()
    return 0.25 if pd.isna(step) else float(step / pd.Timedelta(hours=1))


def _edges(index: pd.Index, values: pd.Series, hours: float) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Step-plot points that also draw the last interval: its end is appended with the last value repeated."""
    t = _local_times(index)
    if len(t) == 0:
        return t, np.array([])
    t = t.append(pd.DatetimeIndex([t[-1] + pd.Timedelta(hours=hours)]))
    v = values.to_numpy(dtype=float)
    return t, np.append(v, v[-1])


def _time_axis(ax: Axes, tz_name: str) -> None:
    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel(f"local time ({tz_name})")


def _tz_name(df: pd.DataFrame) -> str:
    tz = getattr(df["interval_start"].dt, "tz", None)
    return str(tz) if tz is not None else "local"


def plot_community_energy(df: pd.DataFrame, path: Path, run_meta: Mapping[str, Any] | None = None) -> Path:
    designs = ordered_designs(df["design"].unique())
    hours = _interval_hours(df, run_meta)
    to_kw = 1 / (hours * 1000)
    fig = Figure(figsize=(9, 7.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)

    # Generation and consumption are the same in every design; physical exchange differs only with batteries, and
    # every design without battery has the same exchange, so one line stands for them.
    ref = next((d for d in designs if not has_battery(d)), designs[0])
    g = (
        df[df["design"] == ref]
        .groupby("interval_start")
        .agg(gen=("generation_wh", "sum"), con=("consumption_wh", "sum"))
    )
    top.fill_between(
        *_edges(g.index, g["gen"] * to_kw, hours), step="post", color="#f2c12e", alpha=0.45, label="generation"
    )
    top.step(
        *_edges(g.index, g["con"] * to_kw, hours), where="post", color="#333333", linewidth=1.6, label="consumption"
    )
    physical = [ref] + [d for d in designs if has_battery(d)]
    for d in physical:
        net = df[df["design"] == d].groupby("interval_start")["net_wh"].sum()
        style = _line_style(d)
        style["label"] = "grid exchange, no battery" if d == ref and not has_battery(d) else f"grid exchange, {d}"
        top.step(*_edges(net.index, -net * to_kw, hours), where="post", linewidth=1.3, **style)
    top.axhline(0, color="black", linewidth=0.6)
    top.set_ylabel("community power (kW)")
    top.set_title("Community generation, consumption and grid exchange (import > 0, export < 0)")
    top.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.04))
    top.grid(alpha=0.3)

    for i, d in enumerate(designs):
        grid = df[df["design"] == d].groupby("interval_start")["grid_import_wh"].sum()
        # Thinner lines for later designs, so one drawn over an identical earlier one leaves it visible.
        width = max(0.8, 2.8 - 0.35 * i)
        bottom.step(*_edges(grid.index, grid * to_kw, hours), where="post", linewidth=width, **_line_style(d))
    bottom.set_ylabel("recorded grid import (kW)")
    bottom.set_title("Deficit EnergyToken recorded as grid import (not covered by tokens), billed at retail")
    bottom.legend(fontsize=8, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    bottom.grid(alpha=0.3)
    _time_axis(bottom, _tz_name(df))
    return _save(fig, path)


def _trades_frame(df: pd.DataFrame, run_meta: Mapping[str, Any] | None) -> pd.DataFrame:
    """Local fills as (design, time, price, amount): run.json's trade lists, else per-interval average prices."""
    frames = []
    meta_designs = (run_meta or {}).get("designs", {})
    tz = df["interval_start"].dt.tz
    for d in ordered_designs(df["design"].unique()):
        trades = meta_designs.get(d, {}).get("trades")
        if trades:
            t = pd.DataFrame(trades, columns=["time", "price", "amount"])
            t["time"] = pd.to_datetime(t["time"], format="ISO8601", utc=True).dt.tz_convert(tz)
        else:
            rows = df[(df["design"] == d) & (df["bought_wh"] > 0)]
            sums = rows.groupby("interval_start")[["paid_units", "bought_wh"]].sum()
            if sums.empty:
                continue
            t = pd.DataFrame(
                {
                    "time": sums.index,
                    "price": 1000 * sums["paid_units"] / sums["bought_wh"],
                    "amount": sums["bought_wh"],
                }
            )
        t["design"] = d
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=["time", "price", "amount", "design"])
    return pd.concat(frames, ignore_index=True)


def _hour_of_day(times: pd.Series) -> np.ndarray:
    local = times.dt.tz_localize(None) if times.dt.tz is not None else times
    return (local.dt.hour + local.dt.minute / 60 + local.dt.second / 3600).to_numpy()


def plot_local_prices(df: pd.DataFrame, path: Path, run_meta: Mapping[str, Any] | None = None) -> Path:
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    sen = 1 / 10_000  # units/kWh -> sen/kWh
    tariffs = df.groupby("interval_start")[["retail_units_per_kwh", "feed_in_units_per_kwh"]].max()
    if not tariffs.empty:
        hod = pd.DataFrame(
            {
                "h": _hour_of_day(tariffs.index.to_series()),
                "retail": tariffs["retail_units_per_kwh"].to_numpy(),
                "feed_in": tariffs["feed_in_units_per_kwh"].to_numpy(),
            }
        )
        by_h = hod.groupby("h").max().sort_index()
        # Draw each tariff over the hours the run covers (a partial day stops where its last interval ends).
        end = min(24.0, float(by_h.index[-1]) + _interval_hours(df, run_meta))
        h = np.append(by_h.index.to_numpy(), end)
        for col, color, label in (("retail", "#d62728", "retail"), ("feed_in", "#2ca02c", "feed-in")):
            v = by_h[col].to_numpy(dtype=float)
            ax.step(h, np.append(v, v[-1]) * sen, where="post", color=color, label=label)
    trades = _trades_frame(df, run_meta)
    for d, t in trades.groupby("design", sort=False):
        hours = _hour_of_day(t["time"])
        ax.scatter(hours, t["price"] * sen, s=10, alpha=0.35, color=design_color(str(d)), edgecolors="none")
        vw = (
            pd.DataFrame({"h": hours, "pv": t["price"] * t["amount"], "a": t["amount"]}).groupby("h").sum().sort_index()
        )
        vw = vw[vw["a"] > 0]
        ax.plot(vw.index, vw["pv"] / vw["a"] * sen, marker="o", markersize=3, linewidth=1.3, **_line_style(str(d)))
    if trades.empty:
        ax.text(0.5, 0.5, "no local trades in this run", transform=ax.transAxes, ha="center", va="center")
    # A whole day reads 0-24 h; a shorter run is shown over the hours it covers.
    covered = _hour_of_day(df["interval_start"].drop_duplicates())
    lo = float(np.floor(covered.min())) if len(covered) else 0.0
    hi = float(np.ceil(covered.max() + _interval_hours(df, run_meta))) if len(covered) else 24.0
    if hi - lo >= 20:
        lo, hi = 0.0, 24.0
        ax.set_xticks(range(0, 25, 3))
    ax.set_xlim(lo, min(hi, 24.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda h, _: f"{int(h):02d}:{round(h % 1 * 60) % 60:02d}"))
    ax.set_xlabel(f"time of day ({_tz_name(df)})")
    ax.set_ylabel("price (sen/kWh)")
    ax.set_title("Local trade prices over the day (dots: fills; lines: volume-weighted mean per interval)")
    fig.legend(fontsize=8, ncols=4, loc="outside lower center")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_bills(kpis: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    designs = list(kpis)
    ncols = 2 if len(designs) > 1 else 1
    nrows = max(1, -(-len(designs) // ncols))
    fig = Figure(figsize=(9, 3.4 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    everything = [v for k in kpis.values() for key in ("bill", "grid_only_bill") for v in k.get(key, {}).values()]
    lo, hi = (min(everything) / UNITS_PER_RM, max(everything) / UNITS_PER_RM) if everything else (0.0, 1.0)
    pad = 0.05 * (hi - lo or 1)
    for ax, d in zip(axes, designs, strict=False):
        k = kpis[d]
        households = sorted(k.get("bill", {}))
        x = np.array([k["grid_only_bill"][h] for h in households]) / UNITS_PER_RM
        y = np.array([k["bill"][h] for h in households]) / UNITS_PER_RM
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", linewidth=0.8, label="same as grid-only")
        worse = y - x > 1 / UNITS_PER_RM
        ax.scatter(x[~worse], y[~worse], s=14, color=design_color(d), alpha=0.75, label="pays less or same")
        if worse.any():
            ax.scatter(x[worse], y[worse], s=22, color="#d62728", marker="x", label="worse off")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        savings = k.get("savings_pct")
        savings_text = "n/a" if savings is None else f"{savings:+.1f} %"
        ax.set_title(f"{d}: savings {savings_text}, worse off {k.get('households_worse_off', 0)}", fontsize=10)
        ax.set_xlabel("grid-only bill (RM)", fontsize=9)
        ax.set_ylabel("bill (RM)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes[len(designs) :]:
        ax.set_visible(False)
    fig.suptitle("Bill per household against its grid-only bill (below the line: the household saves)")
    return _save(fig, path)


def _bars(ax: Axes, designs: list[str], values: list[float | None], fmt: str) -> None:
    xs = np.arange(len(designs))
    heights = [0.0 if v is None else float(v) for v in values]
    bars = ax.bar(
        xs,
        heights,
        color=[design_color(d) for d in designs],
        hatch=["//" if has_battery(d) else "" for d in designs],
        edgecolor="white",
    )
    for bar, v in zip(bars, values, strict=True):
        label = "n/a" if v is None else fmt.format(v)
        ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom" if bar.get_height() >= 0 else "top",
            fontsize=7,
        )
    ax.set_xticks(xs, designs, rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)


def plot_kpis(kpis: Mapping[str, Mapping[str, Any]], path: Path) -> Path:
    designs = list(kpis)
    fig = Figure(figsize=(9, 8), layout="constrained")
    (a, b), (c, e) = fig.subplots(2, 2)
    names = ("self_sufficiency", "self_consumption", "local_share")
    width = 0.8 / len(names)
    xs = np.arange(len(designs))
    for i, name in enumerate(names):
        vals = [kpis[d].get(name) for d in designs]
        a.bar(
            xs + (i - 1) * width,
            [0 if v is None else 100 * v for v in vals],
            width,
            label=name,
            color=("#f2c12e", "#1f77b4", "#2ca02c")[i],
        )
    a.set_xticks(xs, designs, rotation=30, ha="right", fontsize=8)
    a.set_ylim(0, 105)
    a.set_ylabel("%")
    a.set_title("Self-sufficiency, self-consumption, local share", fontsize=10)
    a.legend(fontsize=7, loc="upper left")
    a.grid(axis="y", alpha=0.3)

    _bars(b, designs, [kpis[d].get("savings_pct") for d in designs], "{:+.1f} %")
    b.set_ylabel("%")
    b.set_title("savings_pct: households' bills vs grid-only", fontsize=10)
    _bars(c, designs, [kpis[d].get("peak_import_wh") for d in designs], "{:,.0f}")
    c.set_ylabel("Wh in one interval")
    c.set_title("peak_import_wh: largest community import", fontsize=10)
    pool = [kpis[d].get("pool_cost_units") for d in designs]
    _bars(e, designs, [None if v is None else v / UNITS_PER_RM for v in pool], "RM {:,.2f}")
    e.set_ylabel("RM")
    e.set_title("pool_cost_units: what the pool's grid account costs", fontsize=10)
    fig.suptitle("KPIs per design (hatched: with batteries)")
    return _save(fig, path)


def write_plots(
    df: pd.DataFrame,
    kpis: Mapping[str, Mapping[str, Any]],
    out_dir: str | Path,
    run_meta: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the four PNGs into out_dir (created if missing); returns their paths in report order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = dict(zip(("energy", "prices", "bills", "kpis"), FILES, strict=True))
    return [
        plot_community_energy(df, out / names["energy"], run_meta),
        plot_local_prices(df, out / names["prices"], run_meta),
        plot_bills(kpis, out / names["bills"]),
        plot_kpis(kpis, out / names["kpis"]),
    ]
