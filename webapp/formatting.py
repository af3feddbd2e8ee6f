"""Text for people: durations, shortened addresses, timestamps (pure functions, used by templates and services).

Times are shown in the community's time zone (COMMUNITY_TIMEZONE, default Asia/Kuala_Lumpur) with the zone's UTC
offset, e.g. "2026-12-01 19:50:02 UTC+8"; auction rounds as their
local window, e.g. "19:48-19:51 UTC+8, 1 Dec" (with an en dash).

Language: timestamps are numeric (ISO dates, 24-hour clock), the same in English and Malay; the month name of a
round window follows the page's language ("1 Dec", "1 Dis": webapp.i18n.month_day). Numbers keep the decimal point
in both languages (units.py); people may type a point or a comma.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from webapp.i18n import localize, month_day
from webapp.text import Text
from webapp.units import NONE

DEFAULT_TIMEZONE = "Asia/Kuala_Lumpur"


DURATION_UNITS = ("%(n)d d", "%(n)d h", "%(n)d min", "%(n)d s")


def humanize_seconds(seconds: int, units: tuple[str, str, str, str] = DURATION_UNITS) -> str:
    """'3 d 4 h', '5 min 2 s', '12 s': the largest two units (`units`: days, hours, minutes, seconds as
    %(n)d formats, webapp.i18n.duration passes them in the page's language)."""
    parts, rest = [], int(seconds)
    for unit, size in zip(units, (86400, 3600, 60, 1), strict=True):
        if rest >= size or (size == 1 and not parts):
            parts.append(unit % {"n": rest // size})
            rest %= size
    return " ".join(parts[:2])


def short_address(address: str | None) -> str:
    if not address:
        return NONE
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address


def zone(name: str | None = None) -> tzinfo:
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def _moment(ts: int | float | datetime, tz: tzinfo) -> datetime:
    if isinstance(ts, datetime):
        moment = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(ts), UTC)
    return moment.astimezone(tz)


def zone_label(moment: datetime) -> str:
    """'UTC+8', 'UTC+5:30', 'UTC' from the moment's offset."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def timefmt(ts: int | float | datetime | None, tz: tzinfo | None = None) -> str:
    if ts is None or ts == 0:
        return NONE
    moment = _moment(ts, tz or zone())
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone_label(moment)}"


def round_window(start: int | None, length: int | None, tz: tzinfo | None = None) -> str:
    """An auction round (its id is its start time) as its local window: '19:48-19:51 UTC+8, 1 Dec' (an en dash)."""
    if not start:
        return NONE
    first = _moment(start, tz or zone())
    if not length:
        return localize(Text("from %(time)s", time=f"{first:%H:%M} {zone_label(first)}, {month_day(first)}"))
    last = _moment(int(start) + int(length), tz or zone())
    return f"{first:%H:%M}\u2013{last:%H:%M} {zone_label(first)}, {month_day(first)}"


_PRICE_ARGS = {"price", "limitPrice", "clearingPrice", "retailPrice", "feedInTariff"}
_ENERGY_ARGS = {"amountWh", "volumeWh", "importedWh", "exportedWh", "fillWh", "gridWh", "mintedWh", "burnedWh",
                "energyRefund", "energy", "minAmountWh"}  # fmt: skip
_MONEY_ARGS = {"cost", "money", "moneyRefund", "importCost", "exportRevenue"}
_TIME_ARGS = {"roundId", "interval", "end", "revealEnd", "expiry", "validFrom", "validUntil", "firstInterval"}


def event_arg(value: object, contract: str | None, event: str, key: str, tz: tzinfo | None = None) -> str:
    """A decoded event argument in people's units (sen/kWh, kWh, RM, local time); anything else as it is.

    Base units: energy 1 Wh (3 decimals: one whole token is 1 kWh), money 0.000001 MYR, prices settlement units
    per kWh. `refund` of OrderCancelled/OrderExpired is Wh for a sell and money for a buy, so it stays raw."""
    from webapp.units import fmt_kwh, fmt_myr, fmt_price

    if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str) and not value.isdigit()):
        return str(value)
    n = int(value)
    energy_contract = contract == "EnergyToken"
    if key in _PRICE_ARGS:
        return fmt_price(n)
    if key in _ENERGY_ARGS or (contract == "OrderBook" and key in {"amount", "remaining", "minAmount"}):
        return fmt_kwh(n)
    if key in _MONEY_ARGS or (contract == "SettlementToken" and key in {"amount", "value"}):
        return fmt_myr(n, 4)
    if energy_contract and key == "value":
        return fmt_kwh(n)
    if key in _TIME_ARGS and n > 1_000_000_000:
        return timefmt(n, tz)
    if key in {"side", "takerSide"} and contract in {"OrderBook", "DoubleAuction"}:
        return {0: "buy", 1: "sell"}.get(n, str(n))
    return str(n)
