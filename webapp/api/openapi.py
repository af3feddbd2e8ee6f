"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(
    summary: str,
    tag: str,
    body: dict[str, Any] | None = None,
    auth: bool = True,
    ok: str = "200",
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = (),
) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "OK", "content": {"application/json": {"schema": {}}}}}
    for code in ("400", "401", "503", *errors) if auth else ("400", "503", *errors):
        responses[code] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": ERROR}},
        }
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if auth:
        op["security"] = [{"cookie": []}, {"bearer": []}]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


_ERROR_TEXT = {
    "400": "Invalid input (code says which field)",
    "401": "Not logged in, wrong credentials, or wallet locked (log in again)",
    "403": "Not allowed",
    "404": "Not found",
    "409": "Conflict (username taken; browser-wallet account must sign itself)",
    "415": "Body must be JSON",
    "422": "The contract rejected the transaction (error_name carries the contract error)",
    "429": "Too many login attempts",
    "503": "Chain unreachable or contracts not deployed",
}

_ORDER = {
    "type": "object",
    "required": ["side"],
    "properties": {
        "side": {"enum": ["buy", "sell"]},
        "price": {"type": "integer", "description": "settlement units per kWh (1 sen = 10 000)"},
        "price_sen": {"type": "string", "description": "sen per kWh, up to 4 decimals (alternative to price)"},
        "amount_wh": {"type": "integer", "description": "Wh"},
        "amount_kwh": {"type": "string", "description": "kWh, up to 3 decimals (alternative to amount_wh)"},
        "expiry_minutes": {"type": "integer", "minimum": 1, "maximum": 43200},
        "wait": {"type": "boolean", "description": "wait for the receipt (default: return the tx hash at once)"},
    },
}
_CREDENTIALS = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {"username": {"type": "string"}, "password": {"type": "string", "minLength": 8}},
}
_PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}]


def openapi_document() -> dict[str, Any]:
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
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "error_name": {"type": "string"},
                                "tx_hash": {"type": "string"},
                            },
                            "required": ["code", "message"],
                        }
                    },
                }
            },
        },
        "paths": {
            "/health": {"get": _op("Chain and indexer status", "meta", auth=False)},
            "/openapi.json": {"get": _op("This document", "meta", auth=False)},
            "/auth/signup": {
                "post": _op(
                    "Create an account with a new custodial wallet; returns a bearer token",
                    "auth",
                    _CREDENTIALS,
                    auth=False,
                    ok="201",
                    errors=("409", "415", "429"),
                )
            },
            "/auth/login": {
                "post": _op(
                    "Log in (unlocks the wallet in server memory); returns a bearer token",
                    "auth",
                    _CREDENTIALS,
                    auth=False,
                    errors=("401", "415", "429"),
                )
            },
            "/auth/logout": {"post": _op("Log out and forget the unlocked key", "auth")},
            "/me": {"get": _op("Account, balances and allowances", "account")},
            "/account/topup": {
                "post": _op(
                    "Demo top-up: the operator issues settlement tokens",
                    "account",
                    {"type": "object", "properties": {"amount_myr": {"type": "string"}}},
                    ok="201",
                    errors=("403", "422"),
                )
            },
            "/market/book": {
                "get": _op(
                    "Aggregated bids and asks",
                    "market",
                    auth=False,
                    params=[{"name": "levels", "in": "query", "schema": {"type": "integer", "maximum": 50}}],
                )
            },
            "/market/trades": {
                "get": _op(
                    "Recent trades (mine=true: only mine)",
                    "market",
                    auth=False,
                    params=[
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                        {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
                    ],
                )
            },
            "/orders": {
                "get": _op(
                    "My orders (status=open: open only)",
                    "market",
                    params=[{"name": "status", "in": "query", "schema": {"enum": ["open", "all"]}}],
                ),
                "post": _op(
                    "Place a limit order (202 with tx hash; 201 with result when wait=true)",
                    "market",
                    _ORDER,
                    ok="202",
                    errors=("409", "415", "422"),
                ),
            },
            "/orders/{order_id}": {
                "delete": _op(
                    "Cancel my order",
                    "market",
                    ok="202",
                    errors=("422",),
                    params=[
                        {"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                        {"name": "wait", "in": "query", "schema": {"type": "boolean"}},
                    ],
                )
            },
            "/orders/prepare": {
                "post": _op("Unsigned placeOrder tx for a browser wallet to sign", "market", _ORDER, errors=("422",))
            },
            "/tx/raw": {
                "post": _op(
                    "Relay a transaction signed by the user's browser wallet",
                    "market",
                    {"type": "object", "properties": {"raw": {"type": "string"}}},
                    ok="202",
                    errors=("403", "422"),
                )
            },
            "/tx/{tx_hash}": {
                "get": _op(
                    "Outcome of a transaction: pending, success or failed (with reason)",
                    "market",
                    auth=False,
                    errors=("404",),
                    params=[{"name": "tx_hash", "in": "path", "required": True, "schema": {"type": "string"}}],
                )
            },
            "/auction/current": {"get": _op("Current auction round, last clearing and curves", "auction", auth=False)},
            "/auction/orders": {
                "post": _op(
                    "Submit a bid or ask to the current round",
                    "auction",
                    {
                        "type": "object",
                        "properties": {
                            "side": {"enum": ["buy", "sell"]},
                            "price": {"type": "integer"},
                            "price_sen": {"type": "string"},
                            "amount_wh": {"type": "integer"},
                            "amount_kwh": {"type": "string"},
                            "wait": {"type": "boolean"},
                        },
                    },
                    ok="202",
                    errors=("409", "422"),
                )
            },
            "/meter/readings": {"get": _op("My meters' settled intervals", "meter")},
            "/explorer/txs": {
                "get": _op(
                    "Indexed transactions (address= filters)",
                    "explorer",
                    auth=False,
                    params=[*_PAGE, {"name": "address", "in": "query", "schema": {"type": "string"}}],
                )
            },
            "/explorer/events": {
                "get": _op("Decoded contract events (name=, tx= filter)", "explorer", auth=False, params=_PAGE)
            },
        },
    }
