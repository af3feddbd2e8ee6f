"""Gas of OfferSettlement: one fill, partial and worst-case fills, fillMany per further offer, skips, cancel, counter.

Traders are fresh keys (gas price 0 needs no ether) funded like the order book's (a meter, a surplus reading, a
top-up) and approving the settlement on both tokens. "Holders" already hold both tokens, the usual case; the worst
case is a buyer with no energy yet and a seller with no settlement units yet (two balance slots written from zero).
Targets (issue #13): one fill <= 90k gas, each further offer in fillMany <= 60k.
"""

from __future__ import annotations

import secrets
from typing import Any

from energy_chain import Signer
from energy_chain.devchain import deploy_local, fund_traders
from energy_chain.offers import Offer, SignedOffer, sign_offer
from energy_chain.orders import OrderBookClient
from energy_chain.txbatch import send_signed
from scripts.gas_report import GasContext

PRICE = 450_000
C = "OfferSettlement"


def _offer(ctx: GasContext, seller: Signer, amount: int = 5_000, counter: int = 0) -> SignedOffer:
    now = int(ctx.client.w3.eth.get_block("latest")["timestamp"])
    offer = Offer.new(seller.address, PRICE, amount, now - 60, now + 86_400, counter)
    return sign_offer(offer, seller.account.key, ctx.client.chain_id, ctx.contract(C).address)


def _entry(signed: SignedOffer, amount: int) -> tuple[Any, bytes, int]:
    return (signed.offer.as_tuple(), signed.signature, amount)


def _fresh(n: int) -> list[Signer]:
    return [Signer.from_key("0x" + secrets.token_hex(32)) for _ in range(n)]


def _approve(ctx: GasContext, signers: list[Signer]) -> None:
    settlement = ctx.contract(C).address
    raws = []
    for s in signers:
        for name in ("EnergyToken", "SettlementToken"):
            fn = ctx.contract(name).functions.approve(settlement, 2**256 - 1)
            raws.append(s.sign(ctx.client.build_tx(fn, s, 100_000)))
    send_signed(ctx.client, raws)


def measure(ctx: GasContext) -> None:
    settlement = ctx.contract(C)
    book = OrderBookClient(ctx.client)
    holders = _fresh(28)  # hold both tokens
    fund_traders(ctx.client, holders, book, "GAS-OFFER-HOLDER", wh=10**7)
    _approve(ctx, holders)
    # Worst case: sellers with energy but no settlement units, buyers with settlement units but no energy.
    bare_sellers, bare_buyers = _fresh(11), _fresh(2)
    fund_traders(ctx.client, bare_sellers + bare_buyers, book, "GAS-OFFER-BARE", wh=10**7)
    _approve(ctx, bare_sellers + bare_buyers)
    money, energy = ctx.contract("SettlementToken"), ctx.contract("EnergyToken")
    sink = holders[0].address
    drain = [
        s.sign(
            ctx.client.build_tx(money.functions.transfer(sink, money.functions.balanceOf(s.address).call()), s, 100_000)
        )
        for s in bare_sellers
    ]
    drain += [
        s.sign(
            ctx.client.build_tx(
                energy.functions.transfer(sink, energy.functions.balanceOf(s.address).call()), s, 100_000
            )
        )
        for s in bare_buyers
    ]
    send_signed(ctx.client, drain)
    buyer, sellers = holders[0], holders[1:]

    f = settlement.functions
    first = _offer(ctx, sellers[0])
    ctx.measure(
        C,
        "fill",
        "one fill, first of the offer, both parties hold both tokens",
        f.fill(first.offer.as_tuple(), first.signature, 1_000),
        buyer,
    )
    ctx.measure(
        C,
        "fill",
        "second partial fill of the same offer",
        f.fill(first.offer.as_tuple(), first.signature, 1_000),
        buyer,
    )
    worst = _offer(ctx, bare_sellers[0])
    ctx.measure(
        C,
        "fill",
        "worst case: buyer's first energy, seller's first settlement units",
        f.fill(worst.offer.as_tuple(), worst.signature, 1_000),
        bare_buyers[0],
    )

    many: dict[int, int] = {}
    offset = 1
    for n in (1, 2, 5, 10):
        offers = [_offer(ctx, s) for s in sellers[offset : offset + n]]
        offset += n
        receipt = ctx.measure(
            C,
            "fillMany",
            f"{n} offers of {n} sellers, atomic, holders",
            f.fillMany([_entry(o, 1_000) for o in offers], False, n),
            buyer,
        )
        many[n] = int(receipt["gasUsed"])
    for n in (2, 5, 10):
        ctx.rows.append(
            {
                "contract": C,
                "function": "fillMany",
                "case": f"each further offer ({n} offers, holders)",
                "gas": (many[n] - many[1]) // (n - 1),
            }
        )

    worst_offers = [_offer(ctx, s) for s in bare_sellers[1:11]]
    receipt = ctx.measure(
        C,
        "fillMany",
        "10 offers, worst case (buyer's first energy, sellers' first units)",
        f.fillMany([_entry(o, 1_000) for o in worst_offers], False, 10),
        bare_buyers[1],
    )
    one_worst = next(r["gas"] for r in ctx.rows if r["case"].startswith("worst case"))
    ctx.rows.append(
        {
            "contract": C,
            "function": "fillMany",
            "case": "each further offer (10 offers, worst case)",
            "gas": (int(receipt["gasUsed"]) - one_worst) // 9,
        }
    )

    gone = [_offer(ctx, s) for s in sellers[offset : offset + 4]]
    for o, s in zip(gone, sellers[offset : offset + 4], strict=True):
        ctx.send(f.cancel(o.offer.as_tuple()), s)
    live = _offer(ctx, sellers[offset + 4])
    receipt = ctx.measure(
        C,
        "fillMany",
        "skipGone: 4 cancelled offers skipped, then 1 fill",
        f.fillMany([_entry(o, 1_000) for o in [*gone, live]], True, 5),
        buyer,
    )
    ctx.rows.append(
        {
            "contract": C,
            "function": "fillMany",
            "case": "each skipped offer (4 skipped, 1 fill)",
            "gas": (int(receipt["gasUsed"]) - many[1]) // 4,
        }
    )

    cap = int(f.maxFillsCap().call())
    big = _offer(ctx, sellers[-1], amount=10 * cap)
    ctx.measure(
        C,
        "fillMany",
        f"{cap} entries (the cap) of one offer, 10 Wh each",
        f.fillMany([_entry(big, 10)] * cap, False, cap),
        buyer,
    )

    to_cancel = _offer(ctx, sellers[0])
    ctx.measure(C, "cancel", "one offer", f.cancel(to_cancel.offer.as_tuple()), sellers[0])
    ctx.measure(C, "incrementCounter", "first raise", f.incrementCounter(), sellers[1])
    ctx.measure(C, "incrementCounter", "later raise", f.incrementCounter(), sellers[1])


def main() -> None:
    """`python -m scripts.gas_cases.offer_settlement`: these cases alone on a private anvil, printed (no report
    written; `make gas` writes every contract's rows to reports/gas.json)."""
    import tempfile
    from pathlib import Path

    from energy_chain import ChainClient, ChainConfig
    from energy_chain.anvil import start_anvil

    chain = start_anvil(gas_limit=1_000_000_000)
    try:
        config = ChainConfig(rpc_url=chain.url, deployments_dir=Path(tempfile.mkdtemp(prefix="gas-offers-")))
        client = ChainClient(config)
        ctx = GasContext(client, deploy_local(client))
        measure(ctx)
    finally:
        chain.kill()
    for r in ctx.rows:
        print(f"{r['contract']}.{r['function']:<17} {r['gas']:>10,}  {r['case']}")


if __name__ == "__main__":
    main()
