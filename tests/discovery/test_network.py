"""A DHT of 20 real kademlia nodes on 127.0.0.1: offers published and found, forged / replayed / oversized records
refused by storing nodes and ignored (and counted) by buyers, a killed node's offers expiring."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import umsgpack
from eth_account import Account

from agents.discovery import DiscoveryNode, LoopThread, record_key, sign_record
from agents.discovery.record import MAX_RECORD_BYTES
from tests.discovery.conftest import CHAIN_ID, Community, make_offer, now_s


def stored_everywhere(c: Community, key: bytes, value: Any) -> None:
    """What a network of careless (or compromised) storing nodes would hold: `value` under `key` on every node."""

    async def put() -> None:
        for node in c.nodes:
            node.server.storage[key] = value

    c.loop.run(put(), 10)


def push_store(loop: LoopThread, sender: DiscoveryNode, targets: list[DiscoveryNode], key: bytes, value: Any) -> list:
    """Send a STORE RPC for (key, value) to every target; returns their answers (True = stored)."""

    async def send() -> list:
        proto = sender.server.protocol
        answers = [proto.store(t.address, sender.server.node.id, key, value) for t in targets]
        return [ok and answer for ok, answer in [await a for a in answers]]

    return loop.run(send(), 30)


def hashes(offers: list) -> set[str]:
    return {o.offer_hash for o in offers}


def test_twenty_nodes_publish_and_every_buyer_finds_every_offer(community: Callable[..., Community]) -> None:
    c = community(20)
    now = now_s()
    published = set()
    for i, (meter, account, node) in enumerate(zip(c.meters, c.accounts, c.nodes, strict=True)):
        offers = [make_offer(account, now, 300 + i, 100 + i)] + ([make_offer(account, now, 200, 90)] if i % 2 else [])
        node.publish(meter, offers)
        published |= hashes(offers)
    assert len(published) == 30
    buyer = c.add_node()  # a fresh node that stores nothing yet: everything comes over the network
    for reader in (buyer, c.nodes[0], c.nodes[13]):
        found = reader.gather(c.meters, now_s())
        assert hashes(found) == published
        assert reader.stats["found"] == 30
        assert all(reader.stats[k] == 0 for k in ("forged", "stale", "oversized", "malformed", "unfunded"))
    assert buyer.rpc_counts["find_value"] >= len(c.meters)  # lookups did go out over UDP


def test_a_new_record_replaces_the_old_and_empty_withdraws(community: Callable[..., Community]) -> None:
    c = community(20)
    meter, account, node = c.meters[4], c.accounts[4], c.nodes[4]
    old, new = make_offer(account, now_s()), make_offer(account, now_s(), 700)
    node.publish(meter, [old])
    assert hashes(c.nodes[9].gather([meter], now_s())) == {old.offer_hash}
    node.publish(meter, [new])
    assert hashes(c.nodes[9].gather([meter], now_s())) == {new.offer_hash}
    assert hashes(c.add_node().gather([meter], now_s())) == {new.offer_hash}
    node.withdraw(meter)
    assert c.nodes[9].gather([meter], now_s()) == []


def _forgeries(c: Community) -> dict[str, tuple[str, str]]:
    """Records claiming meter 0, each with the stats key a buyer must count it under."""
    meter, owner = c.meters[0], c.accounts[0]
    now = now_s()
    genuine = sign_record(meter, [make_offer(owner, now)], owner.key, 10, now, now + 300, CHAIN_ID).encode()
    bad_sig = json.loads(genuine)
    bad_sig["sig"] = bad_sig["sig"][:10] + ("0" if bad_sig["sig"][10] != "0" else "1") + bad_sig["sig"][11:]
    tampered = json.loads(genuine)
    tampered["body"]["offers"][0]["offer"]["amount_wh"] = 500_000
    stranger = Account.create()
    c.balances[stranger.address] = 10**9
    theirs = sign_record(meter, [make_offer(stranger, now)], stranger.key, 2**40, now, now + 300, CHAIN_ID).encode()
    # The owner's key on the envelope, but an offer whose amount was changed after the owner signed it.
    real = make_offer(owner, now)
    altered = dataclasses.replace(real, offer=dataclasses.replace(real.offer, amount_wh=9_999))
    bad_offer = sign_record(meter, [altered], owner.key, 2**40, now, now + 300, CHAIN_ID).encode()
    return {
        "bad signature": (json.dumps(bad_sig), "forged"),
        "tampered amount": (json.dumps(tampered), "forged"),
        "someone else's meter": (theirs, "forged"),
        "offer not signed by seller": (bad_offer, "forged"),
    }


def test_forged_records_are_refused_by_storing_nodes(community: Callable[..., Community]) -> None:
    c = community(20)
    meter, owner, node = c.meters[0], c.accounts[0], c.nodes[0]
    genuine = make_offer(owner, now_s())
    node.publish(meter, [genuine])
    attacker = c.add_node(Account.create().key)
    key = record_key(meter)
    for name, (value, _) in _forgeries(c).items():
        if name == "offer not signed by seller":
            continue  # the envelope is the owner's: storing nodes accept it; buyers drop the offer (next test)
        answers = push_store(c.loop, attacker, c.nodes[:20], key, value)
        assert not any(answers), name
    refused = sum(n.stats.get("refused_forged", 0) for n in c.nodes[:20])
    assert refused >= 3 * 20
    buyer = c.add_node()
    assert hashes(buyer.gather([meter], now_s())) == {genuine.offer_hash}
    assert buyer.stats["forged"] == 0


def test_forged_records_served_by_storing_nodes_are_ignored_and_counted(community: Callable[..., Community]) -> None:
    c = community(20)
    buyer = c.add_node()
    key = record_key(c.meters[0])
    for name, (value, reason) in _forgeries(c).items():
        stored_everywhere(c, key, value)
        before = buyer.stats[reason]
        assert buyer.gather([c.meters[0]], now_s()) == [], name
        assert buyer.stats[reason] > before, name
    assert buyer.stats["found"] == 0


def test_a_replayed_older_record_loses(community: Callable[..., Community]) -> None:
    c = community(20)
    meter, owner, node = c.meters[2], c.accounts[2], c.nodes[2]
    old_offer, new_offer = make_offer(owner, now_s(), 100), make_offer(owner, now_s(), 200)
    old = node.publish(meter, [old_offer])
    node.publish(meter, [new_offer])
    buyer = c.add_node()
    assert hashes(buyer.gather([meter], now_s())) == {new_offer.offer_hash}
    # Re-sending the older (validly signed) record: every storing node keeps the newer one.
    assert not any(push_store(c.loop, buyer, c.nodes[:20], record_key(meter), old.encode()))
    assert sum(n.stats.get("refused_stale", 0) for n in c.nodes[:20]) == 20
    assert hashes(buyer.gather([meter], now_s())) == {new_offer.offer_hash}
    # Storing nodes that lost the newer record: the buyer has seen a higher seq and refuses the replay.
    stored_everywhere(c, record_key(meter), old.encode())
    stale = buyer.stats["stale"]
    assert buyer.gather([meter], now_s()) == []
    assert buyer.stats["stale"] == stale + 1


def _raw_store(address: tuple[str, int], key: bytes, value: Any) -> Any:
    """A STORE sent by hand: rpcudp itself refuses to send requests above 8 KB, an attacker does not."""
    msg_id = os.urandom(20)
    payload = b"\x00" + msg_id + umsgpack.packb(["store", [os.urandom(20), key, value]])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(payload, address)
        data, _ = sock.recvfrom(65535)
    assert data[:1] == b"\x01" and data[1:21] == msg_id
    return umsgpack.unpackb(data[21:])


def test_oversized_and_malformed_records_are_refused_and_ignored(community: Callable[..., Community]) -> None:
    c = community(20)
    meter, owner, node = c.meters[1], c.accounts[1], c.nodes[1]
    genuine = make_offer(owner, now_s())
    node.publish(meter, [genuine])
    key = record_key(meter)
    oversized = "x" * (MAX_RECORD_BYTES + 2_000)
    for target in c.nodes[:5]:
        assert _raw_store(target.address, key, oversized) is False
        assert _raw_store(target.address, key, "{not json") is False
        assert _raw_store(target.address, key, 12345) is False
    assert sum(n.stats.get("refused_oversized", 0) for n in c.nodes) == 5
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # garbage that is not even msgpack
        for target in c.nodes[:5]:
            sock.sendto(b"\x00" + os.urandom(20) + b"\xc1\xc1\xc1", target.address)
            sock.sendto(b"\x07" + os.urandom(64), target.address)
    assert sum(n.stats.get("refused_malformed", 0) for n in c.nodes) == 10
    buyer = c.add_node()
    assert hashes(buyer.gather([meter], now_s())) == {genuine.offer_hash}
    stored_everywhere(c, key, oversized)
    assert buyer.gather([meter], now_s()) == []
    assert buyer.stats["oversized"] >= 1
    stored_everywhere(c, key, '{"body": {"v": 1}, "sig": "0x00"}')
    assert buyer.gather([meter], now_s()) == []
    assert buyer.stats["malformed"] >= 1


def test_unfunded_offers_are_dropped(community: Callable[..., Community]) -> None:
    c = community(20)
    meter, owner, node = c.meters[3], c.accounts[3], c.nodes[3]
    c.balances[owner.address] = 700
    cheap, dear = make_offer(owner, now_s(), 500, 90), make_offer(owner, now_s(), 500, 150)
    node.publish(meter, [cheap, dear])
    buyer = c.add_node()
    assert hashes(buyer.gather([meter], now_s())) == {cheap.offer_hash}  # 700 Wh cover one 500 Wh offer
    assert buyer.stats["unfunded"] == 1


def test_a_killed_nodes_offers_expire_while_live_ones_are_republished(community: Callable[..., Community]) -> None:
    ttl = 4
    c = community(20, record_ttl_s=ttl)
    offers = {}
    for meter, account, node in zip(c.meters[:4], c.accounts[:4], c.nodes[:4], strict=True):
        offers[meter] = make_offer(account, now_s())
        node.publish(meter, [offers[meter]])
    buyer = c.nodes[-1]
    assert hashes(buyer.gather(c.meters[:4], now_s())) == {o.offer_hash for o in offers.values()}
    killed = c.meters[0]
    c.nodes[0].stop()
    time.sleep(ttl + 1.5)  # past the killed node's expires_at; live nodes republished twice meanwhile
    found = hashes(buyer.gather(c.meters[:4], now_s()))
    assert offers[killed].offer_hash not in found
    assert found == {offers[m].offer_hash for m in c.meters[1:4]}
    assert buyer.stats["stale"] >= 1


def test_a_restarted_publisher_replaces_its_record(community: Callable[..., Community]) -> None:
    """seq is the publisher's wall clock in ms: a new process with the same key outranks what it published before."""
    c = community(20)
    meter, owner = c.meters[5], c.accounts[5]
    before = make_offer(owner, now_s(), 100)
    first = c.nodes[5].publish(meter, [before])
    c.nodes[5].stop()
    restarted = c.add_node(owner.key)  # a fresh node: new port, new node id, no memory of the old seq
    after = make_offer(owner, now_s(), 200)
    assert restarted.publish(meter, [after]).seq > first.seq
    for reader in (c.nodes[0], c.add_node()):
        assert hashes(reader.gather([meter], now_s())) == {after.offer_hash}
