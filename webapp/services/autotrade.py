"""Automatic trading (issue 14): a household lets one agent address trade for it within bounds held on chain.

The bounds are a mandate in the TradingMandate contract (energy_chain.mandate): minimum sell price, maximum buy
price, an energy reserve the agent never sells, a daily spending cap, the venues it may use and six seller-selection
weights. A custodial user's mandate is granted and revoked with the key unlocked for their session; a browser-wallet
user signs the grant as EIP-712 typed data in the wallet (the server relays it with grantBySig) and signs the revoke
transaction in the wallet (relayed through /api/v1/tx/raw like any order).

The agent's address: AGENT_ADDRESS from the environment; without it, on the local dev chain only, the demo's dev
"agent" account (webapp.services.demo_seed.local_agent, the one place of the web app that may know dev accounts);
elsewhere automatic trading is off until AGENT_ADDRESS is set.

What the agent did comes from its decision log (AGENT_LOG, JSON Lines written by agents/decision_log.py; see
docs/webapp.md): the decisions for this user's address with their explanations and actions, newest first, and the
forecast of each interval beside the meter's actual reading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address
from flask import current_app
from flask_babel import gettext as _
from web3.exceptions import Web3RPCError

from energy_chain import Signer
from energy_chain.codec import calldata
from energy_chain.mandate import VENUE_AUCTION, VENUE_DIRECT, VENUE_ORDER_BOOK, MandateClient, MandateTerms
from webapp.chain.messages import register
from webapp.errors import UserError
from webapp.models import User
from webapp.services.context import chain, signer_for
from webapp.text import Text
from webapp.units import UNITS_PER_MYR, WH_PER_KWH, InvalidAmount, parse_decimal, parse_price_sen

MANDATE = "TradingMandate"
UINT128_MAX = 2**128 - 1
SIGNATURE_SECONDS = 600  # a typed-data grant signed in the wallet must reach the chain within this
MAX_WEIGHT = 10
MAX_VALID_DAYS = 366
MAX_RESERVE_KWH = 100_000
MAX_CAP_MYR = 100_000

# The venues a mandate may allow: (form/API name, bit in the contract's bitmask).
VENUES: tuple[tuple[str, int], ...] = (("order-book", VENUE_ORDER_BOOK), ("auction", VENUE_AUCTION),
                                       ("direct", VENUE_DIRECT))  # fmt: skip
VENUE_BITS = dict(VENUES)

# The six seller-selection weights, in the order of the mandate's uint8[6]: the objective's soft terms
# (agents.selection.model.TERMS without `availability`, which is a hard constraint, not a preference).
WEIGHT_TERMS: tuple[str, ...] = ("surplus", "efficiency", "duration", "quality", "participation", "cost")
# On the form's 0-10 scale: twice agents.selection.DEFAULT_WEIGHTS (surplus 1, efficiency 1, duration 0.5, quality 1,
# participation 0.5, cost 2); the web app may not import agents, so the numbers are repeated here.
DEFAULT_WEIGHTS: tuple[int, ...] = (2, 2, 1, 2, 1, 4)

register({
    "MandateMissing": Text("There is no automatic-trading mandate for this account."),
    "MandateWrongAgent": Text("The mandate names another agent."),
    "MandateExpired": Text("The mandate has expired."),
    "MandateVenueNotAllowed": Text("The mandate does not allow this venue."),
    "MandatePriceBelowMinimum": Text("The price is below the mandate's minimum sell price."),
    "MandatePriceAboveMaximum": Text("The price is above the mandate's maximum buy price."),
    "MandateReserveBreached": Text("The sale would go below the mandate's energy reserve."),
    "MandateDailyCapExceeded": Text("The purchase would exceed the mandate's daily spending cap."),
    "MandateInvalidAgent": Text("The agent address {agent} cannot be mandated (it must be another account)."),
    "MandateInvalidVenues": Text("Choose at least one venue where the agent may trade."),
    "MandateInvalidValidity": Text("The end of the mandate must be in the future."),
    "MandateSignatureExpired": Text("The signature's deadline has passed: sign the settings again."),
    "MandateBadSignature": Text("The signature does not match these settings or your wallet (or was used already): "
                                "sign them again."),
})  # fmt: skip


def weight_labels() -> dict[str, tuple[str, str]]:
    """Each weight's name and what it makes the agent prefer (docs/selection.md)."""
    return {
        "surplus": (_("Few sellers, little left over"),
                    _("Prefer buying from as few sellers as possible, leaving little unsold energy on their offers.")),
        "efficiency": (_("Short distance on the grid"),
                       _("Prefer sellers close to you on the feeder, so less energy is lost on the way.")),
        "duration": (_("Fast sellers"), _("Prefer sellers whose offers filled quickly in the past.")),
        "quality": (_("Reliable sellers"), _("Prefer sellers who delivered the energy they offered in the past.")),
        "participation": (_("Give newcomers a chance"),
                          _("Prefer sellers who have sold less often, so new households get trades too.")),
        "cost": (_("Low price"), _("Prefer cheaper offers.")),
    }  # fmt: skip


def venue_labels() -> dict[str, str]:
    return {"order-book": _("Order book"), "auction": _("Auction"), "direct": _("Direct offers")}


# ---------------------------------------------------------------------- the agent and the contract
def agent_address() -> str | None:
    """The agent this server's users may mandate, or None when none is configured (see the module docstring)."""
    configured = (current_app.config.get("AGENT_ADDRESS") or "").strip()
    if configured:
        if not is_address(configured):
            raise UserError(_("AGENT_ADDRESS is not an Ethereum address; ask the operator to fix it."),
                            "agent_misconfigured", 503)  # fmt: skip
        return to_checksum_address(configured)
    from webapp.services.demo_seed import local_agent  # the demo's dev agent; None on any other chain

    with chain().guard():
        return local_agent(chain().client)


def _client() -> MandateClient:
    service = chain()
    service.contract(MANDATE)  # a clear "not deployed" error first
    return MandateClient(service.client)


def _send(signer: Signer, send: Callable[[], Any], token: str | None = None) -> Any:
    """One mandate transaction, guarded like every other: a nonce another process used is counted again from the
    node once (as ChainService does for orders); any other refusal by the node is a clear 422."""
    with chain().guard(token):
        try:
            return send()
        except Web3RPCError as exc:
            if "nonce" not in str(exc).lower():
                raise UserError(_("The chain refused the transaction: %(reason)s", reason=exc.message), "rejected",
                                422) from exc  # fmt: skip
            signer.resync()
            return send()


@dataclass(frozen=True)
class State:
    """What the page and the API show: on or off, the terms on chain, today's spend, the agent."""

    agent: str | None
    terms: MandateTerms | None
    spent_today: int = 0

    @property
    def on(self) -> bool:
        return self.terms is not None

    @property
    def cap_left(self) -> int | None:
        if self.terms is None:
            return None
        return max(0, self.terms.daily_spend_cap - self.spent_today)

    def as_dict(self) -> dict[str, Any]:
        return {"on": self.on, "agent": self.agent, "terms": terms_dict(self.terms) if self.terms else None,
                "spent_today": self.spent_today}  # fmt: skip


def terms_dict(terms: MandateTerms) -> dict[str, Any]:
    """The terms in the API's units (settlement units per kWh, Wh, settlement units); unbounded is null."""
    return {
        "agent": terms.agent,
        "min_sell_price": terms.min_sell_price,
        "max_buy_price": None if terms.max_buy_price >= UINT128_MAX else terms.max_buy_price,
        "reserve_wh": terms.reserve_wh,
        "daily_spend_cap": None if terms.daily_spend_cap >= UINT128_MAX else terms.daily_spend_cap,
        "venues": [name for name, bit in VENUES if terms.venues & bit],
        "weights": dict(zip(WEIGHT_TERMS, terms.weights, strict=True)),
        "valid_until": terms.valid_until or None,
    }


def state(user: User) -> State:
    agent = agent_address()
    client = _client()
    with chain().guard():
        terms = client.terms_of(user.address)
        spent = client.spent_today(user.address) if terms is not None else 0
    return State(agent=agent, terms=terms, spent_today=spent)


# ---------------------------------------------------------------------- the bounds people type
@dataclass(frozen=True)
class Bounds:
    """The settings form (or API body) as typed, before parsing: strings or JSON numbers."""

    min_sell_price_sen: Any = None
    max_buy_price_sen: Any = None
    reserve_kwh: Any = None
    daily_cap_myr: Any = None
    venues: Any = None
    weights: Any = None
    valid_days: Any = None
    valid_until: Any = None  # unix seconds instead of valid_days: the exact terms a wallet signed (0: no end)


def _zero_or_more(text: Any, what: str, scale: int, maximum: int, step: str) -> int:
    value = parse_decimal(text, what)
    if value < 0:
        raise InvalidAmount(_("%(what)s cannot be negative", what=what))
    if value > maximum:
        raise InvalidAmount(_("%(what)s must be at most %(max)s", what=what, max=maximum))
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(_("%(what)s has too many decimals (smallest step is %(step)s)", what=what, step=step))
    return int(scaled)


def _price(text: Any, what: str) -> int:
    try:
        return parse_price_sen(text, current_app.config["MAX_PRICE_SEN"])
    except InvalidAmount as exc:
        raise InvalidAmount(f"{what}: {exc}") from exc


def _weights(raw: Any) -> tuple[int, int, int, int, int, int]:
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - set(WEIGHT_TERMS))
        if unknown:
            raise InvalidAmount(_("Unknown weight(s): %(names)s (the six are: %(terms)s)",
                                  names=", ".join(map(str, unknown)), terms=", ".join(WEIGHT_TERMS)))  # fmt: skip
        values = [raw.get(t) for t in WEIGHT_TERMS]
    elif isinstance(raw, list | tuple) and len(raw) == len(WEIGHT_TERMS):
        values = list(raw)
    else:
        raise InvalidAmount(_("Give the six weights (%(terms)s), each a whole number from 0 to 10.",
                              terms=", ".join(WEIGHT_TERMS)))  # fmt: skip
    labels = weight_labels()
    out = []
    for term, value in zip(WEIGHT_TERMS, values, strict=True):
        name = labels[term][0]
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidAmount(_("Weight “%(name)s”: enter a whole number from 0 to 10", name=name))
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidAmount(_("Weight “%(name)s” must be a whole number from 0 to 10", name=name))
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or int(text) > MAX_WEIGHT:
            raise InvalidAmount(_("Weight “%(name)s” must be a whole number from 0 to 10", name=name))
        out.append(int(text))
    if not any(out):
        raise InvalidAmount(_("At least one weight must be above zero, or the agent has nothing to prefer."))
    return tuple(out)  # type: ignore[return-value]


def _venues(raw: Any) -> int:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        raise InvalidAmount(_("Venues must be a list of: %(names)s", names=", ".join(VENUE_BITS)))
    unknown = sorted(set(raw) - set(VENUE_BITS))
    if unknown:
        raise InvalidAmount(_("Unknown venue(s): %(names)s (choose from %(all)s)", names=", ".join(unknown),
                              all=", ".join(VENUE_BITS)))  # fmt: skip
    bits = 0
    for name in raw:
        bits |= VENUE_BITS[name]
    if not bits:
        raise InvalidAmount(_("Choose at least one venue where the agent may trade."))
    return bits


def parse_bounds(bounds: Bounds, agent: str, now: int | None = None) -> MandateTerms:
    """The mandate these bounds mean, or InvalidAmount naming the first field that is wrong."""
    if bounds.min_sell_price_sen in (None, ""):
        raise InvalidAmount(_("Minimum sell price: enter a price in sen/kWh"))
    if bounds.max_buy_price_sen in (None, ""):
        raise InvalidAmount(_("Maximum buy price: enter a price in sen/kWh"))
    min_sell = _price(bounds.min_sell_price_sen, _("Minimum sell price"))
    max_buy = _price(bounds.max_buy_price_sen, _("Maximum buy price"))
    reserve = _zero_or_more("0" if bounds.reserve_kwh in (None, "") else bounds.reserve_kwh, _("Energy reserve"),
                            WH_PER_KWH, MAX_RESERVE_KWH, "0.001 kWh")  # fmt: skip
    if bounds.daily_cap_myr in (None, ""):
        raise InvalidAmount(_("Daily spending cap: enter an amount in RM (0 lets the agent only sell)"))
    cap = _zero_or_more(bounds.daily_cap_myr, _("Daily spending cap"), UNITS_PER_MYR, MAX_CAP_MYR, "RM 0.000001")
    venues = _venues(bounds.venues if bounds.venues is not None else [])
    weights = _weights(bounds.weights if bounds.weights is not None else DEFAULT_WEIGHTS)
    valid_until = 0
    now = int(time.time()) if now is None else now
    if bounds.valid_until not in (None, 0):
        until = bounds.valid_until
        if isinstance(until, bool) or not isinstance(until, int) or not now < until <= now + MAX_VALID_DAYS * 86400:
            raise InvalidAmount(_("Valid until must be a time in the next %(max)s days (unix seconds), or 0 for no end",
                                  max=MAX_VALID_DAYS))  # fmt: skip
        valid_until = until
    elif bounds.valid_days not in (None, "", 0, "0"):
        days = bounds.valid_days
        text = str(days).strip()
        if isinstance(days, bool) or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_VALID_DAYS:
            raise InvalidAmount(_("Valid for: a whole number of days from 1 to %(max)s, or empty for no end",
                                  max=MAX_VALID_DAYS))  # fmt: skip
        valid_until = now + int(text) * 86400
    return MandateTerms(agent=agent, min_sell_price=min_sell, max_buy_price=max_buy, reserve_wh=reserve,
                        daily_spend_cap=cap, venues=venues, weights=weights, valid_until=valid_until)  # fmt: skip


def _terms(bounds: Bounds) -> MandateTerms:
    agent = agent_address()
    if agent is None:
        raise UserError(_("Automatic trading is not set up on this server (no agent address configured)."),
                        "no_agent", 503)  # fmt: skip
    try:
        return parse_bounds(bounds, agent)
    except ValueError as exc:  # InvalidAmount, or terms the SDK refuses (MandateTermsError)
        raise UserError(str(exc), "invalid_bounds") from exc


# ---------------------------------------------------------------------- turning it on and off
def turn_on(user: User, bounds: Bounds) -> MandateTerms:
    """Custodial: grant the mandate with the session's key (the receipt is awaited). Returns the terms granted."""
    terms = _terms(bounds)
    signer = signer_for(user)  # a browser-wallet account is told to sign in its wallet (409)
    client = _client()
    _send(signer, lambda: client.grant(signer, terms))
    return terms


def typed_data_for(user: User, bounds: Bounds) -> dict[str, Any]:
    """Browser wallet: the EIP-712 typed data of the grant, for eth_signTypedData_v4, and its deadline."""
    terms = _terms(bounds)
    with chain().guard():
        mandates = _client()
        # The contract compares the deadline with block time, which a dev chain may have moved past the clock.
        now = max(int(time.time()), int(mandates.chain.w3.eth.get_block("latest")["timestamp"]))
        deadline = now + SIGNATURE_SECONDS
        typed = mandates.typed_data(user.address, terms, deadline)
    return {"typed_data": _json_safe(typed), "deadline": deadline, "terms": terms_dict(terms)}


def _json_safe(value: Any) -> Any:
    """Integers beyond JavaScript's 2**53 become decimal strings (wallets read uint fields from strings); bytes hex."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def turn_on_by_signature(user: User, bounds: Bounds, deadline: int, signature: str) -> MandateTerms:
    """Browser wallet: relay the wallet's signature of the grant (grantBySig, sent by the operator's key); the
    contract checks that the owner signed exactly these terms before the deadline."""
    if user.custodial:
        raise UserError(_("Your account has a custodial wallet: turn automatic trading on without a signature."),
                        "custodial_wallet", 409)  # fmt: skip
    if not isinstance(deadline, int) or isinstance(deadline, bool) or deadline < int(time.time()):
        raise UserError(_("The signature's deadline has passed: sign the settings again."), "signature_expired")
    try:
        raw = bytes.fromhex(signature[2:] if signature.startswith("0x") else signature)
    except ValueError as exc:
        raise UserError(_("The signature must be 65 bytes in hex (0x…)."), "invalid_signature") from exc
    if len(raw) != 65:
        raise UserError(_("The signature must be 65 bytes in hex (0x…)."), "invalid_signature")
    terms = _terms(bounds)
    client = _client()
    service = chain()
    relayer = service.operator()
    _send(relayer, lambda: client.grant_by_sig(relayer, user.address, terms, deadline, raw))
    return terms


def turn_off(user: User) -> None:
    """Custodial: revoke with the session's key; effective in the block that mines it (awaited)."""
    signer = signer_for(user)
    client = _client()
    with chain().guard():
        if client.terms_of(user.address) is None:
            return  # already off: nothing to sign
    _send(signer, lambda: client.revoke(signer))


def prepare_revoke(address: str) -> dict[str, Any]:
    """Browser wallet: the unsigned revoke() transaction, simulated from the owner's address (send it back to
    /api/v1/tx/raw)."""
    service = chain()
    contract = service.contract(MANDATE)
    with service.guard():
        fn = contract.functions.revoke()
        gas = service.client.estimate_gas(fn, address)
        tx = service.client.legacy_tx(fn.address, calldata(fn), gas, service.client.pending_nonce(address))
    fields = {k: hex(tx[k]) for k in ("value", "gas", "gasPrice", "nonce", "chainId")}
    return {"from": address, "to": tx["to"], "data": "0x" + tx["data"].hex(), **fields, "type": "0x0"}


# ---------------------------------------------------------------------- the decision log
def log_path() -> Path:
    return Path(current_app.config["AGENT_LOG"])


def _records(owner: str, path: Path | None = None) -> Iterator[dict[str, Any]]:
    """This owner's records of the log, oldest first; lines that are not JSON objects of the format are skipped."""
    path = path or log_path()
    owner = owner.lower()
    try:
        fh = path.open("r", encoding="utf-8", errors="replace")
    except OSError:
        return
    with fh:
        for line in fh:
            if owner[2:] not in line.lower():  # cheap pre-filter: most lines are other households'
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if (isinstance(record, dict) and isinstance(record.get("owner"), str)
                    and record["owner"].lower() == owner and isinstance(record.get("kind"), str)):  # fmt: skip
                yield record


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _action(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    return {
        "venue": _text(raw.get("venue")),
        "side": _text(raw.get("side")),
        "price": _int(raw.get("price")),
        "amount_wh": _int(raw.get("amount_wh")),
        "status": _text(raw.get("status")),
        "filled_wh": _int(raw.get("filled_wh")),
        "cost": _int(raw.get("cost")),
        "order_id": _int(raw.get("order_id")),
        "tx_hash": _text(raw.get("tx_hash")) or None,
        "reason": _text(raw.get("reason")),
    }


def _pair(raw: Any, *keys: str) -> dict[str, int | None]:
    raw = raw if isinstance(raw, Mapping) else {}
    return {k: _int(raw.get(k)) for k in keys}


def _decision(record: dict[str, Any]) -> dict[str, Any]:
    actions = record.get("actions") if isinstance(record.get("actions"), list) else []
    return {
        "ts": _int(record.get("ts")),
        "interval": _int(record.get("interval")),
        "meter": _text(record.get("meter")),
        "forecast": _pair(record.get("forecast"), "generation_wh", "load_wh"),
        "balances": _pair(record.get("balances"), "energy_wh", "money"),
        "intent": _pair(record.get("intent"), "sell_wh", "ask", "buy_wh", "bid"),
        "explanation": _text(record.get("explanation")),
        "actions": [a for a in (_action(x) for x in actions) if a is not None],
    }


@dataclass(frozen=True)
class DecisionPage:
    decisions: list[dict[str, Any]]
    page: int
    pages: int
    total: int
    last_state: dict[str, Any] | None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def as_dict(self) -> dict[str, Any]:
        return {"decisions": self.decisions, "page": self.page, "pages": self.pages, "total": self.total,
                "agent_state": self.last_state}  # fmt: skip


def decisions(owner: str, page: int = 1, per_page: int = 10) -> DecisionPage:
    """This owner's decisions, newest first, one page of them; plus the agent's last state record for the owner."""
    found: list[dict[str, Any]] = []
    last_state = None
    for record in _records(owner):
        if record["kind"] == "decision":
            found.append(_decision(record))
        elif record["kind"] == "state":
            last_state = {"ts": _int(record.get("ts")), "status": _text(record.get("status")),
                          "message": _text(record.get("message"))}  # fmt: skip
    found.reverse()
    total = len(found)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return DecisionPage(found[start : start + per_page], page, pages, total, last_state)


def forecast_vs_actual(owner: str, limit: int = 96) -> list[dict[str, Any]]:
    """Per interval (the last `limit` with a forecast, oldest first): the agent's forecast of generation and load
    and the meter's actual reading once recorded (None before)."""
    forecasts: dict[int, dict[str, int | None]] = {}
    actuals: dict[int, dict[str, int | None]] = {}
    for record in _records(owner):
        interval = _int(record.get("interval"))
        if interval is None:
            continue
        if record["kind"] == "decision":
            forecasts[interval] = _pair(record.get("forecast"), "generation_wh", "load_wh")
        elif record["kind"] == "actual":
            actuals[interval] = _pair(record, "generation_wh", "load_wh")
    rows = []
    for interval in sorted(forecasts)[-limit:]:
        actual = actuals.get(interval)
        rows.append({"interval": interval, "forecast": forecasts[interval], "actual": actual})
    return rows
