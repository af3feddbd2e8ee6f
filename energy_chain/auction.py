"""Client of the DoubleAuction contract: submit / commit / reveal / close / clear in steps / claim, with hints.

Every transaction carries an explicit gas limit (no estimate round trip, works on nodes that cannot estimate), so
callers may also pre-sign them (`build_*` return unsigned transactions) and send them in batches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.logs import DISCARD

from energy_chain.approvals import UNLIMITED, approve_function, retry_after_approval
from energy_chain.clearing import Side, Tariffs, effective_price, precedes
from energy_chain.client import ChainClient, TxFailed
from energy_chain.signer import Signer

CONTRACT = "DoubleAuction"
# Gas limits (measured in reports/gas.json, with headroom), bounds for the worst case, not estimates. Booking costs
# most for a side's first order of a round: it opens the round and writes its six fresh price-index words (~22k each)
# and a tail pointer: 401 503 measured for a submission at a price never booked before (384 737 in reports/gas.json,
# "first bid of a fresh round", where the price's tail slot was used by an earlier round), 322 032 for a reveal ("bid
# into an empty book"). Any later order reads at most 11 index words, walks at most maxHintSteps (4) positions and
# writes at most 5 fresh index words (prices that differ above bit 35), which stays below that.
GAS_SUBMIT = 500_000
GAS_MANDATE = 60_000  # what submitOrderFor adds (TradingMandate.authorize; reports/gas.json), with room
GAS_COMMIT = 300_000
GAS_REVEAL = 450_000
GAS_CLOSE = 100_000
GAS_CLAIM = 200_000
GAS_CLAIM_EACH = 50_000
# clearRound: measured worst case (tests/chain/test_auction_keeper.py, 1 000 bids x 1 000 asks of 1 kWh, where every
# step exhausts both orders): 10.86M gas for 1 000 steps, fixed part included (10 858 a step). Budgets carry ~25 %
# headroom; a transaction that still runs out of gas is retried with half the steps (`clear`).
GAS_CLEAR_BASE = 150_000
GAS_CLEAR_STEP = 13_500
# Steps per clearRound transaction: 1 000 steps get 13.65M gas, 45 % of a 30M block (the dev chain has 300M).
CLEAR_STEPS = int(os.environ.get("AUCTION_CLEAR_STEPS", "1000"))
PAGE = 500


@dataclass(frozen=True)
class BookEntry:
    """One booked order as `bookPage` returns it (effective price)."""

    id: int
    price: int
    amount_wh: int


def commitment_hash(side: Side, price: int, amount_wh: int, salt: bytes, owner: str) -> bytes:
    """keccak256(abi.encode(side, price, amountWh, salt, owner)), as DoubleAuction.commitmentHash."""
    encoded = abi_encode(
        ["uint8", "uint128", "uint128", "bytes32", "address"],
        [int(side), price, amount_wh, salt, Web3.to_checksum_address(owner)],
    )
    return bytes(Web3.keccak(encoded))


def hint_for(book: Sequence[BookEntry], side: Side, price: int) -> int:
    """The booked order a new order at effective `price` goes after (0 = the head): the last one at an equal or
    better price, since equal prices go by booking order and the new order is booked last (a submission, or a
    reveal whatever its commitment's id).

    `book` is one side in matching order. Binary search: O(log n) on a book read once per round. The hint only
    saves gas: the contract books the order at the same place whatever hint it gets.
    """
    lo, hi = 0, len(book)
    while lo < hi:
        mid = (lo + hi) // 2
        e = book[mid]
        if precedes(side, e.price, 0, price, 1):  # booked before the new one at an equal price (rank 0 < 1)
            lo = mid + 1
        else:
            hi = mid
    return book[lo - 1].id if lo > 0 else 0


class AuctionClient:
    """The auction as one service: reads the book, computes hints, sends transactions with explicit gas."""

    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain

    @property
    def contract(self) -> Any:
        return self.chain.contract(CONTRACT)

    # ------------------------------------------------------------------ reads
    def current_round_id(self) -> int:
        return int(self.contract.functions.currentRoundId().call())

    def phase(self, round_id: int) -> int:
        return int(self.contract.functions.phaseOf(round_id).call())

    def tariffs(self) -> tuple[int, int]:
        """The grid tariffs (retail, feed-in) a round opened now would take."""
        retail, feed_in = self.contract.functions.gridTariffs().call()
        return int(retail), int(feed_in)

    def round_tariffs(self, round_id: int, record: dict[str, Any] | None = None) -> Tariffs:
        """The tariffs that bound round `round_id`: fixed when its first order opened it, else today's.

        `record` is the round as `round()` returns it, when the caller has read it already (saves a call).
        """
        r = self.round(round_id) if record is None else record
        if int(r["retailPrice"]) == 0:  # not opened yet: no tariffs fixed
            return Tariffs(*self.tariffs())
        return Tariffs(int(r["retailPrice"]), int(r["feedInTariff"]))

    def hint(self, round_id: int, side: Side, price: int) -> int:
        """The hint for an order at limit `price` (a submission or a reveal: both join their price group last),
        found in the round's book at its effective (grid-banded) price. A gas saving only: any hint books it right.
        """
        effective = effective_price(side, price, self.round_tariffs(round_id))
        return hint_for(self.book(round_id, side), side, effective)

    def round(self, round_id: int) -> dict[str, Any]:
        values = self.contract.functions.getRound(round_id).call()
        names = [c["name"] for c in _output_components(self.contract, "getRound")]
        return dict(zip(names, values, strict=True))

    def book(self, round_id: int, side: Side) -> list[BookEntry]:
        """One side of a round's book in matching order (paged, so any size works)."""
        entries: list[BookEntry] = []
        after = 0
        while True:
            ids, prices, amounts = self.contract.functions.bookPage(round_id, int(side), after, PAGE).call()
            entries += [BookEntry(int(i), int(p), int(a)) for i, p, a in zip(ids, prices, amounts, strict=True)]
            if len(ids) < PAGE:
                return entries
            after = int(ids[-1])

    def settlement_of(self, order_id: int) -> tuple[int, int, int, int, int]:
        """(fillWh, money, moneyRefund, energyRefund, gridWh) that `claim` would pay."""
        return tuple(int(v) for v in self.contract.functions.settlementOf(order_id).call())  # type: ignore[return-value]

    # ------------------------------------------------------------------ transactions
    def approve(self, token: str, signer: Signer, amount: int = UNLIMITED) -> dict[str, Any]:
        """Let the auction pull escrow from `signer` (token: "EnergyToken" or "SettlementToken")."""
        return self._send(approve_function(self.chain, token, self.contract.address, amount), signer, 80_000)

    def submit(
        self,
        signer: Signer,
        side: Side,
        price: int,
        amount_wh: int,
        round_id: int | None = None,
        hint: int | None = None,
    ) -> int:
        """Place an open order; computes the hint from the current book unless given. Returns the order id.

        An order that meets a missing allowance approves the auction and is sent once more.
        """
        rid = self.current_round_id() if round_id is None else round_id
        build = lambda h: self.contract.functions.submitOrder(rid, int(side), price, amount_wh, h)  # noqa: E731
        return self._submit(signer, build, rid, side, price, GAS_SUBMIT, hint, approve=True)

    def submit_for(
        self,
        agent: Signer,
        owner: str,
        side: Side,
        price: int,
        amount_wh: int,
        round_id: int | None = None,
        hint: int | None = None,
    ) -> int:
        """The agent places an open order for `owner` within the owner's TradingMandate (submitOrderFor): the
        owner's tokens are escrowed and its claim pays the owner. Same hints and retries as `submit`, except that a
        missing allowance is not approved (only the owner can): it raises TxFailed like every refused bound
        (MandatePriceBelowMinimum, MandateReserveBreached, ...). Returns the order id."""
        rid = self.current_round_id() if round_id is None else round_id
        who = Web3.to_checksum_address(owner)
        build = lambda h: self.contract.functions.submitOrderFor(who, rid, int(side), price, amount_wh, h)  # noqa: E731
        return self._submit(agent, build, rid, side, price, GAS_SUBMIT + GAS_MANDATE, hint, approve=False)

    def _submit(
        self, signer: Signer, build: Any, round_id: int, side: Side, price: int, gas: int, hint: int | None,
        approve: bool,
    ) -> int:  # fmt: skip
        """Send `build(hint)`; with `approve`, a missing allowance approves the auction and sends once more."""

        def send(h: int) -> dict[str, Any]:
            fn = build(h)
            if not approve:
                return self._send(fn, signer, gas)
            return retry_after_approval(self.chain, signer, self.contract.address, lambda: self._send(fn, signer, gas))

        # No retry for stale hints: the contract books the order at its exact place whatever the hint (a gas saving).
        receipt = send(self.hint(round_id, side, price) if hint is None else hint)
        return int(self.contract.events.OrderBooked().process_receipt(receipt, errors=DISCARD)[0]["args"]["orderId"])

    def commit(
        self,
        signer: Signer,
        side: Side,
        price: int,
        amount_wh: int,
        salt: bytes,
        money_deposit: int,
        energy_deposit: int,
        round_id: int | None = None,
    ) -> int:
        """Place a sealed commitment with its deposits. Returns the order id (keep `salt` for the reveal)."""
        round_id = self.current_round_id() if round_id is None else round_id
        digest = commitment_hash(side, price, amount_wh, salt, signer.address)
        fn = self.contract.functions.commitOrder(round_id, digest, money_deposit, energy_deposit)
        receipt = self._send(fn, signer, GAS_COMMIT)
        return int(self.contract.events.OrderCommitted().process_receipt(receipt, errors=DISCARD)[0]["args"]["orderId"])

    def reveal(
        self,
        signer: Signer,
        order_id: int,
        side: Side,
        price: int,
        amount_wh: int,
        salt: bytes,
        hint: int | None = None,
    ) -> dict[str, Any]:
        """Reveal a commitment in the reveal window; computes the hint from the current book unless given."""
        if hint is None:
            round_id = int(self.contract.functions.getOrder(order_id).call()[1])
            hint = self.hint(round_id, side, price)
        fn = self.contract.functions.revealOrder(order_id, int(side), price, amount_wh, salt, hint)
        return self._send(fn, signer, GAS_REVEAL)

    def close(self, signer: Signer, round_id: int) -> dict[str, Any]:
        return self._send(self.contract.functions.closeRound(round_id), signer, GAS_CLOSE)

    def clear_step(
        self, signer: Signer, round_id: int, max_steps: int = CLEAR_STEPS, gas_per_step: int = GAS_CLEAR_STEP
    ) -> bool:
        """One bounded clearing transaction; True when the round is cleared."""
        fn = self.contract.functions.clearRound(round_id, max_steps)
        receipt = self._send(fn, signer, GAS_CLEAR_BASE + gas_per_step * max_steps)
        return bool(self.contract.events.RoundCleared().process_receipt(receipt, errors=DISCARD))

    def clear(
        self,
        signer: Signer,
        round_id: int,
        max_steps: int = CLEAR_STEPS,
        max_txs: int = 10_000,
        gas_per_step: int = GAS_CLEAR_STEP,
    ) -> int:
        """Clear a closed round in as many bounded transactions as needed; returns how many were sent.

        A transaction that fails without a contract error (out of gas: the book is costlier than the budget) is
        sent again with half the steps, down to one; the smaller step size is kept for the rest of the round.
        """
        steps = max_steps
        for n in range(1, max_txs + 1):
            try:
                if self.clear_step(signer, round_id, steps, gas_per_step):
                    return n
            except (TxFailed, Web3RPCError) as exc:
                if not _out_of_gas(exc) or steps == 1:
                    raise
                steps //= 2
        raise RuntimeError(f"round {round_id} not cleared after {max_txs} transactions")

    def claim(self, signer: Signer, order_id: int) -> dict[str, Any]:
        return self._send(self.contract.functions.claim(order_id), signer, GAS_CLAIM)

    def claim_many(self, signer: Signer, order_ids: Sequence[int]) -> dict[str, Any]:
        fn = self.contract.functions.claimMany(list(order_ids))
        return self._send(fn, signer, GAS_CLAIM + GAS_CLAIM_EACH * len(order_ids))

    # ------------------------------------------------------------------ helpers
    def _send(self, fn: Any, signer: Signer, gas: int) -> dict[str, Any]:
        return self.chain.transact(fn, signer, gas=gas)


def _out_of_gas(exc: Exception) -> bool:
    """A failure with no contract error: out of gas in the receipt, or refused as such by the node (anvil)."""
    if isinstance(exc, TxFailed):
        return exc.error is None
    return "outofgas" in str(exc).replace(" ", "").lower()


def _output_components(contract: Any, fn_name: str) -> list[dict[str, Any]]:
    item = next(i for i in contract.abi if i.get("type") == "function" and i["name"] == fn_name)
    return item["outputs"][0]["components"]
