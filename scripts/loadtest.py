"""`make loadtest SCENARIO=<seed-150|seed-500|seed-1000|max|max-chain|smoke>`: one Locust scenario, end to end.

Without RPC_URL it starts anvil (1 s blocks, 300M gas) on a free port and deploys; without WEB_URL it starts
WEB_INSTANCES web servers (gunicorn as `python -m webapp serve` runs it: one gthread process each, WEB_THREADS
threads, plus a 75 s keep-alive) and one indexer process on a shared database (SQLite in the run directory, or
--database-url, e.g. PostgreSQL; its schema is migrated first). It creates the users' accounts
(in bulk; on a deployed dashboard through its sign-up API), funds them on chain, runs Locust headless as its own
process (never imported here: locust after web3 in one process recursed), prints the summary table against the
seed platform and stops everything it started. Exit status is non-zero on any failure. Reports:
reports/loadtest/<scenario>.json, <scenario>_stats.csv (and the other Locust CSVs), <scenario>.html and
<scenario>_blocks.csv (every block: transactions, ours, gas used against the limit).

Targeting deployed systems: RPC_URL=<chain> (its deployment record in DEPLOYMENTS_DIR) and WEB_URL=<dashboard>
(comma-separated for several sticky instances). Funding then uses OPERATOR_KEYSTORE/ORACLE_KEYSTORE when given,
else the dashboard's own top-up endpoint (all web users then buy). The dashboard must allow the sign-up/login rate
(WEBAPP_LOGIN_RATE_LIMIT) and, for fast sign-ups, a low WEBAPP_SCRYPT_N.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from energy_chain import Signer
from energy_chain.anvil import free_port, wait_for_rpc
from energy_chain.config import PROJECT_ROOT
from scripts.load.report import read_report, summary_table
from scripts.load.scenarios import SCENARIOS, Scenario
from scripts.load.scenarios import get as get_scenario
from scripts.load_setup import Market, account_keys, approve_book, give_energy, local_market, top_up

REPORT_DIR = PROJECT_ROOT / "reports" / "loadtest"
RUN_DIR = PROJECT_ROOT / "var" / "loadtest"
SETTLEMENT_UNITS = 10**9  # 1 000 MYR per account: thousands of 100 Wh bids
ENERGY_WH = 10**6  # 1 MWh per seller
PASSWORD = "load-test-password"
KEEPALIVE_S = 75  # seconds an idle keep-alive connection stays open (nginx's default)
LOGIN_ALLOWANCE_S = 600  # logins pay the server's password hash (~0.2 s of CPU each): a 1 000-user ramp takes time


@dataclass
class Services:
    rpc_url: str
    web_urls: list[str]
    deployments_dir: Path
    market: Market | None


def _log(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers 200 (raise if `process` exits first or `timeout` passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with code {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def processes() -> Iterator[list[subprocess.Popen]]:
    """Processes started inside are interrupted (then killed) on the way out, newest first."""
    started: list[subprocess.Popen] = []
    try:
        yield started
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(started):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def db_url_for(run_dir: Path) -> str:
    return f"sqlite:///{run_dir / 'webapp.sqlite'}"


def web_env_value(name: str) -> str:
    return {"WEBAPP_SCRYPT_N": os.environ.get("WEBAPP_SCRYPT_N", str(2**10))}[name]


def web_env(rpc_url: str, deployments_dir: Path, db_url: str, indexer: bool) -> dict[str, str]:
    return {
        **os.environ,
        "RPC_URL": rpc_url,
        "CHAIN_ID": "1337",
        "DEPLOYMENTS_DIR": str(deployments_dir),
        "DATABASE_URL": db_url,
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        # Load-test settings: cheap keystores (scrypt N=2^10 instead of 2^18, so thousands of sign-ups and logins
        # take seconds), no per-IP login limit (every simulated user comes from 127.0.0.1).
        "WEBAPP_SCRYPT_N": web_env_value("WEBAPP_SCRYPT_N"),
        "WEBAPP_RATELIMIT": "0",
        # No simulation before each order (fixed gas bound from energy_chain.orders): an order that would revert
        # is then mined with status 0, which the watcher counts as a failure. WEBAPP_PREFLIGHT=1 measures the
        # other mode (eth_estimateGas per order: anvil runs the call several times, docs/load.md).
        "WEBAPP_PREFLIGHT": os.environ.get("WEBAPP_PREFLIGHT", "0"),
        "WEBAPP_INDEXER": "1" if indexer else "0",
    }


def start_web(started: list[subprocess.Popen], rpc_url: str, deployments_dir: Path, run_dir: Path,
              instances: int, threads: int, db_url: str) -> list[str]:  # fmt: skip
    """`instances` single-process web servers plus one indexer process, sharing one database (schema migrated)."""
    subprocess.run([sys.executable, "-m", "webapp", "upgrade"], env=web_env(rpc_url, deployments_dir, db_url, False),
                   cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=120)  # fmt: skip
    urls = []
    for i in range(instances):
        port = free_port()
        log = open(run_dir / f"web-{i}.log", "ab")  # noqa: SIM115 - handed to the child
        # gunicorn as `python -m webapp serve` runs it (one gthread worker: unlocked keys and nonce counters live in
        # its memory), plus a keep-alive longer than any user's think time: gunicorn's default of 2 s closes idle
        # connections while users wait 1-5 s, and the next request on that connection fails (HTTPConnectionClosed).
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                 "--worker-class", "gthread", "--threads", str(threads), "--keep-alive",
                                 str(KEEPALIVE_S), "--timeout", "120", "--error-logfile", "-", "webapp:create_app()"],
                                env=web_env(rpc_url, deployments_dir, db_url, indexer=False), stdout=log,
                                stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)  # fmt: skip
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/api/v1/health", 60, proc)
        urls.append(url)
    log = open(run_dir / "indexer.log", "ab")  # noqa: SIM115 - handed to the child
    # Same priority as the servers: at nice 10 the indexer held SQLite's write lock while starved of CPU, and logins
    # (which write a token) waited past the 10 s busy timeout ("database is locked").
    started.append(subprocess.Popen([sys.executable, "-m", "webapp", "index"],
                                    env=web_env(rpc_url, deployments_dir, db_url, indexer=True), stdout=log,
                                    stderr=subprocess.STDOUT, cwd=PROJECT_ROOT))  # fmt: skip
    return urls


# ---------------------------------------------------------------------- accounts
def _signup(url: str, username: str) -> dict[str, Any]:
    reply = requests.post(f"{url}/api/v1/auth/signup", json={"username": username, "password": PASSWORD}, timeout=60)
    if reply.status_code != 201:
        raise RuntimeError(f"sign-up of {username} at {url}: HTTP {reply.status_code} {reply.text[:300]}")
    return reply.json()


def _api_topup(url: str, token: str) -> None:
    reply = requests.post(f"{url}/api/v1/account/topup", json={"amount_myr": "1000"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=120)  # fmt: skip
    if reply.status_code == 202:  # a request for the operator to confirm: only demo self-service credits at once
        raise RuntimeError(
            f"top-ups at {url} wait for the operator's confirmation: fund the accounts on chain (give "
            "--rpc-url and the operator key) or run the dashboard with WEBAPP_TOPUP_SELF_SERVICE=1"
        )
    if reply.status_code != 201:
        raise RuntimeError(f"top-up at {url}: HTTP {reply.status_code} {reply.text[:300]}")


def insert_web_users(db_url: str, names: list[str], scrypt_n: int) -> list[Signer]:
    """Bulk-create custodial accounts straight in our own web servers' database (sign-up through the API costs
    ~0.25 s of server CPU per user: a scrypt password hash plus a keystore). Logins still go through the API."""
    from eth_account import Account
    from werkzeug.security import generate_password_hash

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User

    app = create_app({"SECRET_KEY": secrets.token_hex(32), "SQLALCHEMY_DATABASE_URI": db_url,
                      "INDEXER_ENABLED": False})  # fmt: skip
    password_hash = generate_password_hash(PASSWORD)  # the server's default scheme: logins pay the real cost
    signers = []
    with app.app_context():
        for name in names:
            account = Account.create()
            keystore = Account.encrypt(account.key, PASSWORD, kdf="scrypt", iterations=scrypt_n)
            db.session.add(User(username=name, password_hash=password_hash, address=account.address,
                                keystore=json.dumps(keystore), is_operator=False))  # fmt: skip
            signers.append(Signer(account))
        db.session.commit()
    return signers


def create_web_accounts(services: Services, count: int, run_dir: Path, db_url: str | None) -> Path:
    """`count` web users (half buyers, half sellers when we can mint energy), funded and approved.

    Our own web servers: accounts inserted in bulk into their database. A deployed dashboard: its sign-up API.
    Funding on chain with the operator (and oracle) keys when we have them, else through the dashboard's top-up
    endpoint, and then every user buys (selling needs energy, which only the oracle mints).
    """
    tag = secrets.token_hex(3)
    market = services.market
    fundable = market is not None and market.operator is not None
    can_mint = fundable and market.oracle is not None  # type: ignore[union-attr]
    names = [f"load{tag}{i}" for i in range(count)]
    sides = ["sell" if can_mint and i % 2 else "buy" for i in range(count)]
    t0 = time.monotonic()
    urls = services.web_urls
    if db_url is not None and fundable:
        signers = insert_web_users(db_url, names, int(web_env_value("WEBAPP_SCRYPT_N")))
        addresses = [s.address for s in signers]
        approve_book(market, signers)  # type: ignore[arg-type]
    else:  # a deployed dashboard: its own sign-up (which also approves the markets)
        with ThreadPoolExecutor(max_workers=8 * len(urls)) as pool:
            replies = list(pool.map(lambda i: _signup(urls[i % len(urls)], names[i]), range(count)))
        addresses = [r["user"]["address"] for r in replies]
    if fundable:
        top_up(market, addresses, SETTLEMENT_UNITS, f"web-{tag}")  # type: ignore[arg-type]
        sellers = [a for a, s in zip(addresses, sides, strict=True) if s == "sell"]
        if sellers:
            give_energy(market, sellers, ENERGY_WH, f"web-{tag}")  # type: ignore[arg-type]
    else:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: _api_topup(urls[i % len(urls)], replies[i]["token"]), range(count)))
    _log(f"created and funded {count} web users ({sides.count('sell')} sellers) in {time.monotonic() - t0:.0f}s")
    path = run_dir / "web-accounts.json"
    path.write_text(json.dumps([{"username": n, "password": PASSWORD, "side": s}
                                for n, s in zip(names, sides, strict=True)]))  # fmt: skip
    return path


def create_chain_accounts(market: Market, count: int, run_dir: Path) -> Path:
    keys = account_keys(count, f"loadtest:{secrets.token_hex(4)}")
    signers = [Signer.from_key(k) for k in keys]
    sides = ["sell" if market.oracle is not None and i % 2 else "buy" for i in range(count)]
    top_up(market, [s.address for s in signers], SETTLEMENT_UNITS, "chain")
    sellers = [s.address for s, side in zip(signers, sides, strict=True) if side == "sell"]
    if sellers:
        give_energy(market, sellers, ENERGY_WH, "chain")
    approve_book(market, signers)
    path = run_dir / "chain-keys.json"
    path.write_text(json.dumps([{"key": k, "side": s} for k, s in zip(keys, sides, strict=True)]))
    path.chmod(0o600)
    return path


# ---------------------------------------------------------------------- locust
def run_locust(scenario: Scenario, services: Services, env_files: dict[str, Path], run_dir: Path,
               report_dir: Path) -> int:  # fmt: skip
    report_dir.mkdir(parents=True, exist_ok=True)
    prefix = report_dir / scenario.name
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOADTEST_SCENARIO": scenario.name,
        "LOADTEST_RPC_URL": services.rpc_url,
        "LOADTEST_WEB_URLS": ",".join(services.web_urls),
        "LOADTEST_REPORT": str(prefix.with_suffix(".json")),
        "DEPLOYMENTS_DIR": str(services.deployments_dir),
        **{k: str(v) for k, v in env_files.items()},
    }
    args = [
        sys.executable, "-m", "locust", "-f", str(PROJECT_ROOT / "tests" / "load" / "locustfile.py"), "--headless",
        "--users", str(scenario.users), "--spawn-rate", str(scenario.spawn_rate),
        # the locustfile stops the run steady_s after the last user logged in; this is only a safety cap
        "--run-time", f"{scenario.run_time_s + LOGIN_ALLOWANCE_S}s", "--stop-timeout", "10",
        "--csv", str(prefix), "--html", str(prefix.with_suffix(".html")), "--only-summary",
        "--loglevel", "WARNING", *scenario.user_classes,
    ]  # fmt: skip
    _log(
        f"locust: {scenario.users} users at {scenario.spawn_rate}/s, waits {scenario.wait_min}-{scenario.wait_max}s"
        f", ramp {scenario.ramp_s}s + steady {scenario.steady_s}s; classes {', '.join(scenario.user_classes)}"
    )
    with open(run_dir / "locust.log", "wb") as log:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        assert proc.stdout is not None
        for line in proc.stdout:  # progress visible while it runs, and kept in the run's log
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
            log.write(line)
        return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=os.environ.get("SCENARIO", "smoke"))
    parser.add_argument("--rpc-url", default=os.environ.get("RPC_URL") or None)
    parser.add_argument("--web-url", default=os.environ.get("WEB_URL") or None)
    parser.add_argument("--web-instances", type=int, default=int(os.environ.get("WEB_INSTANCES", 2)))
    # 12 threads per process: the work is GIL-bound Python between short waits on the node, so more threads only
    # queue; the web app's database pool (WEBAPP_DB_POOL, 32) covers them.
    parser.add_argument("--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", 12)))
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR)
    parser.add_argument("--run-dir", type=Path, default=None, help="logs and account files (var/loadtest/<name>)")
    parser.add_argument("--database-url", default=os.environ.get("LOADTEST_DATABASE_URL") or None,
                        help="the web servers' shared database (default: SQLite in the run directory)")  # fmt: skip
    ns = parser.parse_args(argv)
    scenario = get_scenario(ns.scenario)
    run_dir = ns.run_dir or RUN_DIR / scenario.name
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "webapp.sqlite").unlink(missing_ok=True)
    database_url = ns.database_url or db_url_for(run_dir)
    web_users = "WebTrader" in scenario.user_classes
    chain_users = "ChainTrader" in scenario.user_classes
    with local_market(ns.rpc_url, log_file=run_dir / "anvil.log") as market, processes() as started:
        _log(f"chain {market.rpc_url} (chain id {market.client.chain_id}); deployment record in "
             f"{market.deployments_dir}")  # fmt: skip
        wait_for_rpc(market.rpc_url)
        web_urls: list[str] = []
        if web_users:
            if ns.web_url:
                web_urls = [u.strip().rstrip("/") for u in ns.web_url.split(",") if u.strip()]
            else:
                web_urls = start_web(started, market.rpc_url, market.deployments_dir, run_dir, ns.web_instances,
                                     ns.web_threads, database_url)  # fmt: skip
            _log(f"web servers: {', '.join(web_urls)}")
        services = Services(market.rpc_url, web_urls, market.deployments_dir, market)
        files: dict[str, Path] = {}
        if web_users:
            db_url = None if ns.web_url else database_url
            files["LOADTEST_WEB_ACCOUNTS"] = create_web_accounts(services, scenario.users, run_dir, db_url)
        if chain_users:
            files["LOADTEST_CHAIN_KEYS"] = create_chain_accounts(market, scenario.users, run_dir)
        time.sleep(2)  # the sign-ups' approvals are in the next block
        code = run_locust(scenario, services, files, run_dir, ns.report_dir)
    report_path = (ns.report_dir / scenario.name).with_suffix(".json")
    if not report_path.exists():
        _log(f"no report was written ({report_path}); locust exit code {code}")
        return code or 1
    report = read_report(report_path)
    others = [read_report(ns.report_dir / f"{name}.json") for name in SCENARIOS
              if name != scenario.name and (ns.report_dir / f"{name}.json").exists()]  # fmt: skip
    print()
    print(summary_table([report]))
    if others:
        print("\nearlier runs in " + str(ns.report_dir) + ":\n" + summary_table(others).split("\n", 1)[1])
    if report.failures or code:
        _log(f"FAILED: {report.failures} failures, locust exit code {code}")
        return code or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
