"""Validation: what is minted, what is rejected and why."""

from __future__ import annotations

import pytest

from meter_oracle.model import CounterSample
from meter_oracle.validation import (
    ACTIVE,
    BACKWARDS,
    DUPLICATE,
    FUTURE,
    IMPOSSIBLE_JUMP,
    INACTIVE,
    INACTIVE_METER,
    MISALIGNED,
    NEGATIVE,
    OUT_OF_ORDER,
    REGISTRY_UNAVAILABLE,
    UNAVAILABLE,
    UNKNOWN,
    UNKNOWN_METER,
    Accepted,
    MeterState,
    Rejected,
    Validator,
    split_evenly,
)

NOW = 1_800_000_000  # a multiple of 60
L = 60


class Directory:
    def __init__(self, statuses: dict[str, str]) -> None:
        self.statuses = statuses

    def status(self, serial: str) -> str:
        return self.statuses.get(serial, UNKNOWN)


@pytest.fixture
def validator() -> Validator:
    d = Directory({"M1": ACTIVE, "OFF": INACTIVE, "FOG": UNAVAILABLE})
    return Validator(L, d, max_power_w=10_000, max_power_by_serial={"BIG": 100_000}, clock=lambda: NOW)


def prev(boundary: int = NOW - 2 * L, pos: int = 1000, neg: int = 500) -> MeterState:
    return MeterState(boundary, pos, neg)


def test_first_sample_is_a_baseline_without_readings(validator):
    v = validator.check(CounterSample("M1", NOW - L, 1000, 500), None)
    assert v == Accepted(MeterState(NOW - L, 1000, 500), [])


def test_one_interval_surplus(validator):
    v = validator.check(CounterSample("M1", NOW - L, 1100, 530), prev(NOW - 2 * L))
    assert isinstance(v, Accepted)
    [r] = v.readings
    assert (r.interval, r.surplus_wh, r.deficit_wh) == (NOW - 2 * L, 70, 0)
    assert v.state == MeterState(NOW - L, 1100, 530)


def test_one_interval_deficit(validator):
    v = validator.check(CounterSample("M1", NOW - L, 1010, 600), prev(NOW - 2 * L))
    assert isinstance(v, Accepted)
    assert [(r.surplus_wh, r.deficit_wh) for r in v.readings] == [(0, 90)]


def test_gap_is_split_over_its_intervals_and_adds_up(validator):
    v = validator.check(CounterSample("M1", NOW, 1000 + 100, 500 + 7), prev(NOW - 3 * L))
    assert isinstance(v, Accepted)
    assert [r.interval for r in v.readings] == [NOW - 3 * L, NOW - 2 * L, NOW - L]
    assert sum(r.surplus_wh - r.deficit_wh for r in v.readings) == 93


def test_split_evenly_is_exact():
    assert split_evenly(10, 3) == [3, 3, 4]
    assert sum(split_evenly(12_345, 7)) == 12_345


@pytest.mark.parametrize(
    ("serial", "boundary", "pos", "neg", "previous", "reason"),
    [
        ("NOPE", NOW - L, 1100, 500, prev(), UNKNOWN_METER),
        ("OFF", NOW - L, 1100, 500, prev(), INACTIVE_METER),
        ("FOG", NOW - L, 1100, 500, None, REGISTRY_UNAVAILABLE),
        ("M1", NOW - L + 7, 1100, 500, prev(), MISALIGNED),
        ("M1", NOW + L, 1100, 500, prev(), FUTURE),
        ("M1", NOW - 2 * L, 1000, 500, prev(), DUPLICATE),
        ("M1", NOW - 3 * L, 900, 500, prev(), OUT_OF_ORDER),
        ("M1", NOW - L, 999, 500, prev(), BACKWARDS),
        ("M1", NOW - L, 1000, 499, prev(), BACKWARDS),
        ("M1", NOW - L, -1, 500, None, NEGATIVE),
        # 10 kW for one minute is 166 Wh: 200 Wh more is impossible
        ("M1", NOW - L, 1200, 500, prev(), IMPOSSIBLE_JUMP),
        ("M1", NOW - L, 1000, 700, prev(), IMPOSSIBLE_JUMP),
    ],
)
def test_rejections(validator, serial, boundary, pos, neg, previous, reason):
    v = validator.check(CounterSample(serial, boundary, pos, neg), previous)
    assert isinstance(v, Rejected)
    assert v.reason == reason


def test_jump_limit_grows_with_elapsed_time_and_per_meter_power(validator):
    # 200 Wh over two minutes at 10 kW (333 Wh possible) is fine
    assert isinstance(validator.check(CounterSample("M1", NOW, 1200, 500), prev(NOW - 2 * L)), Accepted)
    validator.directory.statuses["BIG"] = ACTIVE
    # 1 kWh in one minute needs 60 kW: only the meter configured for 100 kW may do that
    assert isinstance(validator.check(CounterSample("BIG", NOW - L, 2000, 500), prev()), Accepted)
