"""Gross generation and consumption of simulated meters, for the meter page.

The chain records only the net of each interval (surplus minted, deficit burned or drawn from the grid). For the
demo households the shared household model (household_model, which the oracle's simulated source also uses) is
deterministic, so the page can show what it generated and consumed in each settled interval. Real meters report
only net readings: no model, no lines.
WEBAPP_METER_MODEL names the community file (default: the demo community, when present; "off" disables it).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

from energy_chain.config import PROJECT_ROOT

log = logging.getLogger(__name__)
DEMO_COMMUNITY = PROJECT_ROOT / "meter_oracle" / "config" / "demo-community.json"


def community_file() -> Path | None:
    configured = os.environ.get("WEBAPP_METER_MODEL", "")
    if configured.lower() == "off":
        return None
    path = Path(configured) if configured else DEMO_COMMUNITY
    return path if path.exists() else None


@lru_cache(maxsize=8)
def _model(path: str, interval_s: int):
    from household_model import HouseholdModel, load_community

    return HouseholdModel(load_community(path), interval_s)


def modelled(serial: str | None, intervals: list[int], interval_s: int) -> dict[int, tuple[int, int]]:
    """{interval start: (generated Wh, consumed Wh)} for a simulated meter; empty for any other meter."""
    path = community_file()
    if serial is None or path is None or not intervals or interval_s <= 0:
        return {}
    try:
        model = _model(str(path), interval_s)
        household = next((h for h in model.community.households if h.serial == serial), None)
        if household is None:
            return {}
        out = {}
        for start in intervals:
            gen, use = model.interval_energy(household, start)
            out[start] = (round(gen), round(use))
        return out
    except Exception as exc:  # the model is a nicety: the page works without it
        log.warning("meter model unavailable: %s", exc)
        return {}
