"""The real meter oracle (Ingest -> Outbox -> Submitter) driven by the simulator's clock, one boundary at a time."""

from __future__ import annotations

import logging
from pathlib import Path

from energy_chain import ChainClient, Signer
from meter_oracle.config import OracleConfig
from meter_oracle.daemon import Ingest
from meter_oracle.metrics import Metrics
from meter_oracle.outbox import Outbox
from meter_oracle.registry import ChainMeterDirectory
from meter_oracle.submitter import Submitter
from simulation.chain import SimChain
from simulation.meters import CommunityMeters

MAX_ROUNDS = 20


class SimOracle:
    def __init__(self, client: ChainClient, signer: Signer, meters: CommunityMeters, folder: Path, interval_s: int,
                 clock: SimClock) -> None:  # fmt: skip
        logging.getLogger("meter_oracle").setLevel(logging.WARNING)
        self.clock = clock
        self.config = OracleConfig(chain=client.config, interval_s=interval_s, outbox=folder / "outbox.sqlite",
                                   metrics_port=0, max_in_flight=64)  # fmt: skip
        self.metrics = Metrics()
        self.ingest_box, self.submit_box = Outbox(self.config.outbox), Outbox(self.config.outbox)
        directory = ChainMeterDirectory(client, active_ttl_s=3600.0)
        self.ingest = Ingest(self.config, meters, self.ingest_box, directory, self.metrics, wall=clock.now)
        self.submitter = Submitter(client, signer, self.submit_box, self.metrics, self.config, directory)

    def record(self, boundary: int, chain: SimChain, ts: int) -> list[int]:
        """Read the meters at `boundary`, store, send and mine until the outbox is drained; returns blocks mined."""
        self.ingest.process(boundary)
        blocks: list[int] = []
        for _ in range(MAX_ROUNDS):
            self.submitter.step()
            counts = self.submit_box.counts()
            if counts["pending"] == 0 and counts["batched"] == 0:
                return blocks
            blocks += chain.mine(ts)
        raise RuntimeError(f"the oracle did not drain boundary {boundary}: {self.submit_box.counts()}")

    def close(self) -> None:
        self.ingest_box.close()
        self.submit_box.close()


class SimClock:
    """Simulated time, advanced by the simulator (the agents' and the oracle's injected clock)."""

    def __init__(self, t: float) -> None:
        self.t = float(t)

    def now(self) -> float:
        return self.t

    def set(self, t: float) -> None:
        self.t = float(t)
