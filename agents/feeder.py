"""Transfer efficiency between two meters from a model of the community's radial LV feeder (docs/selection.md).

pandapower is not available, so this is an electrical-distance model: buses form a tree rooted at the transformer,
meters hang from buses on service cables, and the loss of moving the configured typical power P over the path
resistance R at line voltage V is P * R / (V^2 cos^2 phi) (balanced three-phase, P_loss = 3 I^2 R). The file is
`agents/config/feeder.json`, or the one `AGENTS_FEEDER_CONFIG` names. Unlisted meters are placed on a bus by a
stable hash of their id, so any simulated community gets repeatable positions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config" / "feeder.json"
MIN_EFFICIENCY = 0.5


class FeederConfigError(ValueError):
    """The feeder file is unreadable or inconsistent (unknown parent, cycle, negative length, unknown bus)."""


def _positive(data: dict[str, Any], key: str, where: str, *, zero_ok: bool = False) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FeederConfigError(f"{where}: {key} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not zero_ok):
        raise FeederConfigError(f"{where}: {key} must be {'>= 0' if zero_ok else '> 0'}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Feeder:
    voltage_v: float
    power_factor: float
    reference_power_w: float
    main_ohm_per_m: float
    service_ohm_per_m: float
    default_service_m: float
    parent: dict[str, str | None]  # bus -> parent bus (None at the transformer)
    length_m: dict[str, float]  # bus -> length of the segment to its parent
    meters: dict[str, tuple[str, float]]  # meter -> (bus, service length m)

    @classmethod
    def from_dict(cls, data: Any) -> Feeder:
        if not isinstance(data, dict):
            raise FeederConfigError("the feeder file must hold a JSON object")
        cables = data.get("cables_ohm_per_km")
        if not isinstance(cables, dict):
            raise FeederConfigError("cables_ohm_per_km must be an object with 'main' and 'service'")
        parent: dict[str, str | None] = {}
        length: dict[str, float] = {}
        for i, bus in enumerate(data.get("buses") or []):
            if not isinstance(bus, dict) or not isinstance(bus.get("id"), str):
                raise FeederConfigError(f"buses[{i}] must be an object with a string id")
            if bus["id"] in parent:
                raise FeederConfigError(f"bus {bus['id']!r} is listed twice")
            parent[bus["id"]] = bus.get("parent")
            length[bus["id"]] = _positive(bus, "length_m", f"bus {bus['id']}") if bus.get("parent") else 0.0
        roots = [b for b, p in parent.items() if p is None]
        if len(roots) != 1:
            raise FeederConfigError(f"a radial feeder has exactly one root bus (the transformer), found {roots}")
        for bus in parent:  # every bus must reach the root without a cycle
            seen, cur = set(), bus
            while cur is not None:
                if cur not in parent:
                    raise FeederConfigError(f"bus {bus!r} hangs from unknown bus {cur!r}")
                if cur in seen:
                    raise FeederConfigError(f"bus {bus!r} is on a cycle; the feeder must be radial")
                seen.add(cur)
                cur = parent[cur]
        default_service = _positive(data, "default_service_m", "feeder", zero_ok=True)
        meters: dict[str, tuple[str, float]] = {}
        for meter, where in (data.get("meters") or {}).items():
            if not isinstance(where, dict) or where.get("bus") not in parent:
                raise FeederConfigError(f"meter {meter!r} must name a known bus")
            service = _positive(where, "service_m", f"meter {meter}", zero_ok=True) if "service_m" in where else None
            meters[meter] = (where["bus"], default_service if service is None else service)
        pf = _positive(data, "power_factor", "feeder")
        if pf > 1:
            raise FeederConfigError(f"feeder: power_factor must be <= 1, got {pf}")
        return cls(
            voltage_v=_positive(data, "voltage_v", "feeder"),
            power_factor=pf,
            reference_power_w=_positive(data, "reference_power_w", "feeder"),
            main_ohm_per_m=_positive(cables, "main", "cables_ohm_per_km") / 1000.0,
            service_ohm_per_m=_positive(cables, "service", "cables_ohm_per_km") / 1000.0,
            default_service_m=default_service,
            parent=parent,
            length_m=length,
            meters=meters,
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> Feeder:
        path = Path(path or os.environ.get("AGENTS_FEEDER_CONFIG") or DEFAULT_CONFIG)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise FeederConfigError(f"cannot read feeder file {path}: {exc}") from exc
        return cls.from_dict(data)

    def position(self, meter: str) -> tuple[str, float]:
        """(bus, service cable length m) of a meter: as listed, else a bus picked by a stable hash of its id."""
        if meter in self.meters:
            return self.meters[meter]
        buses = sorted(b for b, p in self.parent.items() if p is not None) or sorted(self.parent)
        pick = int.from_bytes(hashlib.sha256(meter.encode()).digest()[:8], "big") % len(buses)
        return buses[pick], self.default_service_m

    def _path_to_root(self, bus: str) -> list[str]:
        path: list[str] = []
        cur: str | None = bus
        while cur is not None:
            path.append(cur)
            cur = self.parent[cur]
        return path

    def resistance_ohm(self, from_meter: str, to_meter: str) -> float:
        """Resistance of the cable path between two meters (electrical distance); 0 for the same meter."""
        if from_meter == to_meter:
            return 0.0
        (bus_a, svc_a), (bus_b, svc_b) = self.position(from_meter), self.position(to_meter)
        up_a, up_b = self._path_to_root(bus_a), self._path_to_root(bus_b)
        common = set(up_b)
        lca = next(b for b in up_a if b in common)
        main = sum(self.length_m[b] for b in up_a[: up_a.index(lca)]) + sum(
            self.length_m[b] for b in up_b[: up_b.index(lca)]
        )
        return main * self.main_ohm_per_m + (svc_a + svc_b) * self.service_ohm_per_m

    def efficiency(self, from_meter: str, to_meter: str) -> float:
        """Share of the energy sent from `from_meter` that arrives at `to_meter`, in [0.5, 1]."""
        r = self.resistance_ohm(from_meter, to_meter)
        loss = self.reference_power_w * r / (self.voltage_v**2 * self.power_factor**2)
        return max(MIN_EFFICIENCY, 1.0 - loss)


@functools.cache
def default_feeder() -> Feeder:
    return Feeder.load()


def efficiency(from_meter: str, to_meter: str) -> float:
    """Transfer efficiency on the configured feeder (`agents/config/feeder.json` or `AGENTS_FEEDER_CONFIG`)."""
    return default_feeder().efficiency(from_meter, to_meter)
