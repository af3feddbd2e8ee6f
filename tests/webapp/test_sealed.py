"""Sealed auction rounds from the pages: commit (salt generated and kept server-side, deposits computed), a new
session still has the salt, reveal in the reveal window, the round clears to the Python reference price and the
page says what settled; an unrevealed commitment forfeits 10 % of its deposit by the contract's rule. On SQLite and
PostgreSQL, on a real anvil (time travelled)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from energy_chain.clearing import Order, Side, Tariffs, clear
from energy_chain.devchain import dev_signer
from webapp.extensions import db
from webapp.models import SealedCommitment
from webapp.services.demo_bot import Bot

PASSWORD = "correct horse battery"
INTERVAL, REVEAL = 421, 120  # an interval no other test uses, so the round id is one nobody opened in open mode


def _travel(chain, seconds: int) -> None:
    chain.client.w3.provider.make_request("evm_increaseTime", [seconds])
    chain.client.w3.provider.make_request("evm_mine", [])


def _now(chain) -> int:
    return int(chain.client.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def sealed_schedule(chain):
    """Sealed rounds of INTERVAL s with a REVEAL s reveal window, starting at a fresh round; restored after."""
    auction = chain.client.contract("DoubleAuction")
    before = auction.functions.schedule().call()
    admin = dev_signer("admin")
    admin.resync()
    chain.client.transact(auction.functions.setSchedule(INTERVAL, REVEAL, True), admin)
    _travel(chain, INTERVAL - _now(chain) % INTERVAL + 1)  # the start of a round
    try:
        yield
    finally:
        admin.resync()
        chain.client.transact(auction.functions.setSchedule(*before), admin)
        _travel(chain, int(before[0]) - _now(chain) % int(before[0]) + 1)  # a fresh open round for the next tests


def _rows(app, user_address: str | None = None) -> list[SealedCommitment]:
    with app.app_context():
        rows = list(db.session.scalars(select(SealedCommitment).order_by(SealedCommitment.id)))
        for r in rows:
            db.session.expunge(r)
        return rows


def _keeper(app) -> None:
    with app.app_context():
        app.extensions["chain"].operator().resync()
        Bot(app, "unused", 1.0).keep_auction()  # close, clear and settle like the demo keeper


def test_a_sealed_round_committed_then_revealed_from_the_pages_settles(app, chain, users, sealed_schedule):
    seller_c, buyer_c, idle_c = app.test_client(), app.test_client(), app.test_client()
    seller, buyer, idle = users.signup(seller_c), users.signup(buyer_c), users.signup(idle_c)
    chain.mint_energy(users.address(seller), 4000)
    chain.top_up(users.address(buyer), 5_000_000)
    chain.top_up(users.address(idle), 5_000_000)

    page = seller_c.get("/auction").get_data(as_text=True)
    assert 'id="sealed-form"' in page and "This round takes sealed bids" in page
    r = seller_c.post("/auction/sealed/commit", data={"side": "sell", "price": "30", "amount": "2"},
                      follow_redirects=True)  # fmt: skip
    assert "Sealed ask #" in r.get_data(as_text=True) and "Deposit held: 2.000 kWh" in r.get_data(as_text=True)
    r = buyer_c.post("/auction/sealed/commit", data={"side": "buy", "price": "45", "amount": "1.5"},
                     follow_redirects=True)  # fmt: skip
    assert "Sealed bid #" in r.get_data(as_text=True) and "Deposit held: RM 0.6750" in r.get_data(as_text=True)
    r = idle_c.post("/auction/sealed/commit", data={"side": "buy", "price": "40", "amount": "1"})
    assert r.status_code == 302
    rows = _rows(app)
    assert [r.status for r in rows] == ["committed"] * 3 and all(re.fullmatch(r"0x[0-9a-f]{64}", r.salt) for r in rows)
    assert len({r.salt for r in rows}) == 3 and rows[1].money_deposit == 675_000 and rows[0].energy_deposit == 2000
    auction = chain.client.contract("DoubleAuction")
    assert auction.functions.getOrder(rows[1].order_id).call()[3] == 1  # Committed: the order is hidden

    # The salt survives the session: a new login on another client sees and reveals the commitment.
    buyer_c.post("/auth/logout")
    again = app.test_client()
    assert again.post("/auth/login", data={"username": buyer, "password": PASSWORD}).status_code == 302
    page = again.get("/auction").get_data(as_text=True)
    assert f'data-commitment="{rows[1].id}" data-state="committed"' in page and "committed: reveal from" in page
    r = again.post(f"/auction/sealed/{rows[1].id}/reveal", follow_redirects=True)
    assert "The reveal window has not opened yet." in r.get_data(as_text=True)  # 409, shown on the page

    _travel(chain, INTERVAL)  # the reveal window
    page = again.get("/auction").get_data(as_text=True)
    assert f'data-commitment="{rows[1].id}" data-state="reveal"' in page and f'id="reveal-{rows[1].id}"' in page
    r = again.post(f"/auction/sealed/{rows[1].id}/reveal", follow_redirects=True)
    assert f"Sealed order #{rows[1].order_id} revealed" in r.get_data(as_text=True)
    r = seller_c.post("/auction/sealed/reveal-all", follow_redirects=True)
    assert f"Revealed: #{rows[0].order_id}." in r.get_data(as_text=True)
    # someone else's commitment is not theirs to reveal
    assert seller_c.post(f"/auction/sealed/{rows[2].id}/reveal").status_code in (302, 404)
    assert _rows(app)[2].status == "committed"

    _travel(chain, REVEAL)  # the round ends; the keeper closes, clears and settles the booked orders
    _keeper(app)
    users.index()
    book = [Order(rows[0].order_id, Side.ASK, 300_000, 2000), Order(rows[1].order_id, Side.BID, 450_000, 1500)]
    expected = clear(book, Tariffs(500_000, 200_000))
    record = auction.functions.getRound(rows[0].round_id).call()
    assert (record[-2], record[-3]) == (expected.price, expected.volume_wh)  # clearingPrice, volumeWh
    page = again.get("/auction").get_data(as_text=True)
    assert f'data-commitment="{rows[1].id}" data-state="settled"' in page and "1.500 kWh traded" in page
    assert "37.50 sen/kWh" in page  # the last clearing

    # The idle bidder never revealed: settling returns the deposit less 10 % (the contract's forfeit rule).
    page = idle_c.get("/auction").get_data(as_text=True)
    assert f'data-commitment="{rows[2].id}" data-state="missed"' in page and "forfeits 10 %" in page
    before = chain.client.contract("SettlementToken").functions.balanceOf(users.address(idle)).call()
    r = idle_c.post(f"/auction/sealed/{rows[2].id}/settle", follow_redirects=True)
    assert "the deposit came back less RM 0.0400 (10 %" in r.get_data(as_text=True)
    after = chain.client.contract("SettlementToken").functions.balanceOf(users.address(idle)).call()
    assert after - before == 400_000 - 40_000
    assert _rows(app)[2].status == "forfeited"
    assert 'data-state="forfeited"' in idle_c.get("/auction").get_data(as_text=True)


def test_commitments_that_could_never_be_revealed_are_refused(app, chain, users, sealed_schedule):
    client = app.test_client()
    users.signup(client)
    r = client.post("/auction/sealed/commit", data={"side": "buy", "price": "10", "amount": "1"},
                    follow_redirects=True)  # fmt: skip
    assert "A bid below the feed-in tariff (20.00 sen/kWh) could never trade." in r.get_data(as_text=True)
    r = client.post("/auction/sealed/commit", data={"side": "sell", "price": "30", "amount": "0.05"},
                    follow_redirects=True)  # fmt: skip
    assert "Auction orders must be at least 0.100 kWh." in r.get_data(as_text=True)
    r = client.post("/auction/sealed/commit", data={"side": "sell", "price": "30", "amount": "1"},
                    follow_redirects=True)  # fmt: skip
    assert "Insufficient balance: you have 0.000 kWh but this needs 1.000 kWh." in r.get_data(as_text=True)
    assert [row.status for row in _rows(app)] == ["failed"]  # the salt row stays, marked: nothing was escrowed


def test_open_rounds_refuse_commitments(app, users):
    client = app.test_client()
    users.signup(client)
    page = client.get("/auction").get_data(as_text=True)
    assert 'id="sealed-form"' not in page and 'id="submit-auction"' in page
    r = client.post("/auction/sealed/commit", data={"side": "buy", "price": "40", "amount": "1"},
                    follow_redirects=True)  # fmt: skip
    assert "This round takes open bids" in r.get_data(as_text=True)


def test_a_browser_wallet_commits_and_reveals_with_transactions_it_signs(app, chain, sealed_schedule):
    """The server keeps the salt and prepares commitOrder / revealOrder; the wallet signs (here: a local key)."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    from energy_chain import Signer

    wallet = Account.create()
    client = app.test_client()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    chain.top_up(wallet.address, 2_000_000)
    signer = Signer.from_key(wallet.key)
    spender = chain.client.contract("DoubleAuction").address
    chain.client.transact(chain.client.contract("SettlementToken").functions.approve(spender, 10**12), signer)

    def sign_and_relay(tx: dict) -> str:
        fields = {k: int(v, 16) for k, v in tx.items() if k in ("value", "gas", "gasPrice", "nonce", "chainId")}
        raw = Account.sign_transaction({**fields, "to": tx["to"], "data": tx["data"]}, wallet.key).raw_transaction
        r = client.post("/api/v1/tx/raw", json={"raw": raw.to_0x_hex()})
        assert r.status_code in (200, 202), r.get_json()
        chain.client.w3.eth.wait_for_transaction_receipt(r.get_json()["tx_hash"])
        return r.get_json()["tx_hash"]

    r = client.post("/auction/sealed/prepare", json={"side": "buy", "price": "44", "amount": "1"})
    assert r.status_code == 200, r.get_json()
    prepared = r.get_json()
    assert re.fullmatch(r"0x[0-9a-f]{64}", prepared["salt"]) and prepared["tx"]["to"] == spender
    tx_hash = sign_and_relay(prepared["tx"])
    r = client.post(f"/auction/sealed/{prepared['id']}/mined", json={"tx_hash": tx_hash})
    assert r.status_code == 200 and r.get_json()["status"] == "committed", r.get_json()
    page = client.get("/auction").get_data(as_text=True)
    assert f'data-commitment="{prepared["id"]}" data-state="committed" data-order="{r.get_json()["order_id"]}"' in page
    assert f'data-salt="{prepared["salt"]}"' in page  # the page hands the salt to sealed.js for localStorage

    _travel(chain, INTERVAL)
    r = client.post(f"/auction/sealed/{prepared['id']}/prepare-reveal")
    assert r.status_code == 200, r.get_json()
    sign_and_relay(r.get_json()["tx"])
    assert f'data-commitment="{prepared["id"]}" data-state="revealed"' in client.get("/auction").get_data(as_text=True)
