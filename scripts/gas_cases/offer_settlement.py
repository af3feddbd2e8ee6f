"""Gas of OfferSettlement: one fill, partial and worst-case fills, fillMany per further offer, skips, cancel, counter.

Traders are fresh keys (gas price 0 needs no ether) funded like the order book's (a meter, a surplus reading, a
top-up) and approving the settlement on both tokens. "Holders" already hold both tokens, the usual case; the worst
case is a buyer with no energy yet and a seller with no settlement units yet (two balance slots written from zero).
Lanes: a seller signs each new offer on the salt of one of its own expired offers when it has one (what
OfferSettlementClient.sign does), so the usual first fill of a fresh offer rewrites that lane's word. Here every holder
first sells one earlier offer (filled in a setup batch, not measured), time passes beyond its end, and the "one fill"
and fillMany offers reuse those salts. The rows on never-used salts (a seller's first offers) and the worst case
(never-used salt + bare parties) are measured as well.
Targets (issue #13): one fill <= 90k gas, each further offer in fillMany <= 60k.
"""

from __future__ import annotations

import secrets
from typing import Any

from energy_chain import Signer
from energy_chain.devchain import deploy_local, fund_traders
from energy_chain.mandate import MandateTerms
from energy_chain.offers import Offer, SignedOffer, sign_offer
from energy_chain.orders import OrderBookClient
from energy_chain.txbatch import send_signed
from scripts.gas_report import GasContext

PRICE = 450_000
C = "OfferSettlement"


def _offer(
    ctx: GasContext, seller: Signer, amount: int = 5_000, counter: int = 0, salt: int | None = None, life: int = 86_400
) -> SignedOffer:
    """A signed offer valid from a minute ago for `life` seconds, on `salt` (a reused lane) or a fresh random one."""
    now = int(ctx.client.w3.eth.get_block("latest")["timestamp"])
    offer = Offer.new(seller.address, PRICE, amount, now - 60, now + life, counter)
    if salt is not None:
        offer = Offer(offer.seller, offer.price, offer.amount_wh, offer.valid_from, offer.valid_until, salt, counter)
    return sign_offer(offer, seller.account.key, ctx.client.chain_id, ctx.contract(C).address)


def _earlier_offers(ctx: GasContext, buyer: Signer, sellers: list[Signer]) -> dict[str, int]:
    """Each seller sells one short offer (filled by `buyer` in one batch), then time passes beyond its end: the
    salts (lanes) the sellers' next offers reuse, by seller address."""
    earlier = [_offer(ctx, s, life=600) for s in sellers]
    fns = ctx.contract(C).functions
    ctx.send(fns.fillMany([_entry(o, 1_000) for o in earlier], False, len(earlier)), buyer)
    ctx.client.w3.provider.make_request("evm_increaseTime", [700])
    ctx.client.w3.provider.make_request("evm_mine", [])
    return {o.offer.seller: o.offer.salt for o in earlier}


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
    lane = _earlier_offers(ctx, holders[-1], sellers[:-1])  # buyer of the earlier offers: not a measured party

    f = settlement.functions
    first = _offer(ctx, sellers[0], salt=lane[sellers[0].address])
    ctx.measure(
        C,
        "fill",
        "one fill, first of a fresh offer (seller's lane reused), both parties hold both tokens",
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
    never = _offer(ctx, sellers[0])
    ctx.measure(
        C,
        "fill",
        "first fill of an offer on a never-used salt (a seller's first offer), holders",
        f.fill(never.offer.as_tuple(), never.signature, 1_000),
        buyer,
    )
    worst = _offer(ctx, bare_sellers[0])
    ctx.measure(
        C,
        "fill",
        "worst case: never-used salt, buyer's first energy, seller's first settlement units",
        f.fill(worst.offer.as_tuple(), worst.signature, 1_000),
        bare_buyers[0],
    )

    many: dict[int, int] = {}
    offset = 1
    for n in (1, 2, 5, 10):
        offers = [_offer(ctx, s, salt=lane[s.address]) for s in sellers[offset : offset + n]]
        offset += n
        receipt = ctx.measure(
            C,
            "fillMany",
            f"{n} offers of {n} sellers, atomic, holders, lanes reused",
            f.fillMany([_entry(o, 1_000) for o in offers], False, n),
            buyer,
        )
        many[n] = int(receipt["gasUsed"])
    for n in (2, 5, 10):
        ctx.rows.append(
            {
                "contract": C,
                "function": "fillMany",
                "case": f"each further offer ({n} offers, holders, lanes reused)",
                "gas": (many[n] - many[1]) // (n - 1),
            }
        )
    fresh: dict[int, int] = {}
    for n in (1, 10):
        offers = [_offer(ctx, s) for s in sellers[1 : 1 + n]]
        receipt = ctx.measure(
            C,
            "fillMany",
            f"{n} offers of {n} sellers, atomic, holders, never-used salts",
            f.fillMany([_entry(o, 1_000) for o in offers], False, n),
            buyer,
        )
        fresh[n] = int(receipt["gasUsed"])
    ctx.rows.append(
        {
            "contract": C,
            "function": "fillMany",
            "case": "each further offer (10 offers, holders, never-used salts)",
            "gas": (fresh[10] - fresh[1]) // 9,
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
    live = _offer(ctx, sellers[offset + 4], salt=lane[sellers[offset + 4].address])
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

    _mandate_rows(ctx, buyer, sellers[1], first)

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


def _mandate_rows(ctx: GasContext, buyer: Signer, seller: Signer, first: SignedOffer) -> None:
    """The mandate's cost on the direct venue: twins of "second partial fill of the same offer" (same kind of state)
    by the buyer's agent (fillFor) and of an offer the seller's agent signed (TradingMandate.authorize per side)."""
    f, m = ctx.contract(C).functions, ctx.contract("TradingMandate").functions
    buyer_agent, seller_agent = _fresh(2)
    open_terms = MandateTerms(buyer_agent.address).as_tuple()
    ctx.send(m.grant(open_terms), buyer)
    ctx.measure(
        C,
        "fillFor",
        "a further partial fill of one offer by the buyer's mandated agent (authorize: buy, spend counted)",
        f.fillFor(buyer.address, first.offer.as_tuple(), first.signature, 1_000),
        buyer_agent,
    )
    ctx.send(m.grant(MandateTerms(seller_agent.address).as_tuple()), seller)
    now = int(ctx.client.w3.eth.get_block("latest")["timestamp"])
    offer = Offer.new(seller.address, PRICE, 5_000, now - 60, now + 86_400, 0)
    signed = sign_offer(offer, seller_agent.account.key, ctx.client.chain_id, ctx.contract(C).address, as_agent=True)
    ctx.send(f.fill(signed.offer.as_tuple(), signed.signature, 1_000), buyer)
    ctx.measure(
        C,
        "fill",
        "second partial fill of an offer signed by the seller's mandated agent (authorize: sell, reserve read)",
        f.fill(signed.offer.as_tuple(), signed.signature, 1_000),
        buyer,
    )


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
