"""Stateful property test of OfferSettlement against a Python reference model.

Five traders sign offers (random size, price, validity window, now and then forged or with a stale counter), fill
them singly or with fillMany (atomic or skipping, with fallbacks), cancel, raise their counters, move tokens between
each other and change allowances (so sellers and buyers run short), and time passes. A third of the offers reuse the
salt of an earlier offer of their seller (live or expired), so lanes are taken over after expiry and refused
(SaltInUse) while their offer lives. The model predicts the outcome
of every call — which check fails first, or each fill and skip of a batch in order — and the chain must agree
exactly (custom error names, OfferFilled/OfferSkipped events and their values). After every step:
  - conservation: the traders' energy and settlement balances sum to what they held at the start, and the contract
    holds no token of either kind;
  - every trader's balances equal the model's;
  - no overfill: every offer's filledWh equals the model's lane and never exceeds its signed amount, and every
    offer's fills over its whole life (events) never exceed its signed amount, also across lane reuse.
Every step is one rule performing ACTIONS_PER_STEP (3) actions whose kind and parameters come from a generator
seeded by hypothesis (hypothesis' own preference for small values made runs of self-fills and cancels only); the
invariants are checked after every action. Size: OFFER_STATEFUL_EXAMPLES runs of up to OFFER_STATEFUL_STEPS steps
(15, 40), repeated until OFFER_STATEFUL_TOTAL checked states (400): a typical run checks ~750 states in 45 s on the
shared 2-core machine (10 single fills and 22 settled batches with 150 skips of every kind, 34 batches with nothing
fillable, every custom error of a fill met).
"""

from __future__ import annotations

import copy
import os
import random
from dataclasses import dataclass

import brownie
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from energy_chain.devchain import dev_key
from energy_chain.events import EventDecoder
from energy_chain.offers import Offer, SignedOffer, sign_offer
from tests.contracts import offer_fixtures as fixtures
from tests.contracts.brownie_utils import FastCalls, run_state_machine
from tests.contracts.offer_fixtures import CHAIN_ID, CHECK, CHECKS, MIN_FILL_WH, TRADER_INDEXES
from tests.contracts.order_book_fixtures import fund_trader

settlement = fixtures.settlement  # module fixture (traders: below, with small balances)

EXAMPLES = int(os.environ.get("OFFER_STATEFUL_EXAMPLES", 15))
STEPS = int(os.environ.get("OFFER_STATEFUL_STEPS", 40))
TOTAL = int(os.environ.get("OFFER_STATEFUL_TOTAL", 400))
MAX_UINT = 2**256 - 1
PRICES = [1, 399_999, 450_001, 612_345]  # 1: tiny fills cost nothing (ZeroCost)
PHASE_S = 1_000  # time moves in jumps of PHASE_S; windows end half-way between jumps, far from any block time
MAX_OFFERS = 12
ACTIONS_PER_STEP = 3
KEEP_WH, KEEP_UNITS = 3_000, 3_000_000  # what each trader holds at the start: a few offers' worth
# The action mix of a run (sampled uniformly from this list): signing and filling dominate.
ACTIONS = [*["sign"] * 6, *["fill"] * 6, *["fill_many"] * 6, "cancel", "increment_counter", "time_passes"]
ACTIONS += ["move_tokens", "allowance"] * 2
GONE = {*range(CHECK["NotYetValid"], CHECK["BuyerAllowanceShort"] + 1), CHECK["SaltInUse"]}
KEYS = [dev_key(i) for i in TRADER_INDEXES]


@dataclass
class ModelOffer:
    signed: SignedOffer
    forged: bool  # signed by someone else than its seller
    total: int = 0  # Wh filled over the offer's whole life (never more than its amount)

    @property
    def offer(self) -> Offer:
        return self.signed.offer


@dataclass
class Lane:
    """The contract's word of one (seller, salt): the offer that owns it and that offer's state."""

    owner: ModelOffer
    filled: int = 0
    cancelled: bool = False


class Model:
    """Balances, allowances, counters and offers as the contract must see them."""

    def __init__(self, energy: list[int], money: list[int], t0: int) -> None:
        self.energy, self.money = energy, money
        self.allow_energy = [MAX_UINT] * len(energy)
        self.allow_money = [MAX_UINT] * len(money)
        self.counters = [0] * len(energy)
        self.offers: list[ModelOffer] = []
        self.lanes: dict[tuple[str, int], Lane] = {}
        self.signed = 0  # offers signed so far: part of the salt, so a repeated seed never repeats an offer
        self.t0, self.phase = t0, 0

    def time_check(self, o: Offer) -> str | None:
        """Validity at any block time of the current phase (t0 + PHASE_S * phase + a few seconds)."""
        now = self.t0 + PHASE_S * self.phase
        if now < o.valid_from:
            return "NotYetValid"
        if now >= o.valid_until:
            return "Expired"
        return None

    def state(self, m: ModelOffer) -> tuple[int, bool, bool]:
        """(filled, cancelled, held) as the contract reads the offer's lane: its own record, a free lane (empty or
        its offer expired: nothing filled), or held by another offer that is still valid."""
        lane = self.lanes.get((m.offer.seller, m.offer.salt))
        if lane is not None and lane.owner.signed.offer_hash == m.signed.offer_hash:
            return lane.filled, lane.cancelled, False
        return 0, False, lane is not None and self.time_check(lane.owner.offer) != "Expired"

    def evaluate(self, m: ModelOffer, seller: int, buyer: int, amount: int, clamp: bool) -> tuple[str, int]:
        """The contract's checks in its order: (result, Wh to settle)."""
        o = m.offer
        if amount == 0:
            return "ZeroAmount", amount
        if buyer == seller:
            return "SelfFill", amount
        if m.forged:
            return "BadSignature", amount
        filled, cancelled, held = self.state(m)
        if cancelled:
            return "Cancelled", amount
        if o.counter != self.counters[seller]:
            return "Voided", amount
        late = self.time_check(o)
        if late:
            return late, amount
        if held:
            return "SaltInUse", amount
        remaining = o.amount_wh - filled
        if remaining == 0:
            return "Filled", amount
        if amount > remaining:
            if not clamp:
                return "ExceedsRemaining", amount
            amount = remaining
        if amount < MIN_FILL_WH and amount != remaining:
            return "BelowMinimum", amount
        c = o.cost(amount)
        if c == 0:
            return "ZeroCost", amount
        if self.energy[seller] < amount:
            return "SellerBalanceShort", amount
        if self.allow_energy[seller] < amount:
            return "SellerAllowanceShort", amount
        if self.money[buyer] < c:
            return "BuyerBalanceShort", amount
        if self.allow_money[buyer] < c:
            return "BuyerAllowanceShort", amount
        return "Ok", amount

    def settle(self, m: ModelOffer, seller: int, buyer: int, amount: int) -> int:
        c = m.offer.cost(amount)
        filled, _, _ = self.state(m)
        self.lanes[(m.offer.seller, m.offer.salt)] = Lane(m, filled + amount)
        m.total += amount
        assert m.total <= m.offer.amount_wh
        self.energy[seller] -= amount
        self.energy[buyer] += amount
        self.money[buyer] -= c
        self.money[seller] += c
        if self.allow_energy[seller] != MAX_UINT:  # OpenZeppelin's ERC20 keeps an unlimited allowance
            self.allow_energy[seller] -= amount
        if self.allow_money[buyer] != MAX_UINT:
            self.allow_money[buyer] -= c
        return c


class OfferMachine(RuleBasedStateMachine):
    settlement = energy = money = traders = None  # set by the test
    total_steps = 0
    runs = 0
    seen: dict[str, int] = {}  # outcomes exercised, by name

    def __init__(self) -> None:
        super().__init__()
        OfferMachine.runs += 1
        self.rpc = FastCalls()
        self.events = EventDecoder(self.settlement.abi, self.settlement.address)
        brownie.web3.provider.make_request("evm_mine", [])
        t0 = int(brownie.web3.eth.get_block("latest").timestamp)
        values = self.rpc.read_uints(
            [(token, "balanceOf", [t]) for token in (self.energy, self.money) for t in self.traders]
        )
        n = len(self.traders)
        self.model = Model(values[:n], values[n:], t0)
        self.model.counters = self.rpc.read_uints([(self.settlement, "counterOf", [t]) for t in self.traders])
        self.start = (sum(values[:n]), sum(values[n:]))

    def _seller(self, m: ModelOffer) -> int:
        return [t.address for t in self.traders].index(m.offer.seller)

    def _note(self, name: str) -> None:
        OfferMachine.seen[name] = OfferMachine.seen.get(name, 0) + 1

    # ------------------------------------------------------------------ the one rule
    @rule(seed=st.integers(0, 2**32 - 1))
    def step(self, seed: int) -> None:
        """ACTIONS_PER_STEP actions, each with its parameters, from a generator seeded by hypothesis: the mix of
        actions and outcomes is what ACTIONS says rather than what hypothesis' preference for small values would
        give, and runs are long enough to build up state. Every action is followed by the invariant check."""
        rng = random.Random(seed)
        for _ in range(ACTIONS_PER_STEP):
            action = rng.choice(ACTIONS)
            self._note(f"rule:{action}")
            getattr(self, f"_{action}")(rng)
            self.check_state()

    def _sign(self, rng: random.Random) -> None:
        if len(self.model.offers) >= MAX_OFFERS:
            self.model.offers.pop(0)
        seller = rng.randrange(len(self.traders))
        start = rng.choices([-2, -1, 0, 1], weights=[1, 2, 6, 1])[0]  # expired, valid, valid, not yet valid
        span = rng.randint(1, 2)
        base = self.model.t0 + PHASE_S * self.model.phase + PHASE_S // 2
        stale, forged = rng.random() < 0.05, rng.random() < 0.05
        counter = self.model.counters[seller] + (1 if stale else 0)
        address = self.traders[seller].address
        used = sorted({salt for (who, salt) in self.model.lanes if who == address})
        salt = rng.choice(used) if used and rng.random() < 0.35 else self.model.signed << 128 | rng.getrandbits(128)
        offer = Offer(address, rng.choice(PRICES), rng.randint(1, 3_000),
                      base + PHASE_S * (start - 1), base + PHASE_S * (start - 1 + span), salt, counter)  # fmt: skip
        if forged:
            signed = _forge(offer, KEYS[(seller + 1) % len(KEYS)], self)
        else:
            signed = sign_offer(offer, KEYS[seller], CHAIN_ID, self.settlement.address)
        if any(m.signed.offer_hash == signed.offer_hash for m in self.model.offers):
            return  # the very same offer again (same terms and salt): nothing new
        if used and salt in used:
            self._note("sign:reused salt")
        self.model.offers.append(ModelOffer(signed, forged))
        self.model.signed += 1

    def _amount(self, rng: random.Random, m: ModelOffer, careful: bool = False) -> int:
        """Mostly a share of what is left; sometimes 0, dust, or more than the offer has (rarer in batches, where
        a caller error reverts the whole batch)."""
        left = max(0, m.offer.amount_wh - self.model.state(m)[0])
        weights = [10, 3, 0.2, 0.4, 1] if careful else [10, 3, 1, 2, 2]
        kind = rng.choices(["share", "all", "zero", "dust", "over"], weights=weights)[0]
        if kind == "share":
            return max(1, left * rng.randint(1, 100) // 100)
        if kind == "all":
            return left
        if kind == "zero":
            return 0
        if kind == "dust":
            return rng.randint(1, MIN_FILL_WH)
        return m.offer.amount_wh + rng.randint(1, 500)

    def _fill(self, rng: random.Random) -> None:
        if not self.model.offers:
            return
        m = rng.choice(self.model.offers)
        seller = self._seller(m)
        buyer = seller if rng.random() < 0.05 else (seller + rng.randint(1, 4)) % len(self.traders)
        result, amount = self.model.evaluate(m, seller, buyer, self._amount(rng, m), clamp=False)
        self._note(result)
        args = [m.offer.as_tuple(), "0x" + m.signed.signature.hex(), amount]
        if result != "Ok":
            self.rpc.expect_revert(self.settlement, "fill", args, self.traders[buyer], f"OfferSettlement{result}")
            return
        receipt = self.rpc.send(self.settlement, "fill", args, self.traders[buyer], gas=500_000)
        c = self.model.settle(m, seller, buyer, amount)
        assert self._outcomes(receipt) == [("fill", m.signed.offer_hash, m.offer.seller, amount, m.offer.price, c)]

    def _fill_many(self, rng: random.Random) -> None:
        buyer = rng.randrange(len(self.traders))
        own = rng.random() < 0.05  # the buyer's own offers only now and then (SelfFill reverts the whole batch)
        offers = [m for m in self.model.offers if own or self._seller(m) != buyer]
        if not offers:
            return
        picked = [rng.choice(offers) for _ in range(rng.randint(1, 5))]
        entries = [(m, self._amount(rng, m, careful=True)) for m in picked]
        skip, max_fills = rng.random() < 0.7, rng.randint(1, len(entries))
        args = [[(m.offer.as_tuple(), "0x" + m.signed.signature.hex(), a) for m, a in entries], skip, max_fills]
        expected, error = self._predict_batch(entries, buyer, skip, max_fills)
        if error is not None:
            self._note(f"batch:{error}")
            self.rpc.expect_revert(self.settlement, "fillMany", args, self.traders[buyer], f"OfferSettlement{error}")
            return
        receipt = self.rpc.send(self.settlement, "fillMany", args, self.traders[buyer], gas=3_000_000)
        self._note("batch:ok")
        assert self._outcomes(receipt) == expected

    def _predict_batch(self, entries, buyer, skip, max_fills) -> tuple[list[tuple], str | None]:
        """Each entry's fill or skip in order, applied to a copy of the model; kept only when the batch succeeds."""
        trial = copy.deepcopy(self.model)
        offers_by_id = {id(m): i for i, m in enumerate(self.model.offers)}
        out: list[tuple] = []
        filled = 0
        for m, amount in entries:
            if filled >= max_fills:
                break
            tm = trial.offers[offers_by_id[id(m)]]
            seller = self._seller(m)
            result, wh = trial.evaluate(tm, seller, buyer, amount, clamp=skip)
            if result != "Ok":
                if not skip or CHECK[result] not in GONE:
                    return [], result
                out.append(("skip", m.signed.offer_hash, m.offer.seller, amount, CHECK[result]))
                self._note(f"skip:{result}")
                continue
            c = trial.settle(tm, seller, buyer, wh)
            out.append(("fill", m.signed.offer_hash, m.offer.seller, wh, m.offer.price, c))
            filled += 1
        if filled == 0:
            return [], "NothingFilled"
        self.model = trial
        return out, None

    def _outcomes(self, receipt) -> list[tuple]:
        out = []
        for e in self.events.decode(receipt):
            a = e.args
            if e.name == "OfferFilled":
                out.append(("fill", a["offerHash"], a["seller"], a["amountWh"], a["price"], a["cost"]))
            elif e.name == "OfferSkipped":
                out.append(("skip", a["offerHash"], a["seller"], a["amountWh"], a["reason"]))
        return out

    # ------------------------------------------------------------------ sellers, funds, time
    def _cancel(self, rng: random.Random) -> None:
        if not self.model.offers:
            return
        m = rng.choice(self.model.offers)
        seller = self._seller(m)
        by_seller = rng.random() < 0.85
        caller = self.traders[seller if by_seller else (seller + rng.randint(1, 4)) % len(self.traders)]
        filled, cancelled, held = self.model.state(m)
        args = [m.offer.as_tuple()]
        if not by_seller:
            self.rpc.expect_revert(self.settlement, "cancel", args, caller, "OfferSettlementNotSeller")
        elif held:
            self._note("cancel:SaltInUse")
            self.rpc.expect_revert(self.settlement, "cancel", args, caller, "OfferSettlementSaltInUse")
        elif cancelled:
            self.rpc.expect_revert(self.settlement, "cancel", args, caller, "OfferSettlementAlreadyCancelled")
        else:
            self.rpc.send(self.settlement, "cancel", args, caller)
            self.model.lanes[(m.offer.seller, m.offer.salt)] = Lane(m, filled, True)

    def _increment_counter(self, rng: random.Random) -> None:
        actor = rng.randrange(len(self.traders))
        self.rpc.send(self.settlement, "incrementCounter", [], self.traders[actor])
        new = self.rpc.read_uints([(self.settlement, "counterOf", [self.traders[actor]])])[0]
        assert new > self.model.counters[actor]
        self.model.counters[actor] = new

    def _move_tokens(self, rng: random.Random) -> None:
        """Move part of a balance to another trader (so sellers and buyers run short)."""
        energy = rng.random() < 0.5
        actor, other = rng.randrange(len(self.traders)), rng.randrange(len(self.traders))
        balances = self.model.energy if energy else self.model.money
        amount = int(balances[actor] * rng.choice([0.1, 0.5, 0.9, 0.999, 1.0]))
        token = self.energy if energy else self.money
        self.rpc.send(token, "transfer", [self.traders[other], amount], self.traders[actor])
        balances[actor] -= amount
        balances[other] += amount

    def _allowance(self, rng: random.Random) -> None:
        energy = rng.random() < 0.5
        actor = rng.randrange(len(self.traders))
        amount = rng.choice([0, 500, 200_000, MAX_UINT, MAX_UINT])
        token = self.energy if energy else self.money
        self.rpc.send(token, "approve", [self.settlement, amount], self.traders[actor])
        (self.model.allow_energy if energy else self.model.allow_money)[actor] = amount

    def _time_passes(self, rng: random.Random) -> None:
        brownie.web3.provider.make_request("evm_increaseTime", [PHASE_S])
        brownie.web3.provider.make_request("evm_mine", [])
        self.model.phase += 1

    # ------------------------------------------------------------------ invariants
    @invariant()
    def invariant_conservation_and_no_overfill(self):
        self.check_state()

    def check_state(self) -> None:
        OfferMachine.total_steps += 1
        n = len(self.traders)
        values = self.rpc.read_uints(
            [(self.energy, "balanceOf", [t]) for t in self.traders]
            + [(self.money, "balanceOf", [t]) for t in self.traders]
            + [(self.energy, "balanceOf", [self.settlement]), (self.money, "balanceOf", [self.settlement])]
            + [(self.settlement, "filledWh", [m.offer.as_tuple()]) for m in self.model.offers]
        )
        energy, money, held = values[:n], values[n : 2 * n], values[2 * n : 2 * n + 2]
        filled = values[2 * n + 2 :]
        assert (sum(energy), sum(money)) == self.start
        assert held == [0, 0]
        assert energy == self.model.energy and money == self.model.money
        for m, f in zip(self.model.offers, filled, strict=True):
            assert f == self.model.state(m)[0] <= m.offer.amount_wh
            assert m.total <= m.offer.amount_wh


def _forge(offer: Offer, key: str, machine: OfferMachine) -> SignedOffer:
    """The offer's terms signed with another trader's key (sign_offer refuses that, as it should)."""
    from eth_account import Account

    from energy_chain.offers import offer_typed_data

    signature = (
        Account.from_key(key)
        .sign_typed_data(full_message=offer_typed_data(offer, CHAIN_ID, machine.settlement.address))
        .signature
    )
    return SignedOffer(offer, bytes(signature), CHAIN_ID, machine.settlement.address)


@pytest.fixture(scope="module")
def traders(accounts, settlement, registry, energy, money, operator, oracle):
    """Five traders (accounts 3..7) holding only a few offers' worth of each token, so shortfalls happen."""
    group = [accounts[i] for i in TRADER_INDEXES]
    for account in group:
        fund_trader(account, registry, energy, money, operator, oracle, settlement, wh=KEEP_WH, units=KEEP_UNITS)
    return group


def test_offer_settlement_stateful(settlement, traders, energy, money):
    OfferMachine.settlement, OfferMachine.energy, OfferMachine.money = settlement, energy, money
    OfferMachine.traders = traders
    OfferMachine.total_steps, OfferMachine.seen = 0, {}
    for _ in range(20):
        # Hypothesis picks run lengths itself (its first examples are short): repeat until TOTAL steps were checked.
        run_state_machine(OfferMachine, max_examples=EXAMPLES, steps=STEPS)
        if OfferMachine.total_steps >= TOTAL:
            break
    seen = dict(sorted(OfferMachine.seen.items()))
    print(f"\n{OfferMachine.runs} runs, {OfferMachine.total_steps} states checked; outcomes: {seen}")
    assert OfferMachine.total_steps >= TOTAL
    if TOTAL >= 300:  # long enough that single fills, settled batches, skips and refusals must all have happened
        seen = OfferMachine.seen
        assert seen.get("Ok", 0) and seen.get("batch:ok", 0), seen
        assert any(k.startswith("skip:") for k in seen) and any(k in CHECKS[1:] for k in seen), seen
        assert seen.get("sign:reused salt", 0), seen
    known = {*CHECKS, *(f"batch:{c}" for c in [*CHECKS, "ok", "NothingFilled"]), *(f"skip:{c}" for c in CHECKS)}
    known |= {"sign:reused salt", "cancel:SaltInUse"}
    assert {n for n in OfferMachine.seen if not n.startswith("rule:")} <= known
