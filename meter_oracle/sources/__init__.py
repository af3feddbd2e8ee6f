"""Meter sources behind one interface (MeterSource): Modbus TCP meters, CSV replay, a simulated community."""

from __future__ import annotations

from meter_oracle.config import OracleConfig
from meter_oracle.model import align
from meter_oracle.outbox import Outbox
from meter_oracle.sources.base import CatchUpClock, MeterSource

__all__ = ["CatchUpClock", "MeterSource", "build_source"]

DEMO_COMMUNITY = "meter_oracle/config/demo-community.json"


def build_source(config: OracleConfig, outbox: Outbox, now: float) -> MeterSource:
    """The configured source; a replay's time shift is decided once and kept in the outbox (restarts keep it)."""
    sc = config.source
    if sc.kind == "simulate":
        from energy_chain.config import PROJECT_ROOT
        from meter_oracle.sources.simulated import SimulatedSource, load_community

        return SimulatedSource(load_community(sc.community or PROJECT_ROOT / DEMO_COMMUNITY), config.interval_s)
    if sc.kind == "replay":
        from meter_oracle.sources.replay import ReplaySource

        if sc.replay_csv is None:
            raise ValueError("source kind replay needs replay_csv (--replay FILE)")
        source = ReplaySource(sc.replay_csv)
        stored = outbox.get("replay_shift")
        if stored is None:
            first = source.first_timestamp
            # Move the recording so that it starts `backfill_hours` ago (0: play it at its own timestamps).
            shift = (
                0
                if first is None or sc.backfill_hours <= 0
                else (align(now - sc.backfill_hours * 3600, config.interval_s) - align(first, config.interval_s))
            )
            outbox.put("replay_shift", str(shift))
        else:
            shift = int(stored)
        return ReplaySource(sc.replay_csv, shift_s=shift)
    from meter_oracle.sources.modbus import ModbusSource, load_meters

    if not sc.modbus_meters:
        raise ValueError("source kind modbus needs [[source.meters]] in the config file")
    return ModbusSource(load_meters(list(sc.modbus_meters), sc.base_dir), timeout_s=sc.modbus_timeout_s)
