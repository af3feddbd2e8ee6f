"""What a community is: its location, interval, seed and households (PV size, annual load, profile, battery)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from household_model.demand import PROFILES


@dataclass(frozen=True)
class Location:
    name: str = "Microgrid lab, Serdang, Selangor, Malaysia"
    latitude: float = 2.9926
    longitude: float = 101.7071
    altitude: float = 40.0
    tz: str = "Asia/Kuala_Lumpur"


@dataclass(frozen=True)
class Battery:
    """A household battery: usable capacity, charge/discharge power limit, round-trip efficiency (AC to AC)."""

    capacity_wh: float
    power_w: float
    round_trip_efficiency: float = 0.9

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0 or self.power_w <= 0:
            raise ValueError("a battery needs a positive capacity and power")
        if not 0 < self.round_trip_efficiency <= 1:
            raise ValueError("round_trip_efficiency must be in (0, 1]")


@dataclass(frozen=True)
class Household:
    name: str
    serial: str
    kind: str  # "prosumer" | "consumer"
    pv_kwp: float
    annual_kwh: float
    profile: str = "H25"
    battery: Battery | None = None


@dataclass(frozen=True)
class Community:
    name: str
    location: Location
    interval_s: int
    households: tuple[Household, ...]
    seed: int = 7


def _battery(raw: Mapping[str, Any] | None) -> Battery | None:
    if not raw:
        return None
    return Battery(
        float(raw["capacity_kwh"]) * 1000, float(raw["power_kw"]) * 1000, float(raw.get("round_trip_efficiency", 0.9))
    )


def community_from_dict(data: Mapping[str, Any], where: str = "community") -> Community:
    """Build and check a community from its JSON form (see meter_oracle/config/demo-community.json)."""
    loc = Location(**data.get("location", {}))
    households = []
    for h in data["households"]:
        hh = Household(
            h["name"],
            h["serial"],
            h["kind"],
            float(h.get("pv_kwp", 0)),
            float(h["annual_kwh"]),
            h.get("profile", "H25"),
            _battery(h.get("battery")),
        )
        if hh.kind not in ("prosumer", "consumer"):
            raise ValueError(f"{where}: household {hh.name}: kind must be prosumer or consumer")
        if hh.profile not in PROFILES:
            raise ValueError(f"{where}: household {hh.name}: profile must be one of {PROFILES}")
        if hh.kind == "consumer" and hh.pv_kwp:
            raise ValueError(f"{where}: household {hh.name}: a consumer has no PV")
        households.append(hh)
    serials = [h.serial for h in households]
    if len(set(serials)) != len(serials):
        raise ValueError(f"{where}: meter serials must be unique")
    return Community(
        data.get("name", where),
        loc,
        int(data.get("interval_s", 60)),
        tuple(households),
        int(data.get("seed", 7)),
    )


def load_community(path: str | Path) -> Community:
    """Read a community file and check it."""
    data = json.loads(Path(path).read_text())
    if "name" not in data:
        data = {**data, "name": Path(path).stem}
    return community_from_dict(data, str(path))
