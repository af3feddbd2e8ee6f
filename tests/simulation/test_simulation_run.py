"""A 10-household, 8-interval simulation of every design (direct included): the dataset passes the report's checks,
agrees with the chain's own events (readings, token mints and burns, trades, final balances), and the same seed
repeats it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from energy_chain.events import EventDecoder
from energy_chain.meters import meter_id
from household_model import generate_community
from simulation.checks import check_dataset
from simulation.dataset import read_intervals, read_run_meta
from simulation.design import DesignRun
from simulation.kpis import compute_kpis
from simulation.run import run
from simulation.spec import ALL_DESIGNS, RunSpec

ZERO = "0x0000000000000000000000000000000000000000"
DESIGNS = (*ALL_DESIGNS, "direct")


def spec(seed: int = 11) -> RunSpec:
    return RunSpec(generate_community(10, seed, 900), days=1, interval_s=900, seed=seed, intervals=8, start_hour=11)


def chain_totals(runner: DesignRun, client: Any, chain: Any) -> dict[str, dict[str, int]]:
    """Per household, what the chain's events of the run say (read independently of the simulator's bookkeeping)."""
    names = {s.address.lower(): h.name for s, h in zip(runner.signers, runner.spec.community.households, strict=True)}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sources = [client.contract("EnergyToken")]
    if runner.venue_name == "order-book":
        sources.append(client.contract("OrderBook"))
    if runner.venue_name == "auction":
        sources.append(client.contract("DoubleAuction"))
    if runner.venue_name == "direct":
        sources.append(client.contract("OfferSettlement"))
    for contract in sources:
        decoder = EventDecoder(contract.abi, contract.address)
        for log in chain.logs(chain.blocks, contract.address):
            e = decoder.decode_log(log)
            if e is None:
                continue
            a = e.args
            if e.name == "ReadingRecorded":
                t = totals[names[a["owner"].lower()]]
                t["minted_wh"] += a["mintedWh"]
                t["burned_wh"] += a["burnedWh"]
                t["grid_import_wh"] += a["gridWh"]
            elif e.name == "Transfer" and a["from"] == ZERO:
                totals[names[a["to"].lower()]]["mint_transfers"] += a["value"]
            elif e.name == "Transfer" and a["to"] == ZERO:
                totals[names[a["from"].lower()]]["burn_transfers"] += a["value"]
            elif e.name == "OrderFilled":
                buyer, seller = (a["taker"], a["maker"]) if a["takerSide"] == 0 else (a["maker"], a["taker"])
                totals[names[buyer.lower()]]["bought_wh"] += a["amount"]
                totals[names[buyer.lower()]]["paid_units"] += a["cost"]
                totals[names[seller.lower()]]["sold_wh"] += a["amount"]
                totals[names[seller.lower()]]["received_units"] += a["cost"]
            elif e.name == "OfferFilled":
                totals[names[a["buyer"].lower()]]["bought_wh"] += a["amountWh"]
                totals[names[a["buyer"].lower()]]["paid_units"] += a["cost"]
                totals[names[a["seller"].lower()]]["sold_wh"] += a["amountWh"]
                totals[names[a["seller"].lower()]]["received_units"] += a["cost"]
            elif e.name == "OrderClaimed":
                t = totals[names[a["owner"].lower()]]
                side = ("bought_wh", "paid_units") if a["side"] == 0 else ("sold_wh", "received_units")
                t[side[0]] += a["fillWh"]
                t[side[1]] += a["money"]
    energy = client.contract("EnergyToken")
    for s in runner.signers:
        totals[names[s.address.lower()]]["final_balance"] = energy.functions.balanceOf(s.address).call()
    return {h: dict(v) for h, v in totals.items()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "run"
    seen: dict[str, Any] = {}

    def inspect(r: DesignRun, c: Any, ch: Any) -> None:
        seen[r.design] = chain_totals(r, c, ch)
        registry = c.contract("MeterRegistry")
        meters = [meter_id(h.serial) for h in r.spec.community.households]
        start = r.spec.start_ts
        seen.setdefault("_periods", {})[r.design] = [
            (*registry.functions.periodOf(m).call(), registry.functions.ownerForReading(m, start).call()[1],
             registry.functions.ownerForReading(m, start + 1).call()[1]) for m in meters
        ]  # fmt: skip

    run(spec(), DESIGNS, out, report=False, quiet=True, inspect=inspect)
    return out, seen


def test_dataset_passes_the_report_checks(first_run):
    out, _ = first_run
    df, meta = read_intervals(out / "intervals.csv"), read_run_meta(out / "run.json")
    assert set(meta["designs"]) == set(DESIGNS)
    assert len(df) == len(DESIGNS) * 10 * 8
    assert check_dataset(df, compute_kpis(df, meta), meta) == []
    market = df[df.design.isin(["order-book", "auction", "direct"])]
    assert market.bought_wh.sum() > 0 and market.burned_wh.sum() > 0  # agents traded and the oracle delivered


def test_dataset_agrees_with_the_chain_events(first_run):
    out, seen = first_run
    df = read_intervals(out / "intervals.csv")
    for design in DESIGNS:
        rows = df[df.design == design].sort_values("interval_start")
        for household, g in rows.groupby("household"):
            chain = seen[design].get(household, {})
            for column in ("minted_wh", "burned_wh", "grid_import_wh", "bought_wh", "sold_wh", "paid_units",
                           "received_units"):  # fmt: skip
                assert int(g[column].sum()) == chain.get(column, 0), (design, household, column)
            assert chain.get("mint_transfers", 0) == int(g.minted_wh.sum())
            assert chain.get("burn_transfers", 0) == int(g.burned_wh.sum())
            assert chain["final_balance"] == int(g.token_balance_wh.iloc[-1]), (design, household)


def test_meters_carry_the_interval_and_refuse_a_plus_one_second_re_report(first_run):
    """Issue 15, item F: the simulator registers its meters with the simulated interval (900 s) from the set-up
    block on; the registry accepts each interval's start and refuses the same interval re-reported at +1 s."""
    _, seen = first_run
    for design, meters in seen["_periods"].items():
        for period, first, at_start, at_plus_one in meters:
            assert period == 900 and first % 900 == 0 and first <= spec().start_ts, design
            assert (at_start, at_plus_one) == (0, 2), design  # ReadingCheck Ok, Misaligned


def test_same_seed_same_results(first_run, tmp_path):
    out, _ = first_run
    again = tmp_path / "again"
    run(spec(), ["order-book", "auction+battery"], again, report=False, quiet=True)
    a, b = read_intervals(out / "intervals.csv"), read_intervals(again / "intervals.csv")
    a = a[a.design.isin(["order-book", "auction+battery"])].reset_index(drop=True)
    assert a.equals(b.reset_index(drop=True))
    trades_a = read_run_meta(out / "run.json")["designs"]["order-book"]["trades"]
    assert trades_a == read_run_meta(again / "run.json")["designs"]["order-book"]["trades"]
