"""HTML forms (Flask-WTF: CSRF token on each). Field limits mirror the HTML attributes for instant visual cues."""

from __future__ import annotations

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

from webapp.services.passwords import problem as password_problem

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"


class SignupForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="3 to 32 letters, digits, dot, dash or underscore"),
        ],
    )
    # The policy itself (length, common passwords, the username) is webapp.services.passwords, checked at sign-up.
    password = PasswordField("Password", validators=[DataRequired(message="Choose a password")])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", message="The passwords do not match")]
    )

    def validate_password(self, field) -> None:
        reason = password_problem(field.data or "", (self.username.data or "").strip())
        if reason is not None:
            raise ValidationError(reason)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class UnlockForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class OrderForm(FlaskForm):
    side = SelectField(
        "Side", choices=[SelectChoice("buy", "Buy"), SelectChoice("sell", "Sell")], validators=[DataRequired()]
    )
    # Text, not DecimalField: the typed text goes to webapp.units.parse_decimal (decimal point or comma), the one rule
    price = StringField("Price (sen/kWh)", validators=[InputRequired(message="Enter a price")])
    amount = StringField("Amount (kWh)", validators=[InputRequired(message="Enter an amount")])
    expiry_minutes = IntegerField(
        "Expires after (minutes, empty = never)", validators=[Optional(), NumberRange(min=1, max=60 * 24 * 30)]
    )


class CancelForm(FlaskForm):
    order_id = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token (operator's confirm/reject)."""


class TopUpForm(FlaskForm):
    amount = StringField("Amount (MYR)", validators=[InputRequired(message="Enter an amount")])  # units.parse_myr


class AuctionForm(FlaskForm):
    side = SelectField(
        "Side",
        choices=[SelectChoice("buy", "Bid (buy)"), SelectChoice("sell", "Ask (sell)")],
        validators=[DataRequired()],
    )
    # Text, not DecimalField: the typed text goes to webapp.units.parse_decimal (decimal point or comma), the one rule
    price = StringField("Price (sen/kWh)", validators=[InputRequired(message="Enter a price")])
    amount = StringField("Amount (kWh)", validators=[InputRequired(message="Enter an amount")])


class TariffForm(FlaskForm):
    import_sen = DecimalField("Grid import (sen/kWh)", places=4, validators=[DataRequired()])
    export_sen = DecimalField("Grid export (sen/kWh)", places=4, validators=[DataRequired()])


class MeterForm(FlaskForm):
    serial = StringField("Meter serial", validators=[DataRequired(), Length(max=128)])
    owner = StringField("Owner (username or 0x address)", validators=[DataRequired(), Length(max=64)])
    name = StringField("Household name", validators=[Optional(), Length(max=128)])
