"""Text for people: durations, shortened addresses, timestamps (pure functions, used by templates and services)."""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.units import NONE


def humanize_seconds(seconds: int) -> str:
    """'3 d 4 h', '5 min 2 s', '12 s': the largest two units."""
    parts, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size} {unit}")
            rest %= size
    return " ".join(parts[:2])


def short_address(address: str | None) -> str:
    if not address:
        return NONE
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address


def timefmt(ts: int | float | datetime | None) -> str:
    if ts is None or ts == 0:
        return NONE
    if isinstance(ts, datetime):
        moment = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(ts), UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
