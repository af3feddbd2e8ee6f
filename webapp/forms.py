"""HTML forms (Flask-WTF: CSRF token on each). Field limits mirror the HTML attributes for instant visual cues.

Labels and messages are lazy (`_l`): they are translated when a page shows them, in that request's language.
WTForms has no Malay catalogue, so every validator gets its message here."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from webapp.i18n import localize
from webapp.services.passwords import problem as password_problem

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
REQUIRED = _l("This field is required.")
TOO_LONG = _l("At most %(max)d characters.")


class SignupForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(message=REQUIRED),
            Regexp(USERNAME_PATTERN, message=_l("3 to 32 letters, digits, dot, dash or underscore")),
        ],
    )
    # The policy itself (length, common passwords, the username) is webapp.services.passwords, checked at sign-up.
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Choose a password"))])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(message=REQUIRED), EqualTo("password", message=_l("The passwords do not match"))],
    )

    def validate_password(self, field) -> None:
        reason = password_problem(field.data or "", (self.username.data or "").strip())
        if reason is not None:
            raise ValidationError(localize(reason))


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(message=REQUIRED), Length(max=64, message=TOO_LONG)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=REQUIRED), Length(max=256, message=TOO_LONG)]
    )


class UnlockForm(FlaskForm):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=REQUIRED), Length(max=256, message=TOO_LONG)]
    )


class OrderForm(FlaskForm):
    side = SelectField(
        _l("Side"),
        choices=[SelectChoice("buy", _l("Buy")), SelectChoice("sell", _l("Sell"))],
        validators=[DataRequired(message=REQUIRED)],
    )
    # Text, not DecimalField: the typed text goes to webapp.units.parse_decimal (decimal point or comma), the one rule
    price = StringField(_l("Price (sen/kWh)"), validators=[InputRequired(message=_l("Enter a price"))])
    amount = StringField(_l("Amount (kWh)"), validators=[InputRequired(message=_l("Enter an amount"))])
    expiry_minutes = IntegerField(
        _l("Expires after (minutes, empty = never)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=60 * 24 * 30, message=_l("Between %(min)s and %(max)s minutes.")),
        ],
    )


class CancelForm(FlaskForm):
    order_id = HiddenField(validators=[DataRequired(message=REQUIRED)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token (operator's confirm/reject)."""


class TopUpForm(FlaskForm):
    amount = StringField(_l("Amount (MYR)"), validators=[InputRequired(message=_l("Enter an amount"))])  # parse_myr


class AuctionForm(FlaskForm):
    side = SelectField(
        _l("Side"),
        choices=[SelectChoice("buy", _l("Bid (buy)")), SelectChoice("sell", _l("Ask (sell)"))],
        validators=[DataRequired(message=REQUIRED)],
    )
    # Text, not DecimalField: the typed text goes to webapp.units.parse_decimal (decimal point or comma), the one rule
    price = StringField(_l("Price (sen/kWh)"), validators=[InputRequired(message=_l("Enter a price"))])
    amount = StringField(_l("Amount (kWh)"), validators=[InputRequired(message=_l("Enter an amount"))])


class TariffForm(FlaskForm):
    import_sen = DecimalField(_l("Grid import (sen/kWh)"), places=4, validators=[DataRequired(message=REQUIRED)])
    export_sen = DecimalField(_l("Grid export (sen/kWh)"), places=4, validators=[DataRequired(message=REQUIRED)])


class MeterForm(FlaskForm):
    serial = StringField(
        _l("Meter serial"), validators=[DataRequired(message=REQUIRED), Length(max=128, message=TOO_LONG)]
    )
    owner = StringField(
        _l("Owner (username or 0x address)"),
        validators=[DataRequired(message=REQUIRED), Length(max=64, message=TOO_LONG)],
    )
    name = StringField(_l("Household name"), validators=[Optional(), Length(max=128, message=TOO_LONG)])
