"""The one interface every meter source implements, and the clock that paces it.

A source answers `read(boundary)`: the counters of its meters at that interval boundary. Real meters can only be
read at the present boundary (`realtime = True`); replayed and simulated ones can be read for any past boundary,
so the daemon plays a past window faster than real time until it catches up with now, then follows the wall clock.
It never asks for a boundary in the future (the chain refuses intervals that start after the current block).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from meter_oracle.model import CounterSample
from meter_oracle.validation import MeterState


class MeterSource(ABC):
    """Where counter samples come from."""

    name: str = "source"
    realtime: bool = False

    @abstractmethod
    def serials(self) -> list[str]:
        """The meters this source reads."""

    @abstractmethod
    def read(self, boundary: int) -> list[CounterSample]:
        """Counters at `boundary` (meters that cannot be read now are left out; the next sample covers the gap)."""

    def restore(self, states: Mapping[str, MeterState]) -> None:  # noqa: B027 - optional hook
        """Continue from the last accepted counters after a restart (sources that generate counters need it)."""

    def seek(self, boundary: int) -> None:  # noqa: B027 - optional hook
        """Skip everything up to and including `boundary` (already read before a restart)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


@dataclass
class CatchUpClock:
    """Virtual time that starts at `start`, runs `speed` times faster than the wall clock and never passes it."""

    start: float
    speed: float = 1.0
    wall: Callable[[], float] = time.time
    _wall0: float = field(init=False)

    def __post_init__(self) -> None:
        self._wall0 = self.wall()

    def now(self) -> float:
        wall = self.wall()
        return min(wall, self.start + (wall - self._wall0) * self.speed)

    def caught_up(self) -> bool:
        return self.now() >= self.wall() - 1e-6

    def wall_seconds_until(self, virtual: float) -> float:
        """Wall-clock seconds until virtual time reaches `virtual` (0 if it already has)."""
        wall = self.wall()
        if self.now() >= virtual:
            return 0.0
        fast = self._wall0 + (virtual - self.start) / self.speed
        return max(0.0, max(fast, virtual) - wall)
