"""API of automatic trading (issue 14): /api/v1/autotrade (GET state, PUT bounds, DELETE revoke) and
/api/v1/autotrade/decisions (the agent's decision log for me). Bodies are checked against AUTOTRADE (and shown in the
OpenAPI document from it, webapp.api.openapi_autotrade)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user, login_required

from webapp.api import bp
from webapp.api.bodies import DECIMAL, DECIMAL_TEXT
from webapp.services import autotrade
from webapp.validation import Field, parse_body

_DECIMAL = {"max_length": DECIMAL_TEXT, "pattern": DECIMAL}
AUTOTRADE = {
    "min_sell_price_sen": Field(("string", "number"), "invalid_bounds", True, **_DECIMAL,
                                description="sen per kWh: the agent never sells for less"),
    "max_buy_price_sen": Field(("string", "number"), "invalid_bounds", True, **_DECIMAL,
                               description="sen per kWh: the agent never pays more"),
    "reserve_kwh": Field(("string", "number"), "invalid_bounds", **_DECIMAL,
                         description="kWh the agent never sells (default 0)"),
    "daily_cap_myr": Field(("string", "number"), "invalid_bounds", True, **_DECIMAL,
                           description="RM the agent may spend per community day (0: sell only)"),
    "venues": Field(("array",), "invalid_bounds", True, description="any of 'order-book', 'auction', 'direct'"),
    "weights": Field(("object",), "invalid_bounds",
                     description="seller-selection weights 0-10: " + ", ".join(autotrade.WEIGHT_TERMS)),
    "valid_days": Field(("integer",), "invalid_bounds", minimum=0, maximum=autotrade.MAX_VALID_DAYS,
                        description="the mandate ends after this many days (0 or absent: no end)"),
    "valid_until": Field(("integer",), "invalid_bounds", minimum=0, maximum=2**63 - 1,
                         description="instead of valid_days: unix seconds (the value a wallet signed)"),
    "deadline": Field(("integer",), "invalid_signature", minimum=0, maximum=2**63 - 1,
                      description="browser wallet: the deadline of the signed typed data"),
    "signature": Field(("string",), "invalid_signature", max_length=200, pattern=r"0x[0-9a-fA-F]{130}",
                       description="browser wallet: eth_signTypedData_v4 of the typed data"),
}  # fmt: skip


def _bounds(body: dict[str, Any]) -> autotrade.Bounds:
    return autotrade.Bounds(
        min_sell_price_sen=body.get("min_sell_price_sen"),
        max_buy_price_sen=body.get("max_buy_price_sen"),
        reserve_kwh=body.get("reserve_kwh"),
        daily_cap_myr=body.get("daily_cap_myr"),
        venues=body.get("venues"),
        weights=body.get("weights"),
        valid_days=body.get("valid_days"),
        valid_until=body.get("valid_until"),
    )


@bp.get("/autotrade")
@login_required
def autotrade_state():
    return jsonify(autotrade.state(current_user).as_dict())


@bp.put("/autotrade")
@login_required
def autotrade_on():
    """Custodial: grants at once (200). Browser wallet: without a signature, the typed data to sign (202); with
    `signature` and `deadline`, relays the signed grant (200)."""
    body = parse_body(AUTOTRADE)
    bounds = _bounds(body)
    if "signature" in body:
        autotrade.turn_on_by_signature(current_user, bounds, body.get("deadline", 0), body["signature"])
    elif current_user.custodial:
        autotrade.turn_on(current_user, bounds)
    else:
        return jsonify(autotrade.typed_data_for(current_user, bounds)), 202
    return jsonify(autotrade.state(current_user).as_dict())


@bp.delete("/autotrade")
@login_required
def autotrade_off():
    """Custodial: revokes at once (200). Browser wallet with a live mandate: the unsigned revoke transaction (202)
    to sign and send to /tx/raw."""
    if not current_user.custodial:
        current = autotrade.state(current_user)
        if current.on:
            return jsonify({"status": "sign", "tx": autotrade.prepare_revoke(current_user.address)}), 202
        return jsonify(current.as_dict())
    autotrade.turn_off(current_user)
    return jsonify(autotrade.state(current_user).as_dict())


@bp.get("/autotrade/decisions")
@login_required
def autotrade_decisions():
    page = max(1, min(request.args.get("page", 1, type=int), 2**31))
    size = current_app.config["AUTOTRADE_PAGE_SIZE"]
    body = autotrade.decisions(current_user.address, page, size).as_dict()
    body["forecast_vs_actual"] = autotrade.forecast_vs_actual(current_user.address)
    return jsonify(body)
