"""Sign up, log in (rate-limited), unlock, log out; and Sign-In with Ethereum (EIP-4361) for browser wallets."""

from __future__ import annotations

import re
import secrets
import warnings
from datetime import UTC, datetime
from urllib.parse import urlparse

from eth_utils import to_checksum_address
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.errors import UserError
from webapp.extensions import limiter
from webapp.forms import LoginForm, SignupForm, UnlockForm
from webapp.services import accounts
from webapp.services.context import chain

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(default: str) -> str:
    target = request.args.get("next") or ""
    parsed = urlparse(target)
    # Only same-site relative paths: never redirect a fresh login to another site. No control character: a CR/LF
    # cannot go into the Location header (it was a 500); a backslash, which browsers read as '/', neither.
    if (target.startswith("/") and not target.startswith("//") and not parsed.netloc
            and target.isprintable() and "\\" not in target):  # fmt: skip
        return target
    return default


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.signup(form.username.data.strip(), form.password.data)
        except UserError as exc:
            form.username.errors.append(exc.message)
        else:
            session.permanent = True
            login_user(user)
            flash(f"Welcome, {user.username}! Your wallet {user.address} is ready. Top it up to start buying.",
                  "success")  # fmt: skip
            return redirect(url_for("account.index"))
    return render_template("auth/signup.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data.strip(), form.password.data)
        except UserError as exc:
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), exc.status
        session.permanent = True
        login_user(user)
        flash(f"Logged in as {user.username}.", "success")
        return redirect(_safe_next(url_for("market.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/unlock", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def unlock():
    """Re-enter the password after the in-memory key expired (or the server restarted)."""
    form = UnlockForm()
    if form.validate_on_submit():
        try:
            accounts.unlock(current_user, form.password.data)
        except UserError as exc:
            flash(exc.message, "error")
            return render_template("auth/unlock.html", form=form), exc.status
        flash("Wallet unlocked.", "success")
        return redirect(_safe_next(url_for("account.index")))
    return render_template("auth/unlock.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.log_out(current_user)
    logout_user()
    session.clear()
    flash("Logged out. Your wallet key was removed from the server's memory.", "info")
    return redirect(url_for("home.index"))


# ---------------------------------------------------------------------- Sign-In with Ethereum (EIP-4361)
def _siwe():
    """The siwe package, imported on first use (its grammar library warns noisily at import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import siwe
        except Exception as exc:  # a broken install disables wallet sign-in only, with a clear message
            raise UserError("Wallet sign-in is not available on this server.", "siwe_unavailable", 503) from exc
    return siwe


@bp.get("/siwe/message")
def siwe_message():
    """An EIP-4361 message for `address` to sign, with a fresh nonce kept in the session."""
    address = request.args.get("address", "")
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        raise UserError("Give your wallet address as ?address=0x...", "invalid_address")
    nonce = secrets.token_hex(12)  # EIP-4361: at least 8 alphanumeric characters
    session["siwe_nonce"] = nonce
    message = _siwe().SiweMessage(
        domain=request.host, address=to_checksum_address(address), uri=request.host_url.rstrip("/"), version="1",
        chain_id=chain().client.chain_id, nonce=nonce,
        issued_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        statement="Sign in to the SolarShare energy market.",
    )  # fmt: skip
    return jsonify({"message": message.prepare_message(), "nonce": nonce})


@bp.post("/siwe/verify")
@limiter.limit(_login_limit)
def siwe_verify():
    siwe = _siwe()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}  # a list or a bad document is "no message" (was a 500 for a list)
    nonce = session.pop("siwe_nonce", None)
    if not nonce or not body.get("message") or not body.get("signature"):
        raise UserError("Ask for a fresh sign-in message and sign it with your wallet.", "siwe_invalid", 400)
    try:
        message = siwe.SiweMessage.from_message(body["message"])
        message.verify(body["signature"], domain=request.host, nonce=nonce)
    except Exception as exc:  # siwe raises many specific types; all mean "not a valid sign-in"
        raise UserError("The wallet signature did not verify. Try again.", "siwe_invalid", 401) from exc
    user = accounts.wallet_user(message.address)
    session.permanent = True
    login_user(user)
    return jsonify({"ok": True, "username": user.username, "address": user.address,
                    "redirect": url_for("market.index")})  # fmt: skip
