"""The oracle process: an ingest loop (read meters, validate, store in the outbox) and a submitter thread.

SIGTERM/SIGINT stop both cleanly: the boundary being read is stored whole or not at all, the submitter finishes
its current step, and whatever is not yet mined stays in the outbox for the next start.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from energy_chain import ChainClient, Signer
from meter_oracle.config import OracleConfig
from meter_oracle.metrics import Metrics
from meter_oracle.model import CounterSample, Reading, align
from meter_oracle.outbox import Outbox
from meter_oracle.registry import ChainMeterDirectory
from meter_oracle.sources import CatchUpClock, MeterSource, build_source
from meter_oracle.submitter import Submitter
from meter_oracle.validation import Accepted, MeterState, Validator

log = logging.getLogger("meter_oracle.daemon")

MAX_BOUNDARIES_PER_ROUND = 20  # while catching up, look at the stop flag this often


class Ingest:
    """Reads the source at each due boundary and stores the verdicts, one transaction per boundary."""

    def __init__(
        self,
        config: OracleConfig,
        source: MeterSource,
        outbox: Outbox,
        directory: ChainMeterDirectory,
        metrics: Metrics,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.source = source
        self.outbox = outbox
        self.directory = directory
        self.metrics = metrics
        self.wall = wall
        self.validator = Validator(
            config.interval_s, directory, config.max_power_w, future_skew_s=config.future_skew_s, clock=wall
        )
        self.states: dict[str, MeterState] = outbox.states()
        source.restore(self.states)
        L = config.interval_s
        now = wall()
        cursor_raw = outbox.get("cursor")
        cursor = int(cursor_raw) if cursor_raw is not None else None
        if source.realtime:
            self.next_boundary = align(now, L) + L  # real meters: the next boundary from now
            self.clock = CatchUpClock(now, 1.0, wall)
        else:
            earliest = align(now - config.source.backfill_hours * 3600, L)
            first = getattr(source, "first_timestamp", None)
            if first is not None:  # a replay starts at its first (shifted) row
                earliest = align(first + getattr(source, "shift_s", 0), L)
            start = earliest if cursor is None else max(cursor + L, earliest)
            if cursor is not None:
                source.seek(cursor)
            self.next_boundary = start
            self.clock = CatchUpClock(start, config.source.speed, wall)
        self.delay = config.source.read_delay_s if source.realtime else 0.0
        log.info(
            "ingest from %s starts at boundary %d (%.0fs behind the wall clock), speed %.0fx",
            source.name,
            self.next_boundary,
            max(0.0, now - self.next_boundary),
            self.clock.speed,
        )

    def seconds_until_due(self) -> float:
        return self.clock.wall_seconds_until(self.next_boundary + self.delay)

    def run_due(self) -> int:
        """Process the boundaries that are due now (at most a few per call); returns how many."""
        done = 0
        L = self.config.interval_s
        while done < MAX_BOUNDARIES_PER_ROUND and self.clock.now() >= self.next_boundary + self.delay:
            if self.source.realtime:  # a slow round: skip to the latest boundary; the gap is split evenly
                self.next_boundary = max(self.next_boundary, align(self.clock.now() - self.delay, L))
            self.process(self.next_boundary)
            self.next_boundary += L
            done += 1
        return done

    def process(self, boundary: int) -> None:
        try:
            samples = self.source.read(boundary)
        except Exception as exc:  # a broken source must not stop the oracle; the next boundary covers the gap
            self.metrics.source_errors.inc()
            log.warning("reading %s at %d failed: %s", self.source.name, boundary, exc)
            samples = []
        self.metrics.samples.labels(self.source.name).inc(len(samples))
        self.directory.prefetch({s.serial for s in samples})
        accepted: list[tuple[CounterSample, list[Reading]]] = []
        rejected: list[tuple[CounterSample, str, str]] = []
        for sample in samples:
            verdict = self.validator.check(sample, self.states.get(sample.serial))
            if isinstance(verdict, Accepted):
                accepted.append((sample, verdict.readings))
                self.states[sample.serial] = verdict.state
            else:
                rejected.append((sample, verdict.reason, verdict.detail))
                self.metrics.rejections.labels(verdict.reason).inc()
                log.warning(
                    "rejected %s at %d: %s (%s)",
                    sample.serial,
                    sample.boundary,
                    verdict.reason,
                    verdict.detail,
                    extra={"serial": sample.serial, "boundary": sample.boundary, "reason": verdict.reason},
                )
        self.outbox.record(accepted, rejected, cursor=boundary, now=self.wall())
        n = sum(len(r) for _, r in accepted)
        self.metrics.readings.inc(n)
        self.metrics.ingested.set(boundary)
        log.debug("boundary %d: %d samples, %d readings, %d rejected", boundary, len(samples), n, len(rejected))


class Daemon:
    def __init__(self, config: OracleConfig, signer: Signer, metrics: Metrics | None = None) -> None:
        self.config = config
        self.signer = signer
        self.metrics = metrics or Metrics()
        self.stop_event = threading.Event()

    def install_signal_handlers(self) -> None:
        def _stop(signum: int, _frame: object) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def check_role(self, client: ChainClient) -> None:
        """Refuse to start with a key that cannot mint (when the chain answers; otherwise the submitter waits)."""
        try:
            token = client.contract("EnergyToken")
            role = token.functions.ORACLE_ROLE().call()
            allowed = token.functions.hasRole(role, self.signer.address).call()
        except Exception as exc:
            log.warning("cannot check the oracle role now (%s); continuing", exc)
            return
        if not allowed:
            raise SystemExit(f"{self.signer.address} does not hold ORACLE_ROLE on EnergyToken {token.address}")

    def _submit(self, submitter: Submitter) -> None:
        """The submitter thread: a crash (a bug, not the chain being down) stops the whole oracle with its trace."""
        try:
            submitter.run(self.stop_event)
        except BaseException as exc:
            log.exception("submitter crashed: stopping the oracle")
            submitter.fatal = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
            self.stop_event.set()
            raise

    def run(self, exit_when_done: bool = False) -> int:
        cfg = self.config
        ingest_client, submit_client = ChainClient(cfg.chain), ChainClient(cfg.chain)
        self.check_role(submit_client)
        ingest_box, submit_box = Outbox(cfg.outbox), Outbox(cfg.outbox)
        source = build_source(cfg, ingest_box, time.time())
        ingest = Ingest(cfg, source, ingest_box, ChainMeterDirectory(ingest_client), self.metrics)
        submitter = Submitter(
            submit_client, self.signer, submit_box, self.metrics, cfg, ChainMeterDirectory(submit_client)
        )
        self.metrics.serve(cfg.metrics_port, cfg.metrics_addr)
        thread = threading.Thread(target=self._submit, args=(submitter,), name="submitter", daemon=True)
        thread.start()
        log.info(
            "oracle %s running: source %s, interval %ds, outbox %s, metrics port %s",
            self.signer.address,
            source.name,
            cfg.interval_s,
            cfg.outbox,
            cfg.metrics_port or "off",
        )
        try:
            while not self.stop_event.is_set():
                ingest.run_due()
                if exit_when_done and getattr(source, "exhausted", lambda: False)():
                    counts = ingest_box.counts()
                    if counts["pending"] == 0 and counts["batched"] == 0:
                        log.info("replay finished and everything is minted")
                        self.stop_event.set()
                        break
                self.stop_event.wait(min(max(ingest.seconds_until_due(), 0.01), 1.0))
        finally:
            self.stop_event.set()
            thread.join(timeout=30)
            self.metrics.stop()
            source.close()
            counts = ingest_box.counts()
            ingest_box.close()
            submit_box.close()
            log.info("stopped cleanly; outbox: %s", counts, extra={"outbox": counts})
        return 3 if submitter.fatal is not None else 0
