"""OfferSettlement unit tests: the Python digest equals hashOffer, full and partial fills, the minimum fill,
cancel and counter, validity window, replay on another contract or chain, fillMany (atomic, skipping, fallbacks),
the never-reverting views, reentrancy, and every custom error with its exact arguments."""

import brownie
import pytest
from eth_account import Account
from eth_utils import keccak

from energy_chain.offers import OFFER_TYPEHASH, Offer, offer_digest, offer_domain, sign_offer
from tests.contracts import offer_fixtures as fixtures
from tests.contracts.brownie_utils import plain
from tests.contracts.offer_fixtures import (
    CHAIN_ID,
    CHECK,
    MIN_FILL_WH,
    PRICE,
    as_bytes,
    assert_reverts,
    chain_now,
    entry,
    key_of,
    make_offer,
    revert_error,
    sig,
)

settlement, traders = fixtures.settlement, fixtures.traders  # module fixtures

MAX_UINT = 2**256 - 1


def cost(price: int, amount: int) -> int:
    return price * amount // 1000


def fill(settlement, signed, amount, buyer):
    return settlement.fill(signed.offer.as_tuple(), sig(signed), amount, {"from": buyer})


def filled_events(tx):
    return [plain(list(e.values())) for e in tx.events["OfferFilled"]] if "OfferFilled" in tx.events else []


def skipped_events(tx):
    return [plain(list(e.values())) for e in tx.events["OfferSkipped"]] if "OfferSkipped" in tx.events else []


# --------------------------------------------------------------------------- typed data
def test_python_digest_equals_hash_offer(settlement, traders):
    alice = traders[0]
    offers = [
        Offer(alice.address, PRICE, 1_000, 0, 1, 0, 0),
        Offer(alice.address, 2**64 - 1, 2**64 - 1, 2**64 - 2, 2**64 - 1, 2**256 - 1, 2**256 - 1),
        Offer.new(alice.address, 123_457, 99, 1_700_000_000, 1_700_000_900, counter=7),
    ]
    for offer in offers:
        expected = offer_digest(offer, CHAIN_ID, settlement.address)
        assert plain(settlement.hashOffer(offer.as_tuple())) == "0x" + expected.hex()
        signed = sign_offer(offer, key_of(alice), CHAIN_ID, settlement.address)
        assert signed.offer_hash == "0x" + expected.hex()


def test_domain_and_typehash_match_python(settlement):
    assert plain(settlement.offerTypehash()) == "0x" + OFFER_TYPEHASH.hex()
    d = offer_domain(CHAIN_ID, settlement.address)
    domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    expected = keccak(
        domain_type
        + keccak(text=d["name"])
        + keccak(text=d["version"])
        + CHAIN_ID.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(settlement.address[2:])
    )
    assert plain(settlement.domainSeparator()) == "0x" + expected.hex()
    fields, name, version, chain_id, contract, salt, extensions = settlement.eip712Domain()
    assert (plain(fields), name, version, chain_id, contract) == (
        "0x0f",
        "EnergyOfferSettlement",
        "1",
        CHAIN_ID,
        settlement.address,
    )
    assert plain(salt) == "0x" + "00" * 32 and list(extensions) == []


# --------------------------------------------------------------------------- fills
def test_full_fill_moves_both_tokens_and_emits(settlement, traders, energy, money):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, amount=1_500)
    before = [energy.balanceOf(alice), energy.balanceOf(bob), money.balanceOf(alice), money.balanceOf(bob)]
    tx = fill(settlement, signed, 1_500, bob)
    c = cost(PRICE, 1_500)
    assert tx.return_value == c
    after = [energy.balanceOf(alice), energy.balanceOf(bob), money.balanceOf(alice), money.balanceOf(bob)]
    assert after == [before[0] - 1_500, before[1] + 1_500, before[2] + c, before[3] - c]
    assert energy.balanceOf(settlement) == 0 and money.balanceOf(settlement) == 0
    assert filled_events(tx) == [[signed.offer_hash, alice.address, bob.address, 1_500, PRICE, c]]
    assert list(tx.events.keys()).count("OfferFilled") == 1 and "OfferSkipped" not in tx.events
    assert settlement.filledWh(signed.offer.as_tuple()) == 1_500
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 10],
        bob,
        "OfferSettlementFilled",
        offerHash=as_bytes(signed.offer_hash),
        amountWh=1_500,
    )


def test_partial_fills_never_exceed_the_signed_amount(settlement, traders):
    alice, bob, carol = traders[0], traders[1], traders[2]
    signed = make_offer(settlement, alice, amount=1_000)
    fill(settlement, signed, 300, bob)
    fill(settlement, signed, 250, carol)
    assert settlement.filledWh(signed.offer.as_tuple()) == 550
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 451],
        bob,
        "OfferSettlementExceedsRemaining",
        offerHash=as_bytes(signed.offer_hash),
        requestedWh=451,
        remainingWh=450,
    )
    fill(settlement, signed, 450, bob)
    assert settlement.filledWh(signed.offer.as_tuple()) == 1_000
    state = settlement.offerStates([signed.offer.as_tuple()])[0]
    assert plain(list(state)) == [signed.offer_hash, 1_000, 0, False, CHECK["Filled"]]


def test_cost_is_floored(settlement, traders, money):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, amount=1_000, price=450_001)
    before = money.balanceOf(alice)
    tx = fill(settlement, signed, 333, bob)
    assert tx.return_value == 149_850 == 450_001 * 333 // 1000  # 149 850.333 floored
    assert money.balanceOf(alice) - before == 149_850


def test_minimum_fill_except_the_whole_remainder(settlement, traders):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, amount=1_005)
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), MIN_FILL_WH - 1],
        bob,
        "OfferSettlementBelowMinimum",
        offerHash=as_bytes(signed.offer_hash),
        amountWh=MIN_FILL_WH - 1,
        minFillWh=MIN_FILL_WH,
    )
    fill(settlement, signed, 1_000, bob)
    fill(settlement, signed, 5, bob)  # the last 5 Wh: below the minimum but the whole remainder
    small = make_offer(settlement, alice, amount=4)  # a dust offer still sells whole
    fill(settlement, small, 4, bob)
    assert settlement.minFillWh() == MIN_FILL_WH


def test_zero_amount_zero_cost_and_self_fill_revert(settlement, traders):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, amount=1_000, price=1)
    h = as_bytes(signed.offer_hash)
    args = [signed.offer.as_tuple(), sig(signed)]
    assert_reverts(settlement, "fill", [*args, 0], bob, "OfferSettlementZeroAmount", offerHash=h)
    assert_reverts(settlement, "fill", [*args, 999], bob, "OfferSettlementZeroCost", offerHash=h, price=1, amountWh=999)
    assert_reverts(
        settlement, "fill", [*args, 500], alice, "OfferSettlementSelfFill", offerHash=h, account=alice.address
    )
    fill(settlement, signed, 1_000, bob)  # price 1 * 1000 Wh costs 1 unit: allowed


# --------------------------------------------------------------------------- signatures and replay
def test_bad_signatures_revert(settlement, traders):
    alice, bob, carol = traders[0], traders[1], traders[2]
    signed = make_offer(settlement, alice)
    h = as_bytes(signed.offer_hash)
    by_carol = sign_offer(
        Offer(**{**signed.offer.__dict__, "seller": carol.address}), key_of(carol), CHAIN_ID, settlement.address
    )
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(by_carol), 100],
        bob,
        "OfferSettlementBadSignature",
        offerHash=h,
        seller=alice.address,
        recovered=_recover(signed, by_carol),
    )
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed)[:-2], 100],
        bob,
        "OfferSettlementBadSignature",
        offerHash=h,
        seller=alice.address,
        recovered=brownie.ZERO_ADDRESS,
    )  # 64 bytes: malformed
    tampered = Offer(**{**signed.offer.__dict__, "price": PRICE - 1})  # the buyer lowers the price
    decoded = revert_error(settlement, "fill", [tampered.as_tuple(), sig(signed), 100], bob)
    assert decoded.name == "OfferSettlementBadSignature" and decoded.args["recovered"] != alice.address


def _recover(signed, other):
    """Who `other`'s signature recovers to over `signed`'s digest."""
    return Account._recover_hash(signed.digest, signature=other.signature)


def test_offer_signed_for_another_contract_or_chain_never_fills(
    OfferSettlement, settlement, traders, energy, money, admin
):
    alice, bob = traders[0], traders[1]
    other = OfferSettlement.deploy(energy, money, MIN_FILL_WH, {"from": admin})
    energy.approve(other, MAX_UINT, {"from": alice})
    money.approve(other, MAX_UINT, {"from": bob})
    signed = make_offer(settlement, alice)
    assert plain(other.hashOffer(signed.offer.as_tuple())) != signed.offer_hash
    decoded = revert_error(other, "fill", [signed.offer.as_tuple(), sig(signed), 100], bob)
    assert decoded.name == "OfferSettlementBadSignature" and decoded.args["recovered"] != alice.address
    wrong_chain = make_offer(settlement, alice, chain_id=CHAIN_ID + 1)
    decoded = revert_error(settlement, "fill", [wrong_chain.offer.as_tuple(), sig(wrong_chain), 100], bob)
    assert decoded.name == "OfferSettlementBadSignature" and decoded.args["recovered"] != alice.address
    fill(settlement, signed, 100, bob)  # the right domain fills


# --------------------------------------------------------------------------- validity, cancel, counter
def test_validity_window(settlement, traders):
    alice, bob = traders[0], traders[1]
    now = chain_now()
    early = make_offer(settlement, alice, valid_from=now + 1_000, valid_until=now + 2_000)
    decoded = revert_error(settlement, "fill", [early.offer.as_tuple(), sig(early), 100], bob)
    assert decoded.name == "OfferSettlementNotYetValid"
    assert decoded.args["offerHash"] == as_bytes(early.offer_hash) and decoded.args["validFrom"] == now + 1_000
    late = make_offer(settlement, alice, valid_from=now - 100, valid_until=now + 50)
    fill(settlement, late, 100, bob)
    brownie.chain.sleep(100)
    brownie.chain.mine()
    decoded = revert_error(settlement, "fill", [late.offer.as_tuple(), sig(late), 100], bob)
    assert decoded.name == "OfferSettlementExpired" and decoded.args["validUntil"] == now + 50
    assert decoded.args["timestamp"] >= now + 50
    with brownie.reverts(revert_pattern="OfferSettlementExpired.*"):
        fill(settlement, late, 100, bob)


def test_valid_until_is_exclusive(settlement, traders):
    alice, bob = traders[0], traders[1]
    now = chain_now()
    signed = make_offer(settlement, alice, valid_from=now - 10, valid_until=now + 30)
    fill(settlement, signed, 100, bob)
    brownie.chain.mine(timestamp=now + 30)
    # eth_call on the latest block runs at its time, exactly validUntil: already too late (the real transaction,
    # in a later block, reverts as well).
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 100],
        bob,
        "OfferSettlementExpired",
        offerHash=as_bytes(signed.offer_hash),
        validUntil=now + 30,
        timestamp=now + 30,
    )


def test_seller_cancels_one_offer(settlement, traders):
    alice, bob = traders[0], traders[1]
    signed, kept = make_offer(settlement, alice), make_offer(settlement, alice)
    h = as_bytes(signed.offer_hash)
    fill(settlement, signed, 100, bob)
    assert_reverts(
        settlement,
        "cancel",
        [signed.offer.as_tuple()],
        bob,
        "OfferSettlementNotSeller",
        offerHash=h,
        caller=bob.address,
    )
    tx = settlement.cancel(signed.offer.as_tuple(), {"from": alice})
    assert plain(list(tx.events["OfferCancelled"][0].values())) == [signed.offer_hash, alice.address]
    assert settlement.isCancelled(signed.offer.as_tuple())
    assert_reverts(
        settlement, "fill", [signed.offer.as_tuple(), sig(signed), 100], bob, "OfferSettlementCancelled", offerHash=h
    )
    assert_reverts(
        settlement, "cancel", [signed.offer.as_tuple()], alice, "OfferSettlementAlreadyCancelled", offerHash=h
    )
    fill(settlement, kept, 100, bob)  # other offers are untouched


def test_increment_counter_voids_every_older_offer(settlement, traders):
    alice, bob = traders[0], traders[1]
    old = [make_offer(settlement, alice) for _ in range(3)]
    assert settlement.counterOf(alice) == 0
    tx = settlement.incrementCounter({"from": alice})
    new_counter = int(tx.return_value)
    assert new_counter > 1  # a quasi-random jump (upper half of the previous block hash, plus one)
    assert plain(list(tx.events["CounterIncremented"][0].values())) == [alice.address, new_counter]
    assert settlement.counterOf(alice) == new_counter and settlement.counterOf(bob) == 0
    for signed in old:
        assert_reverts(
            settlement,
            "fill",
            [signed.offer.as_tuple(), sig(signed), 100],
            bob,
            "OfferSettlementVoided",
            offerHash=as_bytes(signed.offer_hash),
            offerCounter=0,
            currentCounter=new_counter,
        )
    guessed = make_offer(settlement, alice, counter=new_counter + 1)  # signed ahead with a guessed counter
    assert revert_error(settlement, "fill", [guessed.offer.as_tuple(), sig(guessed), 100], bob).name == (
        "OfferSettlementVoided"
    )
    fresh = make_offer(settlement, alice)
    assert fresh.offer.counter == new_counter
    fill(settlement, fresh, 100, bob)
    second = int(settlement.incrementCounter({"from": alice}).return_value)
    assert second > new_counter


# --------------------------------------------------------------------------- funding checks
def test_seller_balance_and_allowance_shortfalls(settlement, traders, energy):
    alice, bob = traders[0], traders[1]
    have = energy.balanceOf(alice)
    signed = make_offer(settlement, alice, amount=have + 500)
    h = as_bytes(signed.offer_hash)
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), have + 1],
        bob,
        "OfferSettlementSellerBalanceShort",
        offerHash=h,
        seller=alice.address,
        have=have,
        need=have + 1,
    )
    energy.approve(settlement, 40, {"from": alice})
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 41],
        bob,
        "OfferSettlementSellerAllowanceShort",
        offerHash=h,
        seller=alice.address,
        have=40,
        need=41,
    )
    fill(settlement, signed, 40, bob)  # exactly the allowance
    assert energy.allowance(alice, settlement) == 0
    assert settlement.filledWh(signed.offer.as_tuple()) == 40


def test_buyer_balance_and_allowance_shortfalls(settlement, traders, money, accounts):
    alice, bob = traders[0], traders[1]
    poor = accounts[8]  # unfunded
    signed = make_offer(settlement, alice, amount=2_000)
    h = as_bytes(signed.offer_hash)
    c = cost(PRICE, 1_000)
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 1_000],
        poor,
        "OfferSettlementBuyerBalanceShort",
        offerHash=h,
        buyer=poor.address,
        have=0,
        need=c,
    )
    money.transfer(poor, c, {"from": bob})
    assert_reverts(
        settlement,
        "fill",
        [signed.offer.as_tuple(), sig(signed), 1_000],
        poor,
        "OfferSettlementBuyerAllowanceShort",
        offerHash=h,
        buyer=poor.address,
        have=0,
        need=c,
    )
    money.approve(settlement, c, {"from": poor})
    fill(settlement, signed, 1_000, poor)
    assert money.balanceOf(poor) == 0


def test_check_view_reports_what_fill_would_meet(settlement, traders, accounts):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, amount=1_000)
    args = [signed.offer.as_tuple(), sig(signed)]
    assert list(settlement.check(*args, bob, 500)) == [CHECK["Ok"], 0, 0]
    assert list(settlement.check(*args, bob, 1_001)) == [CHECK["ExceedsRemaining"], 1_000, 1_001]
    assert list(settlement.check(*args, accounts[8], 1_000)) == [CHECK["BuyerBalanceShort"], 0, cost(PRICE, 1_000)]
    assert settlement.check(*args, alice, 500)[0] == CHECK["SelfFill"]
    assert settlement.check(*args, bob, 2**256 - 1)[0] == CHECK["ExceedsRemaining"]  # never reverts
    assert settlement.check(signed.offer.as_tuple(), "0x1234", bob, 500)[0] == CHECK["BadSignature"]


# --------------------------------------------------------------------------- fillMany
def test_fill_many_settles_several_sellers_atomically(settlement, traders, energy, money):
    alice, bob, carol, dave = traders[0], traders[1], traders[2], traders[3]
    offers = [
        make_offer(settlement, s, amount=1_000, price=PRICE + i * 1_001) for i, s in enumerate((alice, bob, carol))
    ]
    amounts = [400, 1_000, 250]
    energy_before = energy.balanceOf(dave)
    tx = settlement.fillMany([entry(o, a) for o, a in zip(offers, amounts, strict=True)], False, 3, {"from": dave})
    costs = [cost(o.offer.price, a) for o, a in zip(offers, amounts, strict=True)]
    assert list(tx.return_value) == [3, sum(amounts), sum(costs)]
    assert filled_events(tx) == [
        [o.offer_hash, o.offer.seller, dave.address, a, o.offer.price, c]
        for o, a, c in zip(offers, amounts, costs, strict=True)
    ]
    assert energy.balanceOf(dave) - energy_before == sum(amounts)
    assert energy.balanceOf(settlement) == 0 and money.balanceOf(settlement) == 0


def test_fill_many_atomic_reverts_everything_on_one_gone_offer(settlement, traders, energy):
    alice, bob, dave = traders[0], traders[1], traders[3]
    good, gone = make_offer(settlement, alice), make_offer(settlement, bob)
    settlement.cancel(gone.offer.as_tuple(), {"from": bob})
    before = energy.balanceOf(dave)
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(good, 100), entry(gone, 100)], False, 2],
        dave,
        "OfferSettlementCancelled",
        offerHash=as_bytes(gone.offer_hash),
    )
    assert settlement.filledWh(good.offer.as_tuple()) == 0 and energy.balanceOf(dave) == before


def test_fill_many_skips_gone_and_short_offers_with_reasons(settlement, traders, energy):
    alice, bob, carol, dave, erin = traders
    now = chain_now()
    ok = make_offer(settlement, alice, amount=1_000)
    expired = make_offer(settlement, bob, valid_from=now - 100, valid_until=now - 1)
    early = make_offer(settlement, bob, valid_from=now + 1_000, valid_until=now + 2_000)
    cancelled = make_offer(settlement, carol)
    settlement.cancel(cancelled.offer.as_tuple(), {"from": carol})
    used_up = make_offer(settlement, carol, amount=100)
    fill(settlement, used_up, 100, erin)
    voided = make_offer(settlement, erin)
    settlement.incrementCounter({"from": erin})
    short = make_offer(settlement, bob, amount=energy.balanceOf(bob) + 1_000)
    partly = make_offer(settlement, carol, amount=500)
    fill(settlement, partly, 300, erin)  # only 200 left: the entry below asks 400 and gets the 200
    entries = [
        entry(ok, 600),
        entry(expired, 100),
        entry(early, 100),
        entry(cancelled, 100),
        entry(used_up, 50),
        entry(voided, 100),
        entry(short, short.offer.amount_wh),
        entry(partly, 400),
    ]
    tx = settlement.fillMany(entries, True, len(entries), {"from": dave})
    assert list(tx.return_value) == [2, 800, cost(PRICE, 600) + cost(PRICE, 200)]
    assert filled_events(tx) == [
        [ok.offer_hash, alice.address, dave.address, 600, PRICE, cost(PRICE, 600)],
        [partly.offer_hash, carol.address, dave.address, 200, PRICE, cost(PRICE, 200)],
    ]
    assert skipped_events(tx) == [
        [expired.offer_hash, bob.address, dave.address, 100, CHECK["Expired"]],
        [early.offer_hash, bob.address, dave.address, 100, CHECK["NotYetValid"]],
        [cancelled.offer_hash, carol.address, dave.address, 100, CHECK["Cancelled"]],
        [used_up.offer_hash, carol.address, dave.address, 50, CHECK["Filled"]],
        [voided.offer_hash, erin.address, dave.address, 100, CHECK["Voided"]],
        [short.offer_hash, bob.address, dave.address, short.offer.amount_wh, CHECK["SellerBalanceShort"]],
    ]
    # one event per entry, in entry order
    names = [e.name for e in tx.events if e.name in ("OfferFilled", "OfferSkipped")]
    assert names == ["OfferFilled"] + ["OfferSkipped"] * 6 + ["OfferFilled"]
    assert settlement.filledWh(partly.offer.as_tuple()) == 500


def test_fill_many_skips_a_buyer_shortfall(settlement, traders, money, accounts):
    alice, bob = traders[0], traders[1]
    buyer = accounts[8]
    dear, cheap = make_offer(settlement, alice, price=900_000), make_offer(settlement, bob, price=100_000)
    money.transfer(buyer, cost(100_000, 1_000), {"from": bob})
    money.approve(settlement, MAX_UINT, {"from": buyer})
    tx = settlement.fillMany([entry(dear, 1_000), entry(cheap, 1_000)], True, 2, {"from": buyer})
    assert skipped_events(tx) == [[dear.offer_hash, alice.address, buyer.address, 1_000, CHECK["BuyerBalanceShort"]]]
    assert [e[3] for e in filled_events(tx)] == [1_000] and money.balanceOf(buyer) == 0


def test_fill_many_later_entries_are_fallbacks_up_to_max_fills(settlement, traders):
    alice, bob, carol, dave = traders[0], traders[1], traders[2], traders[3]
    first, second, third = (make_offer(settlement, s) for s in (alice, bob, carol))
    settlement.cancel(first.offer.as_tuple(), {"from": alice})
    tx = settlement.fillMany([entry(first, 500), entry(second, 500), entry(third, 500)], True, 1, {"from": dave})
    assert list(tx.return_value)[:2] == [1, 500]
    assert [e[0] for e in skipped_events(tx)] == [first.offer_hash]
    assert [e[0] for e in filled_events(tx)] == [second.offer_hash]  # the third was not needed: untouched
    assert settlement.filledWh(third.offer.as_tuple()) == 0


def test_fill_many_same_offer_twice_cannot_overfill(settlement, traders):
    alice, dave = traders[0], traders[3]
    signed = make_offer(settlement, alice, amount=1_000)
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(signed, 700), entry(signed, 700)], False, 2],
        dave,
        "OfferSettlementExceedsRemaining",
        offerHash=as_bytes(signed.offer_hash),
        requestedWh=700,
        remainingWh=300,
    )
    tx = settlement.fillMany([entry(signed, 700), entry(signed, 700), entry(signed, 700)], True, 3, {"from": dave})
    assert [e[3] for e in filled_events(tx)] == [700, 300]
    assert skipped_events(tx) == [[signed.offer_hash, alice.address, dave.address, 700, CHECK["Filled"]]]
    assert settlement.filledWh(signed.offer.as_tuple()) == 1_000


def test_fill_many_with_nothing_fillable_reverts(settlement, traders):
    alice, bob, dave = traders[0], traders[1], traders[3]
    a, b = make_offer(settlement, alice), make_offer(settlement, bob)
    settlement.cancel(a.offer.as_tuple(), {"from": alice})
    settlement.incrementCounter({"from": bob})
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(a, 100), entry(b, 100)], True, 2],
        dave,
        "OfferSettlementNothingFilled",
        skipped=2,
        firstOfferHash=as_bytes(a.offer_hash),
        firstReason=CHECK["Cancelled"],
    )


def test_fill_many_caller_errors_revert_even_when_skipping(settlement, traders):
    alice, bob, dave = traders[0], traders[1], traders[3]
    good, mine = make_offer(settlement, alice), make_offer(settlement, dave)
    h_good, h_mine = as_bytes(good.offer_hash), as_bytes(mine.offer_hash)
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(good, 100), entry(mine, 100)], True, 2],
        dave,
        "OfferSettlementSelfFill",
        offerHash=h_mine,
        account=dave.address,
    )
    forged = (good.offer.as_tuple(), sig(make_offer(settlement, bob)), 100)
    decoded = revert_error(settlement, "fillMany", [[forged], True, 1], dave)
    assert decoded.name == "OfferSettlementBadSignature" and decoded.args["offerHash"] == h_good
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(good, 5)], True, 1],
        dave,
        "OfferSettlementBelowMinimum",
        offerHash=h_good,
        amountWh=5,
        minFillWh=MIN_FILL_WH,
    )
    assert_reverts(
        settlement, "fillMany", [[entry(good, 0)], True, 1], dave, "OfferSettlementZeroAmount", offerHash=h_good
    )


def test_fill_many_bounds(settlement, traders):
    alice, dave = traders[0], traders[3]
    cap = int(settlement.maxFillsCap())
    assert cap == 32
    signed = make_offer(settlement, alice, amount=100_000)
    assert_reverts(
        settlement, "fillMany", [[], True, 1], dave, "OfferSettlementBadBatch", entries=0, maxFills=1, cap=cap
    )
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(signed, 10)], True, 0],
        dave,
        "OfferSettlementBadBatch",
        entries=1,
        maxFills=0,
        cap=cap,
    )
    assert_reverts(
        settlement,
        "fillMany",
        [[entry(signed, 10)] * (cap + 1), True, cap + 1],
        dave,
        "OfferSettlementBadBatch",
        entries=cap + 1,
        maxFills=cap + 1,
        cap=cap,
    )
    tx = settlement.fillMany([entry(signed, 10)] * cap, False, cap, {"from": dave})
    assert list(tx.return_value)[:2] == [cap, 10 * cap]


# --------------------------------------------------------------------------- batch view
def test_offer_states_never_revert_and_report_each_status(settlement, traders):
    alice, bob, dave = traders[0], traders[1], traders[3]
    now = chain_now()
    open_ = make_offer(settlement, alice, amount=1_000)
    fill(settlement, open_, 300, dave)
    cancelled = make_offer(settlement, alice)
    settlement.cancel(cancelled.offer.as_tuple(), {"from": alice})
    expired = make_offer(settlement, bob, valid_from=now - 100, valid_until=now - 1)
    early = make_offer(settlement, bob, valid_from=now + 500, valid_until=now + 900)
    voided = make_offer(settlement, bob, counter=12345)
    states = [
        plain(list(s))
        for s in settlement.offerStates([o.offer.as_tuple() for o in (open_, cancelled, expired, early, voided)])
    ]
    assert states == [
        [open_.offer_hash, 300, 700, False, CHECK["Ok"]],
        [cancelled.offer_hash, 0, 0, True, CHECK["Cancelled"]],
        [expired.offer_hash, 0, 0, False, CHECK["Expired"]],
        [early.offer_hash, 0, 0, False, CHECK["NotYetValid"]],
        [voided.offer_hash, 0, 0, False, CHECK["Voided"]],
    ]
    assert list(settlement.offerStates([])) == []
    cap = int(settlement.maxStatesCap())
    many = settlement.offerStates([open_.offer.as_tuple()] * (cap + 5))
    assert len(many) == cap  # longer lists are looked at up to the cap, never reverted


# --------------------------------------------------------------------------- deployment and reentrancy
def test_constructor_rejects_bad_parameters(OfferSettlement, energy, money, admin):
    for args in ((brownie.ZERO_ADDRESS, money, 10), (energy, brownie.ZERO_ADDRESS, 10), (energy, money, 0)):
        with brownie.reverts(revert_pattern="OfferSettlementInvalidParameter.*"):
            OfferSettlement.deploy(*args, {"from": admin})


REENTRANT_TOKEN = """
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20Like { function approve(address spender, uint256 amount) external returns (bool); }

/// An energy token that calls back into the settlement from transferFrom (once per arming), as a hostile token could.
contract ReentrantEnergy {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    address public target;
    bytes public payload;

    function mint(address to, uint256 amount) external { balanceOf[to] += amount; }
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }
    function approveOther(IERC20Like token, address spender) external { token.approve(spender, type(uint256).max); }
    function arm(address t, bytes calldata data) external { (target, payload) = (t, data); }
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (target != address(0)) {
            address t = target;
            target = address(0);
            (bool ok, bytes memory ret) = t.call(payload);
            if (!ok) assembly { revert(add(ret, 0x20), mload(ret)) }
        }
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}
"""


def test_reentering_from_a_token_callback_never_overfills(OfferSettlement, traders, money, admin):
    """No reentrancy guard (docs/security.md): a token that re-enters fill from its transferFrom meets the state the
    outer fill already wrote, so the offer still never fills beyond its signed amount and no token is created."""
    alice, bob = traders[0], traders[1]
    token = brownie.compile_source(REENTRANT_TOKEN, evm_version="berlin").ReentrantEnergy.deploy({"from": admin})
    hostile = OfferSettlement.deploy(token, money, MIN_FILL_WH, {"from": admin})
    token.mint(alice, 10_000, {"from": admin})
    token.approve(hostile, MAX_UINT, {"from": alice})
    money.approve(hostile, MAX_UINT, {"from": bob})
    money.transfer(token, 10**9, {"from": bob})  # the token itself buys in the inner fill
    token.approveOther(money, hostile, {"from": admin})
    signed = make_offer(hostile, alice, amount=1_000)
    args = [signed.offer.as_tuple(), sig(signed)]
    # The inner fill asks one Wh more than the outer fill left: it reverts, and so does the whole transaction.
    token.arm(hostile, hostile.fill.encode_input(*args, 401), {"from": admin})
    assert_reverts(
        hostile,
        "fill",
        [*args, 600],
        bob,
        "OfferSettlementExceedsRemaining",
        offerHash=as_bytes(signed.offer_hash),
        requestedWh=401,
        remainingWh=400,
    )
    assert hostile.filledWh(signed.offer.as_tuple()) == 0 and token.balanceOf(bob) == 0
    # Exactly the remainder: both fills settle, the offer is filled to its signed amount and not beyond.
    token.arm(hostile, hostile.fill.encode_input(*args, 400), {"from": admin})
    money_before = money.balanceOf(alice)
    fill(hostile, signed, 600, bob)
    assert hostile.filledWh(signed.offer.as_tuple()) == 1_000
    assert (token.balanceOf(bob), token.balanceOf(token), token.balanceOf(alice)) == (600, 400, 9_000)
    assert money.balanceOf(alice) - money_before == cost(PRICE, 600) + cost(PRICE, 400)
    assert token.balanceOf(hostile) == 0 and money.balanceOf(hostile) == 0
    assert revert_error(hostile, "fill", [*args, 10], bob).name == "OfferSettlementFilled"


# --------------------------------------------------------------------------- lanes (seller, salt)
def test_an_expired_offers_salt_is_reused_and_fills_stay_per_offer(settlement, traders):
    alice, bob = traders[0], traders[1]
    now = chain_now()
    old = make_offer(settlement, alice, amount=1_000, valid_from=now - 60, valid_until=now + 100)
    fill(settlement, old, 700, bob)
    h_new_kw = dict(valid_from=now - 60, valid_until=now + 5_000, salt=old.offer.salt)
    new = make_offer(settlement, alice, amount=500, **h_new_kw)
    fingerprint, until, filled, cancelled = settlement.laneOf(alice, old.offer.salt)
    assert plain(fingerprint) == "0x" + old.offer_hash[2:32] + "0" * 34 and (until, filled, cancelled) == (
        now + 100,
        700,
        False,
    )
    # While the old offer is valid, its lane is its own: a second offer on the same salt is refused, by name.
    refused = dict(offerHash=as_bytes(new.offer_hash), seller=alice.address, salt=new.offer.salt, heldUntil=now + 100)
    args = [new.offer.as_tuple(), sig(new)]
    assert_reverts(settlement, "fill", [*args, 100], bob, "OfferSettlementSaltInUse", **refused)
    assert_reverts(settlement, "cancel", [new.offer.as_tuple()], alice, "OfferSettlementSaltInUse", **refused)
    assert list(settlement.check(*args, bob, 100)) == [CHECK["SaltInUse"], 0, now + 100]
    state = plain(list(settlement.offerStates([new.offer.as_tuple()])[0]))
    assert state == [new.offer_hash, 0, 0, False, CHECK["SaltInUse"]]
    tx = settlement.fillMany([entry(new, 100), entry(make_offer(settlement, traders[2]), 100)], True, 1, {"from": bob})
    assert skipped_events(tx) == [[new.offer_hash, alice.address, bob.address, 100, CHECK["SaltInUse"]]]
    assert settlement.filledWh(old.offer.as_tuple()) == 700  # untouched
    brownie.chain.mine(timestamp=now + 100)  # the old offer has ended: it can never fill again, its lane is free
    assert revert_error(settlement, "fill", [old.offer.as_tuple(), sig(old), 100], bob).name == "OfferSettlementExpired"
    fill(settlement, new, 500, bob)  # the new offer starts from nothing, not from the old one's 700
    assert settlement.filledWh(new.offer.as_tuple()) == 500 and settlement.filledWh(old.offer.as_tuple()) == 0
    assert_reverts(
        settlement, "fill", [*args, 10], bob, "OfferSettlementFilled", offerHash=as_bytes(new.offer_hash), amountWh=500
    )
    assert revert_error(settlement, "fill", [old.offer.as_tuple(), sig(old), 100], bob).name == "OfferSettlementExpired"
    assert list(settlement.check(old.offer.as_tuple(), sig(old), bob, 100)) == [CHECK["Expired"], 0, 0]
    # Another seller's offer with the same salt lives in its own lane.
    other = make_offer(settlement, traders[2], salt=old.offer.salt)
    fill(settlement, other, 100, bob)
    assert settlement.filledWh(other.offer.as_tuple()) == 100


def test_a_cancelled_offer_holds_its_lane_until_it_ends(settlement, traders):
    alice, bob = traders[0], traders[1]
    now = chain_now()
    old = make_offer(settlement, alice, valid_from=now - 60, valid_until=now + 100)
    settlement.cancel(old.offer.as_tuple(), {"from": alice})  # never filled: the cancel writes the lane
    assert settlement.isCancelled(old.offer.as_tuple())
    new = make_offer(settlement, alice, valid_from=now - 60, valid_until=now + 5_000, salt=old.offer.salt)
    assert revert_error(settlement, "fill", [new.offer.as_tuple(), sig(new), 100], bob).name == (
        "OfferSettlementSaltInUse"
    )
    brownie.chain.mine(timestamp=now + 100)
    assert not settlement.isCancelled(new.offer.as_tuple())
    fill(settlement, new, 100, bob)
    assert not settlement.isCancelled(old.offer.as_tuple()) and settlement.filledWh(new.offer.as_tuple()) == 100


@pytest.mark.parametrize("amount", [10, 999])
def test_event_cost_matches_python_cost(settlement, traders, amount):
    alice, bob = traders[0], traders[1]
    signed = make_offer(settlement, alice, price=333_333)
    tx = fill(settlement, signed, amount, bob)
    assert filled_events(tx)[0][5] == signed.offer.cost(amount) == tx.return_value
