"""The profile page: a display name shown where names are shown, a password change that re-encrypts the wallet's
keystore (same address, the policy, rate-limited, other sessions ended), the encrypted keystore as a download, and
a browser-wallet account's page without any of the password parts. On SQLite and PostgreSQL, on a real anvil."""

from __future__ import annotations

import json
import re
import time

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import select

from tests.webapp.conftest import app_config
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuthSession, User

PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple otter lantern river"


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _change(client, current: str = PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post("/profile/password", data={"current_password": current, "new_password": new,
                                                  "confirm": new if confirm is None else confirm})  # fmt: skip


def test_password_change_reencrypts_the_keystore_and_only_the_new_password_logs_in(app, users):
    me, other_device = app.test_client(), app.test_client()
    name = users.signup(me)
    login = other_device.post("/auth/login", data={"username": name, "password": PASSWORD})
    assert login.status_code == 302
    before = _user(app, name)
    page = me.get("/profile").get_data(as_text=True)
    assert 'id="lost-password-warning"' in page and "you lose the wallet" in page
    assert "logs out your other sessions" in page

    r = _change(me)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "1 other sessions and API tokens were logged out" in me.get("/profile").get_data(as_text=True)
    after = _user(app, name)
    assert after.address == before.address and after.keystore != before.keystore
    keystore = json.loads(after.keystore)
    assert keystore["crypto"]["kdf"] == "scrypt" and keystore["crypto"]["kdfparams"]["n"] == 2**10  # WALLET_SCRYPT_N
    assert Account.from_key(Account.decrypt(keystore, NEW_PASSWORD)).address == before.address
    try:
        Account.decrypt(keystore, PASSWORD)
        raise AssertionError("the old password still opens the keystore")
    except ValueError:
        pass

    assert other_device.get("/profile").status_code == 302  # the other session was ended (redirect to log in)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(AuthSession.id)).where(AuthSession.user_id == after.id)) == 1
    # this session stays logged in and unlocked: it signs (an order it cannot afford fails on balance, not lock)
    r = me.post("/api/v1/orders", json={"side": "sell", "price_sen": "40", "amount_kwh": "1", "wait": True})
    assert r.status_code == 422 and "Insufficient balance" in r.get_json()["error"]["message"]

    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"username": name, "password": PASSWORD}).status_code == 401
    assert fresh.post("/auth/login", data={"username": name, "password": NEW_PASSWORD}).status_code == 302
    assert "Logged in" in fresh.get("/market").get_data(as_text=True)


def test_password_change_needs_the_current_password_and_follows_the_policy(app, users):
    client = app.test_client()
    name = users.signup(client)
    before = _user(app, name).keystore
    r = _change(client, current="not my password at all")
    assert r.status_code == 401 and "The current password is wrong" in r.get_data(as_text=True)
    r = _change(client, new="password1234")
    assert r.status_code == 400 and "most common passwords" in r.get_data(as_text=True)
    r = _change(client, new=f"{name} is my password")
    assert r.status_code == 400 and "Do not put your username in your password" in r.get_data(as_text=True)
    r = _change(client, confirm="something else entirely")
    assert r.status_code == 400 and "The passwords do not match" in r.get_data(as_text=True)
    assert _user(app, name).keystore == before  # nothing changed


def test_password_change_is_rate_limited_like_logins(chain, db_url):
    app = create_app(app_config(chain, db_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute",
                                ACCOUNT_RATE_LIMIT="3 per minute", SIGNUP_RATE_LIMIT="100 per minute"))  # fmt: skip
    try:
        client = app.test_client()
        r = client.post("/auth/signup", data={"username": f"rl{time.time_ns() % 10**9}", "password": PASSWORD,
                                              "confirm": PASSWORD})  # fmt: skip
        assert r.status_code == 302
        codes = [_change(client, current=f"wrong guess {i} xyz").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429], codes
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_keystore_download_is_the_stored_keystore_after_the_password(app, users):
    client = app.test_client()
    name = users.signup(client)
    stored = _user(app, name)
    assert client.get("/profile/keystore").status_code == 405  # a POST with the form's CSRF token only
    r = client.post("/profile/keystore", data={"keystore_password": "not the password"})
    assert r.status_code == 401 and "Content-Disposition" not in r.headers
    r = client.post("/profile/keystore", data={"keystore_password": PASSWORD})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"] == f'attachment; filename="keystore-{name}-{stored.address}.json"'
    assert r.headers["Cache-Control"] == "no-store"
    assert r.get_data(as_text=True) == stored.keystore
    assert Account.from_key(Account.decrypt(r.get_json(), PASSWORD)).address == stored.address


def test_keystore_download_needs_the_csrf_token(chain, db_url):
    app = create_app(app_config(chain, db_url, WTF_CSRF_ENABLED=True))
    try:
        client = app.test_client()
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/auth/signup").get_data(as_text=True))
        r = client.post("/auth/signup", data={"username": f"csrf{time.time_ns() % 10**9}", "password": PASSWORD,
                                              "confirm": PASSWORD, "csrf_token": token.group(1)})  # fmt: skip
        assert r.status_code == 302
        r = client.post("/profile/keystore", data={"keystore_password": PASSWORD})
        assert "Content-Disposition" not in r.headers and r.status_code in (302, 400)
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/profile").get_data(as_text=True))
        r = client.post("/profile/keystore", data={"keystore_password": PASSWORD, "csrf_token": token.group(1)})
        assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment;")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_display_name_is_shown_beside_the_username(app, chain, users):
    seller_c, buyer_c = app.test_client(), app.test_client()
    seller, buyer = users.signup(seller_c), users.signup(buyer_c)
    r = seller_c.post("/profile/name", data={"display_name": "  Aisyah's   Solar Roof "})
    assert r.status_code == 302
    assert _user(app, seller).display_name == "Aisyah's Solar Roof"
    chain.mint_energy(users.address(seller), 2000)
    chain.top_up(users.address(buyer), 2_000_000)
    assert seller_c.post("/market/order", data={"side": "sell", "price": "40", "amount": "1"}).status_code == 302
    assert buyer_c.post("/market/order", data={"side": "buy", "price": "40", "amount": "1"}).status_code == 302
    users.index()
    page = buyer_c.get("/market").get_data(as_text=True)
    assert f"Aisyah&#39;s Solar Roof ({seller})" in page  # in the recent trades, with the unique username
    r = seller_c.post("/profile/name", data={"display_name": "bad\u202ename"})
    assert r.status_code == 400 and "invisible characters" in r.get_data(as_text=True)
    r = seller_c.post("/profile/name", data={"display_name": "x" * 65})
    assert r.status_code == 400
    assert seller_c.post("/profile/name", data={"display_name": ""}).status_code == 302
    assert _user(app, seller).display_name is None


def test_a_browser_wallet_account_has_no_password_section(app):
    client = app.test_client()
    wallet = Account.create()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    page = client.get("/profile").get_data(as_text=True)
    assert 'id="browser-wallet-note"' in page and "Your key lives in your wallet" in page
    assert 'id="password-form"' not in page and 'id="keystore-form"' not in page
    r = _change(client)
    assert r.status_code == 409 and "browser wallet" in r.get_data(as_text=True)
    r = client.post("/profile/keystore", data={"keystore_password": PASSWORD})
    assert r.status_code == 409 and "Content-Disposition" not in r.headers
