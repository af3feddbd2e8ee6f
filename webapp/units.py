"""Units shown to people vs units on chain.

Energy: EnergyToken has 3 decimals: one whole token is 1 kWh, one base unit is 1 Wh; people type kWh with up to 3
decimals.
Money: settlement token has 6 decimals (1 unit = 0.000001 MYR); 1 sen = 10 000 units.
Prices: settlement units per kWh on chain; people type sen/kWh (up to 4 decimals = 1 unit).
Cost of a fill = price * amountWh // 1000.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from webapp.text import Text

UNITS_PER_MYR = 1_000_000
UNITS_PER_SEN = 10_000
WH_PER_KWH = 1_000
NONE = "\u2013"  # en dash: shown where there is no value


class InvalidAmount(ValueError):
    """A number a user typed is malformed or outside the allowed range; the message (a Text: English, translated
    where a page shows it) says which."""

    @property
    def message(self) -> Text:
        return self.args[0]


PRICE, AMOUNT = Text("Price"), Text("Amount")  # what a message names


# What people may type for a number: digits with at most one decimal separator, a point or a comma ("1.5", "1,5",
# ",5"). No sign, exponent, spaces or thousands separators. The dashboard's script applies the same rule
# (parseDecimal in static/js/app.js) before it asks for confirmation, so the dialog shows the number the server reads.
TYPED_NUMBER = re.compile(r"^[-+]?(\d+[.,]?\d*|[.,]\d+)$")  # a sign is read, then refused as <= 0
# "1,500" could be 1.5 (decimal comma) or 1500 (thousands comma): refused rather than guessed.
AMBIGUOUS_COMMA = re.compile(r"^[1-9]\d{0,2},\d{3}$")


def parse_decimal(text: str | int | float | Decimal, what: str = AMOUNT) -> Decimal:
    """The one rule for numbers people type: a point or a comma is the decimal separator; anything else is refused
    with a message that says what to write."""
    if not isinstance(text, str):  # a JSON number or a Decimal: no separator to interpret
        return _decimal(text, what)
    raw = str(text).strip()
    if not raw:
        raise InvalidAmount(Text("%(what)s: enter a number", what=what))
    if AMBIGUOUS_COMMA.match(raw):
        raise InvalidAmount(Text("%(what)s %(raw)r is ambiguous: write %(point)s or %(whole)s", what=what, raw=raw,
                                 point=raw.replace(",", "."), whole=raw.replace(",", "")))  # fmt: skip
    if not TYPED_NUMBER.match(raw):
        if raw.count(",") + raw.count(".") > 1:
            raise InvalidAmount(
                Text("%(what)s: use one decimal separator and no thousands separators (e.g. 1500.5)", what=what)
            )
        raise InvalidAmount(Text("%(what)s must be a number such as 1.5 or 1,5", what=what))
    return _decimal(raw.replace(",", "."), what)


def _decimal(text: str | int | float | Decimal, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(Text("%(what)s must be a number", what=what)) from exc
    if not value.is_finite():
        raise InvalidAmount(Text("%(what)s must be a number", what=what))
    return value


def _exact(value: Decimal, scale: int, what: str, step: str) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(Text("%(what)s has too many decimals (smallest step is %(step)s)", what=what, step=step))
    return int(scaled)


def parse_price_sen(text: str | int | float | Decimal, max_sen: int) -> int:
    """'45.5' sen/kWh -> 455 000 units/kWh; must be > 0 and <= max_sen."""
    value = parse_decimal(text, PRICE)
    if value <= 0:
        raise InvalidAmount(Text("Price must be greater than zero"))
    if value > max_sen:
        raise InvalidAmount(Text("Price must be at most %(max)s sen/kWh", max=max_sen))
    return _exact(value, UNITS_PER_SEN, PRICE, "0.0001 sen")


def parse_energy_kwh(text: str | int | float | Decimal, max_kwh: int) -> int:
    """'1.25' kWh -> 1250 Wh; must be >= 1 Wh and <= max_kwh."""
    value = parse_decimal(text, AMOUNT)
    if value <= 0:
        raise InvalidAmount(Text("Amount must be greater than zero"))
    if value > max_kwh:
        raise InvalidAmount(Text("Amount must be at most %(max)s kWh", max=max_kwh))
    return _exact(value, WH_PER_KWH, AMOUNT, "1 Wh = 0.001 kWh")


def parse_myr(text: str | int | float | Decimal, max_myr: int) -> int:
    """'12,50' or '12.5' MYR -> 12 500 000 units; at least RM 0.01, whole sen (a top-up of RM 0.001 showed as
    "Topped up RM 0.00"), at most max_myr."""
    value = parse_decimal(text, AMOUNT)
    if value < Decimal("0.01"):
        raise InvalidAmount(Text("Amount must be at least RM 0.01"))
    if value > max_myr:
        raise InvalidAmount(Text("Amount must be at most %(max)s MYR", max=max_myr))
    _exact(value, 100, AMOUNT, "RM 0.01")
    return _exact(value, UNITS_PER_MYR, AMOUNT, "0.000001 MYR")


def cost_units(price: int, amount_wh: int) -> int:
    return price * amount_wh // WH_PER_KWH


def fmt_kwh(wh: int | None) -> str:
    if wh is None:
        return NONE
    return f"{Decimal(int(wh)) / WH_PER_KWH:,.3f} kWh"


def fmt_price(units_per_kwh: int | None) -> str:
    if units_per_kwh is None:
        return NONE
    sen = Decimal(int(units_per_kwh)) / UNITS_PER_SEN
    return f"{sen:,.2f} sen/kWh"


def fmt_myr(units: int | None, places: int = 2) -> str:
    if units is None:
        return NONE
    myr = Decimal(int(units)) / UNITS_PER_MYR
    return f"RM {myr:,.{places}f}"


def price_sen(units_per_kwh: int) -> float:
    return int(units_per_kwh) / UNITS_PER_SEN


def kwh(wh: int) -> float:
    return int(wh) / WH_PER_KWH
