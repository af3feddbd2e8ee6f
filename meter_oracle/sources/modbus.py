"""Real meters over Modbus TCP (pymodbus). Which registers hold the energy counters comes from a register map file.

A register map (TOML, see meter_oracle/config/registers/) names two cumulative counters, either `export`/`import`
(a net meter at the grid connection) or `generation`/`consumption`, each with its address, data type
(uint16/uint32/uint64/acc32/int32/float32), an optional constant `scale` (Wh per count) and an optional
`scale_factor_register` (a SunSpec-style int16 power-of-ten exponent, e.g. TotWh_SF). Counters are rounded down
to whole Wh; rounding the cumulative value keeps the sum of the interval deltas exact.
"""

from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from meter_oracle.model import CounterSample
from meter_oracle.sources.base import MeterSource

log = logging.getLogger("meter_oracle.modbus")

TYPES = {
    "uint16": ("UINT16", 1),
    "int16": ("INT16", 1),
    "uint32": ("UINT32", 2),
    "acc32": ("UINT32", 2),
    "int32": ("INT32", 2),
    "uint64": ("UINT64", 4),
    "acc64": ("UINT64", 4),
    "float32": ("FLOAT32", 2),
}
PAIRS = {"import_export": ("export", "import"), "generation_consumption": ("generation", "consumption")}


@dataclass(frozen=True)
class Register:
    address: int
    type: str = "uint32"
    scale: float = 1.0
    scale_factor_register: int | None = None

    @property
    def count(self) -> int:
        return TYPES[self.type][1]


@dataclass(frozen=True)
class RegisterMap:
    """Where a meter model keeps its positive (export/generation) and negative (import/consumption) counters."""

    kind: str
    positive: Register
    negative: Register
    register_type: str = "holding"  # or "input"
    word_order: str = "big"

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "register map") -> RegisterMap:
        kind = data.get("kind", "import_export")
        if kind not in PAIRS:
            raise ValueError(f"{origin}: kind must be one of {sorted(PAIRS)}")
        regs = data.get("registers", {})
        pos_name, neg_name = PAIRS[kind]
        parsed = []
        for name in (pos_name, neg_name):
            if name not in regs:
                raise ValueError(f"{origin}: registers.{name} is missing")
            reg = Register(**regs[name])
            if reg.type not in TYPES:
                raise ValueError(f"{origin}: registers.{name}.type must be one of {sorted(TYPES)}")
            parsed.append(reg)
        if data.get("register_type", "holding") not in ("holding", "input"):
            raise ValueError(f"{origin}: register_type must be holding or input")
        if data.get("word_order", "big") not in ("big", "little"):
            raise ValueError(f"{origin}: word_order must be big or little")
        return cls(kind, parsed[0], parsed[1], data.get("register_type", "holding"), data.get("word_order", "big"))

    @classmethod
    def load(cls, path: str | Path) -> RegisterMap:
        return cls.from_dict(tomllib.loads(Path(path).read_text()), str(path))


@dataclass(frozen=True)
class ModbusMeter:
    serial: str
    host: str
    port: int
    unit_id: int
    register_map: RegisterMap


def load_meters(entries: list[dict[str, Any]], base_dir: Path) -> list[ModbusMeter]:
    """Meters from the oracle config's [[source.meters]] list; `register_map` paths are relative to the config."""
    maps: dict[Path, RegisterMap] = {}
    meters = []
    for e in entries:
        path = Path(e["register_map"])
        path = path if path.is_absolute() else base_dir / path
        if path not in maps:
            maps[path] = RegisterMap.load(path)
        meters.append(
            ModbusMeter(
                e["serial"], e.get("host", "127.0.0.1"), int(e.get("port", 502)), int(e.get("unit_id", 1)), maps[path]
            )
        )
    return meters


class ModbusSource(MeterSource):
    """Reads every configured meter at the current boundary; unreachable meters are skipped (and counted)."""

    name = "modbus"
    realtime = True

    def __init__(self, meters: list[ModbusMeter], timeout_s: float = 2.0) -> None:
        self.meters = meters
        self.timeout_s = timeout_s
        self._clients: dict[tuple[str, int], ModbusTcpClient] = {}
        self.failures = 0

    def serials(self) -> list[str]:
        return [m.serial for m in self.meters]

    def _client(self, host: str, port: int) -> ModbusTcpClient:
        key = (host, port)
        client = self._clients.get(key)
        if client is None:
            client = ModbusTcpClient(host, port=port, timeout=self.timeout_s, retries=1, reconnect_delay=0)
            self._clients[key] = client
        if not client.connected:
            client.connect()
        return client

    def _value(self, client: ModbusTcpClient, meter: ModbusMeter, reg: Register) -> float:
        rmap = meter.register_map
        read = client.read_input_registers if rmap.register_type == "input" else client.read_holding_registers
        resp = read(reg.address, count=reg.count, device_id=meter.unit_id)
        if resp.isError():
            raise ModbusException(f"register {reg.address}: {resp}")
        dtype = getattr(client.DATATYPE, TYPES[reg.type][0])
        raw = client.convert_from_registers(resp.registers, data_type=dtype, word_order=rmap.word_order)
        value = float(raw) * reg.scale  # type: ignore[arg-type]
        if reg.scale_factor_register is not None:
            sf = read(reg.scale_factor_register, count=1, device_id=meter.unit_id)
            if sf.isError():
                raise ModbusException(f"scale factor register {reg.scale_factor_register}: {sf}")
            exponent = client.convert_from_registers(sf.registers, data_type=client.DATATYPE.INT16)
            value *= 10.0 ** int(exponent)  # type: ignore[call-overload]
        if not math.isfinite(value):
            raise ModbusException(f"register {reg.address}: not a finite number")
        return value

    def read_meter(self, meter: ModbusMeter, boundary: int) -> CounterSample:
        client = self._client(meter.host, meter.port)
        pos = self._value(client, meter, meter.register_map.positive)
        neg = self._value(client, meter, meter.register_map.negative)
        return CounterSample(meter.serial, boundary, math.floor(pos), math.floor(neg))

    def read(self, boundary: int) -> list[CounterSample]:
        samples = []
        for meter in self.meters:
            try:
                samples.append(self.read_meter(meter, boundary))
            except (ModbusException, OSError, ValueError) as exc:
                self.failures += 1
                log.warning(
                    "meter %s at %s:%s unreadable: %s",
                    meter.serial,
                    meter.host,
                    meter.port,
                    exc,
                    extra={"serial": meter.serial},
                )
                client = self._clients.pop((meter.host, meter.port), None)
                if client is not None:
                    client.close()
        return samples

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
