"""The indexer's progress, a key/value table: last indexed block, its hash, the deployment it follows."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import IndexerState


def get(key: str) -> str | None:
    row = db.session.get(IndexerState, key)
    return row.value if row else None


def put(key: str, value: str) -> None:
    """Set `key` in the current session (committed with the batch it describes)."""
    row = db.session.get(IndexerState, key)
    if row is None:
        db.session.add(IndexerState(key=key, value=value))
    else:
        row.value = value


def last_indexed() -> int | None:
    value = get("last_block")
    return int(value) if value is not None else None
