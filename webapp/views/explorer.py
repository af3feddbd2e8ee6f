"""Chain explorer: blocks, transactions and decoded contract events from the index; search by address or hash."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from webapp.models import ChainTx
from webapp.services import explorer
from webapp.views.helpers import paginate_request

TX_STATUS = {"ok": 1, "failed": 0}  # ?status= filter of transaction lists (absent: all)


def _status_filter():
    """The ?status= filter (ok | failed) as given, or None for all; and a filter applied to a tx query."""
    wanted = request.args.get("status")
    wanted = wanted if wanted in TX_STATUS else None

    def apply(query):
        return query.where(ChainTx.status == TX_STATUS[wanted]) if wanted else query

    return wanted, apply


bp = Blueprint("explorer", __name__, url_prefix="/explorer")

_ROUTES = {"address": ("explorer.address", "address"), "tx": ("explorer.tx", "tx_hash"),
           "block": ("explorer.block", "number")}  # fmt: skip


@bp.get("")
def index():
    q = (request.args.get("q") or "").strip()
    if q:
        hit = explorer.search(q)
        if hit is not None:
            endpoint, arg = _ROUTES[hit.kind]
            return redirect(url_for(endpoint, **{arg: hit.key}))
        return render_template("explorer/index.html", page=None, blocks=[], q=q, status=explorer.status(),
                               not_found=True), 404  # fmt: skip
    wanted, apply = _status_filter()
    page = paginate_request(apply(explorer.txs_query()))
    return render_template("explorer/index.html", page=page, blocks=explorer.latest_blocks(), q=q,
                           status=explorer.status(), not_found=False, tx_status=wanted)  # fmt: skip


@bp.get("/blocks")
def blocks():
    return render_template("explorer/blocks.html", page=paginate_request(explorer.blocks_query()))


@bp.get("/block/<int64:number>")
def block(number: int):
    blk, txs = explorer.block(number)
    if blk is None and not txs:
        abort(404)
    return render_template("explorer/block.html", block=blk, number=number, txs=txs)


@bp.get("/tx/<tx_hash>")
def tx(tx_hash: str):
    found = explorer.tx(tx_hash) if explorer.HASH.match(tx_hash) else None
    if found is None:
        abort(404)
    row, events = found
    return render_template("explorer/tx.html", tx=row, events=events)


@bp.get("/address/<address>")
def address(address: str):
    if not explorer.ADDRESS.match(address):
        abort(404)
    info = explorer.address_info(explorer.checksum(address))
    wanted, apply = _status_filter()
    txs = paginate_request(apply(explorer.txs_query(info.address)))
    return render_template("explorer/address.html", address=info.address, page=txs, events=info.events,
                           user=info.user, contract=info.contract, tx_status=wanted)  # fmt: skip


@bp.get("/events")
def events():
    name = request.args.get("name")
    return render_template("explorer/events.html", page=paginate_request(explorer.events_query(name)), name=name)
