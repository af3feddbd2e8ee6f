"""Profile page: display name, password change (re-encrypts the wallet's keystore), encrypted keystore download, and
the warning that a lost password loses the wallet. The rules are in webapp.services.profile."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.errors import UserError
from webapp.ratelimits import account_login_limit, ip_login_limit
from webapp.services import passwords, sessions
from webapp.services import profile as profiles

bp = Blueprint("profile", __name__, url_prefix="/profile")


class DisplayNameForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Length(max=profiles.DISPLAY_NAME_MAX)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password",
                                                                message=_l("The passwords do not match"))])  # fmt: skip


class KeystoreForm(FlaskForm):
    keystore_password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


def _page(status: int = 200, **forms):
    user = current_user
    return render_template(
        "profile.html",
        name_form=forms.get("name_form") or DisplayNameForm(display_name=user.display_name or ""),
        password_form=forms.get("password_form") or PasswordChangeForm(formdata=None),
        keystore_form=forms.get("keystore_form") or KeystoreForm(formdata=None),
        password_min=passwords.min_length(),
        scrypt_n=profiles.scrypt_n(user),
        session_count=sessions.count(user),
    ), status


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("/name")
@login_required
def name():
    form = DisplayNameForm()
    if not form.validate_on_submit():
        return _page(400, name_form=form)
    try:
        stored = profiles.set_display_name(current_user, form.display_name.data)
    except UserError as exc:
        form.display_name.errors = [exc.localized()]
        return _page(400, name_form=form)
    if stored:
        flash(_("Display name saved: others now see you as “%(name)s (%(username)s)”.", name=stored,
                username=current_user.username), "success")  # fmt: skip
    else:
        flash(_("Display name removed: others see your username."), "success")
    return redirect(url_for("profile.index"))


@bp.post("/password")
@login_required
@ip_login_limit
@account_login_limit
def password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(400, password_form=form)
    try:
        ended = profiles.change_password(current_user, form.current_password.data, form.new_password.data)
    except UserError as exc:
        if exc.status >= 500:
            raise
        field = form.current_password if exc.code == "wrong_password" else form.new_password
        field.errors = [exc.localized()]
        return _page(exc.status, password_form=form)
    flash(_("Password changed. Your wallet's keystore is now encrypted with the new password (same wallet, same "
            "address). %(n)d other sessions and API tokens were logged out; this one stays logged in.", n=ended),
          "success")  # fmt: skip
    return redirect(url_for("profile.index"))


@bp.post("/keystore")
@login_required
@ip_login_limit
@account_login_limit
def keystore():
    """The encrypted keystore as a file, after the password is typed again (POST with the form's CSRF token)."""
    form = KeystoreForm()
    if not form.validate_on_submit():
        return _page(400, keystore_form=form)
    try:
        filename, body = profiles.keystore_download(current_user, form.keystore_password.data)
    except UserError as exc:
        if exc.status >= 500:
            raise
        form.keystore_password.errors = [exc.localized()]
        return _page(exc.status, keystore_form=form)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
