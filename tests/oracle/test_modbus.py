"""Modbus TCP meters through pymodbus against a real pymodbus server on 127.0.0.1, and the ingest pipeline on top."""

from __future__ import annotations

import pytest

from energy_chain.config import PROJECT_ROOT
from meter_oracle.config import OracleConfig, SourceConfig
from meter_oracle.daemon import Ingest
from meter_oracle.metrics import Metrics
from meter_oracle.outbox import Outbox
from meter_oracle.sources.modbus import ModbusMeter, ModbusSource, RegisterMap, load_meters
from meter_oracle.validation import ACTIVE, UNKNOWN
from tests.oracle.modbus_meters import GENCONS, GENERIC, SUNSPEC, FakeMeter, FakeMeterServer

MAPS = PROJECT_ROOT / "meter_oracle" / "config" / "registers"


@pytest.fixture
def counters():
    return {1: [123_456, 70_000], 2: [5_000_017, 1_234_569], 3: [987_654_300, 12_345_600]}


@pytest.fixture
def server(counters):
    srv = FakeMeterServer(
        [
            FakeMeter(1, GENERIC, lambda: tuple(counters[1])),
            FakeMeter(2, SUNSPEC, lambda: tuple(counters[2])),
            FakeMeter(3, GENCONS, lambda: tuple(counters[3])),
        ]
    ).start()
    yield srv
    srv.stop()


def meters(port: int) -> list[ModbusMeter]:
    entries = [
        {"serial": "GEN-1", "port": port, "unit_id": 1, "register_map": "generic-import-export.toml"},
        {"serial": "SUNS-2", "port": port, "unit_id": 2, "register_map": "sunspec-meter.toml"},
        {"serial": "PV-3", "port": port, "unit_id": 3, "register_map": "generation-consumption.toml"},
    ]
    return load_meters(entries, MAPS)


def test_register_maps_read_real_modbus_counters(server):
    src = ModbusSource(meters(server.port))
    got = {s.serial: (s.positive_wh, s.negative_wh) for s in src.read(600)}
    src.close()
    assert got == {
        "GEN-1": (123_456, 70_000),
        "SUNS-2": (5_000_010, 1_234_560),  # 10 Wh resolution: TotWh_SF = 1
        "PV-3": (987_654_300, 12_345_600),  # 0.1 kWh counts, little-endian words
    }


def test_unreachable_meter_is_skipped_and_counted(server):
    broken = RegisterMap.load(MAPS / "generic-import-export.toml")
    src = ModbusSource([*meters(server.port), ModbusMeter("GHOST", "127.0.0.1", server.port, 9, broken)], timeout_s=0.5)
    assert [s.serial for s in src.read(600)] == ["GEN-1", "SUNS-2", "PV-3"]
    assert src.failures == 1
    src.close()


def test_register_map_validation():
    with pytest.raises(ValueError, match=r"registers\.import"):
        RegisterMap.from_dict({"kind": "import_export", "registers": {"export": {"address": 0}}})
    with pytest.raises(ValueError, match="type"):
        RegisterMap.from_dict({"registers": {"export": {"address": 0, "type": "int7"}, "import": {"address": 2}}})


class Directory:
    def status(self, serial: str) -> str:
        return ACTIVE if serial != "PV-3" else UNKNOWN

    def prefetch(self, serials) -> None:
        pass


def test_ingest_turns_live_counters_into_readings(server, counters, tmp_path):
    cfg = OracleConfig(interval_s=60, outbox=tmp_path / "o.sqlite", max_power_w=1e9, source=SourceConfig(kind="modbus"))
    box = Outbox(cfg.outbox)
    src = ModbusSource(meters(server.port))
    wall = [1_800_000_030.0]
    ingest = Ingest(cfg, src, box, Directory(), Metrics(), wall=lambda: wall[0])  # type: ignore[arg-type]
    assert ingest.next_boundary == 1_800_000_060
    wall[0] = 1_800_000_061.0
    assert ingest.run_due() == 1  # baseline
    counters[1][0] += 250  # GEN-1 exports 250 Wh
    counters[2][1] += 400  # SUNS-2 imports 400 Wh
    wall[0] = 1_800_000_121.0
    assert ingest.run_due() == 1
    got = {(r.serial, r.interval): (r.surplus_wh, r.deficit_wh) for r in box.pending(10)}
    assert got == {("GEN-1", 1_800_000_060): (250, 0), ("SUNS-2", 1_800_000_060): (0, 400)}
    assert {r["serial"] for r in box.rejections()} == {"PV-3"}  # not registered: kept for audit
    src.close()
