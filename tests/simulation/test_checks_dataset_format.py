"""The intervals.csv / run.json format (simulation.dataset): what the writer accepts and every clear refusal."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simulation.dataset import (
    COLUMNS,
    DTYPES,
    DatasetFormatError,
    IntervalWriter,
    base_design,
    has_battery,
    ordered_designs,
    read_intervals,
    read_run_meta,
    validate_run_meta,
    write_intervals,
    write_run_meta,
)
from tests.simulation.test_kpis import RUN_META, community_rows

KL = ZoneInfo("Asia/Kuala_Lumpur")


def row(**overrides: Any) -> dict[str, Any]:
    r = dict(community_rows()[0])
    r.update(overrides)
    return r


def test_columns_are_the_issues_in_order() -> None:
    assert ",".join(COLUMNS) == (
        "design,household,interval_start,generation_wh,consumption_wh,battery_wh,net_wh,minted_wh,burned_wh,"
        "grid_import_wh,bought_wh,sold_wh,token_balance_wh,paid_units,received_units,retail_units_per_kwh,"
        "feed_in_units_per_kwh"
    )


def test_round_trip_keeps_values_and_dtypes(tmp_path: Path) -> None:
    rows = community_rows()
    assert write_intervals(tmp_path / "i.csv", rows) == len(rows)
    df = read_intervals(tmp_path / "i.csv")
    assert list(df.columns) == list(COLUMNS)
    for c, dtype in DTYPES.items():
        assert str(df[c].dtype) == dtype, c
    assert str(df["interval_start"].dt.tz) == "Asia/Kuala_Lumpur"
    assert df.iloc[2]["interval_start"] == datetime(2026, 6, 1, 12, 0, tzinfo=KL)
    assert [int(v) for v in df.iloc[8][list(COLUMNS[3:])]] == [*rows[8].values()][3:]


def test_interval_start_in_any_form_is_written_as_local_iso(tmp_path: Path) -> None:
    moment = datetime(2026, 6, 1, 4, 15, tzinfo=UTC)  # 12:15 in Kuala Lumpur
    forms = [moment, moment.timestamp(), int(moment.timestamp()), "2026-06-01T04:15:00+00:00", moment.astimezone(KL)]
    write_intervals(tmp_path / "i.csv", [row(interval_start=f) for f in forms])
    lines = (tmp_path / "i.csv").read_text().splitlines()[1:]
    assert {line.split(",")[2] for line in lines} == {"2026-06-01T12:15:00+08:00"}
    # Another zone on request.
    write_intervals(tmp_path / "utc.csv", [row(interval_start=moment)], tz="UTC")
    assert (tmp_path / "utc.csv").read_text().splitlines()[1].split(",")[2] == "2026-06-01T04:15:00+00:00"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"interval_start": datetime(2026, 6, 1, 12)}, "naive datetime"),
        ({"interval_start": "2026-06-01T12:00:00"}, "has no UTC offset"),
        ({"interval_start": "noon"}, "is not ISO 8601"),
        ({"net_wh": 1.5}, "row 1: net_wh = 1.5 is not an integer"),
        ({"paid_units": "12"}, "row 1: paid_units = '12' is not an integer"),
        ({"sold_wh": True}, "sold_wh is a bool"),
        ({"household": ""}, "row 1: household is empty"),
    ],
)
def test_writer_refuses_bad_values(tmp_path: Path, bad: dict[str, Any], message: str) -> None:
    with pytest.raises(DatasetFormatError, match=message):
        write_intervals(tmp_path / "i.csv", [row(**bad)])


def test_writer_refuses_missing_and_unknown_columns(tmp_path: Path) -> None:
    r = row(extra=1)
    del r["sold_wh"]
    with IntervalWriter(tmp_path / "i.csv") as w, pytest.raises(DatasetFormatError) as e:
        w.write(r)
    assert "missing columns ['sold_wh'], unknown columns ['extra']" in str(e.value)
    assert w.rows == 0


def test_writer_accepts_integral_floats(tmp_path: Path) -> None:
    write_intervals(tmp_path / "i.csv", [row(net_wh=800.0, minted_wh=800.0)])
    assert read_intervals(tmp_path / "i.csv").loc[0, "net_wh"] == 800


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_reader_names_the_header_problem(tmp_path: Path) -> None:
    header = list(COLUMNS)
    header[3], header[4] = header[4], header[3]
    path = write_text(tmp_path / "i.csv", ",".join(header) + "\n")
    with pytest.raises(DatasetFormatError, match=r"columns out of order"):
        read_intervals(path)
    path = write_text(tmp_path / "j.csv", ",".join(COLUMNS[:-1]) + "\n")
    with pytest.raises(DatasetFormatError, match=r"missing \['feed_in_units_per_kwh'\]"):
        read_intervals(path)
    with pytest.raises(DatasetFormatError, match="empty file"):
        read_intervals(write_text(tmp_path / "k.csv", ""))


def test_reader_names_the_line_of_a_bad_value(tmp_path: Path) -> None:
    write_intervals(tmp_path / "i.csv", community_rows())
    lines = (tmp_path / "i.csv").read_text().splitlines()
    cells = lines[5].split(",")
    cells[COLUMNS.index("burned_wh")] = "lots"
    lines[5] = ",".join(cells)
    path = write_text(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    with pytest.raises(DatasetFormatError, match=r"line 6: burned_wh = 'lots' is not an integer"):
        read_intervals(path)
    cells = lines[7].split(",")
    cells[2] = "yesterday"
    lines[7] = ",".join(cells)
    lines[5] = (tmp_path / "i.csv").read_text().splitlines()[5]
    with pytest.raises(DatasetFormatError, match="interval_start is not ISO 8601"):
        read_intervals(write_text(tmp_path / "bad2.csv", "\n".join(lines) + "\n"))


def test_run_meta_round_trip(tmp_path: Path) -> None:
    write_run_meta(tmp_path / "run.json", RUN_META)
    assert read_run_meta(tmp_path / "run.json") == RUN_META


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("seed"), "seed is missing"),
        (lambda m: m.update(interval_s="900"), "interval_s = '900' should be int"),
        (lambda m: m.update(designs=[]), "designs = \\[\\] should be dict"),
        (lambda m: m.update(timezone="Mars/Olympus"), "timezone 'Mars/Olympus' is not a known time zone"),
        (lambda m: m["designs"]["auction"].pop("gas_used"), "designs\\['auction'\\].gas_used is missing"),
        (lambda m: m["designs"]["auction"].update(wall_s=None), "wall_s = None should be int or float"),
        (lambda m: m["designs"]["auction"].update(rounded_fills=1.5), "rounded_fills = 1.5 should be int"),
        (lambda m: m["designs"]["auction"]["trades"].append([1, 2, 3]), "trades\\[1\\] = \\[1, 2, 3\\] should be"),
    ],
)
def test_run_meta_refusals(edit: Any, message: str) -> None:
    meta = copy.deepcopy(RUN_META)
    edit(meta)
    with pytest.raises(DatasetFormatError, match=message):
        validate_run_meta(meta)


def test_run_meta_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="not JSON"):
        read_run_meta(write_text(tmp_path / "run.json", "{"))
    assert json.loads(json.dumps(RUN_META)) == validate_run_meta(copy.deepcopy(RUN_META))


def test_design_names() -> None:
    assert has_battery("auction+battery") and not has_battery("auction")
    assert base_design("order-book+battery") == "order-book" and base_design("direct") == "direct"
    assert ordered_designs(["zeta", "direct", "auction", "grid-only", "alpha"]) == [
        "grid-only",
        "auction",
        "direct",
        "alpha",
        "zeta",
    ]
