"""Meter identifiers: a meter's on-chain id is keccak256 of its serial (UTF-8), so ids are fixed-size and opaque."""

from __future__ import annotations

from web3 import Web3


def meter_id(serial: str) -> bytes:
    """The bytes32 id under which the registry and the energy token know the meter with this serial."""
    if not serial or not serial.strip():
        raise ValueError("a meter serial must not be empty")
    return bytes(Web3.keccak(text=serial.strip()))


def meter_id_hex(serial: str) -> str:
    return "0x" + meter_id(serial).hex()


# The meter oracle's default interval (meter_oracle.config.OracleConfig.interval_s; the demo runs it): a meter is
# registered with the period its oracle reports in, so a re-reported interval at +1 s is refused (Misaligned).
DEFAULT_PERIOD_S = 60
# How far before its registration a new meter may report (the oracle's backfill of a fresh community, 12 h in the
# demo, fits): readings of earlier intervals are refused (BeforeRegistration).
DEFAULT_LOOKBACK_S = 86_400


def align(timestamp: int, period_s: int) -> int:
    """The start of the `period_s`-long interval that holds `timestamp`."""
    return int(timestamp) // period_s * period_s


def first_interval(now: int, period_s: int, lookback_s: int = DEFAULT_LOOKBACK_S) -> int:
    """The first interval a meter registered at `now` may report: `lookback_s` earlier, aligned to its period,
    never 0 (interval 0 is refused for every meter) and never after `now` (the registry refuses that)."""
    if period_s <= 0:
        raise ValueError(f"a meter period must be positive, got {period_s}")
    return max(period_s, align(now - lookback_s, period_s))
