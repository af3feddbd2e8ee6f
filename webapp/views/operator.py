"""Operator page: meters (register, state, last reading), oracle status and lag, grid tariffs."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from webapp.errors import UserError
from webapp.forms import MeterForm, TariffForm
from webapp.services import operator
from webapp.services.context import chain
from webapp.units import InvalidAmount, parse_price_sen

bp = Blueprint("operator", __name__, url_prefix="/operator")


def operator_required(view):
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_operator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("")
@operator_required
def index():
    tariffs, error, status = None, None, {}
    try:
        tariffs = operator.grid_tariffs()
        status = chain().status()
    except UserError as exc:
        error = exc.message
    return render_template("operator.html", meters=operator.meters(), last=operator.last_intervals(),
                           oracle=operator.oracle_status(), tariffs=tariffs, chain_error=error, chain_status=status,
                           meter_form=MeterForm(), tariff_form=TariffForm(),
                           max_price=current_app.config["MAX_PRICE_SEN"])  # fmt: skip


@bp.post("/meters")
@operator_required
def register_meter():
    form = MeterForm()
    if not form.validate_on_submit():
        raise UserError("Enter a meter serial and an owner.", "invalid_meter")
    owner_text = form.owner.data.strip()
    serial = form.serial.data.strip()
    operator.register_meter(serial, owner_text, form.name.data)
    flash(f"Meter {serial} registered to {owner_text}.", "success")
    return redirect(url_for("operator.index"))


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
    operator.set_tariffs(retail, feed_in)
    flash("Grid tariffs updated.", "success")
    return redirect(url_for("operator.index"))
