"""The on-chain meter registry as the validator sees it: meter status by serial, cached, read in batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from energy_chain import ChainClient
from energy_chain.calls import call_many
from energy_chain.meters import meter_id
from meter_oracle.validation import ACTIVE, INACTIVE, UNAVAILABLE, UNKNOWN

log = logging.getLogger("meter_oracle.registry")


class ChainMeterDirectory:
    """Caches each meter's status: active ones for `active_ttl_s`, others for `other_ttl_s` (so a newly registered
    meter is picked up soon). While the chain is unreachable the last known status is used."""

    def __init__(
        self,
        client: ChainClient,
        active_ttl_s: float = 60.0,
        other_ttl_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.active_ttl_s = active_ttl_s
        self.other_ttl_s = other_ttl_s
        self.clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._down_until = 0.0  # after a failed read, don't ask again for a few seconds

    def _fresh(self, serial: str) -> bool:
        entry = self._cache.get(serial)
        if entry is None:
            return False
        ttl = self.active_ttl_s if entry[0] == ACTIVE else self.other_ttl_s
        return self.clock() - entry[1] < ttl

    def refresh(self, serials: Iterable[str]) -> None:
        """Read the status of these meters from the chain in one batch (raises when the chain is unreachable)."""
        serials = list(dict.fromkeys(serials))
        if not serials:
            return
        registry = self.client.contract("MeterRegistry")
        results = call_many(self.client, [registry.functions.activeOwnerOf(meter_id(s)) for s in serials])
        now = self.clock()
        for serial, res in zip(serials, results, strict=True):
            if res.ok:
                status = ACTIVE
            elif res.error is not None and res.error.name == "MeterRegistryInactiveMeter":
                status = INACTIVE
            elif res.error is not None and res.error.name == "MeterRegistryUnknownMeter":
                status = UNKNOWN
            else:
                raise RuntimeError(f"activeOwnerOf({serial}) failed: {res.message}")
            self._cache[serial] = (status, now)

    def prefetch(self, serials: Iterable[str]) -> None:
        """Refresh the stale entries among `serials` in one batch; keep the old ones if the chain is down."""
        stale = [s for s in serials if not self._fresh(s)]
        if not stale or self.clock() < self._down_until:
            return
        try:
            self.refresh(stale)
        except Exception as exc:  # unreachable chain: validate with what we knew
            self._down_until = self.clock() + 5.0
            log.warning("meter registry unreachable (%s); using cached status for %d meters", exc, len(stale))

    def status(self, serial: str) -> str:
        if not self._fresh(serial):
            self.prefetch([serial])
        entry = self._cache.get(serial)
        return UNAVAILABLE if entry is None else entry[0]
