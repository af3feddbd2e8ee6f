"""Gas of the trading mandate: grant, grant by signature, revoke, and the overhead of a placement for an owner.

Every "for owner" row has a direct twin measured in the same state (same book, a fresh price level, an already
registered trader), so their difference is what the mandate costs: the authorize call (terms read, energy balance
or spend word, MandateUsed event).
"""

from __future__ import annotations

import secrets
from typing import Any

from energy_chain import Signer
from energy_chain.approvals import ensure_approvals
from energy_chain.devchain import fund_traders
from energy_chain.mandate import MandateTerms, mandate_typed_data, sign_typed_data
from scripts.gas_report import GasContext

P = 410_000  # between the order book case's bids and asks: every placement here opens a fresh level and rests


def _key() -> Signer:
    return Signer.from_key("0x" + secrets.token_hex(32))


def measure(ctx: GasContext) -> None:
    client = ctx.client
    mandate, book, auction = (ctx.contract(n) for n in ("TradingMandate", "OrderBook", "DoubleAuction"))
    direct, owner, signer_owner, agent, relayer = (_key() for _ in range(5))
    fund_traders(client, [direct, owner, signer_owner], book.address, f"GAS-MANDATE-{secrets.token_hex(4)}")
    for s in (direct, owner):
        ensure_approvals(client, s, auction.address)
    terms = MandateTerms(agent.address, min_sell_price=1, max_buy_price=10**9, reserve_wh=1, daily_spend_cap=10**15)

    def row(contract: str, function: str, case: str, fn: Any, signer: Signer) -> dict[str, Any]:
        return ctx.measure(contract, function, case, fn, signer)

    m = mandate.functions
    row(
        "TradingMandate",
        "grant",
        "first grant of an owner (terms, agent's owner list)",
        m.grant(terms.as_tuple()),
        owner,
    )
    row(
        "TradingMandate",
        "grant",
        "re-grant, same agent, other bounds",
        m.grant(MandateTerms(agent.address, max_buy_price=10**9, daily_spend_cap=10**15).as_tuple()),
        owner,
    )
    deadline = int(client.w3.eth.get_block("latest")["timestamp"]) + 3_600
    typed = mandate_typed_data(signer_owner.address, terms, 0, deadline, client.chain_id, mandate.address)
    signature = sign_typed_data(signer_owner, typed)
    row(
        "TradingMandate",
        "grantBySig",
        "first grant, EIP-712 signature relayed by another account",
        m.grantBySig(signer_owner.address, terms.as_tuple(), deadline, signature),
        relayer,
    )
    row("TradingMandate", "revoke", "owner withdraws the mandate (last in the agent's list)", m.revoke(), signer_owner)

    # Order book: register both traders first (one order each), then twin placements at fresh levels.
    b = book.functions
    for s, price in ((direct, P), (owner, P - 1)):
        ctx.send(b.placeOrder(0, price, 1_000, 0, 0, 0), s)
    ids = []
    for side, price in ((0, P - 2), (1, 10**6)):
        label = "buy" if side == 0 else "sell"
        hint = int(b.findHint(side, price).call())
        r1 = row(
            "OrderBook",
            "placeOrder",
            f"{label} rests at a fresh level (twin of placeOrderFor)",
            b.placeOrder(side, price, 1_000, 0, 10, hint),
            direct,
        )
        price2 = price - 1  # a buy one below (not the best), a sell one below (the new best, as the twin was)
        hint2 = int(b.findHint(side, price2).call())
        r2 = row(
            "OrderBook",
            "placeOrderFor",
            f"{label} for an owner rests at a fresh level (mandate checked)",
            b.placeOrderFor(owner.address, side, price2, 1_000, 0, 10, hint2),
            agent,
        )
        ids.append((_placed_id(ctx, r1), _placed_id(ctx, r2)))
    direct_id, owner_id = ids[0]
    row("OrderBook", "cancelOrder", "resting buy (twin of cancelOrderFor)", b.cancelOrder(direct_id), direct)
    row(
        "OrderBook",
        "cancelOrderFor",
        "owner's resting buy cancelled by its agent",
        b.cancelOrderFor(owner.address, owner_id),
        agent,
    )

    # Auction: a new round, a bid each in the same book.
    a = auction.functions
    interval = int(a.schedule().call()[0])
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    client.w3.provider.make_request("evm_setNextBlockTimestamp", [now - now % interval + interval])  # type: ignore[arg-type]
    client.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    rid = int(a.currentRoundId().call())
    ctx.send(a.submitOrder(rid, 0, 300_000, 1_000, 0), _funded_opener(ctx, auction.address))
    nxt = int(a.nextOrderId().call())
    row(
        "DoubleAuction",
        "submitOrder",
        "bid into a round of 1 bid, exact hint (twin of submitOrderFor)",
        a.submitOrder(rid, 0, 290_000, 1_000, nxt - 1),
        direct,
    )
    row(
        "DoubleAuction",
        "submitOrderFor",
        "bid for an owner into a round of 2 bids, exact hint (mandate checked)",
        a.submitOrderFor(owner.address, rid, 0, 280_000, 1_000, nxt),
        agent,
    )


def _placed_id(ctx: GasContext, receipt: dict[str, Any]) -> int:
    from energy_chain.orders import OrderBookClient

    return OrderBookClient(ctx.client).place_result(receipt).order_id


def _funded_opener(ctx: GasContext, auction: str) -> Signer:
    """A third trader who opens the round, so both measured bids join an open round with a book."""
    opener = _key()
    fund_traders(ctx.client, [opener], auction, f"GAS-MANDATE-OPEN-{secrets.token_hex(4)}")
    return opener


def main() -> None:
    """`python -m scripts.gas_cases.mandate`: this module's rows only, printed (`make gas` writes them all)."""
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
        print(f"{r['contract'] + '.' + r['function']:<30} {r['gas']:>9,}  {r['case']}")


if __name__ == "__main__":
    main()
