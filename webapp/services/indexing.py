"""How far the index is, for pages and the health endpoint (the indexer itself is webapp.indexer)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from webapp.indexer.state import last_indexed
from webapp.services.context import chain

__all__ = ["health", "last_indexed"]


def health() -> dict[str, Any]:
    """The chain's status, the last indexed block and the indexer's last error (None when it is running fine)."""
    indexer = current_app.extensions.get("indexer")
    return {"chain": chain().status(), "indexed_block": last_indexed(),
            "indexer_error": indexer.last_error if indexer else None}  # fmt: skip
