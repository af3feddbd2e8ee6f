"""Forecasts of a household's net energy (generation - consumption, before its battery) for the next intervals.

The agent sees only what its meter reports on chain (ReadingRecorded: surplus or deficit per interval) plus what
it knows about its own installation (its battery's flows, its PV size). Two forecasters behind one interface:

* `persistence` — the next intervals look like the last one.
* `clear-sky` — load by persistence, PV scaled with the clear-sky curve: from the last interval the agent infers
  its load as clear-sky PV x clearness - net, then forecasts clear-sky PV(next) x clearness - load. The clearness
  (share of clear-sky PV actually produced) is a configured prior, since net metering alone cannot separate it.

Every forecast is logged against the actual value when it arrives (`ForecastLog`), for the forecast error KPI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_CLEARNESS = 0.7  # mean of the cloud factor over a year in the tropics, roughly


class Forecaster(Protocol):
    name: str

    def observe(self, interval: int, net_wh: int) -> None:
        """The net (before the battery) the meter recorded for the interval starting at `interval`."""
        ...

    def forecast(self, interval: int, horizon: int = 1) -> list[float]:
        """Net Wh of the `horizon` intervals starting at `interval`."""
        ...


@dataclass
class PersistenceForecaster:
    name: str = "persistence"
    last: tuple[int, int] | None = None

    def observe(self, interval: int, net_wh: int) -> None:
        self.last = (interval, net_wh)

    def forecast(self, interval: int, horizon: int = 1) -> list[float]:
        return [float(self.last[1]) if self.last else 0.0] * horizon


@dataclass
class ClearSkyForecaster:
    """`clear_sky_pv_wh(interval_start)` is the household's PV under a clear sky (household_model computes it)."""

    clear_sky_pv_wh: Callable[[int], float]
    interval_s: int
    clearness: float = DEFAULT_CLEARNESS
    name: str = "clear-sky"
    last: tuple[int, int] | None = None

    def observe(self, interval: int, net_wh: int) -> None:
        self.last = (interval, net_wh)

    def forecast(self, interval: int, horizon: int = 1) -> list[float]:
        if self.last is None:
            return [self.clear_sky_pv_wh(interval + i * self.interval_s) * self.clearness for i in range(horizon)]
        t, net = self.last
        load = max(0.0, self.clear_sky_pv_wh(t) * self.clearness - net)
        return [self.clear_sky_pv_wh(interval + i * self.interval_s) * self.clearness - load for i in range(horizon)]


FORECASTERS = ("persistence", "clear-sky")


@dataclass
class ForecastLog:
    """Forecast vs actual per interval; the error measure is the weighted MAPE Σ|f - a| / Σ|a| (robust when a
    single interval's net is near zero, where a plain MAPE explodes)."""

    forecasts: dict[int, float] = field(default_factory=dict)
    pairs: list[tuple[int, float, int]] = field(default_factory=list)

    def predicted(self, interval: int, value: float) -> None:
        self.forecasts[interval] = value

    def actual(self, interval: int, value: int) -> None:
        if interval in self.forecasts:
            self.pairs.append((interval, self.forecasts.pop(interval), value))

    def abs_error(self) -> float:
        return sum(abs(f - a) for _, f, a in self.pairs)

    def abs_actual(self) -> float:
        return float(sum(abs(a) for _, _, a in self.pairs))

    def wmape(self) -> float | None:
        total = self.abs_actual()
        return self.abs_error() / total if total else None
