"""Calendar periods in the community's time zone (COMMUNITY_TIMEZONE): the start of the hour, day, week (Monday) or
month a moment falls in, its label, and the date range a request asks for (?from=YYYY-MM-DD&to=YYYY-MM-DD, both
local days, inclusive). Pure functions of a timestamp and a zone, shared by trade history, earnings and the meter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _

from webapp.errors import UserError
from webapp.formatting import zone, zone_label

BUCKETS = ("hour", "day", "week", "month")
FIRST_YEAR, LAST_YEAR = 2000, 2999  # dates people may ask for: far outside them a date cannot hold a trade


def community_zone() -> tzinfo:
    return zone(current_app.config["COMMUNITY_TIMEZONE"])


def bucket_start(ts: int, bucket: str, tz: tzinfo) -> int:
    """The Unix time at which the local hour/day/week (from Monday)/month holding `ts` starts."""
    ts = int(ts)
    quarter = ts - ts % 900  # every UTC offset and DST change is on a quarter hour: the same answer for its seconds
    return _bucket_start(quarter, bucket, tz)


@lru_cache(maxsize=65536)
def _bucket_start(ts: int, bucket: str, tz: tzinfo) -> int:
    local = datetime.fromtimestamp(ts, UTC).astimezone(tz)
    if bucket == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
    elif bucket == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif bucket == "week":
        start = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif bucket == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        raise ValueError(f"unknown bucket {bucket!r}")
    # replace() keeps the offset of `local`; re-attach the zone so a start across a DST change gets its own offset
    return int(datetime(start.year, start.month, start.day, start.hour, tzinfo=tz).timestamp())


def bucket_label(start: int, bucket: str, tz: tzinfo) -> str:
    """'2026-12-01 19:00 UTC+8', '2026-12-01', 'week of 2026-11-30', '2026-12'."""
    local = datetime.fromtimestamp(int(start), UTC).astimezone(tz)
    if bucket == "hour":
        return f"{local:%Y-%m-%d %H:00} {zone_label(local)}"
    if bucket == "day":
        return f"{local:%Y-%m-%d}"
    if bucket == "week":
        return _("week of %(day)s", day=f"{local:%Y-%m-%d}")
    return f"{local:%Y-%m}"


def local_date(ts: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(int(ts), UTC).astimezone(tz).date()


def day_start(day: date, tz: tzinfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


@dataclass(frozen=True)
class DateRange:
    """Local days `first`..`last` (inclusive; None: open), as Unix times [start, end)."""

    first: date | None = None
    last: date | None = None
    start: int | None = None
    end: int | None = None

    def contains(self, ts: int) -> bool:
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)

    @property
    def args(self) -> dict[str, str]:
        """The query arguments that ask for this range again (pager and CSV links)."""
        out = {}
        if self.first:
            out["from"] = self.first.isoformat()
        if self.last:
            out["to"] = self.last.isoformat()
        return out


def parse_day(text: str | None, what: str) -> date | None:
    if text is None or text.strip() == "":
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserError(_("%(what)s must be a date written YYYY-MM-DD, e.g. 2026-12-01.", what=what),
                        "invalid_date") from exc  # fmt: skip
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UserError(_("%(what)s must be a date from the year %(first)d to %(last)d.", what=what,
                          first=FIRST_YEAR, last=LAST_YEAR), "invalid_date")  # fmt: skip
    return day


def date_range(first_text: str | None, last_text: str | None, tz: tzinfo) -> DateRange:
    """The range ?from=&to= ask for (local days, both inclusive); a clear 400 for a malformed or reversed one."""
    first, last = parse_day(first_text, "from"), parse_day(last_text, "to")
    if first and last and last < first:
        raise UserError(_("The end date (to) is before the start date (from)."), "invalid_date")
    start = day_start(first, tz) if first else None
    end = day_start(last + timedelta(days=1), tz) if last else None
    return DateRange(first, last, start, end)


def preset_ranges(now: int, tz: tzinfo) -> list[tuple[str, DateRange]]:
    """Quick choices for a period filter: today, the last 7 days, this month, last month, everything."""
    today = local_date(now, tz)
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    choices = [
        (_("Today"), (today, today)),
        (_("Last 7 days"), (today - timedelta(days=6), today)),
        (_("This month"), (month, today)),
        (_("Last month"), (last_month_end.replace(day=1), last_month_end)),
    ]
    out = [(label, DateRange(a, b, day_start(a, tz), day_start(b + timedelta(days=1), tz)))
           for label, (a, b) in choices]  # fmt: skip
    return [*out, (_("All time"), DateRange())]
