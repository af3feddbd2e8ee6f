"""Building an instance from signed offers: own/expired offers dropped, balances shared, features and feeder used."""

from __future__ import annotations

import pytest
from eth_account import Account

from agents.feeder import Feeder
from agents.selection import solve
from agents.selection.build import build_instance
from agents.selection.features import FillRecord
from energy_chain.offers import Offer, sign_offer

CHAIN_ID, CONTRACT = 31337, "0x" + "12" * 20
KEYS = [Account.create() for _ in range(3)]  # sellers A, B and the buyer


def _signed(account, price: int, amount: int, valid=(0, 10_000)):
    return sign_offer(Offer.new(account.address, price, amount, *valid), account.key, CHAIN_ID, CONTRACT)


def test_instance_from_offers() -> None:
    a, b, buyer = KEYS
    cheap_a, dear_a = _signed(a, 20, 800), _signed(a, 30, 800)
    b_offer, expired = _signed(b, 25, 1000), _signed(b, 21, 500, valid=(0, 10))
    own = _signed(buyer, 1, 5000)
    history = [
        FillRecord(a.address, 0, 40, 100, 100),
        FillRecord(b.address.lower(), 0, 400, 100, 50),
    ]
    inst = build_instance(
        1500,
        [dear_a, cheap_a, b_offer, expired, own, cheap_a],  # a duplicate record too
        buyer=buyer.address,
        buyer_meter="DEMO-MTR-005",
        meter_of={a.address: "DEMO-MTR-001", b.address: "DEMO-MTR-008"},
        remaining_wh={b_offer.offer_hash: 600},  # 400 Wh of B's offer already filled
        balance_wh={a.address: 1000, b.address: 5000},  # A holds less than its two offers
        history=history,
        now=100,
    )
    by_id = {c.id: c for c in inst.offers}
    assert set(by_id) == {cheap_a.offer_hash, dear_a.offer_hash, b_offer.offer_hash}  # no own, no expired
    assert by_id[cheap_a.offer_hash].amount_wh == 800 and by_id[dear_a.offer_hash].amount_wh == 200  # balance shared
    assert by_id[b_offer.offer_hash].amount_wh == 600
    assert by_id[b_offer.offer_hash].quality == pytest.approx(0.5) and by_id[b_offer.offer_hash].duration_s == 400
    assert by_id[cheap_a.offer_hash].participation == 1
    feeder = Feeder.load()
    assert by_id[cheap_a.offer_hash].efficiency == feeder.efficiency("DEMO-MTR-001", "DEMO-MTR-005")
    sel = solve(inst)
    per_seller: dict[str, int] = {}
    for offer_id, wh in sel.chosen:
        per_seller[by_id[offer_id].seller] = per_seller.get(by_id[offer_id].seller, 0) + wh
    assert sum(per_seller.values()) == 1500
    assert per_seller.get(a.address.lower(), 0) <= 1000  # never more than the seller holds


def test_unfunded_sellers_offer_nothing() -> None:
    a, _, buyer = KEYS
    inst = build_instance(
        100, [_signed(a, 20, 800)], buyer=buyer.address, buyer_meter="X", meter_of={}, remaining_wh={}, balance_wh={}
    )
    assert inst.offers[0].amount_wh == 0 and solve(inst).chosen == []
