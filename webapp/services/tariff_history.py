"""The grid tariffs (retail import price, feed-in export tariff) in force at any block, from the auction's
`GridTariffsSet` events in the index (its constructor emits the first, so an index that starts at the deployment
holds the whole history). Without any indexed change the contract's current tariffs stand in for every block, and
`source` says so, so that a page never presents today's tariffs as the historical ones."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from energy_chain.clearing import Tariffs
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import ChainEvent
from webapp.services.auctions import grid_tariffs

AUCTION = "DoubleAuction"


@dataclass(frozen=True)
class TariffHistory:
    """Changes as (block, log index, tariffs), oldest first; `current` is the contract's tariffs now (or None)."""

    changes: list[tuple[int, int, Tariffs]] = field(default_factory=list)
    current: Tariffs | None = None

    @property
    def source(self) -> str:
        """indexed: the tariff history is on record; current: only today's tariffs are known; none: no tariffs."""
        if self.changes:
            return "indexed"
        return "current" if self.current is not None else "none"

    def at(self, block: int, log_index: int = 2**31) -> Tariffs | None:
        """The tariffs in force at (block, log index): the last change at or before it; None before the first
        indexed change (an index that started after the deployment does not know them)."""
        if not self.changes:
            return self.current
        k = bisect.bisect_right(self.changes, (block, log_index), key=lambda c: (c[0], c[1])) - 1
        return self.changes[k][2] if k >= 0 else None

    def epochs(self) -> list[int]:
        """The block of each change, oldest first: epoch k (k >= 1) runs from the k-th of them, epoch 0 is before any
        (unknown tariffs)."""
        return [b for b, _, _ in self.changes]


def load(current: Tariffs | None = None, ask_chain: bool = True) -> TariffHistory:
    """The indexed history; the contract's current tariffs are read only when nothing is indexed (or given)."""
    rows = db.session.execute(
        select(ChainEvent.block_number, ChainEvent.log_index, ChainEvent.args_json)
        .where(ChainEvent.contract == AUCTION, ChainEvent.name == "GridTariffsSet")
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    ).all()
    changes = []
    for block, log_index, args_json in rows:
        args = json.loads(args_json)
        changes.append((int(block), int(log_index), Tariffs(int(args["retailPrice"]), int(args["feedInTariff"]))))
    if current is None and not changes and ask_chain:
        current = _current()
    return TariffHistory(changes, current)


def _current() -> Tariffs | None:
    try:
        return grid_tariffs()
    except UserError:  # chain unreachable: no tariffs rather than a wrong one
        return None
