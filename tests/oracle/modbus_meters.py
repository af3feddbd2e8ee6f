"""A real pymodbus Modbus TCP server on 127.0.0.1 that plays energy meters for the tests.

Each unit id is one meter whose counters come from a function of time; the server's register `action` hook writes
the current values into the registers on every read, so the meters behave like live hardware. Layouts: the generic
import/export map (export uint32 at 0, import at 2) and the SunSpec map (meter model at 40069, TotWh_SF = -1).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from energy_chain.anvil import free_port, wait_for_rpc  # noqa: F401 - re-exported for tests

Counters = Callable[[], tuple[int, int]]  # () -> (export or generation Wh, import or consumption Wh)

GENERIC, SUNSPEC, GENCONS = "generic", "sunspec", "generation-consumption"
SUNSPEC_BASE = 40000


def _u32(value: int) -> list[int]:
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def generic_registers(export_wh: int, import_wh: int) -> dict[int, int]:
    return dict(enumerate(_u32(export_wh) + _u32(import_wh)))


def sunspec_registers(export_wh: int, import_wh: int) -> dict[int, int]:
    """acc32 counters in units of 10 Wh with TotWh_SF = 1 (the meter reports floor(Wh / 10))."""
    regs = {40107 + i: v for i, v in enumerate(_u32(export_wh // 10))}
    regs.update({40115 + i: v for i, v in enumerate(_u32(import_wh // 10))})
    regs[40123] = 1  # TotWh_SF: value * 10^1 Wh
    return regs


def gencons_registers(generation_wh: int, consumption_wh: int) -> dict[int, int]:
    """uint64 counts of 0.1 kWh, low word first, at 100 and 104 (the generation-consumption example map)."""

    def u64_little(value: int) -> list[int]:
        return [(value >> (16 * i)) & 0xFFFF for i in range(4)]

    regs = {100 + i: v for i, v in enumerate(u64_little(generation_wh // 100))}
    regs.update({104 + i: v for i, v in enumerate(u64_little(consumption_wh // 100))})
    return regs


LAYOUTS = {GENERIC: generic_registers, SUNSPEC: sunspec_registers, GENCONS: gencons_registers}


@dataclass
class FakeMeter:
    unit_id: int
    layout: str
    counters: Counters

    def registers(self) -> dict[int, int]:
        export_wh, import_wh = self.counters()
        return LAYOUTS[self.layout](export_wh, import_wh)


class FakeMeterServer:
    """Start with `start()`, stop with `stop()`; `port` is a free port chosen at construction."""

    def __init__(self, meters: list[FakeMeter], port: int | None = None) -> None:
        self.meters = {m.unit_id: m for m in meters}
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._run, name="fake-meters", daemon=True)
        self._ready = threading.Event()

    async def _action(
        self, meter: FakeMeter, _fc: int, start: int, _address: int, _count: int, current: list[int], _set: object
    ) -> None:
        for address, value in meter.registers().items():
            if 0 <= address - start < len(current):
                current[address - start] = value

    def _device(self, meter: FakeMeter) -> SimDevice:
        if meter.layout != SUNSPEC:
            block = SimData(0, count=120, values=0, datatype=DataType.REGISTERS)
        else:
            block = SimData(SUNSPEC_BASE, count=200, values=0, datatype=DataType.REGISTERS)

        async def action(fc: int, start: int, address: int, count: int, current: list[int], set_values: object):
            await self._action(meter, fc, start, address, count, current, set_values)

        return SimDevice(meter.unit_id, simdata=[block], action=action)

    async def _serve(self) -> None:
        devices = [self._device(m) for m in self.meters.values()]
        self._server = ModbusTcpServer(devices, address=("127.0.0.1", self.port))
        self._ready.set()
        await self._server.serve_forever()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    def start(self) -> FakeMeterServer:
        self._thread.start()
        self._ready.wait(10)
        import socket
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until it accepts connections
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise TimeoutError("fake meter server did not start")

    def stop(self) -> None:
        if self._server is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        self._thread.join(10)
