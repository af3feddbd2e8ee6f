"""HTML forms (Flask-WTF: CSRF token on each). Field limits mirror the HTML attributes for instant visual cues."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"


class SignupForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="3 to 32 letters, digits, dot, dash or underscore"),
        ],
    )
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=8, max=128, message="At least 8 characters")]
    )
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", message="The passwords do not match")]
    )


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class UnlockForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


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
