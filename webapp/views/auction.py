"""Auction page (periodic double auction): filled in once the DoubleAuction contract is deployed."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("auction", __name__, url_prefix="/auction")


@bp.get("")
def index():
    return render_template("auction.html", round=None)
