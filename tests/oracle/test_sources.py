"""Sources: replay CSV, simulated community (pvlib + demandlib), the catch-up clock, config loading."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from energy_chain.config import PROJECT_ROOT
from meter_oracle.config import load_config
from meter_oracle.sources.base import CatchUpClock
from meter_oracle.sources.replay import ReplaySource, load_csv
from meter_oracle.sources.simulated import (
    SimulatedSource,
    load_community,
    load_profile_day,
    noon_of,
)
from meter_oracle.validation import MeterState

DEMO = PROJECT_ROOT / "meter_oracle" / "config" / "demo-community.json"
TZ = "Asia/Kuala_Lumpur"


def test_replay_reads_rows_up_to_each_boundary_once(tmp_path):
    csv = tmp_path / "r.csv"
    csv.write_text(
        "timestamp,serial,export_wh,import_wh\n120,A,10,5\n60,A,0,0\n2026-01-01T00:03:00Z,A,20,9\n180,B,1,1\n"
    )
    rows = load_csv(csv)
    assert [r.boundary for r in rows][:2] == [60, 120]
    src = ReplaySource(csv)
    assert [(s.boundary, s.positive_wh) for s in src.read(120)] == [(60, 0), (120, 10)]
    assert src.read(120) == []
    assert [s.serial for s in src.read(180)] == ["B"]
    shifted = ReplaySource(csv, shift_s=600)
    shifted.seek(600 + 60)  # already read before a restart
    assert [s.boundary for s in shifted.read(600 + 120)] == [720]


def test_replay_rejects_a_file_without_counters(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,serial,watts\n60,A,5\n")
    with pytest.raises(ValueError, match="need columns"):
        load_csv(csv)


def test_catch_up_clock_runs_fast_then_follows_the_wall():
    wall = [1000.0]
    clock = CatchUpClock(start=400.0, speed=10.0, wall=lambda: wall[0])
    assert clock.now() == 400.0
    wall[0] = 1030.0
    assert clock.now() == 700.0 and not clock.caught_up()
    assert clock.wall_seconds_until(800.0) == pytest.approx(10.0)
    wall[0] = 1100.0
    assert clock.now() == 1100.0 and clock.caught_up()  # never ahead of the wall clock


def test_demo_community_file():
    c = load_community(DEMO)
    assert 6 <= len(c.households) <= 10
    assert {h.kind for h in c.households} == {"prosumer", "consumer"}
    assert c.interval_s == 60 and "Selangor" in c.location.name


def test_demandlib_profile_works_offline():
    values = load_profile_day("H25", date(2026, 3, 4), TZ)
    assert values.shape == (96,)
    # demandlib's own scale: kW for 1 GWh/year, so the mean over a day is near 1e6/8760 = 114 kW
    assert 50 < values.mean() < 250
    assert values[19 * 4 : 21 * 4].mean() > values[3 * 4 : 5 * 4].mean()  # evening above the small hours


def test_simulated_community_is_believable():
    c = load_community(DEMO)
    src = SimulatedSource(c)
    day = date(2026, 3, 4)

    def deltas(t0: int) -> dict[str, tuple[int, int]]:
        first = {s.serial: s for s in src.read(t0)}
        later = {s.serial: s for s in src.read(t0 + 3600)}
        return {
            k: (later[k].positive_wh - first[k].positive_wh, later[k].negative_wh - first[k].negative_wh) for k in first
        }

    noon = deltas(noon_of(day, TZ))
    night = deltas(noon_of(day, TZ) + 11 * 3600)  # 23:00 local
    prosumers = [h for h in c.households if h.kind == "prosumer"]
    consumers = [h for h in c.households if h.kind == "consumer"]
    for h in prosumers:
        gen, use = noon[h.serial]
        assert 0.25 * h.pv_kwp * 1000 < gen < 1.0 * h.pv_kwp * 1000  # Wh in the noon hour
        assert gen > use
        assert night[h.serial][0] == 0  # no sun at 23:00
    for h in consumers:
        assert noon[h.serial][0] == 0 and noon[h.serial][1] > 0
    yearly = np.mean([night[h.serial][1] + noon[h.serial][1] for h in consumers]) * 12 * 365 / 1000
    assert 500 < yearly < 30_000  # kWh/year of the right order


def test_simulation_is_reproducible_and_resumes_from_saved_counters():
    c = load_community(DEMO)
    t = noon_of(date(2026, 3, 4), TZ)
    a, b = SimulatedSource(c), SimulatedSource(c)
    assert a.read(t) == b.read(t) and a.read(t + 60) == b.read(t + 60)
    resumed = SimulatedSource(c)
    resumed.restore({s.serial: MeterState(s.boundary, s.positive_wh, s.negative_wh) for s in a.read(t + 120)})
    after = {s.serial: s for s in resumed.read(t + 180)}
    before = {s.serial: s for s in b.read(t + 120)}
    assert all(after[k].positive_wh >= before[k].positive_wh for k in after)


def test_config_precedence_and_secret_refusal(tmp_path: Path):
    f = tmp_path / "o.toml"
    f.write_text('[oracle]\ninterval_s = 30\nmetrics_port = 1\n[source]\nkind = "replay"\nreplay_csv = "r.csv"\n')
    cfg = load_config(f, {"ORACLE_METRICS_PORT": "2", "RPC_URL": "http://x:1"}, {"oracle": {"metrics_port": None}})
    assert (cfg.interval_s, cfg.metrics_port, cfg.chain.rpc_url) == (30, 2, "http://x:1")
    assert cfg.source.replay_csv == tmp_path / "r.csv"
    cfg = load_config(f, {"ORACLE_METRICS_PORT": "2"}, {"oracle": {"metrics_port": 3}})
    assert cfg.metrics_port == 3
    f.write_text('[oracle]\nprivate_key = "0x01"\n')
    with pytest.raises(ValueError, match="secret"):
        load_config(f, {})
    example = PROJECT_ROOT / "meter_oracle" / "config" / "oracle.modbus.example.toml"
    assert load_config(example, {}).source.kind == "modbus"


def test_example_recording_replays():
    rows = load_csv(PROJECT_ROOT / "meter_oracle" / "config" / "example-recording.csv")
    assert len({r.serial for r in rows}) == 3 and len(rows) == 3 * 121
    assert all(r.boundary % 60 == 0 for r in rows)
