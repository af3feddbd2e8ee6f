"""Sealed auction rounds from the dashboard: commit (the order hidden behind a hash, with deposits), then reveal.

The salt is generated here (32 random bytes) and stored with the commitment (sealed_commitments) before the
commit transaction is sent, so closing the tab, logging out or a new session cannot lose it; it hides the order
from other bidders and validators, not from this server. Browser-wallet users sign the same transactions in their
wallet (prepare_commit / prepare_reveal) and also keep a copy of the salt in the browser (localStorage).

Deposits: a bid escrows ceil(limit price x Wh / 1000) settlement units (at least what its effective, grid-banded
price needs at the reveal; the rest comes back at settlement), an ask escrows its Wh. The contract's forfeit rule
(DoubleAuction.claim): a commitment not revealed in the reveal window gets its deposits back without any fill, less
10 % of each, which goes to the community fund (forfeitRecipient). A commitment that could never be revealed
(below the minimum size, a bid below feed-in, an ask above retail) is refused before it is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from energy_chain.approvals import approve_and_retry
from energy_chain.auction import commitment_hash
from energy_chain.calls import call_many
from energy_chain.clearing import Side, cost_rounded_up
from energy_chain.codec import calldata
from webapp.errors import TransactionRejected, UserError
from webapp.extensions import db
from webapp.models import AuctionOrder, SealedCommitment, User
from webapp.services import auctions
from webapp.services.context import chain, signer_for
from webapp.units import fmt_kwh, fmt_price

AUCTION = auctions.AUCTION
SIDES = auctions.SIDES
FORFEIT_PERCENT = 10  # DoubleAuction UNREVEALED_FORFEIT_PERCENT
# DoubleAuction phases and order states (IDoubleAuction.Phase, OrderState)
NONE, OPEN, REVEAL, ENDED, CLOSED, CLEARING, CLEARED = range(7)
COMMITTED, BOOKED, CLAIMED = 1, 2, 3


@dataclass(frozen=True)
class SealedRound:
    """The current round as a sealed bidder needs it."""

    round_id: int
    sealed: bool
    phase: int
    end: int  # end of the commit window
    reveal_end: int
    retail_price: int
    feed_in_tariff: int
    min_amount_wh: int


@dataclass(frozen=True)
class CommitmentView:
    row: SealedCommitment
    state: str  # committing | committed | reveal | missed | revealed | settled | forfeited | failed
    phase: int
    reveal_opens: int
    reveal_ends: int
    order: AuctionOrder | None  # the indexed order once revealed (fill and money once settled)

    @property
    def can_reveal(self) -> bool:
        return self.state == "reveal"

    @property
    def can_settle(self) -> bool:
        return self.phase == CLEARED and self.state in ("missed", "revealed")

    @property
    def forfeit(self) -> tuple[int, int]:
        """(money, energy) an unrevealed commitment loses at settlement."""
        return _forfeit(self.row.money_deposit), _forfeit(self.row.energy_deposit)


def _forfeit(deposit: int) -> int:
    return deposit * FORFEIT_PERCENT // 100


def current_round() -> SealedRound:
    service = chain()
    with service.guard():
        auction = auctions.client()
        round_id = auction.current_round_id()
        interval, reveal, sealed = auction.contract.functions.schedule().call()
        record = auction.round(round_id)
        phase = auction.phase(round_id)
        tariffs = auction.round_tariffs(round_id, record)
        minimum = int(auction.contract.functions.minAmount().call())
    opened = int(record["phase"]) != NONE
    end = int(record["end"]) if opened else round_id + int(interval)
    return SealedRound(round_id=round_id, sealed=bool(record["sealedBids"]) if opened else bool(sealed),
                       phase=phase, end=end, reveal_end=int(record["revealEnd"]) if opened else end + int(reveal),
                       retail_price=tariffs.retail, feed_in_tariff=tariffs.feed_in,
                       min_amount_wh=minimum)  # fmt: skip


def deposits(side: str, price: int, amount_wh: int) -> tuple[int, int]:
    """(money, energy) a commitment escrows: a bid its limit price x Wh rounded up, an ask its Wh."""
    return (cost_rounded_up(price, amount_wh), 0) if SIDES[side] == Side.BUY else (0, amount_wh)


def _check(rnd: SealedRound, side: str, price: int, amount_wh: int) -> None:
    """Refuse a commitment the reveal could never book (it would only forfeit its deposit)."""
    if side not in SIDES:
        raise UserError(_("Side must be 'buy' or 'sell'."), "invalid_side")
    if not rnd.sealed:
        raise UserError(_("This round takes open bids: submit your order directly."), "not_sealed", 409)
    if rnd.phase not in (NONE, OPEN):
        raise UserError(_("This round's commit window is over; commit in the next round."), "commit_closed", 409)
    if amount_wh < rnd.min_amount_wh:
        raise UserError(_("Auction orders must be at least %(kwh)s.", kwh=fmt_kwh(rnd.min_amount_wh)),
                        "invalid_amount")  # fmt: skip
    if side == "buy" and price < rnd.feed_in_tariff:
        raise UserError(_("A bid below the feed-in tariff (%(p)s) could never trade.", p=fmt_price(rnd.feed_in_tariff)),
                        "never_fillable")  # fmt: skip
    if side == "sell" and price > rnd.retail_price:
        raise UserError(_("An ask above the retail price (%(p)s) could never trade.", p=fmt_price(rnd.retail_price)),
                        "never_fillable")  # fmt: skip


def _new_row(user: User, rnd: SealedRound, side: str, price: int, amount_wh: int) -> SealedCommitment:
    """The commitment with a fresh salt, stored before any transaction is sent."""
    money, energy = deposits(side, price, amount_wh)
    row = SealedCommitment(user_id=user.id, round_id=rnd.round_id, side=side, limit_price=price, amount_wh=amount_wh,
                           salt="0x" + secrets.token_bytes(32).hex(), money_deposit=money, energy_deposit=energy,
                           status="committing")  # fmt: skip
    db.session.add(row)
    db.session.commit()
    return row


def _digest(row: SealedCommitment, owner: str) -> bytes:
    return commitment_hash(SIDES[row.side], row.limit_price, row.amount_wh, bytes.fromhex(row.salt[2:]), owner)


def _commit_args(row: SealedCommitment, owner: str) -> tuple[int, bytes, int, int]:
    return (row.round_id, _digest(row, owner), row.money_deposit, row.energy_deposit)


def commit(user: User, side: str, price: int, amount_wh: int) -> SealedCommitment:
    """Commit a sealed bid (side "buy") or ask ("sell") to the current round; the salt is stored first."""
    signer = signer_for(user)
    rnd = current_round()
    _check(rnd, side, price, amount_wh)
    row = _new_row(user, rnd, side, price, amount_wh)
    service = chain()
    token = "settlement" if side == "buy" else "energy"

    def approve() -> None:
        with service.guard():
            for token_contract in ("EnergyToken", "SettlementToken"):
                auctions.client().approve(token_contract, signer)

    try:
        args = _commit_args(row, user.address)
        receipt = approve_and_retry(
            lambda: service.send(signer, AUCTION, "commitOrder", args, wait=True, token=token),
            approve,
            (TransactionRejected,),
        )
    except UserError:
        row.status = "failed"
        db.session.commit()
        raise
    _record_commit(row, user, receipt)
    return row


def _tx_hash(receipt: dict[str, Any]) -> str:
    value = receipt["transactionHash"]
    return value.to_0x_hex() if hasattr(value, "to_0x_hex") else str(value)


def _record_commit(row: SealedCommitment, user: User, receipt: dict[str, Any]) -> None:
    service = chain()
    digest = _digest(row, user.address)
    for entry in receipt.get("logs", []):
        decoded = service.abi_index.decode_log(dict(entry))
        if decoded and decoded[1] == "OrderCommitted":
            args = decoded[2]
            value = args["commitment"]
            found = value.hex() if isinstance(value, (bytes, bytearray)) else str(value).lower().removeprefix("0x")
            if str(args["owner"]).lower() == user.address.lower() and found == digest.hex():
                row.order_id, row.commit_tx, row.status = int(args["orderId"]), _tx_hash(receipt), "committed"
                db.session.commit()
                return
    raise UserError(_("That transaction did not commit this sealed order."), "not_committed", 422)


def _mine(user: User, commitment_id: int) -> SealedCommitment:
    row = db.session.get(SealedCommitment, commitment_id)
    if row is None or row.user_id != user.id:
        raise UserError(_("There is no such sealed order of yours."), "unknown_commitment", 404)
    return row


def _reveal_args(row: SealedCommitment) -> tuple[int, int, int, int, bytes, int]:
    if row.status != "committed" or row.order_id is None:
        raise UserError(_("Sealed order %(id)s is not waiting for its reveal.", id=row.order_id or row.id),
                        "not_committed", 409)  # fmt: skip
    service = chain()
    with service.guard():
        auction = auctions.client()
        phase = auction.phase(row.round_id)
        if phase != REVEAL:
            what = (_("The reveal window has not opened yet.") if phase == OPEN
                    else _("The reveal window is over: the deposit comes back less %(p)d %% at settlement.",
                           p=FORFEIT_PERCENT))  # fmt: skip
            raise UserError(what, "not_reveal_phase", 409)
        hint = auction.hint(row.round_id, SIDES[row.side], row.limit_price)
    return (row.order_id, int(SIDES[row.side]), row.limit_price, row.amount_wh, bytes.fromhex(row.salt[2:]), hint)


def reveal(user: User, commitment_id: int) -> SealedCommitment:
    """Reveal one of the user's commitments in its round's reveal window (the stored salt opens it)."""
    row = _mine(user, commitment_id)
    signer = signer_for(user)
    args = _reveal_args(row)
    receipt = chain().send(signer, AUCTION, "revealOrder", args, wait=True)
    row.status, row.reveal_tx = "revealed", _tx_hash(receipt)
    db.session.commit()
    return row


def reveal_all(user: User) -> list[SealedCommitment]:
    """Reveal every commitment of the user whose round is in its reveal window now."""
    return [reveal(user, v.row.id) for v in commitments(user) if v.can_reveal]


def settle(user: User, commitment_id: int) -> dict[str, int | str]:
    """Claim a commitment of a cleared round: the fill and refund of a revealed one, or an unrevealed one's
    deposits less the forfeit. Returns what the claim paid (from its events)."""
    row = _mine(user, commitment_id)
    signer = signer_for(user)
    receipt = chain().send(signer, AUCTION, "claim", (row.order_id,), wait=True)
    paid: dict[str, int | str] = {"state": row.status}
    for entry in receipt.get("logs", []):
        decoded = chain().abi_index.decode_log(dict(entry))
        if not decoded:
            continue
        name, args = decoded[1], decoded[2]
        if name == "CommitmentForfeited":
            paid.update(state="forfeited", forfeit_money=int(args["money"]), forfeit_energy=int(args["energy"]))
        elif name == "CommitmentRefunded":
            paid.update(money_refund=int(args["moneyRefund"]), energy_refund=int(args["energyRefund"]))
        elif name == "OrderClaimed":
            paid.update(state="settled", fill_wh=int(args["fillWh"]), money=int(args["money"]),
                        money_refund=int(args["moneyRefund"]), energy_refund=int(args["energyRefund"]))  # fmt: skip
    row.status = str(paid["state"])
    db.session.commit()
    return paid


def commitments(user: User, limit: int = 20) -> list[CommitmentView]:
    """The user's sealed orders, newest first, with their state now (read from the chain in one batch)."""
    rows = list(db.session.scalars(select(SealedCommitment).where(SealedCommitment.user_id == user.id)
                                   .order_by(SealedCommitment.id.desc()).limit(limit)))  # fmt: skip
    if not rows:
        return []
    service = chain()
    with service.guard():
        fns = auctions.client().contract.functions
        rounds = sorted({r.round_id for r in rows})
        calls = [fns.phaseOf(rid) for rid in rounds] + [fns.getRound(rid) for rid in rounds]
        with_order = [r for r in rows if r.order_id is not None]
        calls += [fns.getOrder(r.order_id) for r in with_order]
        results = call_many(service.client, calls)
    n = len(rounds)
    phases = {rid: int(res.value) for rid, res in zip(rounds, results[:n], strict=True) if res.ok}
    records = {rid: res.value for rid, res in zip(rounds, results[n : 2 * n], strict=True) if res.ok}
    states = {r.id: int(res.value[3]) for r, res in zip(with_order, results[2 * n :], strict=True) if res.ok}
    indexed = {o.order_id: o for o in db.session.scalars(select(AuctionOrder).where(
        AuctionOrder.order_id.in_([r.order_id for r in with_order])))} if with_order else {}  # fmt: skip
    views, changed = [], False
    for row in rows:
        phase = phases.get(row.round_id, NONE)
        record = records.get(row.round_id)
        end, reveal_end = (int(record[1]), int(record[2])) if record else (0, 0)
        onchain = states.get(row.id)
        status = row.status
        if onchain == BOOKED and status == "committed":
            status = "revealed"  # revealed elsewhere (e.g. signed in a browser wallet)
        elif onchain == CLAIMED and status in ("committed", "revealed"):
            status = "forfeited" if status == "committed" else "settled"
        if status != row.status:
            row.status, changed = status, True
        state = status
        if status == "committed":
            state = "reveal" if phase == REVEAL else ("committed" if phase in (NONE, OPEN) else "missed")
        views.append(CommitmentView(row=row, state=state, phase=phase, reveal_opens=end, reveal_ends=reveal_end,
                                    order=indexed.get(row.order_id)))  # fmt: skip
    if changed:
        db.session.commit()
    return views


# ---------------------------------------------------------------------- browser wallets (EIP-1193)
def _unsigned(address: str, fn_name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    service = chain()
    with service.guard():
        fn = getattr(auctions.client().contract.functions, fn_name)(*args)
        gas = service.client.estimate_gas(fn, address)
        tx = service.client.legacy_tx(fn.address, calldata(fn), gas, service.client.pending_nonce(address))
    fields = {k: hex(tx[k]) for k in ("value", "gas", "gasPrice", "nonce", "chainId")}
    return {"from": address, "to": tx["to"], "data": "0x" + tx["data"].hex(), **fields, "type": "0x0"}


def prepare_commit(user: User, side: str, price: int, amount_wh: int) -> dict[str, Any]:
    """A browser wallet's commitment: stored with its salt (returned, for the browser's own copy) and the unsigned
    commitOrder transaction, simulated from the wallet's address."""
    rnd = current_round()
    _check(rnd, side, price, amount_wh)
    row = _new_row(user, rnd, side, price, amount_wh)
    try:
        tx = _unsigned(user.address, "commitOrder", _commit_args(row, user.address))
    except UserError:
        row.status = "failed"
        db.session.commit()
        raise
    return {"id": row.id, "salt": row.salt, "round_id": row.round_id, "side": side, "price": price,
            "amount_wh": amount_wh, "tx": tx}  # fmt: skip


def committed(user: User, commitment_id: int, tx_hash: str) -> SealedCommitment:
    """A browser wallet's commit transaction was mined: link the commitment to its order id (from the receipt)."""
    row = _mine(user, commitment_id)
    service = chain()
    with service.guard():
        receipt = dict(service.client.w3.eth.get_transaction_receipt(tx_hash))
    if int(receipt.get("status", 0)) != 1:
        row.status = "failed"
        db.session.commit()
        raise UserError(_("The commit transaction failed; nothing was escrowed."), "commit_failed", 422)
    _record_commit(row, user, receipt)
    return row


def prepare_reveal(user: User, commitment_id: int) -> dict[str, Any]:
    """The unsigned revealOrder transaction of a browser wallet's commitment (after its reveal it shows as
    revealed: the page reads the order's state from the chain)."""
    row = _mine(user, commitment_id)
    return {"id": row.id, "tx": _unsigned(user.address, "revealOrder", _reveal_args(row))}
