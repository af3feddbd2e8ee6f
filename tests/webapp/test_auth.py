"""Accounts: sign-up makes an encrypted wallet, login unlocks it, sessions and forms are protected."""

from __future__ import annotations

import json
import logging
import re

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import select

from tests.webapp.conftest import app_config
from webapp.extensions import db
from webapp.models import AuthSession, User

PASSWORD = "correct horse battery"


def _user(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def test_signup_creates_wallet_stored_only_encrypted(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post("/auth/signup", data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    user = _user(app, "alice")
    assert user.address.startswith("0x") and len(user.address) == 42
    assert user.password_hash != PASSWORD and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert json.loads(user.keystore)["crypto"]["kdf"] == "scrypt"
    key_hex = Account.decrypt(json.loads(user.keystore), PASSWORD).hex()
    with app.app_context():  # unlocked for this login: kept only wrapped under the session's key
        (wrapped,) = db.session.scalars(select(AuthSession.wrapped_key).where(AuthSession.user_id == user.id))
    assert wrapped.startswith("v1.") and key_hex not in wrapped and key_hex[2:] not in wrapped
    assert key_hex not in user.keystore and key_hex[2:] not in user.keystore
    assert key_hex not in caplog.text and PASSWORD not in caplog.text  # never logged
    assert client.get("/api/v1/me").get_json()["wallet_unlocked"] is True


def test_signup_validation_and_duplicates(client):
    r = client.post("/auth/signup", data={"username": "x", "password": "short", "confirm": "other"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "3 to 32 letters" in page and "Use at least 12 characters" in page and "do not match" in page
    client.post("/auth/signup", data={"username": "bob", "password": PASSWORD, "confirm": PASSWORD})
    other = client.application.test_client()
    r = other.post("/auth/signup", data={"username": "bob", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 400 and "That username is not available." in r.get_data(as_text=True)


def test_login_logout_and_wrong_password(app, client, users):
    name = users.signup(client)
    address = users.address(name)
    client.post("/auth/logout")
    with app.app_context():  # logout deletes the session, and the wrapped key with it
        assert db.session.scalar(select(AuthSession).where(AuthSession.user_id == _user(app, name).id)) is None
    r = client.post("/auth/login", data={"username": name, "password": "wrong password"})
    assert r.status_code == 401 and "Wrong username or password." in r.get_data(as_text=True)
    r = client.post("/auth/login", data={"username": "nobody", "password": "whatever1"})
    assert r.status_code == 401
    r = client.post("/auth/login", data={"username": name, "password": PASSWORD})
    assert r.status_code == 302 and client.get("/api/v1/me").get_json()["wallet_unlocked"] is True
    assert client.get("/account").status_code == 200 and address in client.get("/account").get_data(as_text=True)


def test_login_redirects_only_within_the_site(client, users):
    name = users.signup(client)
    client.post("/auth/logout")
    r = client.post("/auth/login?next=/meter", data={"username": name, "password": PASSWORD})
    assert r.headers["Location"] == "/meter"
    client.post("/auth/logout")
    r = client.post("/auth/login?next=https://evil.example/", data={"username": name, "password": PASSWORD})
    assert r.headers["Location"] == "/market"


def test_pages_that_need_login_redirect_to_login(client):
    for url in ("/account", "/meter", "/operator", "/auth/unlock"):
        r = client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], url


def test_session_cookie_is_httponly_and_samesite(client, users):
    r = client.post("/auth/signup", data={"username": "cookie", "password": PASSWORD, "confirm": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers(client):
    r = client.get("/")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_login_is_rate_limited(chain, db_url):
    from webapp import create_app

    app = create_app(app_config(chain, db_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute"))
    client = app.test_client()
    codes = [client.post("/auth/login", data={"username": "u", "password": "p" * 8}).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    r = client.post("/auth/login", data={"username": "u", "password": "p" * 8})
    assert "Too many attempts" in r.get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # only attempts are limited, not the page


def test_forms_need_a_csrf_token(chain, db_url):
    from webapp import create_app

    app = create_app(app_config(chain, db_url, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    r = client.post("/auth/signup", data={"username": "csrf", "password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 400 and "form expired" in r.get_data(as_text=True)
    page = client.get("/auth/signup").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post(
        "/auth/signup", data={"username": "csrf", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302


def test_expired_wallet_asks_to_log_in_again(app, client, users):
    name = users.signup(client)
    users.lock_wallet(name)  # as if this session's unlock time had run out
    r = client.post("/market/order", data={"side": "buy", "price": "40", "amount": "1"}, follow_redirects=True)
    assert "Your session expired: log in again to unlock your wallet." in r.get_data(as_text=True)
    assert "Unlock it" in client.get("/account").get_data(as_text=True)
    r = client.post("/auth/unlock", data={"password": "wrong-password"})
    assert r.status_code == 401
    r = client.post("/auth/unlock", data={"password": PASSWORD})
    assert r.status_code == 302 and client.get("/api/v1/me").get_json()["wallet_unlocked"] is True


def test_sign_in_with_ethereum(app, client):
    wallet = Account.create()
    r = client.get(f"/auth/siwe/message?address={wallet.address.lower()}")
    message = r.get_json()["message"]
    assert wallet.address in message and "Chain ID: 1337" in message  # checksummed by the server
    signature = Account.sign_message(encode_defunct(text=message), wallet.key).signature.to_0x_hex()
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": signature})
    assert r.status_code == 200 and r.get_json()["address"] == wallet.address
    user = _user(app, r.get_json()["username"])
    assert user.keystore is None and not user.custodial
    # a replayed message fails: its nonce was used up
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": signature})
    assert r.status_code == 400


def test_sign_in_with_ethereum_rejects_a_forged_signature(client):
    wallet, other = Account.create(), Account.create()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), other.key).signature.to_0x_hex()
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": signature})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "siwe_invalid"
    assert client.get("/auth/siwe/message?address=nope").status_code == 400
