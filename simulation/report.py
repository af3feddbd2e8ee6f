"""A run's report: kpis.json, the PNGs and one self-contained report.html, rebuilt from intervals.csv and run.json.

`write_report(run_dir)` reads `run_dir/intervals.csv` and `run_dir/run.json`, writes `kpis.json` (and the same KPIs
as a Markdown table, `kpis.md`, for the README), the figures of
`simulation.plots` and `report.html` (inline CSS, PNGs embedded as base64 data URIs, so the one file can be mailed or
opened offline on a phone), runs `simulation.checks` and shows its result on the page.

    python -m simulation.report reports/simulation/<run>     # rebuild; exit 1 if a check fails, 2 on bad input
"""

from __future__ import annotations

import argparse
import base64
import html
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.checks import check_dataset
from simulation.dataset import DatasetFormatError, read_intervals, read_run_meta, run_timezone
from simulation.kpis import compute_kpis, write_kpis
from simulation.plots import UNITS_PER_RM, write_plots

MAX_VIOLATIONS_SHOWN = 50

CAPTIONS = {
    "community_energy.png": "Community generation, consumption and exchange with the grid per interval (average kW), "
    "and the deficit EnergyToken recorded as grid import (billed at retail) per design.",
    "local_prices.png": "Local trade prices over the day, between the feed-in and retail tariffs.",
    "bills.png": "Each household's bill against what it would pay with the grid only (no battery, market or banking).",
    "kpis.png": "The KPIs side by side per design.",
}


def _pct(v: Any) -> str:
    return f"{100 * v:.1f} %"


def _signed_pct(v: Any) -> str:
    return f"{v:+.1f} %"


def _rm(v: Any) -> str:
    return f"RM {v / UNITS_PER_RM:,.2f}"


def _price(v: Any) -> str:
    return f"{v / 10_000:.2f} sen/kWh"


def _wh(v: Any) -> str:
    return f"{v / 1000:,.1f} kWh" if abs(v) >= 10_000 else f"{v:,} Wh"


def _int(v: Any) -> str:
    return f"{v:,}"


def _seconds(v: Any) -> str:
    return f"{v:,.1f} s"


# The KPI table: name (as in kpis.json), how to show it, what it means.
KPI_ROWS: tuple[tuple[str, Callable[[Any], str], str], ...] = (
    ("self_sufficiency", _pct, "1 - physical grid import / consumption"),
    ("self_consumption", _pct, "1 - physical grid export / generation"),
    ("local_share", _pct, "share of the households' deficits served from energy tokens (burned)"),
    ("savings_pct", _signed_pct, "households' total bill against their grid-only bills (> 0: they pay less)"),
    ("savings_units", _rm, "Σ grid-only bills - Σ bills: what the households save together"),
    ("households_worse_off", _int, "households paying more than with the grid only"),
    ("bills_total_units", _rm, "Σ household bills (paid - received + grid import at retail - tokens left at feed-in)"),
    ("grid_only_bills_total_units", _rm, "Σ bills with the grid only"),
    ("pool_cost_units", _rm, "community grid bill - grid import billed to households + tokens left at feed-in"),
    ("community_grid_bill_units", _rm, "physical import at retail - physical export at feed-in"),
    ("mean_local_price", _price, "volume-weighted mean price of local fills"),
    ("local_volume_wh", _wh, "energy traded locally"),
    ("peak_import_wh", _wh, "largest community import in one interval"),
    ("battery_net_wh", _wh, "energy left in batteries at the end (not valued in bills)"),
    ("forecast_mape", _pct, "agents' forecast error (mean absolute percentage error)"),
    ("trades", _int, "local fills"),
    ("transactions", _int, "transactions sent to the chain"),
    ("gas_used", _int, "gas of those transactions"),
    ("wall_s", _seconds, "wall-clock time of the design's run"),
)

CSS = """
:root { color-scheme: light; --fg: #1d2430; --muted: #5b6575; --line: #d8dde6; --ok: #13795b; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1rem; font: 16px/1.45 system-ui, -apple-system, "Segoe UI",
       Roboto, sans-serif; color: var(--fg); }
h1 { font-size: 1.45rem; margin: .2rem 0 .4rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
p.lead { color: var(--muted); margin-top: 0; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .9rem; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
thead th { background: #f3f5f8; position: sticky; top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; }
.card td.what { color: var(--muted); font-size: .8rem; }
figure { margin: 1.2rem 0; } figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
ul.violations { font-family: ui-monospace, monospace; font-size: .8rem; overflow-wrap: anywhere; }
details summary { cursor: pointer; margin: .5rem 0; }
"""


@dataclass(frozen=True)
class Report:
    html: Path
    kpis_json: Path
    plots: list[Path]
    kpis: dict[str, dict[str, Any]]
    violations: list[str]


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _show(fmt: Callable[[Any], str], value: Any) -> str:
    return "n/a" if value is None else fmt(value)


def kpi_markdown(kpis: Mapping[str, Mapping[str, Any]]) -> str:
    """The KPI comparison as a Markdown table (for the README and closing notes): KPIs down, designs across."""
    designs = list(kpis)
    lines = ["| KPI | " + " | ".join(designs) + " |", "|---|" + "---:|" * len(designs)]
    for name, fmt, _ in KPI_ROWS:
        lines.append(f"| `{name}` | " + " | ".join(_show(fmt, kpis[d].get(name)) for d in designs) + " |")
    return "\n".join(lines) + "\n"


GLANCE = (
    ("savings_pct", "highest savings", _signed_pct, max),
    ("self_sufficiency", "highest self-sufficiency", _pct, max),
    ("local_share", "highest local share", _pct, max),
    ("community_grid_bill_units", "lowest community grid bill (Σ bills + pool cost, rounding aside)", _rm, min),
    ("peak_import_wh", "lowest peak import", _wh, min),
    ("households_worse_off", "fewest households worse off", _int, min),
)

NOTES = (
    "Bills value the energy tokens a household holds at the end at feed-in, but not energy left in its battery "
    "(battery_net_wh): over a short run a battery owner can look worse off for energy it still has. "
    "pool_cost_units is what the community's grid account costs beyond what households paid for recorded grid "
    "import: tokens banked across intervals are energy the pool exported at feed-in and later delivered, so a "
    "negative value means the pool earned (households paid retail for energy a neighbour exported). "
    "Without batteries every design has the same physical flows and so the same community grid bill: "
    "what a market saves households beyond that is paid by the pool."
)


def _at_a_glance(kpis: Mapping[str, Mapping[str, Any]]) -> str:
    items = []
    for name, label, fmt, pick in GLANCE:
        values = {d: k.get(name) for d, k in kpis.items() if k.get(name) is not None}
        if not values:
            continue
        best = pick(values.values())
        winners = [d for d, v in values.items() if v == best]
        items.append(f"<li>{_esc(label)}: <strong>{_esc(', '.join(winners))}</strong> ({_esc(fmt(best))})</li>")
    return f"<ul>{''.join(items)}</ul>"


def _comparison_table(kpis: Mapping[str, Mapping[str, Any]]) -> str:
    designs = list(kpis)
    head = "".join(f'<th class="num">{_esc(d)}</th>' for d in designs)
    body = []
    for name, fmt, _ in KPI_ROWS:
        cells = "".join(f'<td class="num">{_esc(_show(fmt, kpis[d].get(name)))}</td>' for d in designs)
        body.append(f"<tr><th><code>{_esc(name)}</code></th>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr><th>KPI</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _design_cards(kpis: Mapping[str, Mapping[str, Any]]) -> str:
    cards = []
    for design, k in kpis.items():
        rows = "".join(
            f'<tr><td><code>{_esc(name)}</code><br><span class="what">{_esc(what)}</span></td>'
            f'<td class="num">{_esc(_show(fmt, k.get(name)))}</td></tr>'
            for name, fmt, what in KPI_ROWS
        )
        cards.append(f'<div class="card"><h3>{_esc(design)}</h3><table><tbody>{rows}</tbody></table></div>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _bills_table(kpis: Mapping[str, Mapping[str, Any]]) -> str:
    designs = list(kpis)
    households = sorted({h for k in kpis.values() for h in k.get("bill", {})})
    grid_only = next((k["grid_only_bill"] for k in kpis.values() if k.get("grid_only_bill")), {})
    head = '<th class="num">grid only</th>' + "".join(f'<th class="num">{_esc(d)}</th>' for d in designs)
    rows = []
    for h in households:
        cells = "".join(f'<td class="num">{_esc(_show(_rm, kpis[d].get("bill", {}).get(h)))}</td>' for d in designs)
        rows.append(f'<tr><th>{_esc(h)}</th><td class="num">{_esc(_show(_rm, grid_only.get(h)))}</td>{cells}</tr>')
    return (
        f"<details><summary>Bill per household ({len(households)} households)</summary>"
        f'<div class="scroll"><table><thead><tr><th>household</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></details>"
    )


def _parameters_table(meta: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in meta.items() if k != "designs")
    design_rows = []
    for name, d in meta.get("designs", {}).items():
        extra = {
            k: v for k, v in d.items() if k not in ("transactions", "gas_used", "wall_s", "forecast_mape", "trades")
        }
        design_rows.append(
            f"<tr><th>{_esc(name)}</th><td class='num'>{_esc(_show(_int, d.get('transactions')))}</td>"
            f"<td class='num'>{_esc(_show(_int, d.get('gas_used')))}</td>"
            f"<td class='num'>{_esc(_show(_seconds, d.get('wall_s')))}</td>"
            f"<td class='num'>{len(d.get('trades') or [])}</td>"
            f"<td>{_esc(', '.join(f'{k}={v}' for k, v in extra.items()))}</td></tr>"
        )
    return (
        f'<div class="scroll"><table><tbody>{rows}</tbody></table></div>'
        '<h3 style="margin-top:1rem">Per design</h3><div class="scroll"><table><thead><tr><th>design</th>'
        '<th class="num">transactions</th><th class="num">gas</th><th class="num">wall</th><th class="num">fills</th>'
        f"<th>other</th></tr></thead><tbody>{''.join(design_rows)}</tbody></table></div>"
    )


def _checks_section(violations: Sequence[str], rows: int) -> str:
    if not violations:
        return f'<p class="ok">All dataset checks pass ({rows:,} rows).</p>'
    shown = "".join(f"<li>{_esc(v)}</li>" for v in violations[:MAX_VIOLATIONS_SHOWN])
    more = len(violations) - MAX_VIOLATIONS_SHOWN
    tail = f"<p>… and {more:,} more.</p>" if more > 0 else ""
    return f'<p class="bad">{len(violations):,} check violations.</p><ul class="violations">{shown}</ul>{tail}'


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = CAPTIONS.get(path.name, path.stem)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(caption)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def render_html(
    title: str,
    meta: Mapping[str, Any],
    kpis: Mapping[str, Mapping[str, Any]],
    plots: Sequence[Path],
    violations: Sequence[str],
    rows: int,
) -> str:
    summary = (
        f"{meta.get('households')} households, {meta.get('days')} day(s), {meta.get('interval_s')} s intervals, "
        f"seed {meta.get('seed')}, {len(kpis)} designs: {', '.join(kpis)}."
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{_esc(title)}</h1>
<p class="lead">{_esc(summary)}</p>
<h2>Checks</h2>
{_checks_section(violations, rows)}
<h2>KPIs by design</h2>
{_at_a_glance(kpis)}
{_comparison_table(kpis)}
<p class="lead">{_esc(NOTES)}</p>
<h2>Figures</h2>
{"".join(_figure(p) for p in plots)}
<h2>KPI table per design</h2>
{_design_cards(kpis)}
{_bills_table(kpis)}
<h2>Run parameters</h2>
{_parameters_table(meta)}
<p class="lead">Money in settlement units (1 000 000 = RM 1), prices in sen/kWh, energy in Wh or kWh.
Definitions: docs/simulation.md and simulation/kpis.py.</p>
</body>
</html>
"""


def write_report(run_dir: str | Path) -> Report:
    """Rebuild kpis.json, the PNGs and report.html in run_dir from its intervals.csv and run.json."""
    run_dir = Path(run_dir)
    for name in ("intervals.csv", "run.json"):
        if not (run_dir / name).is_file():
            raise DatasetFormatError(f"{run_dir / name} is missing: is {run_dir} a simulation run folder?")
    meta = read_run_meta(run_dir / "run.json")
    df = read_intervals(run_dir / "intervals.csv", tz=run_timezone(meta))
    kpis = compute_kpis(df, meta)
    kpis_json = write_kpis(run_dir / "kpis.json", kpis)
    (run_dir / "kpis.md").write_text(kpi_markdown(kpis), encoding="utf-8")
    violations = check_dataset(df, kpis, meta)
    plots = write_plots(df, kpis, run_dir, meta)
    page = render_html(f"Community simulation {run_dir.name}", meta, kpis, plots, violations, len(df))
    out = run_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return Report(out, kpis_json, plots, kpis, violations)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulation.report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run folder holding intervals.csv and run.json")
    args = parser.parse_args(argv)
    try:
        report = write_report(args.run_dir)
    except (DatasetFormatError, OSError) as e:
        print(f"simulation.report: {e}", file=sys.stderr)
        return 2
    print(report.html)
    if report.violations:
        print(f"{len(report.violations)} check violations, first: {report.violations[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
