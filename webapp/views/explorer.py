"""Chain explorer: blocks, transactions and decoded contract events from the index; search by address or hash."""

from __future__ import annotations

import contextlib
import re

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import ChainBlock, ChainEvent, ChainTx, User
from webapp.views.helpers import chain, paginate

bp = Blueprint("explorer", __name__, url_prefix="/explorer")

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


def _norm_address(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


@bp.get("")
def index():
    q = (request.args.get("q") or "").strip()
    if q:
        if ADDRESS.match(q):
            return redirect(url_for("explorer.address", address=_norm_address(q)))
        if HASH.match(q):
            if db.session.get(ChainTx, q.lower()):
                return redirect(url_for("explorer.tx", tx_hash=q.lower()))
            block = db.session.scalar(select(ChainBlock).where(ChainBlock.hash == q.lower()))
            if block is not None:
                return redirect(url_for("explorer.block", number=block.number))
        if q.isdigit():
            return redirect(url_for("explorer.block", number=int(q)))
        user = db.session.scalar(select(User).where(User.username == q))
        if user is not None:
            return redirect(url_for("explorer.address", address=user.address))
        return render_template("explorer/index.html", page=None, blocks=[], q=q, status=_status(), not_found=True), 404
    page = paginate(select(ChainTx).order_by(ChainTx.block_number.desc(), ChainTx.tx_index.desc()))
    blocks = list(db.session.scalars(select(ChainBlock).order_by(ChainBlock.number.desc()).limit(10)))
    return render_template("explorer/index.html", page=page, blocks=blocks, q=q, status=_status(), not_found=False)


def _status() -> dict:
    from webapp.indexer import Indexer

    return {"indexed": Indexer.last_indexed(), "chain": chain().status()}


@bp.get("/blocks")
def blocks():
    page = paginate(select(ChainBlock).order_by(ChainBlock.number.desc()))
    return render_template("explorer/blocks.html", page=page)


@bp.get("/block/<int:number>")
def block(number: int):
    blk = db.session.get(ChainBlock, number)
    txs = list(db.session.scalars(select(ChainTx).where(ChainTx.block_number == number).order_by(ChainTx.tx_index)))
    if blk is None and not txs:
        abort(404)
    return render_template("explorer/block.html", block=blk, number=number, txs=txs)


@bp.get("/tx/<tx_hash>")
def tx(tx_hash: str):
    if not HASH.match(tx_hash):
        abort(404)
    row = db.session.get(ChainTx, tx_hash.lower())
    if row is None:
        abort(404)
    events = list(
        db.session.scalars(select(ChainEvent).where(ChainEvent.tx_hash == row.hash).order_by(ChainEvent.log_index))
    )
    return render_template("explorer/tx.html", tx=row, events=events)


@bp.get("/address/<address>")
def address(address: str):
    if not ADDRESS.match(address):
        abort(404)
    address = _norm_address(address)
    txs = paginate(
        select(ChainTx)
        .where(or_(ChainTx.from_addr == address, ChainTx.to_addr == address))
        .order_by(ChainTx.block_number.desc(), ChainTx.tx_index.desc())
    )
    events = list(
        db.session.scalars(
            select(ChainEvent)
            .where(or_(ChainEvent.a0 == address, ChainEvent.a1 == address, ChainEvent.a2 == address))
            .order_by(ChainEvent.id.desc())
            .limit(50)
        )
    )
    user = db.session.scalar(select(User).where(User.address == address))
    contract = None
    with contextlib.suppress(UserError):
        contract = chain().abi_index.contract_name(address)
    return render_template(
        "explorer/address.html", address=address, page=txs, events=events, user=user, contract=contract
    )


@bp.get("/events")
def events():
    name = request.args.get("name")
    query = select(ChainEvent).order_by(ChainEvent.id.desc())
    if name:
        query = query.where(ChainEvent.name == name)
    page = paginate(query)
    return render_template("explorer/events.html", page=page, name=name)
