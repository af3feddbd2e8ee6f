"""Load scenarios: the seed platform's three Locust runs, a maximum-throughput run, and a short smoke run.

The seed measured 150 users spawned at 2/s with 1-2 s waits, 500 at 2/s with 1-5 s waits and 1 000 at 5/s with
1-5 s waits, each user repeating one task (make a transaction): 3.83 tx/s on average, 4.8 at peak concurrency,
5.4 at most, zero failures. Each of ours ramps up at the seed's spawn rate, then holds `steady_s` seconds; the
figures come from the steady phase only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

SEED_AVG_TPS = 3.83
SEED_PEAK_TPS = 4.8
SEED_MAX_TPS = 5.4


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int
    spawn_rate: float
    wait_min: float
    wait_max: float
    steady_s: int
    user_classes: tuple[str, ...] = ("WebTrader",)

    @property
    def ramp_s(self) -> int:
        return int(self.users / self.spawn_rate + 0.999)

    @property
    def run_time_s(self) -> int:
        return self.ramp_s + self.steady_s

    @property
    def offered_rps(self) -> float:
        """What the users ask for when the system answers instantly: users / mean wait (∞ without waits)."""
        mean_wait = (self.wait_min + self.wait_max) / 2
        return self.users / mean_wait if mean_wait else float("inf")


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("seed-150", 150, 2, 1, 2, 300),
        Scenario("seed-500", 500, 2, 1, 5, 300),
        Scenario("seed-1000", 1000, 5, 1, 5, 300),
        # No waits: each user sends its next request as soon as the last one answered; enough users to keep the
        # web servers' threads busy without queueing so deep that latency is all queue.
        Scenario("max", 300, 50, 0, 0, 600),
        # Chain users only: the JSON-RPC path without the web tier, for comparison.
        Scenario("max-chain", 200, 50, 0, 0, 600, ("ChainTrader",)),
        Scenario("smoke", 6, 6, 0.5, 1, 10, ("WebTrader", "ChainTrader")),
    )
}


def get(name: str, env: Mapping[str, str] | None = None) -> Scenario:
    """The named scenario; LOADTEST_USERS and LOADTEST_STEADY_S override its size and length (for exploring)."""
    env = os.environ if env is None else env
    try:
        scenario = SCENARIOS[name]
    except KeyError as exc:
        raise SystemExit(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}") from exc
    if env.get("LOADTEST_USERS"):
        scenario = replace(scenario, users=int(env["LOADTEST_USERS"]))
    if env.get("LOADTEST_STEADY_S"):
        scenario = replace(scenario, steady_s=int(env["LOADTEST_STEADY_S"]))
    return scenario
