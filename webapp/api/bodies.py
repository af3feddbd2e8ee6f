"""The JSON bodies the API accepts, field by field: the routes check requests against these specs
(webapp.validation.parse_body) and the OpenAPI document shows them as request schemas (webapp.api.openapi)."""

from __future__ import annotations

from webapp.validation import Field

DECIMAL_TEXT = 32  # longest decimal text accepted ("12345.6789" and the like need far less)
DECIMAL = r"[0-9]{1,12}(?:\.[0-9]{1,12})?"  # a decimal as text: digits, at most one point (the units say how many)

SIDE = Field(("string",), "invalid_side", required=True, enum=("buy", "sell"), description="the same on both venues")
PRICE = Field(("integer",), "price_out_of_range", minimum=1, description="settlement units per kWh (1 sen = 10 000)")
PRICE_SEN = Field(("string", "number"), "price_out_of_range", max_length=DECIMAL_TEXT, pattern=DECIMAL,
                  description="sen per kWh, up to 4 decimals (alternative to price)")  # fmt: skip
AMOUNT_WH = Field(("integer",), "invalid_amount", minimum=1, description="Wh")
AMOUNT_KWH = Field(("string", "number"), "invalid_amount", max_length=DECIMAL_TEXT, pattern=DECIMAL,
                   description="kWh, up to 3 decimals (alternative to amount_wh)")  # fmt: skip
WAIT = Field(("boolean",), "invalid_flag", description="wait for the receipt (default: return the tx hash at once)")

CONFIRM_UNUSUAL_PRICE = Field(("boolean",), "invalid_flag", description="true: place a price far from the grid "
                              "tariffs anyway (a buy above 2x retail, a sell below half the feed-in tariff); without "
                              "it such a price is refused with 400 unusual_price")  # fmt: skip
PREPARE = {"side": SIDE, "price": PRICE, "price_sen": PRICE_SEN, "amount_wh": AMOUNT_WH, "amount_kwh": AMOUNT_KWH,
           "confirm_unusual_price": CONFIRM_UNUSUAL_PRICE}  # fmt: skip
ORDER = {**PREPARE, "expiry_minutes": Field(("integer",), "invalid_expiry", minimum=1, maximum=43200), "wait": WAIT}
AUCTION_ORDER = {**PREPARE, "wait": WAIT}

USERNAME = r"[A-Za-z0-9_.-]{3,32}"  # webapp.forms.USERNAME_PATTERN
USERNAME_TEXT = "3 to 32 letters, digits, dot, dash or underscore"
SIGNUP = {
    "username": Field(("string",), "invalid_username", True, pattern=USERNAME, description=USERNAME_TEXT),
    "password": Field(
        ("string",),
        "weak_password",
        required=True,
        max_length=1024,
        description="at least 12 characters, not common or guessable (the policy explains a refusal)",
    ),
}
LOGIN = {
    "username": Field(("string",), "invalid_username", required=True, max_length=64),
    "password": Field(("string",), "invalid_password", required=True, max_length=1024),
}
TOPUP = {"amount_myr": Field(("string", "number"), "invalid_amount", required=True, max_length=DECIMAL_TEXT,
                             pattern=DECIMAL, description="MYR, up to 6 decimals")}  # fmt: skip
RAW_HEX = r"0x(?:[0-9a-fA-F]{2})+"
RAW_MAX = 2 + 2 * 64 * 1024  # at most 64 KiB of transaction (a placeOrder is ~300 bytes)
RAW_TX = {"raw": Field(("string",), "invalid_transaction", True, max_length=RAW_MAX, pattern=RAW_HEX)}
EMPTY: dict[str, Field] = {}

# Which of the alternative fields must be there (JSON schema only; the routes say so with missing_price/_amount).
ONE_PRICE_ONE_AMOUNT = [
    {"anyOf": [{"required": ["price"]}, {"required": ["price_sen"]}]},
    {"anyOf": [{"required": ["amount_wh"]}, {"required": ["amount_kwh"]}]},
]
