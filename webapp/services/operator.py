"""The operator's work: oracle status and lag, meters with their last reading, register a meter, grid tariffs."""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import Any

from sqlalchemy import func, select

from energy_chain.meters import meter_id_hex
from webapp.errors import UserError
from webapp.extensions import db
from webapp.formatting import humanize_seconds
from webapp.models import ChainEvent, Meter, Reading, User
from webapp.services.context import chain, sync_index

AUCTION = "DoubleAuction"


def oracle_status() -> dict[str, Any]:
    """When the oracle last recorded readings, how far behind real time that is, and how often it reports."""
    last_interval = db.session.scalar(select(func.max(Reading.interval)))
    intervals = list(db.session.scalars(select(Reading.interval).distinct().order_by(Reading.interval.desc())
                                        .limit(20)))  # fmt: skip
    # The reporting period is the smallest gap between recent intervals (gaps are missed or backfilled intervals).
    gaps = [a - b for a, b in itertools.pairwise(intervals) if a > b]
    period = min(gaps) if gaps else None
    last_event = db.session.scalar(select(ChainEvent).where(ChainEvent.name == "ReadingRecorded")
                                   .order_by(ChainEvent.id.desc()).limit(1))  # fmt: skip
    status: dict[str, Any] = {"last_interval": last_interval, "period": period,
                              "readings": db.session.scalar(select(func.count(Reading.id))) or 0,
                              "last_block": last_event.block_number if last_event else None}  # fmt: skip
    if last_interval is not None:
        end = last_interval + (period or 0)
        status["lag_seconds"] = max(0, int(time.time()) - end)
        status["lag"] = humanize_seconds(status["lag_seconds"])
    with contextlib.suppress(UserError):
        status["oracle_address"] = chain().client.deployment.roles.get("oracle")
    return status


def meters() -> list[Meter]:
    return list(db.session.scalars(select(Meter).order_by(Meter.name, Meter.serial)))


def last_intervals() -> dict[str, int]:
    """meter id -> its latest settled interval."""
    return {m: i for m, i in db.session.execute(select(Reading.meter_id, func.max(Reading.interval))
                                                .group_by(Reading.meter_id))}  # fmt: skip


def grid_tariffs() -> dict[str, int] | None:
    if not chain().has_contract(AUCTION):
        return None
    retail, feed_in = chain().call(AUCTION, "gridTariffs")
    return {"retail": int(retail), "feed_in": int(feed_in)}


def register_meter(serial: str, owner_text: str, name: str | None) -> None:
    """Register `serial` to a username or 0x address, then remember its serial and household name."""
    user = db.session.scalar(select(User).where(User.username == owner_text))
    owner = user.address if user else owner_text
    if not (owner.startswith("0x") and len(owner) == 42):
        raise UserError("The owner must be a username or a 0x address.", "invalid_owner")
    chain().register_meter(serial, owner)
    sync_index()
    remember_serial(serial, name)


def remember_serial(serial: str, name: str | None, kind: str | None = None) -> None:
    mid = meter_id_hex(serial)
    meter = db.session.get(Meter, mid) or Meter(meter_id=mid)
    meter.serial, meter.name = serial, name or meter.name
    meter.kind = kind or meter.kind
    db.session.add(meter)
    db.session.commit()


def set_tariffs(retail: int, feed_in: int) -> None:
    if not chain().has_contract(AUCTION):
        raise UserError("The auction contract that holds the grid tariffs is not deployed yet.", "not_deployed", 503)
    chain().send(chain().operator(), AUCTION, "setGridTariffs", (retail, feed_in), wait=True)
