"""`make bench-oracle`: can one oracle keep up with 1 000 meters at a 1-minute interval (>= 17 mints/s)?

On its own anvil (1 s blocks, free port), 1 000 meters with 1 000 owners are registered in bulk (pre-signed,
batched). The real oracle pipeline (simulated community -> validation -> SQLite outbox -> batched, nonce-explicit
recordReadings) then runs in two phases:
  1. backlog: the last BACKLOG intervals of all meters, played as fast as possible -> sustained mints/s;
  2. real time: REALTIME more 60 s intervals at the wall clock's pace -> lag from the end of an interval (when the
     meters report) to its readings being mined.
The chain's ReadingRecorded events are compared with what the meters produced: `lost` readings were produced but
never recorded, `duplicated` ones were recorded more than once. Writes reports/oracle-bench.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from web3 import Web3

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import start_anvil
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import deploy_local, dev_signer
from meter_oracle.config import OracleConfig, SourceConfig
from meter_oracle.daemon import Ingest
from meter_oracle.metrics import Metrics
from meter_oracle.model import align
from meter_oracle.outbox import Outbox
from meter_oracle.registry import ChainMeterDirectory
from meter_oracle.sources.simulated import Community, Household, Location, SimulatedSource
from meter_oracle.submitter import Submitter
from scripts.register_meters import register_meters

REPORT = PROJECT_ROOT / "reports" / "oracle-bench.json"
INTERVAL_S = 60
log = logging.getLogger("bench_oracle")


def community(meters: int, seed: int = 11) -> Community:
    rnd = random.Random(seed)
    households = []
    for i in range(meters):
        prosumer = rnd.random() < 0.6
        households.append(
            Household(
                f"house {i}",
                f"BENCH-{i:05d}",
                "prosumer" if prosumer else "consumer",
                round(rnd.uniform(3, 8), 1) if prosumer else 0.0,
                rnd.uniform(2500, 6000),
            )
        )
    return Community("bench", Location(), INTERVAL_S, tuple(households), seed)


def owner_of(i: int) -> str:
    return Web3.to_checksum_address(Web3.keccak(text=f"bench-owner-{i}")[12:])


def recorded(client: ChainClient, from_block: int) -> Counter:
    token = client.contract("EnergyToken")
    head = client.w3.eth.block_number
    keys: Counter = Counter()
    for start in range(from_block, head + 1, 500):
        for e in token.events.ReadingRecorded.get_logs(from_block=start, to_block=min(start + 499, head)):
            keys[(bytes(e["args"]["meterId"]), int(e["args"]["interval"]))] += 1
    return keys


def run(meters: int, backlog: int, realtime: int) -> dict[str, object]:
    chain = start_anvil(block_time=1, gas_limit=300_000_000)
    workdir = Path(tempfile.mkdtemp(prefix="oracle-bench-"))
    stop = threading.Event()
    try:
        chain_cfg = ChainConfig(rpc_url=chain.url, deployments_dir=workdir / "deployments")
        client = ChainClient(chain_cfg)
        deploy_local(client)
        comm = community(meters)
        t = time.monotonic()
        owners = [(h.serial, owner_of(i)) for i, h in enumerate(comm.households)]
        register_meters(client, dev_signer("operator"), owners, period_s=INTERVAL_S)
        print(f"registered {meters} meters in {time.monotonic() - t:.1f}s")
        start_block = client.w3.eth.block_number

        now = time.time()
        cfg = OracleConfig(
            chain=chain_cfg,
            interval_s=INTERVAL_S,
            outbox=workdir / "outbox.sqlite",
            metrics_port=0,
            max_in_flight=8,
            source=SourceConfig(kind="simulate", backfill_hours=backlog / 60, speed=1e6),
        )
        ingest_box, submit_box = Outbox(cfg.outbox), Outbox(cfg.outbox)
        metrics = Metrics()
        ingest = Ingest(
            cfg, SimulatedSource(comm, INTERVAL_S), ingest_box, ChainMeterDirectory(ChainClient(chain_cfg)), metrics
        )
        submit_client = ChainClient(chain_cfg)
        submitter = Submitter(
            submit_client, dev_signer("oracle"), submit_box, metrics, cfg, ChainMeterDirectory(submit_client)
        )
        worker = threading.Thread(target=submitter.run, args=(stop,), daemon=True)
        first_boundary = ingest.next_boundary

        # Phase 1: the backlog, as fast as the pipeline goes.
        t0 = time.time()
        worker.start()
        while not ingest.clock.caught_up() or ingest.next_boundary <= align(now, INTERVAL_S):
            ingest.run_due()
        backlog_readings = ingest_box.counts()["pending"] + ingest_box.counts()["batched"]
        backlog_readings += ingest_box.counts()["minted"]
        while ingest_box.counts()["minted"] < backlog_readings:
            time.sleep(0.05)
        t1 = time.time()
        mints_per_s = backlog_readings / (t1 - t0)
        print(
            f"backlog: {backlog_readings} readings of {backlog} intervals minted in {t1 - t0:.1f}s "
            f"= {mints_per_s:.0f} mints/s"
        )

        # Phase 2: real time, one boundary a minute.
        lag_from = time.time()
        target = ingest.next_boundary + (realtime - 1) * INTERVAL_S
        while ingest.next_boundary <= target:
            ingest.run_due()
            time.sleep(min(max(ingest.seconds_until_due(), 0.01), 1.0))
        if not submitter_drained(ingest_box, 120):
            print("warning: outbox not drained")
        lag_s = ingest_box.worst_mint_lag(INTERVAL_S, accepted_since=lag_from) or 0.0
        last_boundary = ingest.next_boundary - INTERVAL_S
        print(f"real time: {realtime} intervals, worst lag {lag_s:.2f}s from interval end to mined")

        stop.set()
        worker.join(30)
        keys = recorded(client, start_block)
        expected = meters * ((last_boundary - first_boundary) // INTERVAL_S)
        produced = ingest_box.counts()
        lost = expected - len(keys)
        duplicated = sum(n - 1 for n in keys.values() if n > 1)
        print(f"expected {expected} readings, recorded {len(keys)}, outbox {produced}")
        return {
            "meters": meters,
            "interval_s": INTERVAL_S,
            "mints_per_s": round(mints_per_s, 1),
            "lag_s": round(lag_s, 2),
            "lost": lost,
            "duplicated": duplicated,
        }
    finally:
        stop.set()
        chain.stop()


def submitter_drained(box: Outbox, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        c = box.counts()
        if c["pending"] == 0 and c["batched"] == 0:
            return True
        time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meters", type=int, default=1000)
    p.add_argument("--backlog", type=int, default=15, help="past intervals played as fast as possible")
    p.add_argument("--realtime", type=int, default=2, help="60 s intervals followed at wall-clock pace")
    p.add_argument("--out", type=Path, default=REPORT)
    ns = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(ns.meters, ns.backlog, ns.realtime)
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))
    ok = result["mints_per_s"] >= 17 and result["lost"] == 0 and result["duplicated"] == 0  # type: ignore[operator]
    ok = ok and result["lag_s"] < INTERVAL_S  # type: ignore[operator]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
