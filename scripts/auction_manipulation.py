"""Largest clearing-price move an attacker buys with a given share of a round's volume.

Writes reports/auction-manipulation.json. For random honest books (seeded) the attacker adds, with `share` of the
honest volume-maximising trade, the most effective of: a wash pair (a bid and an ask at one price X from two of its
accounts: no self-trade is needed), a bid at X, or an ask at X, for X over the whole grid band. The price comes from
`energy_chain.clearing.clear`, which the contract matches on every book (tests/chain/test_auction_vs_reference.py);
the rule before it (midpoint of the last traded pair) is shown beside it. `move_pct` is |attacked - fair| / fair.

    python -m scripts.auction_manipulation [--books 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from energy_chain.clearing import Order, Side, Tariffs, book_side, clear

TARIFFS = Tariffs(retail=500_000, feed_in=200_000)
SHARES = (0.001, 0.01, 0.05, 0.09, 0.10, 0.20, 0.30, 0.50)
REPORT = Path(__file__).resolve().parent.parent / "reports" / "auction-manipulation.json"


def last_pair_price(orders: list[Order]) -> int:
    """The rule before the band: the midpoint of the last pair the volume walk traded."""
    bids, asks = book_side(orders, Side.BUY, TARIFFS), book_side(orders, Side.SELL, TARIFFS)
    i = j = 0
    bl, al = (bids[0].amount_wh if bids else 0), (asks[0].amount_wh if asks else 0)
    last = None
    while i < len(bids) and j < len(asks) and bids[i].price >= asks[j].price:
        q = min(bl, al)
        bl, al, last = bl - q, al - q, (bids[i].price, asks[j].price)
        if bl == 0:
            i += 1
            bl = bids[i].amount_wh if i < len(bids) else 0
        if al == 0:
            j += 1
            al = asks[j].amount_wh if j < len(asks) else 0
    return (last[0] + last[1]) // 2 if last else 0


def honest_book(rng: random.Random, n: int = 30) -> list[Order]:
    orders = []
    for k in range(n):
        side = Side.BUY if k % 2 == 0 else Side.SELL
        price = rng.randrange(250_000, 480_000, 1_000) if side == Side.BUY else rng.randrange(200_000, 430_000, 1_000)
        orders.append(Order(k + 1, side, price, rng.randrange(100, 5_000)))
    return orders


def attacks(book: list[Order], amount: int) -> list[list[Order]]:
    """Every attacked book: wash pair, lone bid or lone ask of `amount` Wh at each price of the grid band."""
    nid = len(book) + 1
    out = []
    for x in range(TARIFFS.feed_in, TARIFFS.retail + 1, 5_000):
        out.append([*book, Order(nid, Side.BUY, x, amount), Order(nid + 1, Side.SELL, x, amount)])
        out.append([*book, Order(nid, Side.BUY, x, amount)])
        out.append([*book, Order(nid, Side.SELL, x, amount)])
    return out


def measure(books: int, seed: int) -> dict:
    rng = random.Random(seed)
    rows = []
    worst = {s: {"band": 0.0, "last_pair": 0.0} for s in SHARES}
    for _ in range(books):
        book = honest_book(rng)
        fair = clear(book, TARIFFS)
        if not fair.volume_wh:
            continue
        fair_old = last_pair_price(book)
        for share in SHARES:
            amount = max(1, round(fair.volume_wh * share))
            for attacked in attacks(book, amount):
                new = abs(clear(attacked, TARIFFS).price - fair.price) / fair.price
                old = abs(last_pair_price(attacked) - fair_old) / fair_old
                worst[share]["band"] = max(worst[share]["band"], new)
                worst[share]["last_pair"] = max(worst[share]["last_pair"], old)
    for share in SHARES:
        rows.append(
            {
                "attacker_share": share,
                "max_move_pct": round(100 * worst[share]["band"], 2),
                "max_move_pct_last_pair_rule": round(100 * worst[share]["last_pair"], 2),
            }
        )
    example = [Order(1, Side.BUY, 500_000, 500), Order(2, Side.BUY, 450_000, 500), Order(3, Side.SELL, 200_000, 1_000)]
    sliver = [*example, Order(4, Side.BUY, 450000, 1), Order(5, Side.SELL, 450000, 1)]
    return {
        "rule": "price = midpoint of the pair trading unit Q - max(1, Q // 10) + 1 of the volume-maximising trade Q",
        "books": books,
        "seed": seed,
        "tariffs": {"retail": TARIFFS.retail, "feed_in": TARIFFS.feed_in},
        "rows": rows,
        "issue_example": {
            "fair_price": clear(example, TARIFFS).price,
            "with_1wh_sliver_pair": clear(sliver, TARIFFS).price,
            "with_1wh_sliver_pair_last_pair_rule": last_pair_price(sliver),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.books, args.seed)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=1) + "\n")
    for row in result["rows"]:
        print(
            f"attacker share {row['attacker_share']:>6.1%}: price move <= {row['max_move_pct']:6.2f} % "
            f"(last-pair rule: {row['max_move_pct_last_pair_rule']:6.2f} %)"
        )
    print("issue example:", result["issue_example"], "->", REPORT)


if __name__ == "__main__":
    main()
