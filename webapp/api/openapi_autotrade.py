"""The automatic-trading part of the OpenAPI document (webapp.api.openapi adds these schemas and paths)."""

from __future__ import annotations

from typing import Any

from webapp.validation import body_schema

NON_NEGATIVE = {"type": "integer", "minimum": 0}
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STR = {"type": ["string", "null"]}
STR = {"type": "string"}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
HEX = {"type": "string", "pattern": "^0x[0-9a-f]*$"}


def _object(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schemas(weight_terms: tuple[str, ...]) -> dict[str, Any]:
    weights = _object(**{t: {"type": "integer", "minimum": 0, "maximum": 255} for t in weight_terms})
    return {
        "MandateTerms": _object(
            agent=ADDRESS,
            min_sell_price={**NON_NEGATIVE, "description": "settlement units per kWh"},
            max_buy_price={**NULLABLE_INT, "description": "settlement units per kWh; null: no limit"},
            reserve_wh={**NON_NEGATIVE, "description": "Wh the agent never sells"},
            daily_spend_cap={**NULLABLE_INT, "description": "settlement units per community day; null: no limit"},
            venues={"type": "array", "items": {"enum": ["order-book", "auction", "direct"]}},
            weights=weights,
            valid_until={**NULLABLE_INT, "description": "unix seconds; null: until revoked"},
        ),
        "Autotrade": _object(
            on={"type": "boolean"},
            agent={**NULLABLE_STR, "description": "the agent this server's users may mandate (null: none set up)"},
            terms={"oneOf": [{"type": "null"}, _ref("MandateTerms")]},
            spent_today={**NON_NEGATIVE, "description": "settlement units the agent spent today for me"},
        ),
        "AutotradeToSign": _object(
            typed_data={"type": "object", "description": "EIP-712 typed data for eth_signTypedData_v4"},
            deadline=NON_NEGATIVE,
            terms=_ref("MandateTerms"),
        ),
        "AutotradeRevokeTx": _object(status={"const": "sign"}, tx=_ref("UnsignedTx")),
        "AgentAction": _object(
            venue=STR,
            side=STR,
            price=NULLABLE_INT,
            amount_wh=NULLABLE_INT,
            status=STR,
            filled_wh=NULLABLE_INT,
            cost=NULLABLE_INT,
            order_id=NULLABLE_INT,
            tx_hash=NULLABLE_STR,
            reason=STR,
        ),
        "AgentDecision": _object(
            ts=NULLABLE_INT,
            interval=NULLABLE_INT,
            meter=STR,
            forecast=_object(generation_wh=NULLABLE_INT, load_wh=NULLABLE_INT),
            balances=_object(energy_wh=NULLABLE_INT, money=NULLABLE_INT),
            intent=_object(sell_wh=NULLABLE_INT, ask=NULLABLE_INT, buy_wh=NULLABLE_INT, bid=NULLABLE_INT),
            explanation=STR,
            actions={"type": "array", "items": _ref("AgentAction")},
        ),
        "AgentDecisions": _object(
            decisions={"type": "array", "items": _ref("AgentDecision")},
            page={"type": "integer", "minimum": 1},
            pages={"type": "integer", "minimum": 1},
            total=NON_NEGATIVE,
            agent_state={
                "oneOf": [
                    {"type": "null"},
                    _object(ts=NULLABLE_INT, status=STR, message=STR),
                ]
            },
            forecast_vs_actual={
                "type": "array",
                "items": _object(
                    interval=NON_NEGATIVE,
                    forecast=_object(generation_wh=NULLABLE_INT, load_wh=NULLABLE_INT),
                    actual={
                        "oneOf": [
                            {"type": "null"},
                            _object(generation_wh=NULLABLE_INT, load_wh=NULLABLE_INT),
                        ]
                    },
                ),
            },
        ),
    }


def paths(op, body_spec: dict[str, Any], page: list[dict[str, Any]]) -> dict[str, Any]:
    """`op` is webapp.api.openapi._op (one way to write an operation)."""
    return {
        "/autotrade": {
            "get": op("My automatic-trading mandate: on or off, its bounds, today's spend", "autotrade",
                      {"200": "Autotrade"}),
            "put": op(
                "Turn automatic trading on or change its bounds. Custodial: granted at once (200). Browser wallet: "
                "the EIP-712 typed data to sign (202), then the same body with signature and deadline (200)",
                "autotrade",
                {"200": "Autotrade", "202": "AutotradeToSign"},
                body_schema(body_spec),
                errors=("409", "422"),
                example={"min_sell_price_sen": "20", "max_buy_price_sen": "50", "reserve_kwh": "1",
                         "daily_cap_myr": "5", "venues": ["order-book", "auction"],
                         "weights": {"surplus": 2, "efficiency": 2, "duration": 1, "quality": 2,
                                     "participation": 1, "cost": 4}},
            ),
            "delete": op(
                "Turn automatic trading off: revoke the mandate (custodial: at once, 200; browser wallet: the "
                "revoke transaction to sign, 202)",
                "autotrade",
                {"200": "Autotrade", "202": "AutotradeRevokeTx"},
                errors=("409", "422"),
            ),
        },
        "/autotrade/decisions": {
            "get": op("What the agent decided for me and why (newest first), and forecast vs actual", "autotrade",
                      {"200": "AgentDecisions"}, params=page),
        },
    }  # fmt: skip
