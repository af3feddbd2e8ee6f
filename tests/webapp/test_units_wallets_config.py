"""Pure parts: unit parsing/formatting, keystores and the unlocked-key cache, configuration from the environment."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from webapp.config import load_config, secret_key
from webapp.units import (
    InvalidAmount,
    cost_units,
    fmt_kwh,
    fmt_myr,
    fmt_price,
    parse_energy_kwh,
    parse_myr,
    parse_price_sen,
)
from webapp.wallets import UnlockedKeys, WalletLocked, WrongPassword, create_keystore, import_keystore, unlock_keystore


# ---------------------------------------------------------------------- units
def test_price_in_sen_becomes_units_per_kwh():
    assert parse_price_sen("45.5", 500) == 455_000
    assert parse_price_sen(Decimal("0.0001"), 500) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("0", "greater than zero"),
        ("-3", "greater than zero"),
        ("501", "at most 500"),
        ("abc", "must be a number"),
        ("1.00001", "too many decimals"),
        ("nan", "must be a number"),
    ],
)
def test_bad_prices_are_refused_with_a_reason(text, message):
    with pytest.raises(InvalidAmount, match=message):
        parse_price_sen(text, 500)


def test_energy_in_kwh_becomes_wh_and_refuses_sub_wh():
    assert parse_energy_kwh("1.25", 1000) == 1250
    with pytest.raises(InvalidAmount, match="1 Wh"):
        parse_energy_kwh("0.0005", 1000)
    with pytest.raises(InvalidAmount, match="at most 1000"):
        parse_energy_kwh("1000.001", 1000)


def test_money_and_cost():
    assert parse_myr("12.5", 1000) == 12_500_000
    assert cost_units(455_000, 1250) == 568_750  # price * Wh / 1000, floored
    assert cost_units(3, 333) == 0


def test_formatting_for_people():
    assert fmt_kwh(1250) == "1.250 kWh"
    assert fmt_price(455_000) == "45.50 sen/kWh"
    assert fmt_myr(12_500_000) == "RM 12.50"
    assert fmt_myr(None) == "\u2013"


# ---------------------------------------------------------------------- wallets
def test_keystore_is_encrypted_and_opens_only_with_the_password():
    address, keystore = create_keystore("s3cret-password", 2**10)
    data = json.loads(keystore)
    assert data["crypto"]["kdf"] == "scrypt"
    signer = unlock_keystore(keystore, "s3cret-password")
    assert signer.address == address
    assert signer.account.key.hex() not in keystore  # the key is not in the stored text
    with pytest.raises(WrongPassword):
        unlock_keystore(keystore, "wrong-password")


def test_imported_key_keeps_its_address():
    key = "0x" + "11" * 32
    address, keystore = import_keystore(key, "pw-pw-pw-pw", 2**10)
    assert unlock_keystore(keystore, "pw-pw-pw-pw").address == address


def test_unlocked_keys_expire_and_share_one_nonce_counter():
    _, keystore = create_keystore("pw-pw-pw-pw", 2**10)
    cache = UnlockedKeys(ttl=0.2)
    first = unlock_keystore(keystore, "pw-pw-pw-pw")
    cache.put(first)
    cache.put(unlock_keystore(keystore, "pw-pw-pw-pw"))  # a second login keeps the first signer (its nonces)
    assert cache.get(first.address) is first
    time.sleep(0.3)
    with pytest.raises(WalletLocked):
        cache.get(first.address)
    cache.put(first)
    cache.drop(first.address)
    assert not cache.is_unlocked(first.address)


# ---------------------------------------------------------------------- configuration
def test_secret_key_is_generated_once_and_kept(tmp_path):
    key_file = tmp_path / "secret"
    first = secret_key({}, key_file)
    assert len(first) == 64 and key_file.stat().st_mode & 0o077 == 0
    assert secret_key({}, key_file) == first
    assert secret_key({"FLASK_SECRET_KEY": "from-env"}, key_file) == "from-env"


def test_the_literal_dev_secret_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dev"):
        secret_key({"FLASK_SECRET_KEY": "dev"}, tmp_path / "k")


def test_config_from_environment():
    cfg = load_config(
        {
            "FLASK_SECRET_KEY": "x" * 32,
            "DATABASE_URL": "postgres://u:p@db/energy",
            "RPC_URL": "http://n:1",
            "WEBAPP_SCRYPT_N": "1024",
            "WEBAPP_INDEXER": "0",
        }
    )
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql://u:p@db/energy"
    assert cfg["RPC_URL"] == "http://n:1"
    assert cfg["WALLET_SCRYPT_N"] == 1024 and cfg["INDEXER_ENABLED"] is False
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert load_config({"FLASK_SECRET_KEY": "x" * 32})["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_bad_integer_setting_names_the_variable():
    with pytest.raises(ValueError, match="WEBAPP_SCRYPT_N"):
        load_config({"FLASK_SECRET_KEY": "x" * 32, "WEBAPP_SCRYPT_N": "lots"})


def test_oracle_lag_is_humanized():
    from webapp.formatting import humanize_seconds

    assert humanize_seconds(0) == "0 s"
    assert humanize_seconds(75) == "1 min 15 s"
    assert humanize_seconds(3 * 86400 + 4 * 3600 + 59) == "3 d 4 h"
