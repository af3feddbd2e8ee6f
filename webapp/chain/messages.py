"""Decoded contract errors -> sentences a user can act on. Unknown errors fall back to a readable form of the name."""

from __future__ import annotations

import re
from typing import Any

from energy_chain.errors import DecodedError
from webapp.text import BraceText, Text
from webapp.units import fmt_kwh, fmt_myr, fmt_price

# Values an argument name implies: amounts in Wh, money in settlement units, prices in units per kWh.
_WH_ARGS = {"amount", "minAmount", "maxAmount", "remaining", "amountWh", "remainingWh", "fillWh"}
_PRICE_ARGS = {"price", "minPrice", "maxPrice", "limitPrice", "clearingPrice"}

MESSAGES: dict[str, str] = {
    "ERC20InsufficientBalance": Text("Insufficient balance: you have {balance} but this needs {needed}."),
    "ERC20InsufficientAllowance": Text(
        "The market is not allowed to move enough of your tokens "
        "(allowance {allowance}, needed {needed}). Approve the market on your account page."
    ),
    "ERC20InvalidReceiver": Text("That receiving address is not valid."),
    "AccessControlUnauthorizedAccount": Text("Your account is not allowed to do that."),
    "SettlementTokenZeroAmount": Text("The amount must be greater than zero."),
    "MeterRegistryAlreadyRegistered": Text("That meter is already registered."),
    "MeterRegistryUnknownMeter": Text("No meter with that id is registered."),
    "MeterRegistryInactiveMeter": Text("That meter is deactivated."),
    "MeterRegistryAlreadyActive": Text("That meter is already active."),
    "MeterRegistryZeroOwner": Text("A meter needs an owner address."),
    "MeterRegistryZeroMeterId": Text("A meter needs a serial."),
    "EnergyTokenReadingAlreadyRecorded": Text("That reading was already recorded."),
}


def register(messages: dict[str, str]) -> None:
    """Add messages for more contracts (order book, auction) without editing this table. Write each as
    Text("... {arg} ...") so that `make translations-extract` collects it for the catalogue."""
    MESSAGES.update(messages)


def _fmt_arg(name: str, value: Any, error_name: str) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        if name in _WH_ARGS or name.endswith("Wh"):
            return fmt_kwh(value)
        if name in _PRICE_ARGS or name.lower().endswith("price"):
            return fmt_price(value)
        if error_name.startswith("ERC20") and name in {"balance", "needed", "allowance"}:
            return str(value)  # token-agnostic; the caller may refine with `user_message(..., token=...)`
    return str(value)


def humanize(name: str) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def user_message(error: DecodedError | None, token: str | None = None) -> str:
    """A sentence for a decoded revert (a Text: English, translated where a page shows it). `token` ("energy" |
    "settlement") formats ERC-20 amounts."""
    if error is None:
        return Text("The transaction was rejected by the contract.")
    args = {k: _fmt_arg(k, v, error.name) for k, v in error.args.items()}
    if token:  # balances and allowances of the token the caller knows this transaction spends
        fmt = fmt_kwh if token == "energy" else fmt_myr
        args.update({k: fmt(v) for k, v in error.args.items() if k in {"balance", "needed", "allowance"}})
    template = MESSAGES.get(error.name)
    if template:
        try:
            return BraceText(getattr(template, "msgid", template), **args)  # English; pages translate the msgid
        except (KeyError, IndexError):
            pass
    if error.name == "Error":
        return Text("Rejected: %(message)s", message=error.args.get("message"))
    if error.name == "Panic":
        return Text("The contract hit an internal error.")
    detail = ", ".join(f"{k} {v}" for k, v in args.items())
    return humanize(error.name) + (f" ({detail})." if detail else ".")
