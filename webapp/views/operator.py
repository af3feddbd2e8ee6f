"""Operator page: meters (register, state, last reading), oracle status and lag, grid tariffs, and the top-up
requests to confirm (once the payment arrived) or reject."""

from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.errors import UserError
from webapp.forms import ActionForm, MeterForm, TariffForm
from webapp.services import operator
from webapp.services import topup as topups
from webapp.services.context import chain, sync_index
from webapp.units import InvalidAmount, fmt_myr, parse_price_sen

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
        error = exc.localized()
    return render_template("operator.html", meters=operator.meters(), last=operator.last_intervals(),
                           oracle=operator.oracle_status(), tariffs=tariffs, chain_error=error, chain_status=status,
                           meter_form=MeterForm(), tariff_form=TariffForm(), decide_form=ActionForm(),
                           topup_requests=topups.pending(),
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
    flash(_("Meter %(serial)s registered to %(owner)s.", serial=serial, owner=owner_text), "success")
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
        raise UserError(exc.message, "invalid_amount") from exc
    operator.set_tariffs(retail, feed_in)
    flash(_("Grid tariffs updated."), "success")
    return redirect(url_for("operator.index"))


@bp.post("/topups/<int:request_id>/confirm")
@operator_required
def confirm_topup(request_id: int):
    """The payment with this request's reference arrived: the operator key issues the settlement tokens."""
    if not ActionForm().validate_on_submit():
        raise UserError("Reload the page and try again.", "invalid_form")
    row = topups.confirm(request_id, current_user)
    sync_index()
    flash(
        _("Top-up %(ref)s confirmed: %(amount)s credited.", ref=row.reference, amount=fmt_myr(row.amount_units)),
        "success",
    )
    return redirect(url_for("operator.index"))


@bp.post("/topups/<int:request_id>/reject")
@operator_required
def reject_topup(request_id: int):
    if not ActionForm().validate_on_submit():
        raise UserError("Reload the page and try again.", "invalid_form")
    row = topups.reject(request_id, current_user)
    flash(_("Top-up %(ref)s rejected; nothing was credited.", ref=row.reference), "info")
    return redirect(url_for("operator.index"))
