"""The two values that flow through the oracle: counter samples from meters and per-interval readings for the chain."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CounterSample:
    """Cumulative energy counters of one meter at one interval boundary (unix seconds), in whole Wh.

    `positive_wh` is the energy the household gives to the grid (export, or generation) and `negative_wh` what it
    takes (import, or consumption); both only grow. Net energy of an interval is the difference of their deltas.
    """

    serial: str
    boundary: int
    positive_wh: int
    negative_wh: int


@dataclass(frozen=True)
class Reading:
    """What the chain records for one (meter, interval): surplus is minted, deficit burned or drawn from the grid."""

    serial: str
    meter_id: bytes
    interval: int
    surplus_wh: int
    deficit_wh: int

    def as_tuple(self) -> tuple[bytes, int, int, int]:
        """The IEnergyToken.Reading struct as web3 encodes it."""
        return (self.meter_id, self.interval, self.surplus_wh, self.deficit_wh)


def align(timestamp: float, interval_s: int) -> int:
    """Start of the interval containing `timestamp`."""
    return int(timestamp // interval_s) * interval_s
