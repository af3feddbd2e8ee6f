"""Command line of the web app.

python -m webapp init-db | upgrade                                       create / upgrade the database schema
python -m webapp serve [--host 127.0.0.1] [--port 5000] [--threads 16]   production server (gunicorn, threads),
                                                                         with the indexer thread (WEBAPP_INDEXER)
python -m webapp index                                                   run the chain indexer alone
python -m webapp seed-demo [--round-seconds 180]                         demo users, meters, money (local chain)
python -m webapp bot [--interval 2]                                      demo trading bot + auction keeper
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from typing import Any

DEFAULT_DEMO_PASSWORD = "solar-demo-2026"


def _app(overrides: dict[str, Any] | None = None):
    """The app on a database whose schema is current (else a clear message to run `upgrade`)."""
    from webapp import create_app
    from webapp.schema import SchemaOutdated, require_current

    app = create_app(overrides)
    try:
        require_current(app)
    except SchemaOutdated as exc:
        raise SystemExit(str(exc)) from exc
    return app


def _upgrade(ns: argparse.Namespace) -> int:
    from webapp import create_app
    from webapp.extensions import db
    from webapp.schema import upgrade

    app = create_app()
    revision = upgrade(app)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=True)
    print(f"database {url} at schema {revision}", flush=True)
    return 0


def _serve(ns: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    # Sign-In with Ethereum names this address in every message (never the request's Host header).
    os.environ.setdefault("WEBAPP_PUBLIC_URL", f"http://{ns.host}:{ns.port}")
    _app()  # refuse at once (not in the worker) when the schema is not current

    class Server(BaseApplication):
        def __init__(self, options: dict[str, Any]) -> None:
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self):
            app = _app()
            if app.config["INDEXER_ENABLED"]:
                app.extensions["indexer"].start()  # in the worker process, beside the request threads
            return app

    url = f"http://{ns.host}:{ns.port}"
    print(f"SolarShare dashboard on {url} (API: {url}/api/v1/openapi.json)", flush=True)
    # One worker process: unlocked wallet keys, nonce counters and the indexer thread live in its memory;
    # concurrency comes from threads (the work is I/O on the chain node).
    Server({
        "bind": f"{ns.host}:{ns.port}", "workers": 1, "worker_class": "gthread", "threads": ns.threads,
        # Keep idle client connections 75 s: with gunicorn's default 2 s, clients that pause 1-5 s between requests
        # (the seed's Locust scenarios) meet closed connections.
        "keepalive": 75,
        "timeout": 120, "graceful_timeout": 10, "accesslog": "-" if ns.access_log else None,
        "errorlog": "-", "loglevel": "info",
        "control_socket_disable": True,  # several servers (load tests) would share one control socket path
    }).run()  # fmt: skip
    return 0


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM end the loop cleanly, even when started in the background by a script (which starts
    background jobs with SIGINT ignored)."""

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _index(ns: argparse.Namespace) -> int:
    app = _app({"INDEXER_ENABLED": False})
    indexer = app.extensions["indexer"]
    _stop_on_signals()
    print(f"indexing {app.config['RPC_URL']} into {app.config['SQLALCHEMY_DATABASE_URI']} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        indexer.run_forever()
    return 0


def _seed(ns: argparse.Namespace) -> int:
    from webapp.services.demo_seed import seed

    app = _app({"INDEXER_ENABLED": False})
    with app.app_context():
        logins = seed(app, ns.password, ns.round_seconds, meter_period_s=ns.meter_period)
    print(f"\nDemo logins (password for all: {ns.password})")
    for username, role in logins:
        print(f"  {username:<10} {role}")
    return 0


def _bot(ns: argparse.Namespace) -> int:
    from webapp.services.demo_bot import Bot

    app = _app({"INDEXER_ENABLED": False})
    if ns.keeper_only:
        print(
            f"auction keeper: ended rounds closed, cleared and settled every ~{ns.interval}s (Ctrl-C stops)", flush=True
        )
    else:
        print(f"demo trading bot: one action every ~{ns.interval}s (Ctrl-C stops)", flush=True)
    _stop_on_signals()
    with contextlib.suppress(KeyboardInterrupt):
        Bot(app, ns.password, ns.interval, keeper_only=ns.keeper_only).run(ns.steps)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # every command checks the schema; `upgrade` says the result
    parser = argparse.ArgumentParser(prog="python -m webapp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("init-db", "upgrade"):  # the same: both create what is missing and apply newer migrations
        sub.add_parser(name, help="create or upgrade the database schema (DATABASE_URL)").set_defaults(func=_upgrade)
    serve = sub.add_parser("serve", help="serve the dashboard and API")
    serve.add_argument("--host", default=os.environ.get("WEBAPP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("WEBAPP_PORT", "5000")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("WEBAPP_THREADS", "16")))
    serve.add_argument("--access-log", action="store_true", help="log every request (off: keeps load tests lean)")
    serve.set_defaults(func=_serve)
    sub.add_parser("index", help="follow the chain into the database").set_defaults(func=_index)
    password = os.environ.get("WEBAPP_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    seed = sub.add_parser("seed-demo", help="demo users, meters and balances on the local chain")
    seed.add_argument("--password", default=password)
    seed.add_argument("--round-seconds", type=int, default=int(os.environ.get("WEBAPP_DEMO_ROUND_SECONDS", "180")),
                      help="auction round length for the demo (0 keeps the contract's)")  # fmt: skip
    seed.add_argument("--meter-period", type=int, default=int(os.environ.get("ORACLE_INTERVAL_S") or 60),
                      help="the meters' reading period: the oracle's interval (ORACLE_INTERVAL_S)")  # fmt: skip
    seed.set_defaults(func=_seed)
    bot = sub.add_parser("bot", help="demo trading bot and auction keeper")
    bot.add_argument("--password", default=password)
    bot.add_argument("--interval", type=float, default=float(os.environ.get("WEBAPP_BOT_INTERVAL", "2")))
    bot.add_argument("--steps", type=int, default=None, help="stop after N actions (default: run until Ctrl-C)")
    bot.add_argument("--keeper-only", action="store_true", help="only keep the auction (the demo's agents trade)")
    bot.set_defaults(func=_bot)
    ns = parser.parse_args(argv)
    return int(ns.func(ns))


if __name__ == "__main__":
    sys.exit(main())
