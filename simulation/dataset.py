"""The data a simulation run leaves behind: `intervals.csv` (one row per design, household and interval) and `run.json`.

Both live in `reports/simulation/<run>/`. The simulator writes them (`IntervalWriter` / `write_intervals`,
`write_run_meta`); the KPIs, checks, plots and report read them back (`read_intervals`, `read_run_meta`).

intervals.csv
-------------
A header line with exactly `COLUMNS` in this order, then one row per (design, household, interval), rows of one
(design, household) in interval order. Every number is an integer.

| column | unit | meaning |
|---|---|---|
| `design` | | market design, e.g. `grid-only`, `order-book+battery` (see `DESIGNS`) |
| `household` | | the household's name (the same in every design) |
| `interval_start` | ISO 8601 | start of the interval, local time with offset (`2026-06-01T12:15:00+08:00`) |
| `generation_wh` | Wh | PV energy generated in the interval (≥ 0) |
| `consumption_wh` | Wh | household load in the interval (≥ 0) |
| `battery_wh` | Wh | energy into the battery, negative when discharging; 0 without a battery |
| `net_wh` | Wh | generation - consumption - battery: what the meter reports |
| `minted_wh` | Wh | tokens EnergyToken minted for the interval's reading (= max(0, net)) |
| `burned_wh` | Wh | tokens EnergyToken burned against the interval's deficit |
| `grid_import_wh` | Wh | deficit EnergyToken recorded as grid energy (burned + grid = max(0, -net)) |
| `bought_wh` | Wh | energy tokens bought in local trades filled in the interval |
| `sold_wh` | Wh | energy tokens sold in local trades filled in the interval |
| `token_balance_wh` | Wh | energy tokens the household holds at the end of the interval, escrow included (1) |
| `paid_units` | settlement units | what the household paid for `bought_wh` (1 000 000 units = RM 1) |
| `received_units` | settlement units | what it received for `sold_wh` |
| `retail_units_per_kwh` | units/kWh | grid retail tariff of the interval (what a Wh of grid import costs x 1000) |
| `feed_in_units_per_kwh` | units/kWh | grid feed-in tariff of the interval |

(1) Tokens escrowed in the household's open orders count: they are its own until they fill. Every design starts
from 0 tokens (fresh accounts or a fresh deployment), so the first row's previous balance is 0.

So `token_balance = previous + minted - burned + bought - sold` holds row by row (simulation.checks verifies it).

run.json
--------
One JSON object; `validate_run_meta` enforces the required keys and types, anything else is a run parameter shown in
the report as is.

```
{
  "seed": 7,                          # required, int
  "households": 20,                   # required, int: number of households
  "days": 1,                          # required, number
  "interval_s": 900,                  # required, int
  "timezone": "Asia/Kuala_Lumpur",    # optional, IANA name used for interval_start (default Asia/Kuala_Lumpur)
  "start": "2026-06-01T00:00:00+08:00",  # optional, first interval_start
  "designs": {                        # required, design name -> what happened in it (same names as the CSV)
    "order-book": {
      "transactions": 1234,           # required, int: transactions sent to the chain by this design's run
      "gas_used": 98765432,           # required, int: gas of those transactions
      "wall_s": 12.5,                 # required, number: wall-clock seconds the design took
      "forecast_mape": 0.18,          # required, number or null: agents' mean absolute percentage error, a fraction
      "trades": [                     # optional but expected wherever local trades happen: one entry per fill
        ["2026-06-01T12:15:00+08:00", 380000, 250]   # [interval_start, price units/kWh, amount Wh]
      ],                              # (auction: one entry per filled bid, at the clearing price)
      "rounded_fills": 1              # optional, int: payments rounded (auction: filled bids + asks); default
                                      # len(trades). Σpaid - Σreceived may be at most this many units.
    }
  }
}
```
"""

from __future__ import annotations

import csv
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NotRequired, TypedDict
from zoneinfo import ZoneInfo

import pandas as pd

DEFAULT_TZ = "Asia/Kuala_Lumpur"

COLUMNS: tuple[str, ...] = (
    "design",
    "household",
    "interval_start",
    "generation_wh",
    "consumption_wh",
    "battery_wh",
    "net_wh",
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
TEXT_COLUMNS: tuple[str, ...] = ("design", "household")
TIME_COLUMN = "interval_start"
INT_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS and c != TIME_COLUMN)
# Pandas dtypes of the frame `read_intervals` returns (interval_start: datetime64 in the run's time zone).
DTYPES: dict[str, str] = {**{c: "str" for c in TEXT_COLUMNS}, **{c: "int64" for c in INT_COLUMNS}}

BATTERY_SUFFIX = "+battery"
# Known designs in report order; a run may hold any subset (and designs not listed, reported after these).
DESIGNS: tuple[str, ...] = (
    "grid-only",
    "grid-only+battery",
    "order-book",
    "order-book+battery",
    "auction",
    "auction+battery",
    "direct",
)


class DatasetFormatError(ValueError):
    """intervals.csv or run.json does not follow the schema; the message says where."""


class DesignMeta(TypedDict):
    transactions: int
    gas_used: int
    wall_s: float
    forecast_mape: float | None
    trades: NotRequired[list[list[Any]]]
    rounded_fills: NotRequired[int]


class RunMeta(TypedDict):
    seed: int
    households: int
    days: float
    interval_s: int
    designs: dict[str, DesignMeta]
    timezone: NotRequired[str]
    start: NotRequired[str]


def has_battery(design: str) -> bool:
    return design.endswith(BATTERY_SUFFIX)


def base_design(design: str) -> str:
    """The design without its battery: `order-book+battery` -> `order-book`."""
    return design[: -len(BATTERY_SUFFIX)] if has_battery(design) else design


def ordered_designs(names: Iterable[str]) -> list[str]:
    """Designs in report order: the known ones as in `DESIGNS`, then others alphabetically."""
    unique = set(names)
    known = [d for d in DESIGNS if d in unique]
    return known + sorted(unique - set(known))


def format_time(value: datetime | int | float | str, tz: ZoneInfo) -> str:
    """interval_start as ISO 8601 local time with offset. Accepts an aware datetime, Unix seconds or an ISO string."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as e:
            raise DatasetFormatError(f"interval_start {value!r} is not ISO 8601") from e
        if parsed.tzinfo is None:
            raise DatasetFormatError(f"interval_start {value!r} has no UTC offset")
        value = parsed
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, tz)
    elif not isinstance(value, datetime):
        raise DatasetFormatError(f"interval_start {value!r} is neither a datetime, Unix seconds nor ISO 8601")
    if value.tzinfo is None:
        raise DatasetFormatError(f"interval_start {value!r} is a naive datetime; give it a time zone")
    return value.astimezone(tz).isoformat()


def _as_int(column: str, value: object) -> int:
    if isinstance(value, bool):
        raise DatasetFormatError(f"{column} is a bool ({value!r}), expected an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise DatasetFormatError(f"{column} = {value!r} is not an integer")


class IntervalWriter:
    """Streams rows to intervals.csv (a run of 1 000 households never holds its rows in memory).

    `write(row)` takes a mapping with exactly `COLUMNS` as keys; numbers must be integral and interval_start is
    anything `format_time` accepts.
    """

    def __init__(self, path: str | Path, tz: str = DEFAULT_TZ) -> None:
        self.path = Path(path)
        self._tz = ZoneInfo(tz)
        self._times: dict[object, str] = {}  # a run has few distinct interval starts and many rows per start
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(COLUMNS)
        self.rows = 0

    def write(self, row: Mapping[str, object]) -> None:
        if row.keys() != set(COLUMNS):
            missing = [c for c in COLUMNS if c not in row]
            extra = sorted(set(row) - set(COLUMNS))
            raise DatasetFormatError(f"row {self.rows + 1}: missing columns {missing}, unknown columns {extra}")
        start = row[TIME_COLUMN]
        key = (type(start), start)
        text = self._times.get(key)
        if text is None:
            text = self._times[key] = format_time(start, self._tz)  # type: ignore[arg-type]
        out: list[object] = []
        for c in COLUMNS:
            if c == TIME_COLUMN:
                out.append(text)
            elif c in TEXT_COLUMNS:
                value = str(row[c])
                if not value:
                    raise DatasetFormatError(f"row {self.rows + 1}: {c} is empty")
                out.append(value)
            else:
                try:
                    out.append(_as_int(c, row[c]))
                except DatasetFormatError as e:
                    raise DatasetFormatError(f"row {self.rows + 1}: {e}") from None
        self._csv.writerow(out)
        self.rows += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> IntervalWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_intervals(path: str | Path, rows: Iterable[Mapping[str, object]], tz: str = DEFAULT_TZ) -> int:
    """Write intervals.csv from row mappings (keys = `COLUMNS`); returns the number of rows written."""
    with IntervalWriter(path, tz) as w:
        for row in rows:
            w.write(row)
        return w.rows


def _locate_bad_value(path: Path, column: str) -> str:
    # Slow path, only after the fast parse failed: the first line whose value is not an integer.
    with path.open(newline="", encoding="utf-8") as f:
        for line, rec in enumerate(csv.DictReader(f), start=2):
            try:
                int(rec[column])
            except (ValueError, TypeError):
                return f"{path}: line {line}: {column} = {rec[column]!r} is not an integer"
    return f"{path}: {column} is not an integer column"


def read_intervals(path: str | Path, tz: str = DEFAULT_TZ) -> pd.DataFrame:
    """Read intervals.csv into a DataFrame with `DTYPES`; interval_start becomes tz-aware in `tz`.

    Raises DatasetFormatError naming the line and column when the file does not follow the schema.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise DatasetFormatError(f"{path}: empty file, expected the header {','.join(COLUMNS)}")
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        raise DatasetFormatError(
            f"{path}: header must be exactly {','.join(COLUMNS)}; missing {missing}, unknown {extra}"
            + ("" if missing or extra else " (columns out of order)")
        )
    try:
        df = pd.read_csv(path, dtype=DTYPES, keep_default_na=False)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        for c in INT_COLUMNS:
            try:
                pd.read_csv(path, usecols=[c], dtype={c: "int64"}, keep_default_na=False)
            except (ValueError, OverflowError):
                raise DatasetFormatError(_locate_bad_value(path, c)) from None
        raise
    for c in TEXT_COLUMNS:
        empty = df.index[df[c] == ""]
        if len(empty):
            raise DatasetFormatError(f"{path}: line {empty[0] + 2}: {c} is empty")
    try:
        df[TIME_COLUMN] = pd.to_datetime(df[TIME_COLUMN], format="ISO8601", utc=True).dt.tz_convert(tz)
    except (ValueError, TypeError) as e:
        raise DatasetFormatError(f"{path}: interval_start is not ISO 8601 with an offset everywhere: {e}") from None
    return df


def _require(obj: Mapping[str, Any], key: str, kinds: tuple[type, ...], where: str, nullable: bool = False) -> None:
    if key not in obj:
        raise DatasetFormatError(f"run.json: {where}{key} is missing")
    value = obj[key]
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds) + (" or null" if nullable else "")
        raise DatasetFormatError(f"run.json: {where}{key} = {value!r} should be {names}")


def validate_run_meta(meta: Any) -> RunMeta:
    """Check run.json's required keys and types (see the module docstring); returns it unchanged."""
    if not isinstance(meta, dict):
        raise DatasetFormatError("run.json: the top level must be an object")
    _require(meta, "seed", (int,), "")
    _require(meta, "households", (int,), "")
    _require(meta, "days", (int, float), "")
    _require(meta, "interval_s", (int,), "")
    _require(meta, "designs", (dict,), "")
    if "timezone" in meta:
        _require(meta, "timezone", (str,), "")
        try:
            ZoneInfo(meta["timezone"])
        except (KeyError, ValueError) as e:
            raise DatasetFormatError(f"run.json: timezone {meta['timezone']!r} is not a known time zone") from e
    for name, d in meta["designs"].items():
        where = f"designs[{name!r}]."
        if not isinstance(d, dict):
            raise DatasetFormatError(f"run.json: designs[{name!r}] must be an object")
        _require(d, "transactions", (int,), where)
        _require(d, "gas_used", (int,), where)
        _require(d, "wall_s", (int, float), where)
        _require(d, "forecast_mape", (int, float), where, nullable=True)
        if "rounded_fills" in d:
            _require(d, "rounded_fills", (int,), where)
        if "trades" in d:
            _require(d, "trades", (list,), where)
            for i, t in enumerate(d["trades"]):
                ok = isinstance(t, list | tuple) and len(t) == 3 and isinstance(t[0], str)
                ok = ok and all(isinstance(x, int | float) and not isinstance(x, bool) for x in t[1:])
                if not ok:
                    raise DatasetFormatError(
                        f"run.json: {where}trades[{i}] = {t!r} should be [interval_start, price units/kWh, amount Wh]"
                    )
    return meta  # type: ignore[return-value]


def read_run_meta(path: str | Path) -> RunMeta:
    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DatasetFormatError(f"{path}: not JSON: {e}") from None
    return validate_run_meta(meta)


def write_run_meta(path: str | Path, meta: Mapping[str, Any]) -> None:
    validate_run_meta(dict(meta))
    Path(path).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def run_timezone(meta: Mapping[str, Any]) -> str:
    return str(meta.get("timezone") or DEFAULT_TZ)
