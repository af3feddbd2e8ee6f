"""Sign up, log in (rate-limited per IP and per account), unlock, log out (this device or everywhere); and
Sign-In with Ethereum (EIP-4361) for browser wallets (the rules are in webapp.services.siwe)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from webapp.errors import UserError
from webapp.extensions import limiter
from webapp.forms import LoginForm, SignupForm, UnlockForm
from webapp.ratelimits import account_login_limit, ip_login_limit, login_limit, signup_rate_limit
from webapp.services import accounts, passwords, siwe
from webapp.views.helpers import local_path

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(default: str) -> str:
    return local_path(request.args.get("next"), default)


def _enter(user) -> None:
    session.clear()  # nothing from before the login survives in the cookie (session fixation)
    session.permanent = True
    login_user(user)


@bp.route("/signup", methods=["GET", "POST"])
@signup_rate_limit
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.signup(form.username.data.strip(), form.password.data)
        except UserError as exc:
            if exc.status >= 500:
                raise
            (form.password if exc.code == "weak_password" else form.username).errors.append(exc.localized())
        else:
            _enter(user)
            flash(_("Welcome, %(name)s! Your wallet %(address)s is ready. Top it up to start buying.",
                    name=user.username, address=user.address), "success")  # fmt: skip
            return redirect(url_for("account.index"))
    return (render_template("auth/signup.html", form=form, password_min=passwords.min_length()),
            400 if request.method == "POST" else 200)  # fmt: skip


@bp.route("/login", methods=["GET", "POST"])
@ip_login_limit
@account_login_limit
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data.strip(), form.password.data)
        except UserError as exc:
            if exc.status >= 500:
                raise
            flash(exc.localized(), "error")
            return render_template("auth/login.html", form=form), exc.status
        _enter(user)
        flash(_("Logged in as %(name)s.", name=user.username), "success")
        return redirect(_safe_next(url_for("market.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/unlock", methods=["GET", "POST"])
@login_required
@ip_login_limit
@account_login_limit
def unlock():
    """Re-enter the password after this session's unlock time ran out."""
    form = UnlockForm()
    if form.validate_on_submit():
        try:
            accounts.unlock(current_user, form.password.data)
        except UserError as exc:
            if exc.status >= 500:
                raise
            flash(exc.localized(), "error")
            return render_template("auth/unlock.html", form=form), exc.status
        flash(_("Wallet unlocked."), "success")
        return redirect(_safe_next(url_for("account.index")))
    return render_template("auth/unlock.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    everywhere = request.form.get("everywhere") == "1"
    count = accounts.log_out(current_user, everywhere=everywhere)
    logout_user()
    session.clear()
    if everywhere:
        flash(_("Logged out everywhere: %(n)s sessions and API tokens ended, on every device.", n=count), "info")
    else:
        flash(_("Logged out. This session and its copy of your unlocked wallet key were deleted from the server; "
                "your other devices stay logged in."), "info")  # fmt: skip
    return redirect(url_for("home.index"))


# ---------------------------------------------------------------------- Sign-In with Ethereum (EIP-4361)
@bp.get("/siwe/message")
@limiter.limit(login_limit)
def siwe_message():
    """An EIP-4361 message for `address` to sign, with a fresh single-use nonce kept by the server."""
    return jsonify(siwe.issue(request.args.get("address", "")))


@bp.post("/siwe/verify")
@ip_login_limit
def siwe_verify():
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    user = siwe.verify(body.get("message"), body.get("signature"))
    _enter(user)
    return jsonify({"ok": True, "username": user.username, "address": user.address,
                    "redirect": url_for("market.index")})  # fmt: skip
