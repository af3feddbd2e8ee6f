"""Meter samples are untrusted input: check each one against the meter's last accepted state before minting.

A sample is rejected (and kept for audit by the caller) when the meter is unknown or inactive on chain, its boundary
is not aligned, lies in the future, repeats or precedes the last accepted one, a counter went backwards, or the energy
since the last sample is more than the meter's maximum power could deliver. An accepted sample becomes the meter's new
state and yields one reading per interval since the previous sample (a gap after an outage is spread evenly over its
intervals, so the total always equals what the counters say).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from energy_chain.meters import meter_id
from meter_oracle.model import CounterSample, Reading

UNKNOWN_METER = "unknown_meter"
INACTIVE_METER = "inactive_meter"
MISALIGNED = "misaligned"
FUTURE = "future_timestamp"
DUPLICATE = "duplicate"
OUT_OF_ORDER = "out_of_order"
NEGATIVE = "negative_counter"
BACKWARDS = "counter_backwards"
IMPOSSIBLE_JUMP = "impossible_jump"
REGISTRY_UNAVAILABLE = "registry_unavailable"

ACTIVE, INACTIVE, UNKNOWN, UNAVAILABLE = "active", "inactive", "unknown", "unavailable"


class MeterDirectory(Protocol):
    """Says whether a meter may be minted for (the on-chain registry, cached)."""

    def status(self, serial: str) -> str:
        """One of ACTIVE, INACTIVE, UNKNOWN (not registered) or UNAVAILABLE (cannot tell right now)."""
        ...


@dataclass(frozen=True)
class MeterState:
    """The last accepted counters of a meter."""

    boundary: int
    positive_wh: int
    negative_wh: int

    @classmethod
    def of(cls, sample: CounterSample) -> MeterState:
        return cls(sample.boundary, sample.positive_wh, sample.negative_wh)


@dataclass(frozen=True)
class Accepted:
    state: MeterState
    readings: list[Reading]


@dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str


Verdict = Accepted | Rejected


def split_evenly(total: int, parts: int) -> list[int]:
    """Integer shares of `total` over `parts` that add up exactly (the remainder goes to the later parts)."""
    return [total * (i + 1) // parts - total * i // parts for i in range(parts)]


def readings_between(serial: str, previous: MeterState, sample: CounterSample, interval_s: int) -> list[Reading]:
    """One net reading per interval from `previous.boundary` to `sample.boundary`."""
    parts = (sample.boundary - previous.boundary) // interval_s
    positive = split_evenly(sample.positive_wh - previous.positive_wh, parts)
    negative = split_evenly(sample.negative_wh - previous.negative_wh, parts)
    mid = meter_id(serial)
    out = []
    for i in range(parts):
        net = positive[i] - negative[i]
        interval = previous.boundary + i * interval_s
        out.append(Reading(serial, mid, interval, max(net, 0), max(-net, 0)))
    return out


@dataclass
class Validator:
    """Pure checks of one sample against the meter's previous state; the caller persists the verdict."""

    interval_s: int
    directory: MeterDirectory
    max_power_w: float = 50_000.0
    max_power_by_serial: Mapping[str, float] = field(default_factory=dict)
    future_skew_s: float = 5.0
    clock: Callable[[], float] = time.time

    def check(self, sample: CounterSample, previous: MeterState | None) -> Verdict:
        if sample.boundary % self.interval_s:
            return Rejected(MISALIGNED, f"boundary {sample.boundary} is not a multiple of {self.interval_s}s")
        now = self.clock()
        if sample.boundary > now + self.future_skew_s:
            return Rejected(FUTURE, f"boundary {sample.boundary} is {sample.boundary - now:.0f}s ahead of the clock")
        if sample.positive_wh < 0 or sample.negative_wh < 0:
            return Rejected(NEGATIVE, f"counters {sample.positive_wh}/{sample.negative_wh} Wh")
        status = self.directory.status(sample.serial)
        if status == UNKNOWN:
            return Rejected(UNKNOWN_METER, "meter is not registered on chain")
        if status == INACTIVE:
            return Rejected(INACTIVE_METER, "meter is deactivated on chain")
        if status != ACTIVE:  # the chain is unreachable and the meter was never seen: the next sample covers it
            return Rejected(REGISTRY_UNAVAILABLE, "meter status unknown: the chain is unreachable")
        if previous is None:
            return Accepted(MeterState.of(sample), [])  # first sample: the baseline, nothing to mint yet
        if sample.boundary == previous.boundary:
            return Rejected(DUPLICATE, f"boundary {sample.boundary} was already accepted")
        if sample.boundary < previous.boundary:
            return Rejected(OUT_OF_ORDER, f"boundary {sample.boundary} precedes accepted {previous.boundary}")
        d_pos = sample.positive_wh - previous.positive_wh
        d_neg = sample.negative_wh - previous.negative_wh
        if d_pos < 0 or d_neg < 0:
            return Rejected(
                BACKWARDS,
                f"counters went from {previous.positive_wh}/{previous.negative_wh} "
                f"to {sample.positive_wh}/{sample.negative_wh} Wh",
            )
        hours = (sample.boundary - previous.boundary) / 3600
        limit_wh = self.max_power_by_serial.get(sample.serial, self.max_power_w) * hours
        if d_pos > limit_wh or d_neg > limit_wh:
            return Rejected(IMPOSSIBLE_JUMP, f"+{d_pos}/+{d_neg} Wh in {hours * 3600:.0f}s exceeds {limit_wh:.0f} Wh")
        return Accepted(MeterState.of(sample), readings_between(sample.serial, previous, sample, self.interval_s))
