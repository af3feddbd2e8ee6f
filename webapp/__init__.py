"""Web dashboard and JSON API of the peer-to-peer energy market (Flask app factory).

`create_app` only builds the app: it creates no tables (the schema comes from migrations, `python -m webapp upgrade`)
and starts no thread (`python -m webapp serve` starts the indexer; `python -m webapp index` runs it alone).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from sqlalchemy import event

from webapp.config import load_config, secure_sqlite_file
from webapp.extensions import csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings come from the environment (webapp.config); tests override any of them."""
    app = Flask(__name__)
    env = dict(os.environ)
    if test_config and "SECRET_KEY" in test_config:
        env["FLASK_SECRET_KEY"] = test_config["SECRET_KEY"]
    app.config.update(load_config(env))
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))
    secure_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    _install_request_limits(app)

    db.init_app(app)
    from webapp.schema import MIGRATIONS_DIR

    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    from webapp.services import sessions

    # The cookie and the bearer token carry a session credential; each request looks its row up (revocable).
    login_manager.user_loader(sessions.load)
    login_manager.request_loader(sessions.load_from_request)
    login_manager.unauthorized_handler(_unauthorized)

    from webapp.chain.service import ChainService
    from webapp.wallets import NonceCounters, UnlockedKeys, UnlockGate

    app.extensions["chain"] = ChainService(app.config)
    app.extensions["keys"] = UnlockedKeys(ttl=app.config["WALLET_UNLOCK_SECONDS"])  # demo seed and bot only
    app.extensions["nonces"] = NonceCounters()
    app.extensions["unlock_gate"] = UnlockGate(app.config["UNLOCK_CONCURRENCY"], app.config["UNLOCK_QUEUE"],
                                               app.config["UNLOCK_WAIT_SECONDS"])  # fmt: skip

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            db.engine.dispose()  # reconnect so the pragmas apply to every connection

    from webapp import i18n

    i18n.init_app(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    from webapp.errors import register_error_handlers

    register_error_handlers(app)

    @app.after_request
    def security_headers(response):
        from flask_login import current_user

        if response.mimetype == "text/html" and current_user.is_authenticated:
            # A page with someone's account on it is never stored: Back after logout must not show it again.
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    from webapp.indexer import Indexer

    # Built, not started: `serve` starts its thread, `index` runs it alone, pages call its sync() after a tx.
    app.extensions["indexer"] = Indexer(app, app.extensions["chain"])
    return app


def _install_request_limits(app: Flask) -> None:
    """What every request must satisfy before a view runs (webapp.validation, webapp.hostcheck): a Host header of
    the right form (400), a body within MAX_CONTENT_LENGTH (413), JSON nested at most MAX_JSON_DEPTH levels, no NUL
    in query or form values, integer URL parts within their bounds (uint256 ids, int64 block numbers)."""
    from webapp.hostcheck import HostCheck
    from webapp.validation import CONVERTERS, BoundedJSONProvider, refuse_nul_characters

    app.json = BoundedJSONProvider(app)
    app.url_map.converters.update(CONVERTERS)
    app.before_request(refuse_nul_characters)
    app.wsgi_app = HostCheck(app.wsgi_app)  # type: ignore[method-assign]


def _engine_options(config) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri != "sqlite://" and ":memory:" not in uri:  # in-memory SQLite has a single static connection
        # a busy server never waits for a connection from the pool
        options.update(pool_size=config["DB_POOL"], max_overflow=config["DB_POOL"])
    return options


def _unauthorized():
    from flask import flash, redirect, request, url_for
    from flask_babel import gettext

    from webapp.errors import api_error, wants_json

    if wants_json():
        return api_error("login_required", "Log in first (session cookie or Authorization: Bearer <token>).", 401)
    flash(gettext("Please log in to continue."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets pages read while the indexer writes; the timeout waits out a writer instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from webapp.api import bp as api_bp
    from webapp.views import (
        account,
        auction,
        auth,
        autotrade,
        community,
        explorer,
        history,
        home,
        market,
        meter,
        operator,
        profile,
    )

    for module in (
        home,
        auth,
        market,
        auction,
        account,
        meter,
        explorer,
        operator,
        history,
        community,
        autotrade,
        profile,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(api_bp)  # JSON only (Content-Type enforced) + SameSite cookies or bearer tokens; see api/__init__
    app.register_blueprint(api_bp)


def _register_template_helpers(app: Flask) -> None:
    from webapp import units
    from webapp.formatting import event_arg, round_window, short_address, timefmt, zone
    from webapp.i18n import duration as i18n_duration
    from webapp.services.names import display_name

    community = zone(app.config["COMMUNITY_TIMEZONE"])

    @app.context_processor
    def demo_bot_status():
        from flask_login import current_user

        from webapp.services import demo_bot, trading

        def last_trade_key() -> str:
            """The newest trade of the user when the page was drawn: live notifications start after it."""
            rows = trading.recent_trades(limit=1, address=current_user.address)
            return f"{rows[0].tx_hash}:{rows[0].block_number}:{rows[0].amount_wh}" if rows else ""

        return {
            "demo_bot": demo_bot.status(),
            "demo_agents": demo_bot.agents_status(),
            "last_trade_key": last_trade_key,
        }

    app.jinja_env.filters.update(
        kwh=units.fmt_kwh,
        price=units.fmt_price,
        myr=units.fmt_myr,
        short=short_address,
        time=lambda ts: timefmt(ts, community),
        round_window=lambda start, length=None: round_window(start, length, community),
        who=display_name,
        duration=i18n_duration,
        event_arg=lambda v, contract, name, key: event_arg(v, contract, name, key, community),
    )
