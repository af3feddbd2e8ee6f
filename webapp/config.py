"""Flask settings from the environment: FLASK_*/WEBAPP_* variables, RPC_URL, DATABASE_URL.

`load_config(env)` takes a mapping so tests can pass a dict; nothing is read at import time.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from energy_chain.config import DEFAULT_RPC_URL, PROJECT_ROOT

VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'webapp.db'}"
SECRET_KEY_FILE = VAR_DIR / "webapp-secret-key"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        return int(raw, 0) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    if not raw:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip() or "Asia/Kuala_Lumpur"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"COMMUNITY_TIMEZONE must be an IANA time zone such as Asia/Kuala_Lumpur, got {name!r}"
        ) from exc
    return name


def secret_key(env: Mapping[str, str], key_file: Path = SECRET_KEY_FILE) -> str:
    """SECRET_KEY from the environment, else a random one kept in var/ so sessions survive restarts."""
    explicit = env.get("FLASK_SECRET_KEY") or env.get("WEBAPP_SECRET_KEY")
    if explicit:
        if explicit == "dev":
            raise ValueError("refusing the literal SECRET_KEY 'dev': set a random FLASK_SECRET_KEY")
        return explicit
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only; never in the repository
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def secure_sqlite_file(database_uri: str) -> None:
    """An SQLite database holds every keystore and password hash: the file is created owner-only (0600) and an
    existing one is narrowed to it; the directory is created 0700 (and var/, ours, narrowed to it). SQLite
    creates its -wal and -shm files with the database file's permissions."""
    if not database_uri.startswith("sqlite:///") or ":memory:" in database_uri:
        return
    path = Path(database_uri[len("sqlite:///") :].split("?", 1)[0])
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    elif path.parent.resolve() == VAR_DIR.resolve():
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is an empty SQLite database
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists() and side.stat().st_mode & 0o077:
            side.chmod(0o600)


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting of the web app, typed, with defaults for the local demo."""
    env = os.environ if env is None else env
    database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if database_url.startswith("postgres://"):  # SQLAlchemy only knows the postgresql:// spelling
        database_url = "postgresql://" + database_url[len("postgres://") :]
    return {
        "SECRET_KEY": secret_key(env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DB_POOL": _int(env, "WEBAPP_DB_POOL", 32),  # connections: one per server thread plus the indexer
        "RPC_URL": env.get("RPC_URL", DEFAULT_RPC_URL),
        "CHAIN_ID": _int(env, "CHAIN_ID", 0) or None,
        "DEPLOYMENTS_DIR": env.get("DEPLOYMENTS_DIR", str(PROJECT_ROOT / "deployments")),
        # Cookies: HttpOnly and SameSite=Lax always; Secure when served over HTTPS (WEBAPP_SECURE_COOKIES=1).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env, "WEBAPP_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int(env, "WEBAPP_SESSION_SECONDS", 8 * 3600),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Wallets: keystore KDF cost (2**18 is the keystore standard; tests lower it) and how long an unlocked key
        # stays in server memory after login, so placing an order never runs scrypt.
        "WALLET_SCRYPT_N": _int(env, "WEBAPP_SCRYPT_N", 2**18),
        "WALLET_UNLOCK_SECONDS": _int(env, "WEBAPP_UNLOCK_SECONDS", 3600),
        # Keystore scrypt (~256 MiB each at 2**18) runs at most UNLOCK_CONCURRENCY at once, UNLOCK_QUEUE more wait
        # up to UNLOCK_WAIT_SECONDS; beyond that 503 with Retry-After.
        "UNLOCK_CONCURRENCY": _int(env, "WEBAPP_UNLOCK_CONCURRENCY", 2),
        "UNLOCK_QUEUE": _int(env, "WEBAPP_UNLOCK_QUEUE", 16),  # = serve threads: queue-full only beyond them
        "UNLOCK_WAIT_SECONDS": float(env.get("WEBAPP_UNLOCK_WAIT", "10")),
        "PASSWORD_MIN_LENGTH": _int(env, "WEBAPP_PASSWORD_MIN_LENGTH", 12),
        # Rate limits (Flask-Limiter): per client IP, shared by the password logins (form, API, unlock) and by
        # wallet sign-in; per account name across the password logins; per IP for sign-up.
        "LOGIN_RATE_LIMIT": env.get("WEBAPP_LOGIN_RATE_LIMIT", "10 per minute"),
        "ACCOUNT_RATE_LIMIT": env.get("WEBAPP_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour"),
        "SIGNUP_RATE_LIMIT": env.get("WEBAPP_SIGNUP_RATE_LIMIT", "5 per minute;20 per hour"),
        "RATELIMIT_STORAGE_URI": env.get("WEBAPP_RATELIMIT_STORAGE", "memory://"),
        "RATELIMIT_ENABLED": _bool(env, "WEBAPP_RATELIMIT", True),
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on every 429
        # Sign-In with Ethereum: the site's own address (domain and URI of every message; `serve` sets it from
        # --host/--port when unset) and the chain id (default: CHAIN_ID, else the connected chain's).
        "PUBLIC_URL": env.get("WEBAPP_PUBLIC_URL", "http://127.0.0.1:5000"),
        "SIWE_CHAIN_ID": _int(env, "WEBAPP_SIWE_CHAIN_ID", 0) or None,
        "SIWE_NONCE_SECONDS": _int(env, "WEBAPP_SIWE_NONCE_SECONDS", 300),
        "INDEXER_ENABLED": _bool(env, "WEBAPP_INDEXER", True),
        "INDEXER_POLL_SECONDS": float(env.get("WEBAPP_INDEXER_POLL", "1.0")),
        "INDEXER_BATCH_BLOCKS": _int(env, "WEBAPP_INDEXER_BATCH", 2000),
        # Top-ups: the operator's key issues settlement tokens. On the local chain it is anvil's operator account;
        # elsewhere an encrypted keystore and its password file.
        "OPERATOR_KEYSTORE": env.get("OPERATOR_KEYSTORE", ""),
        "OPERATOR_PASSWORD_FILE": env.get("OPERATOR_PASSWORD_FILE", ""),
        # Users ask for top-ups; the operator confirms them (operator page). Demo self-service credits at once,
        # off unless WEBAPP_TOPUP_SELF_SERVICE=1 (make demo), within per-account and all-accounts caps per 24 h.
        "TOPUP_ENABLED": _bool(env, "WEBAPP_TOPUP", True),
        "TOPUP_MAX_MYR": _int(env, "WEBAPP_TOPUP_MAX_MYR", 1000),
        "TOPUP_SELF_SERVICE": _bool(env, "WEBAPP_TOPUP_SELF_SERVICE", False),
        "TOPUP_USER_DAILY_MYR": _int(env, "WEBAPP_TOPUP_USER_DAILY_MYR", 200),
        "TOPUP_DAILY_MYR": _int(env, "WEBAPP_TOPUP_DAILY_MYR", 5000),
        # Order placement: simulate first (clear errors at once) unless WEBAPP_PREFLIGHT=0 (load: fixed gas, the
        # outcome comes from /api/v1/tx/<hash>); the book snapshot for hints and pages is shared for this long.
        "PREFLIGHT": _bool(env, "WEBAPP_PREFLIGHT", True),
        "DEPTH_CACHE_SECONDS": float(env.get("WEBAPP_DEPTH_CACHE_SECONDS", "1.0")),
        "MAX_PRICE_SEN": _int(env, "WEBAPP_MAX_PRICE_SEN", 500),  # sen/kWh; a sanity bound above any tariff
        "MAX_ORDER_KWH": _int(env, "WEBAPP_MAX_ORDER_KWH", 1000),
        "PAGE_SIZE": _int(env, "WEBAPP_PAGE_SIZE", 25),
        # The demo bot's heartbeat file: pages say "demo bot active" while it is fresh (empty: never).
        "DEMO_BOT_HEARTBEAT": env.get("WEBAPP_DEMO_BOT_HEARTBEAT", str(VAR_DIR / "demo-bot.json")),
        "AGENT_HEARTBEAT": env.get("AGENT_HEARTBEAT", str(VAR_DIR / "agents" / "heartbeat.json")),
        # Times on pages: the community's zone, shown with its UTC offset (an IANA name, e.g. Asia/Kuala_Lumpur).
        "COMMUNITY_TIMEZONE": _timezone(env.get("COMMUNITY_TIMEZONE", "")),
        # Automatic trading (issue 14): the agent users may mandate (empty: on the local dev chain the demo's dev
        # "agent" account, elsewhere off) and the agent service's decision log the page reads (JSON Lines).
        "AGENT_ADDRESS": env.get("AGENT_ADDRESS", ""),
        "AGENT_LOG": env.get("AGENT_LOG", str(VAR_DIR / "agents" / "decisions.jsonl")),
        "AUTOTRADE_PAGE_SIZE": _int(env, "WEBAPP_AUTOTRADE_PAGE_SIZE", 10),
        # Request bodies above this are refused (413) before they are read; the largest real one is a few KB.
        "MAX_CONTENT_LENGTH": _int(env, "WEBAPP_MAX_BODY_BYTES", 1024 * 1024),
    }
