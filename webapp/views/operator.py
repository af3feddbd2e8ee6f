"""Operator page: meters (register, state, last reading), oracle status and lag, grid tariffs."""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp.errors import UserError
from webapp.extensions import db
from webapp.forms import MeterForm, TariffForm
from webapp.models import ChainEvent, Meter, Reading, User
from webapp.units import InvalidAmount, parse_price_sen
from webapp.views.helpers import chain, humanize_seconds, sync_index

bp = Blueprint("operator", __name__, url_prefix="/operator")
AUCTION = "DoubleAuction"


def operator_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_operator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def oracle_status() -> dict[str, Any]:
    """When the oracle last recorded readings, how far behind real time that is, and how often it reports."""
    last_interval = db.session.scalar(select(func.max(Reading.interval)))
    intervals = list(
        db.session.scalars(select(Reading.interval).distinct().order_by(Reading.interval.desc()).limit(20))
    )
    # The reporting period is the smallest gap between recent intervals (gaps are missed or backfilled intervals).
    gaps = [a - b for a, b in itertools.pairwise(intervals) if a > b]
    period = min(gaps) if gaps else None
    last_event = db.session.scalar(
        select(ChainEvent).where(ChainEvent.name == "ReadingRecorded").order_by(ChainEvent.id.desc()).limit(1)
    )
    status: dict[str, Any] = {
        "last_interval": last_interval,
        "period": period,
        "readings": db.session.scalar(select(func.count(Reading.id))) or 0,
        "last_block": last_event.block_number if last_event else None,
    }
    if last_interval is not None:
        end = last_interval + (period or 0)
        status["lag_seconds"] = max(0, int(time.time()) - end)
        status["lag"] = humanize_seconds(status["lag_seconds"])
    with contextlib.suppress(UserError):
        status["oracle_address"] = chain().client.deployment.roles.get("oracle")
    return status


def grid_tariffs() -> dict[str, int] | None:
    if not chain().has_contract(AUCTION):
        return None
    retail, feed_in = chain().call(AUCTION, "gridTariffs")
    return {"retail": int(retail), "feed_in": int(feed_in)}


@bp.get("")
@operator_required
def index():
    meters = list(db.session.scalars(select(Meter).order_by(Meter.name, Meter.serial)))
    last = {
        m: i
        for m, i in db.session.execute(select(Reading.meter_id, func.max(Reading.interval)).group_by(Reading.meter_id))
    }
    tariffs, error, status = None, None, {}
    try:
        tariffs = grid_tariffs()
        status = chain().status()
    except UserError as exc:
        error = exc.message
    return render_template(
        "operator.html",
        meters=meters,
        last=last,
        oracle=oracle_status(),
        tariffs=tariffs,
        chain_error=error,
        chain_status=status,
        meter_form=MeterForm(),
        tariff_form=TariffForm(),
        max_price=current_app.config["MAX_PRICE_SEN"],
    )


@bp.post("/meters")
@operator_required
def register_meter():
    form = MeterForm()
    if not form.validate_on_submit():
        raise UserError("Enter a meter serial and an owner.", "invalid_meter")
    owner_text = form.owner.data.strip()
    user = db.session.scalar(select(User).where(User.username == owner_text))
    owner = user.address if user else owner_text
    if not (owner.startswith("0x") and len(owner) == 42):
        raise UserError("The owner must be a username or a 0x address.", "invalid_owner")
    serial = form.serial.data.strip()
    chain().register_meter(serial, owner)
    sync_index()
    _remember_serial(serial, form.name.data)
    flash(f"Meter {serial} registered to {owner_text}.", "success")
    return redirect(url_for("operator.index"))


def _remember_serial(serial: str, name: str | None, kind: str | None = None) -> None:
    from energy_chain.meters import meter_id_hex

    mid = meter_id_hex(serial)
    meter = db.session.get(Meter, mid) or Meter(meter_id=mid)
    meter.serial, meter.name = serial, name or meter.name
    meter.kind = kind or meter.kind
    db.session.add(meter)
    db.session.commit()


@bp.post("/tariffs")
@operator_required
def set_tariffs():
    form = TariffForm()
    if not form.validate_on_submit():
        raise UserError("Enter both tariffs in sen/kWh.", "invalid_tariff")
    try:
        retail = parse_price_sen(form.import_sen.data, current_app.config["MAX_PRICE_SEN"])
        feed_in = parse_price_sen(form.export_sen.data, current_app.config["MAX_PRICE_SEN"])
    except InvalidAmount as exc:
        raise UserError(str(exc), "invalid_amount") from exc
    if not chain().has_contract(AUCTION):
        raise UserError("The auction contract that holds the grid tariffs is not deployed yet.", "not_deployed", 503)
    chain().send(chain().operator(), AUCTION, "setGridTariffs", (retail, feed_in), wait=True)
    flash("Grid tariffs updated.", "success")
    return redirect(url_for("operator.index"))
