"""The rate limits of logins and sign-up (Flask-Limiter), shared by the pages and the JSON API.

Per client IP: one budget for every password guess (form login, API login, unlock) and wallet sign-in
(LOGIN_RATE_LIMIT). Per account name: one budget across the password routes (ACCOUNT_RATE_LIMIT), so guesses
from many IPs still meet a limit. Sign-up has its own per-IP budget (SIGNUP_RATE_LIMIT). Every attempt counts
when it arrives, so a burst of parallel requests cannot slip in before the first is counted.
"""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from webapp.extensions import limiter

LOGIN_SCOPE, ACCOUNT_SCOPE, SIGNUP_SCOPE = "login-ip", "login-account", "signup-ip"


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def account_limit() -> str:
    return current_app.config["ACCOUNT_RATE_LIMIT"]


def signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def account_key() -> str:
    """The account a login attempt is for: the username of a form or JSON body, or the logged-in user (unlock)."""
    name = request.form.get("username")
    if name is None and request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    if name is None and current_user.is_authenticated:
        name = current_user.username
    return "account:" + str(name or "-").strip().lower()[:64]


ip_login_limit = limiter.shared_limit(login_limit, scope=LOGIN_SCOPE, methods=["POST"])
account_login_limit = limiter.shared_limit(account_limit, scope=ACCOUNT_SCOPE, key_func=account_key,
                                           methods=["POST"])  # fmt: skip
signup_rate_limit = limiter.shared_limit(signup_limit, scope=SIGNUP_SCOPE, methods=["POST"])
