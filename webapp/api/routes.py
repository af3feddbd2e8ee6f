"""API routes: parse the request, call webapp.services, answer JSON; no logic of their own."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from webapp.api import bodies, bp
from webapp.api.openapi import openapi_document
from webapp.errors import UserError
from webapp.forms import USERNAME_PATTERN
from webapp.models import User
from webapp.ratelimits import account_login_limit, ip_login_limit, signup_rate_limit
from webapp.services import accounts, auctions, explorer, indexing, meters, price_band, sessions, trading
from webapp.services import community as community_svc
from webapp.services import earnings as earnings_svc
from webapp.services import history as history_svc
from webapp.services import topup as topups
from webapp.services.context import chain
from webapp.services.meter_periods import meter_periods
from webapp.services.paging import paginate
from webapp.services.periods import community_zone, date_range
from webapp.units import UNITS_PER_SEN, InvalidAmount, fmt_myr, parse_energy_kwh, parse_myr, parse_price_sen
from webapp.validation import Field, parse_body


def _body(spec: dict[str, Field] = bodies.EMPTY) -> dict[str, Any]:
    """The JSON object of the request, its fields type-checked against `spec` (400 with the field's code)."""
    return parse_body(spec)


def _flag(body: dict[str, Any], name: str) -> bool:
    """A boolean from the (checked) body, else from the query string (?wait=1|true|yes)."""
    if name in body:
        return body[name]
    return str(request.args.get(name, "")).lower() in {"1", "true", "yes"}


def _user_json(user: User) -> dict[str, Any]:
    return {"username": user.username, "address": user.address, "wallet": "custodial" if user.custodial else "browser",
            "operator": user.is_operator}  # fmt: skip


def _int_field(body: dict[str, Any], name: str, low: int, high: int, code: str) -> int:
    value = body[name]  # an integer: parse_body checked its type
    if not low <= value <= high:
        raise UserError(f"{name} must be an integer from {low} to {high}.", code)
    return value


def _confirmed_price(body: dict[str, Any], side: str) -> int:
    """The order's price; one far from the grid tariffs only with confirm_unusual_price: true (else 400)."""
    price = _price(body)
    price_band.require_confirmed(side, price, body.get("confirm_unusual_price") is True)
    return price


def _price(body: dict[str, Any]) -> int:
    max_sen = current_app.config["MAX_PRICE_SEN"]
    if "price" in body:  # settlement units per kWh, as on chain
        return _int_field(body, "price", 1, max_sen * UNITS_PER_SEN, "price_out_of_range")
    if "price_sen" in body:
        try:
            return parse_price_sen(body["price_sen"], max_sen)
        except InvalidAmount as exc:
            raise UserError(str(exc), "price_out_of_range") from exc
    raise UserError("Give price (units per kWh) or price_sen (sen per kWh).", "missing_price")


def _side(body: dict[str, Any]) -> str:
    return body["side"]  # required, 'buy' or 'sell' (bodies.SIDE): the same two words on both venues


def _amount(body: dict[str, Any]) -> int:
    max_kwh = current_app.config["MAX_ORDER_KWH"]
    if "amount_wh" in body:
        return _int_field(body, "amount_wh", 1, max_kwh * 1000, "invalid_amount")
    if "amount_kwh" in body:
        try:
            return parse_energy_kwh(body["amount_kwh"], max_kwh)
        except InvalidAmount as exc:
            raise UserError(str(exc), "invalid_amount") from exc
    raise UserError("Give amount_wh (Wh) or amount_kwh (kWh).", "missing_amount")


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int))


# ---------------------------------------------------------------------- meta
@bp.get("/openapi.json")
def openapi():
    config = current_app.config
    return jsonify(openapi_document(config["MAX_PRICE_SEN"] * UNITS_PER_SEN, config["MAX_ORDER_KWH"] * 1000))


@bp.get("/health")
def health():
    return jsonify(indexing.health())


# ---------------------------------------------------------------------- auth
# The token is the session's credential (webapp.services.sessions); the session cookie carries the same one.
@bp.post("/auth/signup")
@signup_rate_limit
def signup():
    body = _body(bodies.SIGNUP)
    username, password = body["username"].strip(), body["password"]
    if not re.match(USERNAME_PATTERN, username):
        raise UserError("username: 3 to 32 letters, digits, dot, dash or underscore.", "invalid_username")
    user = accounts.signup(username, password, kind="api")  # the password policy: weak_password, 400
    login_user(user)
    return jsonify({"user": _user_json(user), "token": user.session_credential}), 201


@bp.post("/auth/login")
@ip_login_limit
@account_login_limit
def login():
    body = _body(bodies.LOGIN)
    user = accounts.authenticate(body["username"].strip(), body["password"], kind="api")
    login_user(user)
    return jsonify({"user": _user_json(user), "token": user.session_credential})


@bp.post("/auth/logout")
@login_required
def logout():
    """Ends this session or token; {"everywhere": true} ends every session and token of the account."""
    body = request.get_json(silent=True)
    everywhere = isinstance(body, dict) and body.get("everywhere") is True
    ended = accounts.log_out(current_user, everywhere=everywhere)
    logout_user()
    return jsonify({"ok": True, "sessions_ended": ended})


# ---------------------------------------------------------------------- account
@bp.get("/me")
@login_required
def me():
    balances = chain().balances(current_user.address, spenders=accounts.APPROVED_SPENDERS)
    return jsonify({
        "user": _user_json(current_user), "wallet_unlocked": sessions.is_unlocked(current_user),
        "balances": {"energy_wh": balances.energy_wh, "settlement_units": balances.settlement_units},
        "allowances": {"energy": balances.energy_allowance, "settlement": balances.settlement_allowance},
    })  # fmt: skip


@bp.post("/account/topup")
@login_required
def topup():
    topups.ensure_enabled()
    try:
        units = parse_myr(_body(bodies.TOPUP)["amount_myr"], current_app.config["TOPUP_MAX_MYR"])
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc
    row = topups.request_topup(current_user, units, "api")
    if row.status == "credited":  # demo self-service
        return jsonify({"settlement_units": units, "tx_hash": row.tx_hash, "status": "credited"}), 201
    return jsonify({"settlement_units": units, "status": "pending", "request_id": row.id, "reference": row.reference,
                    "message": f"Transfer the amount quoting {row.reference}; the operator credits your wallet "
                               "after confirming the payment."}), 202  # fmt: skip


# ---------------------------------------------------------------------- operator: top-up requests
def _require_operator() -> User:
    """The logged-in operator (401 when not logged in, by login_required; 403 for everyone else)."""
    if not current_user.is_operator:
        raise UserError(_("Only the market operator may do this."), "operator_only", 403)
    return current_user


TOPUP_ID_MAX = 2**31 - 1  # the id column is a 32-bit integer: a larger id names no request (not a database error)


def _topup_id(request_id: int) -> int:
    if request_id > TOPUP_ID_MAX:
        raise UserError(_("There is no top-up request %(id)d.", id=request_id), "not_found", 404)
    return request_id


def _topup_json(row: Any, user: User | None = None) -> dict[str, Any]:
    out = {"request_id": row.id, "reference": row.reference, "settlement_units": row.amount_units,
           "status": row.status, "channel": row.channel, "created_at": row.created_at.isoformat(),
           "tx_hash": row.tx_hash}  # fmt: skip
    if user is not None:
        out |= {"username": user.username, "address": user.address}
    return out


@bp.get("/operator/topups")
@login_required
def operator_topups():
    """Top-up requests waiting for the operator (pending) or being credited now (minting), oldest first."""
    _require_operator()
    return jsonify({"topups": [_topup_json(r, u) for r, u in topups.pending()]})


@bp.post("/operator/topups/<int:request_id>/confirm")
@login_required
def operator_confirm_topup(request_id: int):
    """The payment quoting this request's reference arrived: the operator key issues the settlement tokens."""
    operator = _require_operator()
    _body()
    row = topups.confirm(_topup_id(request_id), operator)
    return jsonify({**_topup_json(row), "message": _("Top-up %(ref)s confirmed: %(amount)s credited.",
                                                     ref=row.reference, amount=fmt_myr(row.amount_units))})  # fmt: skip


@bp.post("/operator/topups/<int:request_id>/reject")
@login_required
def operator_reject_topup(request_id: int):
    operator = _require_operator()
    _body()
    row = topups.reject(_topup_id(request_id), operator)
    return jsonify(
        {**_topup_json(row), "message": _("Top-up %(ref)s rejected; nothing was credited.", ref=row.reference)}
    )


# ---------------------------------------------------------------------- market
@bp.get("/market/book")
def book():
    levels = min(50, max(1, request.args.get("levels", trading.DEPTH_LEVELS, type=int)))
    return jsonify(trading.depth(levels))


@bp.get("/market/trades")
def trades():
    limit = min(200, max(1, request.args.get("limit", 50, type=int)))
    mine = request.args.get("mine") in {"1", "true"} and current_user.is_authenticated
    rows = trading.recent_trades(limit, current_user.address if mine else None)
    return jsonify({"trades": [_trade_json(t) for t in rows]})


def _trade_json(t) -> dict[str, Any]:
    return {"venue": t.venue, "buyer": t.buyer, "seller": t.seller, "price": t.price, "amount_wh": t.amount_wh,
            "cost": t.cost, "buy_order_id": t.buy_order_id, "sell_order_id": t.sell_order_id,
            "block": t.block_number, "tx_hash": t.tx_hash, "timestamp": t.timestamp}  # fmt: skip


@bp.get("/orders")
@login_required
def my_orders():
    status = request.args.get("status")
    rows = (
        trading.open_orders(current_user.address) if status == "open" else trading.order_history(current_user.address)
    )
    return jsonify({"orders": [{
        "order_id": o.order_id, "side": o.side, "price": o.price, "amount_wh": o.amount_wh,
        "remaining_wh": o.remaining_wh, "status": o.status, "block": o.block_number, "tx_hash": o.tx_hash,
    } for o in rows]})  # fmt: skip


@bp.post("/orders")
@login_required
def place_order():
    body = _body(bodies.ORDER)
    side = _side(body)
    expiry = body.get("expiry_minutes")  # 1 to 43200 (bodies.ORDER)
    wait = _flag(body, "wait")
    price = _confirmed_price(body, side)
    result = trading.place_order(current_user, side, price, _amount(body), expiry, wait=wait)
    return jsonify(result.as_dict()), 201 if wait else 202


@bp.delete("/orders/<uint256:order_id>")
@login_required
def cancel_order(order_id: int):
    wait = request.args.get("wait") in {"1", "true"}
    result = trading.cancel_order(current_user, order_id, wait=wait)
    return jsonify(result.as_dict()), 200 if wait else 202


@bp.get("/orders/placement/<tx_hash>")
def order_placement(tx_hash: str):
    """What one placement transaction did (for one sent without wait=true): fills, what rests, what the cap left."""
    if not explorer.HASH.match(tx_hash):
        raise UserError("A transaction hash is 0x followed by 64 hex digits.", "invalid_hash")
    return jsonify(trading.placement(tx_hash))


@bp.post("/orders/prepare")
@login_required
def prepare_order():
    """An unsigned placeOrder transaction for a browser wallet to sign (EIP-1193); send it back to /tx/raw."""
    body = _body(bodies.PREPARE)
    side = _side(body)
    price = _confirmed_price(body, side)
    return jsonify(trading.prepare_order(current_user.address, side, price, _amount(body)))


@bp.post("/tx/raw")
@login_required
def send_raw():
    raw = _body(bodies.RAW_TX)["raw"]  # 0x hex (bodies.RAW_TX)
    return jsonify({"tx_hash": chain().send_raw_from(raw, current_user.address), "status": "pending"}), 202


@bp.get("/tx/<tx_hash>")
def tx_status(tx_hash: str):
    if not explorer.HASH.match(tx_hash):
        raise UserError("A transaction hash is 0x followed by 64 hex digits.", "invalid_hash")
    return jsonify(chain().tx_status(tx_hash))


# ---------------------------------------------------------------------- meter and explorer
@bp.get("/meter/readings")
@login_required
def readings():
    limit = min(1000, max(1, request.args.get("limit", 96, type=int)))
    rows = meters.readings_of(current_user.address, limit)
    return jsonify({"meters": [m.meter_id for m in meters.meters_of(current_user.address)], "readings": [{
        "meter_id": r.meter_id, "interval": r.interval, "minted_wh": r.minted_wh, "burned_wh": r.burned_wh,
        "grid_wh": r.grid_wh, "block": r.block_number} for r in rows]})  # fmt: skip


@bp.get("/explorer/txs")
def explorer_txs():
    page = paginate(explorer.txs_query(request.args.get("address")), _page())
    return jsonify({"page": page.page, "pages": page.pages, "total": page.total, "txs": [{
        "hash": t.hash, "block": t.block_number, "from": t.from_addr, "to": t.to_addr, "contract": t.contract,
        "method": t.method, "status": t.status, "gas_used": t.gas_used} for t in page.items]})  # fmt: skip


@bp.get("/explorer/events")
def explorer_events():
    page = paginate(explorer.events_query(request.args.get("name"), request.args.get("tx")), _page())
    return jsonify({"page": page.page, "pages": page.pages, "total": page.total, "events": [{
        "block": e.block_number, "tx_hash": e.tx_hash, "log_index": e.log_index, "contract": e.contract,
        "name": e.name, "args": e.args} for e in page.items]})  # fmt: skip


# ---------------------------------------------------------------------- auction
@bp.get("/auction/current")
def auction_current():
    last = auctions.last_cleared()
    body: dict[str, Any] = {"round": auctions.current_round().as_dict(), "last_cleared": None}
    if last is not None:
        body["last_cleared"] = {"round_id": last.round_id, "clearing_price": last.clearing_price,
                                "volume_wh": last.volume_wh, "curves": auctions.round_curves(last)}  # fmt: skip
    return jsonify(body)


@bp.post("/auction/orders")
@login_required
def auction_submit():
    body = _body(bodies.AUCTION_ORDER)
    side = _side(body)
    wait = _flag(body, "wait")
    price = _confirmed_price(body, side)
    result = auctions.submit(current_user, side, price, _amount(body), wait=wait)
    return jsonify(result), 201 if wait else 202


# ---------------------------------------------------------------------- history, earnings, community
def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise UserError(f"{name} must be one of: {', '.join(choices)}.", f"invalid_{name}")
    return value


def _period():
    return date_range(request.args.get("from"), request.args.get("to"), community_zone())


@bp.get("/account/trades")
@login_required
def account_trades():
    """My trades on every venue in a period (from/to: local days), with totals; format=csv: all of them as CSV."""
    fmt = _choice("format", ("json", "csv"), "json")
    period = _period()
    mine = history_svc.my_trades(current_user.address, period)
    if fmt == "csv":
        return Response(history_svc.to_csv(mine.rows, community_zone()), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="trades.csv"'})  # fmt: skip
    per_page = min(500, max(1, request.args.get("per_page", 50, type=int)))
    page = mine.page(_page(), per_page)
    return jsonify({"page": page.page, "pages": page.pages, "total": page.total, "per_page": per_page,
                    "from": period.args.get("from"), "to": period.args.get("to"),
                    "timezone": current_app.config["COMMUNITY_TIMEZONE"], "tariff_source": mine.tariff_source,
                    "totals": mine.totals.as_dict(),
                    "trades": [history_svc.row_dict(r) for r in page.items]})  # fmt: skip


@bp.get("/account/earnings")
@login_required
def account_earnings():
    """Earned above feed-in and saved against retail, per local day, week or month."""
    by = _choice("by", ("day", "week", "month"), "day")
    result = earnings_svc.earnings(current_user.address, by, community_zone(), _period())
    return jsonify({"by": by, "timezone": current_app.config["COMMUNITY_TIMEZONE"],
                    "tariff_source": result.tariff_source, "total": result.total.as_dict(),
                    "periods": [p.as_dict() for p in result.periods]})  # fmt: skip


@bp.get("/market/history")
def market_history():
    bucket = _choice("bucket", ("hour", "day", "week", "month"), "hour")
    rows = history_svc.market_history(bucket, community_zone())
    return jsonify({"bucket": bucket, "timezone": current_app.config["COMMUNITY_TIMEZONE"],
                    "buckets": [r.as_dict() for r in rows]})  # fmt: skip


@bp.get("/community")
def community_state():
    state = community_svc.grid_state()
    last_round, last_trade = state.last_round, state.last_trade
    return jsonify({
        "latest": state.latest.as_dict() if state.latest else None,
        "recent": [i.as_dict() for i in state.recent], "active_meters": state.active_meters,
        "tariffs": {"retail_price": state.tariffs.retail, "feed_in_tariff": state.tariffs.feed_in}
        if state.tariffs else None,
        "last_round": {"round_id": last_round.round_id, "clearing_price": last_round.clearing_price,
                       "volume_wh": last_round.volume_wh, "imported_wh": last_round.imported_wh,
                       "exported_wh": last_round.exported_wh} if last_round else None,
        "last_trade": _trade_json(last_trade) if last_trade else None,
    })  # fmt: skip


@bp.get("/meter/periods")
@login_required
def meter_by_period():
    """My meters' readings per local day, week or month, valued at the tariffs."""
    by = _choice("by", ("day", "week", "month"), "day")
    result = meter_periods([m.meter_id for m in meters.meters_of(current_user.address)], by, community_zone())
    periods = [p.as_dict() for p in result.periods]
    return jsonify({"by": by, "timezone": current_app.config["COMMUNITY_TIMEZONE"],
                    "tariff_source": result.tariff_source, "periods": periods})  # fmt: skip


from webapp.api import autotrade as _autotrade  # noqa: E402,F401 - registers /autotrade on bp
