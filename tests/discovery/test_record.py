"""Record envelope, verifier and configuration without a network: bad input gets a clear, classified error."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from eth_account import Account

from agents.discovery import DhtConfig, DiscoveryNode, RecordError, Verifier, parse_peers, sign_record
from agents.discovery.record import MAX_OFFERS, decode_record
from tests.discovery.conftest import CHAIN_ID, CONTRACT, make_offer, now_s

OWNER = Account.create()
METER = "0x" + "ab" * 32


def verifier(balance: int = 10_000) -> Verifier:
    return Verifier(CHAIN_ID, CONTRACT, lambda a: balance, lambda m: OWNER.address if m == METER else None)


def record(**overrides: int) -> str:
    now = now_s()
    args = {"seq": 1, "issued_at": now, "expires_at": now + 60, "chain_id": CHAIN_ID} | overrides
    return sign_record(METER, [make_offer(OWNER, now)], OWNER.key, **args).encode()


def reason(raw: object, meter: str = METER, now: int | None = None) -> str:
    with pytest.raises(RecordError) as info:
        verifier().check_record(raw, meter, now_s() if now is None else now)
    return info.value.reason


def test_a_good_record_round_trips() -> None:
    raw = record()
    rec = verifier().check_record(raw, METER.upper().replace("0X", "0x"), now_s())
    assert rec.seller == OWNER.address and rec.seq == 1 and len(rec.offers) == 1
    assert decode_record(raw).encode() == raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xff\xfe", "malformed"),
        ("[]", "malformed"),
        (7, "malformed"),
        ('{"body": {"v": 2}, "sig": "0x"}', "malformed"),
        ("y" * 10_000, "oversized"),
    ],
)
def test_garbage_is_classified(raw: object, expected: str) -> None:
    assert reason(raw) == expected


def test_envelope_rules() -> None:
    assert reason(record(), meter="0x" + "cd" * 32) == "forged"  # stored under another meter's key
    assert reason(record(chain_id=5)) == "forged"
    assert reason(record(), now=now_s() + 120) == "stale"
    assert reason(record(issued_at=now_s() + 600, expires_at=now_s() + 900)) == "malformed"
    assert reason(record(expires_at=now_s() + 86_400)) == "malformed"  # lifetime above max_ttl_s
    body = json.loads(record())
    body["body"]["seq"] = 2  # seq is signed: raising it breaks the signature
    assert reason(json.dumps(body)) == "forged"


def test_sign_record_refuses_what_verifiers_would_drop() -> None:
    now = now_s()
    offers = [make_offer(OWNER, now) for _ in range(MAX_OFFERS + 1)]
    with pytest.raises(ValueError, match="at most"):
        sign_record(METER, offers, OWNER.key, 1, now, now + 60, CHAIN_ID)
    with pytest.raises(ValueError, match="expire after"):
        sign_record(METER, offers[:1], OWNER.key, 1, now, now, CHAIN_ID)


def test_offer_rules() -> None:
    now = now_s()
    rec = verifier().check_record(record(), METER, now)
    stats: Counter[str] = Counter()
    assert verifier(balance=499).usable_offers(rec, now, stats, {}) == []
    assert stats["unfunded"] == 1
    assert verifier().check_offer(rec.offers[0], rec, now + 10_000) == "stale"
    other = Verifier(CHAIN_ID, "0x" + "dd" * 20, lambda a: 10**6)
    assert other.check_offer(rec.offers[0], rec, now) == "forged"  # signed for another contract


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DHT_BOOTSTRAP", "localhost:4000, 10.0.0.2:4001")
    monkeypatch.setenv("DHT_PORT", "0")
    monkeypatch.setenv("DHT_RECORD_TTL_S", "30")
    cfg = DhtConfig.from_env()
    assert cfg.bootstrap == [("127.0.0.1", 4000), ("10.0.0.2", 4001)]
    assert (cfg.host, cfg.port, cfg.record_ttl_s) == ("127.0.0.1", 0, 30)
    node = DiscoveryNode.from_env(verifier())
    assert node.bootstrap_peers == cfg.bootstrap and node.record_ttl_s == 30
    for bad in ("nohost", "host:", "host:99999", "a:b"):
        with pytest.raises(ValueError, match="DHT_BOOTSTRAP"):
            parse_peers(bad)
    monkeypatch.setenv("DHT_RPC_TIMEOUT_S", "soon")
    with pytest.raises(ValueError, match="DHT_RPC_TIMEOUT_S"):
        DhtConfig.from_env()


def test_a_node_refuses_to_publish_without_its_key_or_others_offers() -> None:
    node = DiscoveryNode(verifier=verifier())
    with pytest.raises(RuntimeError, match="not running"):
        node.gather([METER], now_s())
    with pytest.raises(ValueError, match="without a key"):
        node.publish(METER, [])
    with pytest.raises(ValueError, match="max_ttl_s"):
        DiscoveryNode(verifier=verifier(), record_ttl_s=7200)
    keyed = DiscoveryNode(verifier=verifier(), key=Account.create().key)
    with pytest.raises(ValueError, match="not signed by this node"):
        keyed.publish(METER, [make_offer(OWNER, now_s())])
