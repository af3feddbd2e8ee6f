"""Projections: functions that turn one decoded event into rows of the history tables, one module per contract.

A projection is registered with @projection(contract, event); the engine calls it for each such event, in chain
order, inside the batch's database transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.extensions import db


class BatchContext:
    """What a projection may use: the session and the block timestamps of the batch."""

    def __init__(self, timestamps: dict[int, int]) -> None:
        self.session = db.session
        self.timestamps = timestamps


Projection = Callable[[BatchContext, dict[str, Any], dict[str, Any]], None]
PROJECTIONS: dict[tuple[str, str], Projection] = {}


def projection(contract: str, event: str) -> Callable[[Projection], Projection]:
    """Register a function that turns one decoded event into rows of the history tables."""

    def wrap(fn: Projection) -> Projection:
        PROJECTIONS[(contract, event)] = fn
        return fn

    return wrap


def bytes32(v: str) -> str:
    return v.lower()


# Importing the modules registers their projections.
from webapp.indexer.projections import auction, meters, offers, order_book  # noqa: E402,F401
