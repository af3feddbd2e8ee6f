"""Offer discovery over a Kademlia DHT: each meter publishes a seller-signed record of its current signed offers
under the hash of its meter id; buyers look up their community's records in parallel and keep what verifies.
See docs/discovery.md."""

from agents.discovery.chain import chain_verifier
from agents.discovery.config import DhtConfig, parse_peers
from agents.discovery.loop import LoopThread
from agents.discovery.node import DiscoveryNode
from agents.discovery.record import MAX_OFFERS, MAX_RECORD_BYTES, Record, RecordError, record_key, sign_record
from agents.discovery.verify import STAT_KEYS, Verifier

__all__ = [
    "MAX_OFFERS",
    "MAX_RECORD_BYTES",
    "STAT_KEYS",
    "DhtConfig",
    "DiscoveryNode",
    "LoopThread",
    "Record",
    "RecordError",
    "Verifier",
    "chain_verifier",
    "parse_peers",
    "record_key",
    "sign_record",
]
