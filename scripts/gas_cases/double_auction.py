"""Gas of the periodic double auction: submit into books of 10, 100 and 1 000 orders per side, clearing those books
(the 1 000-per-side round in bounded steps), close, claims, sealed commit and reveal.

Bulk orders are pre-signed and sent back to back (automine), then their receipts are fetched in batches.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from energy_chain import Signer
from energy_chain.approvals import APPROVE_GAS, approve_function
from energy_chain.auction import GAS_COMMIT, GAS_SUBMIT, commitment_hash
from energy_chain.clearing import Side, cost_rounded_up
from energy_chain.txbatch import send_calls
from scripts.gas_report import GasContext

BLOCK_GAS = 30_000_000  # the reference block gas limit the issue asks about
INTERVAL = 3_600  # long windows, so 2 000 submissions never straddle a window end
STEPS_PER_TX = 1_000
TRADERS = range(20, 40)  # dev-mnemonic accounts no other gas case uses
FUNDS = 10**15


class _Bench:
    def __init__(self, ctx: GasContext) -> None:
        self.ctx = ctx
        self.auction = ctx.contract("DoubleAuction")
        self.fns = self.auction.functions
        self.traders = [ctx.signer(i) for i in TRADERS]
        self.keeper = self.traders[0]

    def rpc(self, method: str, *params: Any) -> Any:
        return self.ctx.client.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]

    def send_all(self, calls: list[tuple[Any, Signer, int]]) -> list[dict[str, Any]]:
        """Pre-signed, in order, failures raised; receipts with int status and gasUsed."""
        return send_calls(self.ctx.client, calls)

    def fund(self) -> None:
        ctx = self.ctx
        registry, energy, money = (ctx.contract(n) for n in ("MeterRegistry", "EnergyToken", "SettlementToken"))
        operator, oracle = ctx.signer(1), ctx.signer(2)
        ts = ctx.client.w3.eth.get_block("latest")["timestamp"] - 60
        calls: list[tuple[Any, Signer, int]] = [(self.fns.setSchedule(INTERVAL, 600, False), ctx.signer(0), 100_000)]
        for s in self.traders:
            meter = Web3.keccak(text=f"GAS-AUCTION-{s.address}")
            calls += [
                (registry.functions.registerMeter(meter, s.address), operator, 200_000),
                (energy.functions.recordReading((meter, ts, FUNDS, 0)), oracle, 300_000),
                (money.functions.topUp(s.address, FUNDS, meter), operator, 200_000),
                (approve_function(ctx.client, "EnergyToken", self.auction.address), s, APPROVE_GAS),
                (approve_function(ctx.client, "SettlementToken", self.auction.address), s, APPROVE_GAS),
            ]
        self.send_all(calls)

    def new_round(self) -> int:
        now = int(self.ctx.client.w3.eth.get_block("latest")["timestamp"])
        start = now - now % INTERVAL + INTERVAL
        self.rpc("evm_setNextBlockTimestamp", start)
        self.rpc("evm_mine")
        return start

    def end_round(self, round_id: int) -> None:
        self.rpc("evm_setNextBlockTimestamp", round_id + INTERVAL)
        self.rpc("evm_mine")

    def fill_book(self, round_id: int, n: int) -> None:
        """n bids (450 000 down) and n asks (250 000 up) that all cross; asks 1 Wh larger, so clearing takes ~2n
        steps. Each order is appended at its side's tail with an exact hint."""
        calls: list[tuple[Any, Signer, int]] = []
        first = int(self.fns.nextOrderId().call())
        last = {Side.BID: 0, Side.ASK: 0}
        for i in range(2 * n):
            side = Side.BID if i % 2 == 0 else Side.ASK
            k = i // 2
            price, amount = (450_000 - k, 1_000) if side == Side.BID else (250_000 + k, 1_001)
            trader = self.traders[i % len(self.traders)]
            calls.append((self.fns.submitOrder(round_id, int(side), price, amount, last[side]), trader, GAS_SUBMIT))
            last[side] = first + i
        self.send_all(calls)

    def row(self, function: str, case: str, gas: int) -> None:
        self.ctx.rows.append({"contract": "DoubleAuction", "function": function, "case": case, "gas": int(gas)})

    def measure(self, function: str, case: str, fn: Any, signer: Signer, gas: int = 15_000_000) -> dict[str, Any]:
        (receipt,) = self.send_all([(fn, signer, gas)])
        self.row(function, case, receipt["gasUsed"])
        return receipt

    def book_and_clear(self, n: int) -> list[int]:
        """A round of n crossing orders per side: submission gas at size n, then clearing; returns its order ids."""
        rid = self.new_round()
        first = int(self.fns.nextOrderId().call())
        self.fill_book(rid, n)
        ids = list(range(first, first + 2 * n))
        tail_bid, tail_ask = ids[-2], ids[-1]
        # A buyer and a seller of the book (one side each per round: no self-trade); the bid at feed-in is the tail.
        buyer, seller = self.traders[0], self.traders[1]
        self.measure(
            "submitOrder",
            f"bid into a book of {n} bids, exact hint (tail)",
            self.fns.submitOrder(rid, 0, 200_000, 1_000, tail_bid),
            buyer,
        )
        self.measure(
            "submitOrder",
            f"ask into a book of {n} asks, exact hint (tail)",
            self.fns.submitOrder(rid, 1, 490_000, 1_000, tail_ask),
            seller,
        )
        if n >= 100:
            # A new best price with a hint 10 positions too deep (stale): after a walk of maxHintSteps (4) the price
            # index answers (the old 64-step walk would have walked the 11 positions back).
            self.measure(
                "submitOrder",
                f"bid at a new best price into a book of {n} bids, hint 10 positions stale (index answers)",
                self.fns.submitOrder(rid, 0, 450_007, 1_000, ids[2 * 10]),
                buyer,
            )
            self.measure(
                "submitOrder",
                f"bid at a new price below the book's {n} prices, hint 0 (index answers)",
                self.fns.submitOrder(rid, 0, 450_000 - n - 50, 1_000, 0),
                buyer,
            )
            self.measure(
                "submitOrder",
                f"bid at a booked price into a book of {n} bids, hint 0 (after its last order)",
                self.fns.submitOrder(rid, 0, 450_000 - 90, 1_000, 0),
                buyer,
            )
        self.end_round(rid)
        self.measure("closeRound", f"{n} orders per side", self.fns.closeRound(rid), self.keeper)
        gases: list[int] = []
        while True:
            receipt = self.send_all([(self.fns.clearRound(rid, STEPS_PER_TX), self.keeper, 100_000_000)])[0]
            gases.append(receipt["gasUsed"])
            if self.fns.phaseOf(rid).call() == 6:  # Cleared
                break
        volume = self.fns.getRound(rid).call()[21]
        if len(gases) == 1:
            self.row("clearRound", f"{n} per side, all crossing ({volume} Wh), one transaction", gases[0])
        else:
            self.row(
                "clearRound",
                f"{n} per side, largest of {len(gases)} transactions of <= {STEPS_PER_TX} steps "
                f"({max(gases) / BLOCK_GAS:.1%} of a 30M block)",
                max(gases),
            )
            self.row("clearRound", f"{n} per side, total over {len(gases)} transactions", sum(gases))
        return ids

    def fresh_round(self) -> None:
        """The index's costs in a round of its own: a side's first order creates its six index words (the worst
        case), later new prices rewrite or create the words on their path, equal prices only move a tail pointer."""
        rid = self.new_round()
        buyer, seller = self.traders[2], self.traders[3]
        first = int(self.fns.nextOrderId().call())
        cases = [
            ("first bid of a fresh round, hint 0 (6 fresh index words)", buyer, 0, 450_000, 0),
            ("first ask of a fresh round, hint 0 (6 fresh index words)", seller, 1, 250_000, 0),
            ("bid at a new price in the same 128-price word, exact hint", buyer, 0, 449_999, first),
            ("bid at a new price 2 words away (1 fresh index word), hint 0", buyer, 0, 449_700, 0),
            ("bid at a new price far below (2 fresh index words), nonsense hint", buyer, 0, 200_000, 10**9),
            ("bid at a booked price (after its last order), hint 0", buyer, 0, 449_999, 0),
        ]
        for case, who, side, price, hint in cases:
            self.measure("submitOrder", case, self.fns.submitOrder(rid, side, price, 1_000, hint), who)

    def claims(self, ids: list[int]) -> None:
        self.measure("claim", "filled bid (energy + money refund)", self.fns.claim(ids[0]), self.keeper)
        self.measure("claim", "filled ask (money + energy refund)", self.fns.claim(ids[1]), self.keeper)
        batch = ids[2:102]
        self.measure("claimMany", f"{len(batch)} orders", self.fns.claimMany(batch), self.keeper)

    def sealed(self) -> None:
        self.send_all([(self.fns.setSchedule(INTERVAL, 600, True), self.ctx.signer(0), 100_000)])
        rid = self.new_round()
        alice = self.traders[1]
        salt = b"\x42" * 32
        digest = commitment_hash(Side.BID, 400_000, 2_000, salt, alice.address)
        deposit = cost_rounded_up(400_000, 2_000)
        receipt = self.measure(
            "commitOrder", "bid, money deposit", self.fns.commitOrder(rid, digest, deposit, 0), alice
        )
        oid = int(
            self.auction.events.OrderCommitted().process_receipt(
                self.ctx.client.w3.eth.get_transaction_receipt(receipt["transactionHash"]), errors=DISCARD
            )[0]["args"]["orderId"]
        )
        bob = self.traders[2]
        second = oid + 1
        self.send_all([
            (self.fns.commitOrder(rid, commitment_hash(Side.BID, 400_000, 2_000, salt, bob.address), deposit, 0), bob,
             GAS_COMMIT)
        ])  # fmt: skip
        self.rpc("evm_setNextBlockTimestamp", rid + INTERVAL)
        self.rpc("evm_mine")
        self.measure(
            "revealOrder",
            "bid into an empty book (first of its round: 6 fresh index words)",
            self.fns.revealOrder(oid, 0, 400_000, 2_000, salt, 0),
            alice,
        )
        self.measure(
            "revealOrder",
            "bid at the same price, hint 0 (after its last order; rank stored)",
            self.fns.revealOrder(second, 0, 400_000, 2_000, salt, 0),
            bob,
        )
        self.send_all([(self.fns.setSchedule(900, 300, False), self.ctx.signer(0), 100_000)])


def measure(ctx: GasContext) -> None:
    bench = _Bench(ctx)
    bench.fund()
    for n in (10, 100):
        ids = bench.book_and_clear(n)
    bench.claims(ids)
    bench.book_and_clear(1_000)
    bench.fresh_round()
    bench.sealed()


def main() -> None:
    """`python -m scripts.gas_cases.double_auction`: this module's rows only, printed (`make gas` writes them all)."""
    import tempfile
    from pathlib import Path

    from energy_chain import ChainClient, ChainConfig
    from energy_chain.anvil import start_anvil
    from energy_chain.devchain import deploy_local

    anvil = start_anvil(gas_limit=1_000_000_000)
    try:
        client = ChainClient(ChainConfig(rpc_url=anvil.url, deployments_dir=Path(tempfile.mkdtemp(prefix="gas-"))))
        ctx = GasContext(client, deploy_local(client))
        measure(ctx)
    finally:
        anvil.stop()
    for r in ctx.rows:
        print(f"{r['function']:<12} {r['gas']:>11,}  {r['case']}")


if __name__ == "__main__":
    main()
