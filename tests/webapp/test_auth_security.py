"""Issue #15 (web) and #14 bug 2, each as the attacker reproduced it against `make demo`: top-ups that mint money,
Sign-In with Ethereum replay and Host spoofing, sessions that outlive logout (and logout that locks other devices),
username squatting of wallet accounts, unbounded scrypt memory, weak passwords, a world-readable database,
revoked API tokens that keep working, and sign-up as a username oracle."""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import delete, select, update

from tests.webapp.conftest import app_config
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuthSession, SiweNonce, TopUpRequest, User

PASSWORD = "correct horse battery"


def _app(chain, db_url, **overrides):
    return create_app(app_config(chain, db_url, **overrides))


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _api_signup(client, name: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/auth/signup", json={"username": name, "password": password})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["token"]


def _name(prefix: str = "u") -> str:
    return f"{prefix}{time.time_ns() % 10**10}"


def _balance(app, address: str) -> int:
    with app.app_context():
        return app.extensions["chain"].balances(address).settlement_units


def _make_operator(app, username: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(is_operator=True))
        db.session.commit()


def _sign(message: str, key) -> str:
    return Account.sign_message(encode_defunct(text=message), key).signature.to_0x_hex()


# ---------------------------------------------------------------------- 1. top-ups come from the operator
def test_topup_is_a_request_until_the_operator_confirms_it(chain, db_url):
    app = _app(chain, db_url, TOPUP_SELF_SERVICE=False)
    try:
        user, operator = app.test_client(), app.test_client()
        name = _name("payer")
        token = _api_signup(user, name)
        address = user.get("/api/v1/me").get_json()["user"]["address"]
        auth = {"Authorization": f"Bearer {token}"}
        r = user.post("/api/v1/account/topup", json={"amount_myr": "1000"}, headers=auth)  # the attack: RM 1000
        assert r.status_code == 202 and r.get_json()["status"] == "pending", r.get_json()
        reference = r.get_json()["reference"]
        assert reference in r.get_json()["message"] and "operator" in r.get_json()["message"]
        assert _balance(app, address) == 0  # nothing minted
        page = user.post("/account/topup", data={"amount": "25"}, follow_redirects=True).get_data(as_text=True)
        assert "the operator credits your wallet after confirming the payment" in page
        assert "waiting for the operator" in page and "Nothing is credited before" in page
        assert _balance(app, address) == 0

        # a user cannot confirm their own request
        assert user.post("/operator/topups/1/confirm").status_code == 403
        op_name = _name("op")
        _api_signup(operator, op_name)
        _make_operator(app, op_name)
        page = operator.get("/operator").get_data(as_text=True)
        assert reference in page and "RM 1,000.00" in page and "RM 25.00" in page
        with app.app_context():
            first, second = db.session.scalars(select(TopUpRequest.id).order_by(TopUpRequest.id)).all()
        r = operator.post(f"/operator/topups/{first}/confirm", follow_redirects=True)
        assert f"Top-up {reference} confirmed: RM 1,000.00 credited." in r.get_data(as_text=True)
        assert _balance(app, address) == 1000_000_000
        r = operator.post(f"/operator/topups/{first}/confirm", follow_redirects=True)  # a double click
        assert "was already credited" in r.get_data(as_text=True)
        assert _balance(app, address) == 1000_000_000
        r = operator.post(f"/operator/topups/{second}/reject", follow_redirects=True)
        assert "rejected; nothing was credited" in r.get_data(as_text=True)
        assert _balance(app, address) == 1000_000_000
        page = user.get("/account").get_data(as_text=True)
        assert "RM 1,000.00, credited" in page and "RM 25.00, rejected" in page
    finally:
        _dispose(app)


def test_demo_self_service_topup_is_capped_per_account_and_per_day(chain, db_url):
    app = _app(chain, db_url, TOPUP_SELF_SERVICE=True, TOPUP_USER_DAILY_MYR=10, TOPUP_DAILY_MYR=15)
    try:
        a, b = app.test_client(), app.test_client()
        _api_signup(a, _name("a"))
        _api_signup(b, _name("b"))
        address = a.get("/api/v1/me").get_json()["user"]["address"]
        assert "RM 10.00 left for you now" in a.get("/account").get_data(as_text=True)
        r = a.post("/api/v1/account/topup", json={"amount_myr": "6"})
        assert r.status_code == 201 and r.get_json()["status"] == "credited"
        r = a.post("/api/v1/account/topup", json={"amount_myr": "1000"})  # the attack, five times
        assert r.status_code == 429 and r.get_json()["error"]["code"] == "topup_limit"
        assert "at most RM 10.00 per account in 24 hours; RM 4.00 is left" in r.get_json()["error"]["message"]
        assert a.post("/api/v1/account/topup", json={"amount_myr": "4"}).status_code == 201
        assert a.post("/api/v1/account/topup", json={"amount_myr": "0.01"}).status_code == 429
        assert _balance(app, address) == 10_000_000
        r = b.post("/api/v1/account/topup", json={"amount_myr": "6"})  # 10 + 6 > the RM 15 of all accounts
        assert r.status_code == 429 and "for all accounts" in r.get_json()["error"]["message"]
        assert b.post("/api/v1/account/topup", json={"amount_myr": "5"}).status_code == 201
        assert "credits you at once" in b.get("/account").get_data(as_text=True)
    finally:
        _dispose(app)


def test_parallel_self_service_topups_never_pass_the_cap_together(chain, db_url):
    app = _app(chain, db_url, TOPUP_SELF_SERVICE=True, TOPUP_USER_DAILY_MYR=10, TOPUP_DAILY_MYR=1000)
    try:
        client = app.test_client()
        _api_signup(client, _name("par"))
        address = client.get("/api/v1/me").get_json()["user"]["address"]
        codes: list[int] = []
        threads = [threading.Thread(target=lambda: codes.append(
            client.post("/api/v1/account/topup", json={"amount_myr": "4"}).status_code)) for _ in range(6)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes.count(201) <= 2 and set(codes) <= {201, 429}, codes
        assert _balance(app, address) == 4_000_000 * codes.count(201) <= 10_000_000
    finally:
        _dispose(app)


def test_self_service_topup_is_off_unless_configured():
    from webapp.config import load_config

    config = load_config({"FLASK_SECRET_KEY": "x" * 32})
    assert config["TOPUP_SELF_SERVICE"] is False
    assert load_config({"FLASK_SECRET_KEY": "x" * 32, "WEBAPP_TOPUP_SELF_SERVICE": "1",
                        "WEBAPP_TOPUP_USER_DAILY_MYR": "50"})["TOPUP_USER_DAILY_MYR"] == 50  # fmt: skip


# ---------------------------------------------------------------------- 2. Sign-In with Ethereum
def test_siwe_message_names_the_configured_site_not_the_host_header(client):
    wallet = Account.create()
    r = client.get(f"/auth/siwe/message?address={wallet.address}", headers={"Host": "evil.example"})
    message = r.get_json()["message"]
    assert message.startswith("localhost wants you to sign in with your Ethereum account:")
    assert "evil.example" not in message and "URI: http://localhost\n" in message and "Chain ID: 1337" in message
    assert "Expiration Time: " in message


def test_siwe_refuses_foreign_domain_uri_chain_and_stale_messages(app, client):
    wallet = Account.create()
    body = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()
    message = body["message"]
    issued = re.search(r"Issued At: (\S+)", message).group(1)
    forgeries = {
        "domain": message.replace("localhost wants", "evil.example wants"),
        "uri": message.replace("URI: http://localhost", "URI: https://evil.example"),
        "chain": message.replace("Chain ID: 1337", "Chain ID: 1"),
        "issued at 2020": message.replace(f"Issued At: {issued}", "Issued At: 2020-01-01T00:00:00Z"),
    }
    for what, forged in forgeries.items():
        assert forged != message, what
        r = client.post("/auth/siwe/verify", json={"message": forged, "signature": _sign(forged, wallet.key)})
        assert r.status_code in (400, 401) and r.get_json()["error"]["code"] == "siwe_invalid", (what, r.get_json())
    evil = {"message": forgeries["domain"], "signature": _sign(forgeries["domain"], wallet.key)}
    assert "is for evil.example" in client.post("/auth/siwe/verify", json=evil).get_json()["error"]["message"]
    # a Host header cannot make the server accept a message for another domain either
    assert client.post("/auth/siwe/verify", headers={"Host": "evil.example"}, json=evil).status_code == 401
    # the real message still works: refused forgeries did not use its nonce up
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": _sign(message, wallet.key)})
    assert r.status_code == 200, r.get_json()


def test_siwe_nonce_is_single_use_server_side_and_short_lived(chain, app, client, db_url):
    wallet = Account.create()
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    nonce = re.search(r"Nonce: (\w+)", message).group(1)
    with app.app_context():
        assert db.session.get(SiweNonce, nonce).address == wallet.address  # kept by the server
    saved = app.test_client()  # the attacker saved the cookie and the signed message
    cookie = client.get_cookie("session")
    if cookie is not None:
        saved.set_cookie("session", cookie.value)
    signature = _sign(message, wallet.key)
    assert client.post("/auth/siwe/verify", json={"message": message, "signature": signature}).status_code == 200
    with app.app_context():
        assert db.session.get(SiweNonce, nonce) is None  # used up
    for replay in (saved, app.test_client(), client):
        r = replay.post("/auth/siwe/verify", json={"message": message, "signature": signature})
        assert r.status_code == 400 and "already used" in r.get_json()["error"]["message"]
    other = _app(chain, db_url)  # another server process on the same database
    try:
        replay = {"message": message, "signature": signature}
        assert other.test_client().post("/auth/siwe/verify", json=replay).status_code == 400
    finally:
        _dispose(other)
    # an unused nonce expires
    message = client.get(f"/auth/siwe/message?address={wallet.address}").get_json()["message"]
    with app.app_context():
        db.session.execute(update(SiweNonce).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": _sign(message, wallet.key)})
    assert r.status_code == 400


# ---------------------------------------------------------------------- 3. sessions end at logout, per device
def _copy_cookie(src, dst) -> None:
    dst.set_cookie("session", src.get_cookie("session").value)


def test_a_copied_session_cookie_dies_at_logout_and_stays_dead_after_the_next_login(app, chain, users):
    victim, thief = app.test_client(), app.test_client()
    name = users.signup(victim)
    _copy_cookie(victim, thief)
    assert thief.get("/account").status_code == 200  # a copied cookie is the session, as long as it lives
    victim.post("/auth/logout")
    r = thief.get("/account")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert thief.get("/api/v1/me").status_code == 401
    victim.post("/auth/login", data={"username": name, "password": PASSWORD})
    chain.top_up(users.address(name), 1_000_000)
    r = thief.post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "login_required"
    assert victim.get("/api/v1/me").get_json()["wallet_unlocked"] is True


def test_the_cookie_carries_a_session_credential_not_the_user_id(app, client, users):
    name = users.signup(client)
    with app.test_request_context():
        data = app.session_interface.get_signing_serializer(app).loads(client.get_cookie("session").value)
    user_id = str(users_id(app, name))
    assert data["_user_id"].startswith("s1.") and data["_user_id"] != user_id
    with app.app_context():
        row = db.session.scalar(select(AuthSession).where(AuthSession.user_id == int(user_id)))
        session_id = data["_user_id"].split(".")[1]
        assert session_id not in row.token_hash and len(row.token_hash) == 64  # only a digest is stored


def users_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == name))


def test_logout_on_one_device_leaves_the_others_unlocked_and_trading(app, chain, users):
    laptop, phone = app.test_client(), app.test_client()
    name = users.signup(laptop)
    assert phone.post("/auth/login", data={"username": name, "password": PASSWORD}).status_code == 302
    chain.top_up(users.address(name), 2_000_000)
    laptop.post("/auth/logout")
    assert laptop.get("/api/v1/me").status_code == 401
    assert "Your wallet is locked" not in phone.get("/account").get_data(as_text=True)
    r = phone.post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000, "wait": True})
    assert r.status_code == 201 and r.get_json()["status"] == "success", r.get_json()


def test_a_server_restart_keeps_sessions_logged_in_and_unlocked(chain, db_url):
    first = _app(chain, db_url)
    browser = first.test_client()
    token = _api_signup(browser, _name("restart"))
    cookie = browser.get_cookie("session").value
    address = browser.get("/api/v1/me").get_json()["user"]["address"]
    _dispose(first)
    second = _app(chain, db_url)  # the restarted server: nothing of the first one's memory
    try:
        again = second.test_client()
        again.set_cookie("session", cookie)
        assert again.get("/api/v1/me").get_json()["wallet_unlocked"] is True
        assert "Your wallet is locked" not in again.get("/account").get_data(as_text=True)
        chain.top_up(address, 1_000_000)
        r = again.post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000, "wait": True})
        assert r.status_code == 201 and r.get_json()["status"] == "success", r.get_json()
        api = second.test_client()
        r = api.post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000, "wait": True},
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 201, r.get_json()
    finally:
        _dispose(second)


def test_the_server_cannot_sign_without_the_clients_wrap_key(app, chain, client):
    token = _api_signup(client, _name("wrap"))
    address = client.get("/api/v1/me").get_json()["user"]["address"]
    chain.top_up(address, 1_000_000)
    prefix, session_id, _wrap = token.split(".")
    forged = f"{prefix}.{session_id}.{'A' * 43}"  # the right session, another wrap key
    r = app.test_client().post("/api/v1/orders", json={"side": "buy", "price": 400_000, "amount_wh": 1000},
                               headers={"Authorization": f"Bearer {forged}"})  # fmt: skip
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "wallet_locked"
    with app.app_context():
        row = db.session.scalar(select(AuthSession).where(AuthSession.token_hash.is_not(None)))
        assert row.wrapped_key.startswith("v1.")


def test_log_out_everywhere_ends_every_session_and_token(app, users):
    laptop, phone = app.test_client(), app.test_client()
    name = users.signup(laptop)
    phone.post("/auth/login", data={"username": name, "password": PASSWORD})
    token = laptop.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).get_json()["token"]
    assert "Log out everywhere (3 sessions)" in phone.get("/account").get_data(as_text=True)
    r = phone.post("/auth/logout", data={"everywhere": "1"}, follow_redirects=True)
    assert "Logged out everywhere: 3 sessions" in r.get_data(as_text=True)
    assert laptop.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# ---------------------------------------------------------------------- 4. wallet- names cannot be squatted
def test_wallet_names_are_reserved_and_a_squatted_short_name_never_breaks_siwe(app, client):
    victim = Account.create()
    squat = f"wallet-{victim.address[2:10].lower()}"
    r = app.test_client().post("/api/v1/auth/signup", json={"username": squat, "password": PASSWORD})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "username_taken"
    r = app.test_client().post("/auth/signup", data={"username": squat.upper(), "password": PASSWORD,
                                                     "confirm": PASSWORD})  # fmt: skip
    assert r.status_code == 400 and "not available" in r.get_data(as_text=True)
    with app.app_context():  # squatted before the fix (or by a ground address with the same first digits)
        db.session.add(User(username=squat, address=Account.create().address, password_hash=None, keystore=None))
        db.session.commit()
    message = client.get(f"/auth/siwe/message?address={victim.address}").get_json()["message"]
    r = client.post("/auth/siwe/verify", json={"message": message, "signature": _sign(message, victim.key)})
    assert r.status_code == 200 and r.get_json()["username"] == f"wallet-{victim.address[2:].lower()}"
    message = app.test_client().get(f"/auth/siwe/message?address={victim.address}").get_json()["message"]
    r = app.test_client().post("/auth/siwe/verify", json={"message": message, "signature": _sign(message, victim.key)})
    assert r.status_code == 200 and r.get_json()["address"] == victim.address  # the same account again


# ---------------------------------------------------------------------- 5. bounded scrypt, per-account limits
def test_concurrent_keystore_decryptions_are_bounded(chain, db_url, monkeypatch):
    import webapp.wallets as wallets

    app = _app(chain, db_url, UNLOCK_CONCURRENCY=2, UNLOCK_QUEUE=20, UNLOCK_WAIT_SECONDS=30)
    try:
        names = [_name(f"par{i}_") for i in range(6)]
        for name in names:
            _api_signup(app.test_client(), name)
        real, lock = wallets._decrypt, threading.Lock()
        state = {"now": 0, "max": 0}

        def counting(keystore, password):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            try:
                time.sleep(0.3)
                return real(keystore, password)
            finally:
                with lock:
                    state["now"] -= 1

        monkeypatch.setattr(wallets, "_decrypt", counting)
        codes: list[int] = []

        def login(name: str) -> None:
            r = app.test_client().post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            codes.append(r.status_code)

        threads = [threading.Thread(target=login, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert codes == [200] * 6 and state["max"] == 2, (codes, state)
    finally:
        _dispose(app)


def test_a_full_unlock_queue_answers_503_with_retry_after(chain, db_url, monkeypatch):
    import webapp.wallets as wallets

    app = _app(chain, db_url, UNLOCK_CONCURRENCY=1, UNLOCK_QUEUE=0, UNLOCK_WAIT_SECONDS=3)
    try:
        name = _name("busy")
        _api_signup(app.test_client(), name)
        real, entered, release = wallets._decrypt, threading.Event(), threading.Event()

        def slow(keystore, password):
            entered.set()
            release.wait(10)
            return real(keystore, password)

        monkeypatch.setattr(wallets, "_decrypt", slow)
        first = threading.Thread(target=lambda: app.test_client().post(
            "/api/v1/auth/login", json={"username": name, "password": PASSWORD}))  # fmt: skip
        first.start()
        assert entered.wait(10)
        r = app.test_client().post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 503 and r.get_json()["error"]["code"] == "unlock_busy"
        assert r.headers["Retry-After"] == "3" and "Try again in 3 seconds" in r.get_json()["error"]["message"]
        page = app.test_client().post("/auth/login", data={"username": name, "password": PASSWORD})
        assert page.status_code == 503 and page.headers["Retry-After"] == "3"
        release.set()
        first.join()
    finally:
        release.set()
        _dispose(app)


def test_login_attempts_are_limited_per_account_across_ips_and_routes(chain, db_url):
    app = _app(chain, db_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute",
               ACCOUNT_RATE_LIMIT="3 per minute", SIGNUP_RATE_LIMIT="100 per minute")  # fmt: skip
    try:
        client = app.test_client()
        name = _name("target")
        _api_signup(client, name)
        codes = []
        for i in range(4):  # four guesses from four addresses, through both login routes
            ip = {"REMOTE_ADDR": f"198.51.100.{i + 1}"}
            if i % 2:
                r = client.post("/api/v1/auth/login", json={"username": name, "password": "wrong guess " * 2},
                                environ_base=ip)  # fmt: skip
            else:
                r = client.post("/auth/login", data={"username": name, "password": "wrong guess"}, environ_base=ip)
            codes.append(r.status_code)
        assert codes == [401, 401, 401, 429], codes
        assert int(r.headers["Retry-After"]) > 0
        r = client.post("/api/v1/auth/login", json={"username": name.upper() + "x", "password": "wrong guess"},
                        environ_base={"REMOTE_ADDR": "198.51.100.9"})  # fmt: skip
        assert r.status_code == 401  # another account name has its own budget
    finally:
        _dispose(app)


def test_the_per_ip_login_budget_is_shared_by_the_login_routes(chain, db_url):
    app = _app(chain, db_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute",
               ACCOUNT_RATE_LIMIT="100 per minute")  # fmt: skip
    try:
        client = app.test_client()
        codes = []
        for i in range(3):
            codes.append(client.post("/auth/login", data={"username": f"n{i}", "password": "pw-pw-pw-pw"}).status_code)
            codes.append(client.post("/api/v1/auth/login", json={"username": f"m{i}", "password": "pw"}).status_code)
        assert codes == [401, 401, 401, 401, 429, 429], codes
    finally:
        _dispose(app)


# ---------------------------------------------------------------------- 7. passwords, files, tokens, sign-up
@pytest.mark.parametrize(
    "password, reason",
    [
        ("12345678", "at least 12 characters"),
        ("password", "at least 12 characters"),
        (" " * 8, "only spaces"),
        (" " * 20, "only spaces"),
        ("x" * 1000, "at most 256 bytes"),  # a 1 MiB one is refused before it is read (413, test_robustness)
        ("aaaaaaaaaaaaaaaa", "Repeated characters"),
        ("123456789012", "sequences"),
        ("abcabcabcabcabc", "Repeated characters"),
        ("qwertyuiopasdf", "sequences"),
        ("password2026!", "most common"),
        ("Sunshine!!2026", "most common"),
        ("iloveyou123456", "most common"),
        ("mallory-the-great-1", "username"),
    ],
    ids=lambda value: value if len(value) < 40 else f"{len(value)} characters",
)
def test_weak_passwords_are_refused_with_a_reason(client, password, reason):
    r = client.post("/api/v1/auth/signup", json={"username": "mallory", "password": password})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "weak_password", r.get_json()
    assert reason in r.get_json()["error"]["message"]


def test_the_signup_form_explains_the_password_policy(client):
    page = client.get("/auth/signup").get_data(as_text=True)
    assert 'minlength="12"' in page and "common passwords, sequences and your username are refused" in page
    r = client.post("/auth/signup", data={"username": "pat", "password": "password2026", "confirm": "password2026"})
    assert r.status_code == 400 and "one of the most common passwords" in r.get_data(as_text=True)
    good = "tin roof, rusted"
    r = client.post("/auth/signup", data={"username": "pat", "password": good, "confirm": good})
    assert r.status_code == 302


def test_the_demo_passwords_meet_the_policy(app):
    from webapp.__main__ import DEFAULT_DEMO_PASSWORD
    from webapp.services.passwords import problem

    with app.app_context():
        for username in ("operator", "aisyah", "elena"):
            assert problem(DEFAULT_DEMO_PASSWORD, username) is None


def test_sqlite_database_and_its_directory_are_owner_only(tmp_path):
    fresh = tmp_path / "instance" / "web.db"
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{fresh}"})
    from webapp.schema import upgrade

    upgrade(app)
    with app.app_context():
        db.session.execute(select(User.id)).all()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    for side in (fresh.with_name("web.db-wal"), fresh.with_name("web.db-shm")):
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side
    _dispose(app)
    old = tmp_path / "old.db"  # a database made before the fix (0644)
    old.write_bytes(b"")
    old.chmod(0o644)
    _dispose(create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{old}"}))
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_a_revoked_api_token_stops_at_once_in_every_process(chain, db_url):
    first, second = _app(chain, db_url), _app(chain, db_url)  # two server processes on one database
    try:
        token = _api_signup(first.test_client(), _name("tok"))
        auth = {"Authorization": f"Bearer {token}"}
        assert second.test_client().get("/api/v1/me", headers=auth).status_code == 200  # used once (was: cached)
        with first.app_context():  # deleted by the other process (or by an administrator)
            db.session.execute(delete(AuthSession))
            db.session.commit()
        r = second.test_client().get("/api/v1/me", headers=auth)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "login_required"
    finally:
        _dispose(first)
        _dispose(second)


def test_signup_reveals_no_more_than_it_must_and_is_rate_limited(chain, db_url):
    app = _app(chain, db_url, RATELIMIT_ENABLED=True, SIGNUP_RATE_LIMIT="4 per minute")
    try:
        client = app.test_client()
        name = _name("taken")
        _api_signup(client, name)
        taken = client.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
        reserved = client.post("/api/v1/auth/signup", json={"username": "operator", "password": PASSWORD})
        assert taken.status_code == reserved.status_code == 409
        assert taken.get_json() == reserved.get_json()  # a taken name and a reserved one look the same
        weak = client.post("/api/v1/auth/signup", json={"username": name, "password": "short"})
        assert weak.get_json()["error"]["code"] == "weak_password"  # the policy answers before the name is looked up
        r = client.post("/api/v1/auth/signup", json={"username": _name("more"), "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    finally:
        _dispose(app)


def test_keystore_wrapping_is_bound_to_its_session(app):
    from webapp.wallets import WalletLocked, new_wrap_key, unwrap_key, wrap_key

    key, wrap = bytes(range(32)), new_wrap_key()
    wrapped = wrap_key(key, wrap, "session-a:0xabc")
    assert unwrap_key(wrapped, wrap, "session-a:0xabc") == key
    assert key.hex() not in wrapped
    for bad_wrap, context in ((new_wrap_key(), "session-a:0xabc"), (wrap, "session-b:0xabc")):
        with pytest.raises(WalletLocked):
            unwrap_key(wrapped, bad_wrap, context)
    assert json.dumps(wrapped)  # stored as text
