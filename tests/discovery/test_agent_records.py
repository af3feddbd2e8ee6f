"""Records and offers signed by a seller's mandated agent (agents.service publishing for the households it trades
for): usable while the verifier's `agent_of` names that agent for the seller, forged otherwise. No network."""

from __future__ import annotations

from collections import Counter

import pytest
from eth_account import Account

from agents.discovery import DiscoveryNode, RecordError, Verifier, sign_record
from energy_chain.offers import Offer, sign_offer
from tests.discovery.conftest import CHAIN_ID, CONTRACT, now_s

OWNER, AGENT, OTHER = Account.create(), Account.create(), Account.create()
METER = "0x" + "ab" * 32


def verifier(agents: dict[str, str]) -> Verifier:
    return Verifier(CHAIN_ID, CONTRACT, lambda a: 10_000, lambda m: OWNER.address if m == METER else None,
                    agents.get)  # fmt: skip


def agent_record(key: bytes) -> str:
    now = now_s()
    offer = sign_offer(Offer.new(OWNER.address, 120, 500, now - 5, now + 600), key, CHAIN_ID, CONTRACT, as_agent=True)
    return sign_record(METER, [offer], key, 1, now, now + 60, CHAIN_ID, seller=OWNER.address).encode()


def test_an_agent_signed_record_is_the_sellers_while_the_mandate_names_the_agent() -> None:
    raw = agent_record(AGENT.key)
    v = verifier({OWNER.address: AGENT.address})
    rec = v.check_record(raw, METER, now_s())
    assert rec.seller == OWNER.address
    assert [o.offer.seller for o in v.usable_offers(rec, now_s(), Counter(), {})] == [OWNER.address]
    with pytest.raises(RecordError) as info:  # no (or a revoked) mandate: nobody but the owner signs its record
        verifier({}).check_record(raw, METER, now_s())
    assert info.value.reason == "forged"
    with pytest.raises(RecordError):  # a key that is not the owner's agent
        v.check_record(agent_record(OTHER.key), METER, now_s())


def test_an_agents_node_publishes_only_offers_it_signed_for_that_seller() -> None:
    node = DiscoveryNode(verifier=verifier({OWNER.address: AGENT.address}), key=AGENT.key)
    now = now_s()
    own = sign_offer(Offer.new(OWNER.address, 120, 500, now - 5, now + 600), OWNER.key, CHAIN_ID, CONTRACT)
    with pytest.raises(ValueError, match="not signed by this node"):
        node.publish(METER, [own], seller=OWNER.address)  # signed by the owner, not by this node's key
    with pytest.raises(ValueError, match="not signed by this node"):
        node.publish(METER, [own])  # the agent is not the seller of an owner's offer
