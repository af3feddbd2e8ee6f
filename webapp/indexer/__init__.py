"""Chain indexer: the follow/reset engine (engine.py), its progress (state.py) and one projection module per
contract (projections/) that turns decoded events into rows of the history tables."""

from webapp.indexer.engine import Indexer
from webapp.indexer.state import last_indexed

__all__ = ["Indexer", "last_indexed"]
