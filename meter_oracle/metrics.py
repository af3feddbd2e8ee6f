"""Prometheus metrics of one oracle (its own registry, so tests can run several in one process)."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.samples = Counter("oracle_samples", "Counter samples read from meters", ["source"], registry=r)
        self.source_errors = Counter("oracle_source_errors", "Failed reads of a meter source", registry=r)
        self.readings = Counter("oracle_readings", "Interval readings accepted into the outbox", registry=r)
        self.rejections = Counter(
            "oracle_rejections", "Samples or readings rejected, by reason", ["reason"], registry=r
        )
        self.mints = Counter("oracle_mints", "Readings recorded on chain", registry=r)
        self.minted_wh = Counter("oracle_minted_wh", "Surplus Wh recorded on chain (minted)", registry=r)
        self.deficit_wh = Counter("oracle_deficit_wh", "Deficit Wh recorded on chain (burned or grid)", registry=r)
        self.batches = Counter("oracle_batches", "Batch transactions by outcome", ["outcome"], registry=r)
        self.rpc_errors = Counter("oracle_rpc_errors", "Failed calls to the chain node", registry=r)
        self.pending = Gauge("oracle_outbox_pending", "Readings in the outbox not yet minted", registry=r)
        self.lag = Gauge(
            "oracle_lag_seconds",
            "Seconds since the end of the oldest interval not yet minted (0 when everything is minted)",
            registry=r,
        )
        self.last_minted = Gauge(
            "oracle_last_minted_interval_timestamp_seconds", "Start of the latest interval minted", registry=r
        )
        self.ingested = Gauge(
            "oracle_last_ingested_boundary_timestamp_seconds",
            "Latest interval boundary read from the meters",
            registry=r,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        """Expose /metrics on `port` (0: do not serve)."""
        if port:
            self._server, self._thread = start_http_server(port, addr=addr, registry=self.registry)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
