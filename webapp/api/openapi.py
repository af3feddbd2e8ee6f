"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json).

Every operation documents its success responses with a real JSON schema (components/schemas below) and each error
status it can answer with the one error schema. Request bodies come from the specs the routes check against
(webapp.api.bodies through webapp.validation.body_schema), so the document and the validation cannot disagree.
tests/security/test_api_fuzz.py runs schemathesis against this document: zero 5xx, zero responses that break it.
"""

from __future__ import annotations

from typing import Any

from webapp.api import bodies, openapi_autotrade
from webapp.api.autotrade import AUTOTRADE
from webapp.services import autotrade
from webapp.validation import INT64_MAX, UINT256_MAX, body_schema

ERROR = {"$ref": "#/components/schemas/Error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _object(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    return schema


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


INT = {"type": "integer"}
NON_NEGATIVE = {"type": "integer", "minimum": 0}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
HASH = {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}
HEX = {"type": "string", "pattern": "^0x[0-9a-f]*$"}

MONEY = {"type": "integer", "description": "settlement units (1 000 000 = RM 1)"}
PRICE_OR_NULL = {"type": ["integer", "null"], "minimum": 0, "description": "units per kWh"}
_TOTALS = _object(
    trades=NON_NEGATIVE,
    bought_wh=NON_NEGATIVE,
    sold_wh=NON_NEGATIVE,
    paid=NON_NEGATIVE,
    received=NON_NEGATIVE,
    net={**MONEY, "description": "received - paid"},
    avg_buy_price=PRICE_OR_NULL,
    avg_sell_price=PRICE_OR_NULL,
    saved_vs_retail={**MONEY, "description": "retail cost of the energy bought minus what was paid"},
    earned_over_feed_in={**MONEY, "description": "what the energy sold brought minus its feed-in value"},
    unvalued_trades={**NON_NEGATIVE, "description": "trades without a known tariff (left out of both)"},
)
_TARIFF_SOURCE = {
    "enum": ["indexed", "current", "none"],
    "description": "indexed: tariffs in force at each trade; current: no history indexed, today's tariffs; "
    "none: tariffs unknown (no comparison)",
}
_PERIOD_META = {"timezone": STR, "tariff_source": _TARIFF_SOURCE}
HISTORY_SCHEMAS: dict[str, Any] = {
    "TradeTotals": _TOTALS,
    "MyTrade": _object(
        timestamp=NON_NEGATIVE,
        venue={"enum": ["book", "auction", "offer"]},
        side={"enum": ["buy", "sell"]},
        counterparty={"type": ["string", "null"], "description": "null: the auction pool"},
        price=NON_NEGATIVE,
        amount_wh=NON_NEGATIVE,
        money={**NON_NEGATIVE, "description": "settlement units paid (buy) or received (sell)"},
        retail_price=PRICE_OR_NULL,
        feed_in_tariff=PRICE_OR_NULL,
        tariff_source={"enum": ["round", "indexed", "current", "none"]},
        grid_value={"type": ["integer", "null"], "description": "the energy at retail (buy) or feed-in (sell)"},
        vs_grid={"type": ["integer", "null"], "description": "saved (buy) or earned above feed-in (sell)"},
        tx_hash=HASH,
        block=NON_NEGATIVE,
    ),
    "MyTrades": _object(
        page={"type": "integer", "minimum": 1},
        pages={"type": "integer", "minimum": 1},
        total=NON_NEGATIVE,
        per_page={"type": "integer", "minimum": 1, "maximum": 500},
        **{"from": _nullable("string"), "to": _nullable("string")},
        **_PERIOD_META,
        totals=_ref("TradeTotals"),
        trades=_array(_ref("MyTrade")),
    ),
    "Earnings": _object(
        by={"enum": ["day", "week", "month"]},
        **_PERIOD_META,
        total=_ref("TradeTotals"),
        periods=_array(
            {
                **_TOTALS,
                "properties": {**_TOTALS["properties"], "start": NON_NEGATIVE, "label": STR},
                "required": [*_TOTALS["required"], "start", "label"],
            }
        ),
    ),
    "MarketHistory": _object(
        bucket={"enum": ["hour", "day", "week", "month"]},
        timezone=STR,
        buckets=_array(
            _object(
                start=NON_NEGATIVE,
                label=STR,
                volume_wh=NON_NEGATIVE,
                volume_by_venue_wh={"type": "object", "additionalProperties": NON_NEGATIVE},
                avg_price=PRICE_OR_NULL,
                trades=NON_NEGATIVE,
                low_price=PRICE_OR_NULL,
                high_price=PRICE_OR_NULL,
            )
        ),
    ),
    "CommunityInterval": _object(
        interval=NON_NEGATIVE,
        meters=NON_NEGATIVE,
        surplus_wh=NON_NEGATIVE,
        deficit_wh=NON_NEGATIVE,
        own_tokens_wh=NON_NEGATIVE,
        grid_wh=NON_NEGATIVE,
        net_wh=INT,
    ),
    "Community": _object(
        latest={"oneOf": [{"type": "null"}, _ref("CommunityInterval")]},
        recent=_array(_ref("CommunityInterval")),
        active_meters=NON_NEGATIVE,
        tariffs={"oneOf": [{"type": "null"}, _object(retail_price=NON_NEGATIVE, feed_in_tariff=NON_NEGATIVE)]},
        last_round={
            "oneOf": [
                {"type": "null"},
                _object(
                    round_id=NON_NEGATIVE,
                    clearing_price=_nullable("integer"),
                    volume_wh=_nullable("integer"),
                    imported_wh=_nullable("integer"),
                    exported_wh=_nullable("integer"),
                ),
            ]
        },
        last_trade={"oneOf": [{"type": "null"}, _ref("Trade")]},
    ),
    "MeterPeriods": _object(
        by={"enum": ["day", "week", "month"]},
        **_PERIOD_META,
        periods=_array(
            _object(
                start=NON_NEGATIVE,
                label=STR,
                intervals=NON_NEGATIVE,
                surplus_wh=NON_NEGATIVE,
                own_tokens_wh=NON_NEGATIVE,
                grid_wh=NON_NEGATIVE,
                surplus_value={"type": ["integer", "null"], "description": "at the feed-in tariff"},
                own_tokens_value={"type": ["integer", "null"], "description": "at the retail tariff"},
                grid_cost={"type": ["integer", "null"], "description": "at the retail tariff"},
            )
        ),
    ),
}
# A placement's figures: null while it is pending (nothing is known yet), never a 0 that reads as an outcome.
_ORDER_FIGURES: dict[str, Any] = {
    "filled_wh": _nullable("integer"),
    "fills": {"type": ["array", "null"], "items": _ref("Fill")},
    "order_ids": {"type": ["array", "null"], "items": NON_NEGATIVE,
                  "description": "every order of the sweep (follow-ups after the fill cap)"},
    "tx_hashes": {"type": ["array", "null"], "items": HASH},
    "resting_order_id": {**_nullable("integer"), "description": "the order left resting in the book"},
    "resting_wh": _nullable("integer"),
    "unplaced_wh": {**_nullable("integer"), "description": "cancelled by the fill cap and not placed again"},
    "dust_wh": {**_nullable("integer"), "description": "below the market minimum: did not rest"},
    "self_trade_cancelled": {"type": ["array", "null"], "items": NON_NEGATIVE},
}  # fmt: skip

_TOPUP_FIELDS: dict[str, Any] = {
    "request_id": NON_NEGATIVE,
    "reference": {**STR, "description": "what the user quotes on the bank transfer (TU-000042)"},
    "settlement_units": NON_NEGATIVE,
    "status": {"enum": ["pending", "minting", "credited", "rejected", "failed"],
               "description": "minting: an operator is crediting it now"},
    "channel": {"enum": ["web", "api", "demo-web", "demo-api"]},
    "created_at": {"type": "string", "format": "date-time"},
    "tx_hash": {**_nullable("string"), "description": "credited: the mint"},
    "username": STR,
    "address": ADDRESS,
}  # fmt: skip
_TOPUP_REQUIRED = ["request_id", "reference", "settlement_units", "status", "channel", "created_at", "tx_hash"]

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        error=_object(
            ["code", "message"],
            code={"type": "string", "description": "stable, for programs (e.g. invalid_side, wallet_locked)"},
            message={"type": "string", "description": "a sentence for people"},
            error_name={"type": "string", "description": "the contract's custom error (422)"},
            tx_hash=STR,
        )
    ),
    "ChainStatus": _object(
        ["connected", "rpc_url"],
        connected=BOOL,
        rpc_url=STR,
        head=NON_NEGATIVE,
        chain_id=INT,
        contracts={"type": "object", "additionalProperties": ADDRESS},
        error={"type": "string", "description": "why the node is not reachable"},
    ),
    "Health": _object(chain=_ref("ChainStatus"), indexed_block=_nullable("integer"), indexer_error=_nullable("string")),
    "User": _object(username=STR, address=ADDRESS, wallet={"enum": ["custodial", "browser"]}, operator=BOOL),
    "Session": _object(user=_ref("User"), token={"type": "string", "description": "Authorization: Bearer <token>"}),
    "Ok": _object(ok={"const": True}),
    "LoggedOut": _object(
        ["ok"], ok={"const": True}, sessions_ended={**NON_NEGATIVE, "description": "sessions and tokens ended"}
    ),
    "Me": _object(
        user=_ref("User"),
        wallet_unlocked=BOOL,
        balances=_object(energy_wh=NON_NEGATIVE, settlement_units=NON_NEGATIVE),
        allowances=_object(
            energy={"type": "object", "additionalProperties": NON_NEGATIVE},
            settlement={"type": "object", "additionalProperties": NON_NEGATIVE},
        ),
    ),
    "TopUp": _object(
        ["settlement_units", "status"],
        settlement_units=NON_NEGATIVE,
        status={"enum": ["credited", "pending"], "description": "pending: the operator credits after the payment"},
        tx_hash={**HASH, "description": "credited (demo self-service): the mint"},
        request_id={**NON_NEGATIVE, "description": "pending: the top-up request"},
        reference={**STR, "description": "pending: quote it on the transfer"},
        message=STR,
    ),
    "TopUpRequest": _object(_TOPUP_REQUIRED, **_TOPUP_FIELDS),
    "TopUpRequests": _object(topups=_array(_ref("TopUpRequest"))),
    "TopUpDecision": {
        **_object([*_TOPUP_REQUIRED, "message"], **_TOPUP_FIELDS, message=STR),
        "description": "the request after the operator's decision",
    },
    "Level": _object(price=NON_NEGATIVE, amount_wh=NON_NEGATIVE),
    "Book": _object(bids=_array(_ref("Level")), asks=_array(_ref("Level"))),
    "Trade": _object(
        venue={"enum": ["book", "auction", "offer"]},
        buyer=ADDRESS,
        seller=ADDRESS,
        price=NON_NEGATIVE,
        amount_wh=NON_NEGATIVE,
        cost=NON_NEGATIVE,
        buy_order_id=_nullable("integer"),
        sell_order_id=_nullable("integer"),
        block=NON_NEGATIVE,
        tx_hash=HASH,
        timestamp=NON_NEGATIVE,
    ),
    "Trades": _object(trades=_array(_ref("Trade"))),
    "Order": _object(
        order_id=NON_NEGATIVE,
        side={"enum": ["buy", "sell"]},
        price=NON_NEGATIVE,
        amount_wh=NON_NEGATIVE,
        remaining_wh=NON_NEGATIVE,
        status={"enum": ["open", "filled", "cancelled", "expired"]},
        block=NON_NEGATIVE,
        tx_hash=HASH,
    ),
    "Orders": _object(orders=_array(_ref("Order"))),
    "Fill": _object(maker_id=NON_NEGATIVE, price=NON_NEGATIVE, amount_wh=NON_NEGATIVE, cost=NON_NEGATIVE),
    "OrderResult": _object(
        tx_hash=HASH,
        status={"enum": ["pending", "success"], "description": "pending: see GET /orders/placement/{tx_hash}"},
        order_id={"type": ["integer", "null"], "description": "the placed order (null when pending or cancelling)"},
        **_ORDER_FIGURES,
        message={
            **_nullable("string"),
            "description": "pending: what happens to a capped sweep; success: what was not placed",
        },
    ),
    "Placement": _object(
        ["tx_hash", "status"],
        tx_hash=HASH,
        status={"enum": ["pending", "success", "failed"]},
        block=NON_NEGATIVE,
        gas_used=NON_NEGATIVE,
        error_name={**STR, "description": "failed: the contract's custom error"},
        order_id=_nullable("integer"),
        **_ORDER_FIGURES,
        message=_nullable("string"),
    ),
    "UnsignedTx": _object(
        **{
            "from": ADDRESS,
            "to": ADDRESS,
            "data": HEX,
            "value": HEX,
            "gas": HEX,
            "gasPrice": HEX,
            "nonce": HEX,
            "chainId": HEX,
            "type": {"const": "0x0"},
        },
    ),
    "Pending": _object(tx_hash=HASH, status={"const": "pending"}),
    "TxStatus": _object(
        ["tx_hash", "status"],
        tx_hash=HASH,
        status={"enum": ["pending", "success", "failed"]},
        block=NON_NEGATIVE,
        gas_used=NON_NEGATIVE,
        error_name={"type": ["string", "null"], "description": "failed: the contract's custom error"},
        message={"type": ["string", "null"], "description": "failed: why, in a sentence"},
    ),
    "Round": _object(
        round_id=NON_NEGATIVE,
        phase=STR,
        end=NON_NEGATIVE,
        seconds_left=NON_NEGATIVE,
        interval=NON_NEGATIVE,
        sealed=BOOL,
        bid_count=NON_NEGATIVE,
        ask_count=NON_NEGATIVE,
        total_bid_wh=NON_NEGATIVE,
        total_ask_wh=NON_NEGATIVE,
        retail_price=NON_NEGATIVE,
        feed_in_tariff=NON_NEGATIVE,
    ),
    "Curve": _array({"type": "array", "items": NON_NEGATIVE, "minItems": 2, "maxItems": 2}),
    "Auction": _object(
        round=_ref("Round"),
        last_cleared={
            "oneOf": [
                {"type": "null"},
                _object(
                    round_id=NON_NEGATIVE,
                    clearing_price=_nullable("integer"),
                    volume_wh=_nullable("integer"),
                    curves=_object(supply=_ref("Curve"), demand=_ref("Curve")),
                ),
            ]
        },
    ),
    "AuctionOrderResult": _object(
        ["tx_hash", "status", "round_id"],
        tx_hash=HASH,
        status={"enum": ["pending", "success"]},
        round_id=NON_NEGATIVE,
        order_id=_nullable("integer"),
    ),
    "Readings": _object(
        meters=_array(HASH),
        readings=_array(
            _object(
                meter_id=HASH,
                interval=NON_NEGATIVE,
                minted_wh=NON_NEGATIVE,
                burned_wh=NON_NEGATIVE,
                grid_wh=NON_NEGATIVE,
                block=NON_NEGATIVE,
            )
        ),
    ),
    "TxPage": _object(
        page={"type": "integer", "minimum": 1},
        pages={"type": "integer", "minimum": 1},
        total=NON_NEGATIVE,
        txs=_array(
            _object(
                hash=HASH,
                block=NON_NEGATIVE,
                **{"from": ADDRESS},
                to={"type": ["string", "null"]},
                contract=_nullable("string"),
                method=_nullable("string"),
                status=INT,
                gas_used=NON_NEGATIVE,
            )
        ),
    ),
    "EventPage": _object(
        page={"type": "integer", "minimum": 1},
        pages={"type": "integer", "minimum": 1},
        total=NON_NEGATIVE,
        events=_array(
            _object(
                block=NON_NEGATIVE,
                tx_hash=HASH,
                log_index=NON_NEGATIVE,
                contract=STR,
                name=STR,
                args={"type": "object"},
            )
        ),
    ),
    **HISTORY_SCHEMAS,
    "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"], "properties": {"openapi": STR}},
}

_ERROR_TEXT = {
    "400": "Invalid input (code says which field)",
    "401": "Not logged in, wrong credentials, or wallet locked (log in again)",
    "403": "Not allowed",
    "404": "Not found (for a path: nothing can live there)",
    "409": "Conflict (username taken; browser-wallet account must sign itself)",
    "413": "Request body over the server's limit (WEBAPP_MAX_BODY_BYTES)",
    "415": "Body must be JSON (Content-Type: application/json)",
    "422": "The contract rejected the transaction (error_name carries the contract error)",
    "429": "Too many attempts (login, sign-up) or over a top-up cap; Retry-After says when to try again",
    "503": "Chain unreachable, contracts not deployed, or too many wallet unlocks queued (Retry-After)",
}


def _op(
    summary: str,
    tag: str,
    ok: dict[str, str],
    body: dict[str, Any] | None = None,
    auth: bool = True,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = (),
    example: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An operation: `ok` maps each success status to its schema's name; errors get the Error schema. `example` is a
    request body that succeeds for a funded user (the fuzz test's examples phase sends it and checks the answer)."""
    responses: dict[str, Any] = {}
    for code, name in ok.items():
        responses[code] = {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}
    codes = ["400", *(["401"] if auth else []), "503", *errors]
    if body is not None:
        codes += ["413", "415"]
    if params and any(p["in"] == "path" for p in params):
        codes.append("404")
    for code in sorted(set(codes)):
        responses[code] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": ERROR}},
        }
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if auth:
        op["security"] = [{"cookie": []}, {"bearer": []}]
    if body is not None:
        media: dict[str, Any] = {"schema": body}
        if example is not None:
            media["example"] = example
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    if params:
        op["parameters"] = params
    return op


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if description:
        param["description"] = description
    return param


_PAGE = [_query("page", {"type": "integer", "minimum": 1, "maximum": INT64_MAX})]
_WAIT = _query("wait", {"type": "boolean"}, "wait for the receipt")
_TOPUP_ID = {"name": "request_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0, "maximum": INT64_MAX}}  # fmt: skip


def _order_body(spec: dict[str, Any], max_price: int | None, max_wh: int | None) -> dict[str, Any]:
    maximums = {k: v for k, v in (("price", max_price), ("amount_wh", max_wh)) if v is not None}
    return {**body_schema(spec, maximums), "allOf": bodies.ONE_PRICE_ONE_AMOUNT}


def openapi_document(max_price: int | None = None, max_wh: int | None = None) -> dict[str, Any]:
    """The document; `max_price` (units per kWh) and `max_wh` are this server's bounds (WEBAPP_MAX_PRICE_SEN,
    WEBAPP_MAX_ORDER_KWH), shown as the maximum of price and amount_wh."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Peer-to-peer energy market API",
            "version": "1.0.0",
            "description": "Energy in Wh (1 token unit = 1 Wh); money in settlement units (6 decimals, 1 unit = "
            "0.000001 MYR); prices in settlement units per kWh. Writes take JSON bodies. Errors: "
            '{"error": {"code", "message"}}. Order placement returns the tx hash at once (202); '
            "GET /tx/{hash} tells the outcome, or pass wait=true.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "token from /auth/login"},
            },
            "schemas": {**SCHEMAS, **openapi_autotrade.schemas(autotrade.WEIGHT_TERMS)},
        },
        "paths": {
            "/health": {"get": _op("Chain and indexer status", "meta", {"200": "Health"}, auth=False)},
            "/openapi.json": {"get": _op("This document", "meta", {"200": "OpenAPI"}, auth=False)},
            "/auth/signup": {
                "post": _op(
                    "Create an account with a new custodial wallet; returns a bearer token",
                    "auth",
                    {"201": "Session"},
                    body_schema(bodies.SIGNUP),
                    auth=False,
                    errors=("409", "429"),
                    example={"username": "example.user", "password": "correct horse battery"},
                )
            },
            "/auth/login": {
                "post": _op(
                    "Log in (unlocks the wallet in server memory); returns a bearer token",
                    "auth",
                    {"200": "Session"},
                    body_schema(bodies.LOGIN),
                    auth=False,
                    errors=("401", "429"),
                )
            },
            "/auth/logout": {
                "post": _op(
                    'End this session or token ({"everywhere": true}: every session of the account)',
                    "auth",
                    {"200": "LoggedOut"},
                    errors=("413", "415"),
                )
            },
            "/me": {"get": _op("Account, balances and allowances", "account", {"200": "Me"})},
            "/account/topup": {
                "post": _op(
                    "Top up: a request the operator confirms (202), or demo self-service credited at once (201)",
                    "account",
                    {"201": "TopUp", "202": "TopUp"},
                    body_schema(bodies.TOPUP),
                    errors=("403", "422", "429"),
                    example={"amount_myr": "5"},
                )
            },
            "/operator/topups": {
                "get": _op(
                    "Operator only: top-up requests waiting for confirmation (pending) or being credited (minting)",
                    "operator",
                    {"200": "TopUpRequests"},
                    errors=("403",),
                )
            },
            "/operator/topups/{request_id}/confirm": {
                "post": _op(
                    "Operator only: the payment arrived; credit the request (the operator key mints the tokens)",
                    "operator",
                    {"200": "TopUpDecision"},
                    body_schema(bodies.EMPTY),
                    errors=("403", "409", "422"),
                    params=[_TOPUP_ID],
                    example={},
                )
            },
            "/operator/topups/{request_id}/reject": {
                "post": _op(
                    "Operator only: reject the request; nothing is credited",
                    "operator",
                    {"200": "TopUpDecision"},
                    body_schema(bodies.EMPTY),
                    errors=("403", "409"),
                    params=[_TOPUP_ID],
                    example={},
                )
            },
            "/market/book": {
                "get": _op(
                    "Aggregated bids and asks",
                    "market",
                    {"200": "Book"},
                    auth=False,
                    params=[_query("levels", {"type": "integer", "minimum": 1, "maximum": 50})],
                )
            },
            "/market/trades": {
                "get": _op(
                    "Recent trades (mine=true: only mine)",
                    "market",
                    {"200": "Trades"},
                    auth=False,
                    params=[
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                        _query("mine", {"type": "boolean"}),
                    ],
                )
            },
            "/orders": {
                "get": _op(
                    "My orders (status=open: open only)",
                    "market",
                    {"200": "Orders"},
                    params=[_query("status", {"enum": ["open", "all"]})],
                ),
                "post": _op(
                    "Place a limit order (202 with tx hash; 201 with result when wait=true)",
                    "market",
                    {"201": "OrderResult", "202": "OrderResult"},
                    _order_body(bodies.ORDER, max_price, max_wh),
                    errors=("409", "422"),
                    example={"side": "sell", "price_sen": "45", "amount_kwh": "1.5", "wait": True},
                ),
            },
            "/orders/{order_id}": {
                "delete": _op(
                    "Cancel my order (202 with tx hash; 200 with result when wait=true)",
                    "market",
                    {"200": "OrderResult", "202": "OrderResult"},
                    errors=("409", "422"),
                    params=[
                        {
                            "name": "order_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 0, "maximum": UINT256_MAX},
                        },
                        _WAIT,
                    ],
                )
            },
            "/orders/placement/{tx_hash}": {
                "get": _op(
                    "What one placement transaction did: fills, what rests, what the fill cap left unplaced",
                    "market",
                    {"200": "Placement"},
                    auth=False,
                    params=[{"name": "tx_hash", "in": "path", "required": True, "schema": HASH}],
                )
            },
            "/orders/prepare": {
                "post": _op(
                    "Unsigned placeOrder tx for a browser wallet to sign",
                    "market",
                    {"200": "UnsignedTx"},
                    _order_body(bodies.PREPARE, max_price, max_wh),
                    errors=("422",),
                    example={"side": "buy", "price": 300_000, "amount_wh": 1000},
                )
            },
            "/tx/raw": {
                "post": _op(
                    "Relay a transaction signed by the user's browser wallet",
                    "market",
                    {"202": "Pending"},
                    body_schema(bodies.RAW_TX),
                    errors=("403", "422"),
                )
            },
            "/tx/{tx_hash}": {
                "get": _op(
                    "Outcome of a transaction: pending, success or failed (with reason)",
                    "market",
                    {"200": "TxStatus"},
                    auth=False,
                    params=[{"name": "tx_hash", "in": "path", "required": True, "schema": HASH}],
                )
            },
            "/auction/current": {
                "get": _op("Current auction round, last clearing and curves", "auction", {"200": "Auction"}, auth=False)
            },
            "/auction/orders": {
                "post": _op(
                    "Submit a bid or ask to the current round (202 with tx hash; 201 with result when wait=true)",
                    "auction",
                    {"201": "AuctionOrderResult", "202": "AuctionOrderResult"},
                    _order_body(bodies.AUCTION_ORDER, max_price, max_wh),
                    errors=("409", "422"),
                    example={"side": "buy", "price": 300_000, "amount_wh": 1000, "wait": True},
                )
            },
            "/meter/readings": {
                "get": _op(
                    "My meters' settled intervals",
                    "meter",
                    {"200": "Readings"},
                    params=[_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})],
                )
            },
            **_history_paths(),
            "/explorer/txs": {
                "get": _op(
                    "Indexed transactions (address= filters)",
                    "explorer",
                    {"200": "TxPage"},
                    auth=False,
                    params=[*_PAGE, _query("address", ADDRESS)],
                )
            },
            "/explorer/events": {
                "get": _op(
                    "Decoded contract events (name=, tx= filter)",
                    "explorer",
                    {"200": "EventPage"},
                    auth=False,
                    params=[*_PAGE, _query("name", {"type": "string", "maxLength": 64}), _query("tx", HASH)],
                )
            },
            **openapi_autotrade.paths(_op, AUTOTRADE, _PAGE),
        },
    }


_DATES = [
    _query("from", {"type": "string", "format": "date"}, "first local day (YYYY-MM-DD), inclusive"),
    _query("to", {"type": "string", "format": "date"}, "last local day (YYYY-MM-DD), inclusive"),
]


def _history_paths() -> dict[str, Any]:
    """Trade history, earnings against the grid, market price and volume, the community grid, meter periods."""
    trades = _op(
        "My trades on every venue with totals and grid comparison (format=csv: all of the period as CSV)",
        "account",
        {"200": "MyTrades"},
        params=[
            *_PAGE,
            _query("per_page", {"type": "integer", "minimum": 1, "maximum": 500}),
            *_DATES,
            _query("format", {"enum": ["json", "csv"]}),
        ],
    )
    trades["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    by = _query("by", {"enum": ["day", "week", "month"]})
    return {
        "/account/trades": {"get": trades},
        "/account/earnings": {
            "get": _op(
                "Earned above feed-in and saved against retail, per local day, week or month",
                "account",
                {"200": "Earnings"},
                params=[by, *_DATES],
            )
        },
        "/market/history": {
            "get": _op(
                "Local trade price and volume per hour, day, week or month",
                "market",
                {"200": "MarketHistory"},
                auth=False,
                params=[_query("bucket", {"enum": ["hour", "day", "week", "month"]})],
            )
        },
        "/community": {
            "get": _op(
                "The community grid now: latest interval, last round and trade, tariffs",
                "market",
                {"200": "Community"},
                auth=False,
            )
        },
        "/meter/periods": {
            "get": _op(
                "My meters per local day, week or month, valued in RM", "meter", {"200": "MeterPeriods"}, params=[by]
            )
        },
    }
