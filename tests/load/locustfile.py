"""Locust users of the energy market: web traders (JSON API) and chain traders (signed JSON-RPC), plus the block
watcher that turns submitted transactions into mined ones.

Run through `make loadtest SCENARIO=…` (scripts/loadtest.py prepares chain, web servers and funded accounts and
sets the environment below). Each user has its own account: web users their own login and custodial wallet, chain
users their own key and local nonce counter. Every transaction is checked end to end: the response carried a tx
hash, and the watcher saw it mined with success (an OrderPlaced/OrderCancelled log) — not just an HTTP 2xx.

Environment:
  LOADTEST_RPC_URL          chain JSON-RPC (watcher and chain users)
  LOADTEST_WEB_URLS         comma-separated web app base URLs; each web user sticks to one (sessions and unlocked
                            keys live in one server process, as behind a sticky load balancer)
  LOADTEST_WEB_ACCOUNTS     JSON file: [{"username", "password", "side"}] for web users
  LOADTEST_CHAIN_KEYS       JSON file: [{"key", "side"}] for chain users
  DEPLOYMENTS_DIR           deployment record of the chain (chain users build placeOrder calls from it)
  LOADTEST_SCENARIO         scenario name (scripts/load/scenarios.py): users, waits
  LOADTEST_REPORT           where to write <scenario>.json; the block table goes beside it (<scenario>_blocks.csv)
  LOADTEST_COUNTS           optional: a JSON file rewritten every 5 s with the transactions sent, mined, reverted,
                            dropped (lost) and in flight so far (the soak samples it)
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import gevent
import requests
from locust import FastHttpUser, User, between, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner

from scripts.load.report import Report, write_report
from scripts.load.scenarios import get as get_scenario
from tests.load.watcher import MINED, Watcher, percentile

log = logging.getLogger("loadtest")

TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
AMOUNT_WH = 100
BID_BASE, ASK_BASE, LEVELS = 150_000, 300_000, 40  # bids never reach asks: no fills, so every order stays cancellable
LOGIN_ATTEMPTS = 5
DRAIN_S = float(os.environ.get("LOADTEST_DRAIN_S", 30))

SCENARIO = get_scenario(os.environ.get("LOADTEST_SCENARIO", "smoke"))
WAIT = constant(0) if SCENARIO.wait_max == 0 else between(SCENARIO.wait_min, SCENARIO.wait_max)


def _why(resp: Any) -> str:
    """What went wrong with a response, including transport errors (status 0, no body)."""
    if resp.status_code == 0 or resp.text is None:
        return f"no HTTP response: {resp.error!r}"
    return f"HTTP {resp.status_code}: {resp.text[:300]}"


def _json(resp: Any) -> Any:
    try:
        return resp.json()
    except Exception:  # not JSON: the caller reports the response as a failure
        return None


def _price(side: str) -> int:
    return (BID_BASE if side == "buy" else ASK_BASE) + 1000 * random.randrange(LEVELS)


def _load(env_name: str) -> list[dict[str, Any]]:
    path = os.environ.get(env_name)
    return json.loads(Path(path).read_text()) if path else []


class Shared:
    """Per-process state: the watcher, the account lists and the measurement window."""

    watcher: Watcher | None = None
    web_accounts: list[dict[str, Any]] = []
    chain_keys: list[dict[str, Any]] = []
    web_index = itertools.count()
    chain_index = itertools.count()
    web_urls: list[str] = []
    steady_start: float | None = None
    spawned = False
    ready_users = 0
    stop_at: float | None = None
    requests_in_window = 0
    started = time.time()


def _fire_mined(**kwargs: Any) -> None:
    _env.events.request.fire(context={}, **kwargs)


_env: Environment


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    global _env
    _env = environment
    Shared.web_accounts = _load("LOADTEST_WEB_ACCOUNTS")
    Shared.chain_keys = _load("LOADTEST_CHAIN_KEYS")
    Shared.web_urls = [u.rstrip("/") for u in os.environ.get("LOADTEST_WEB_URLS", "").split(",") if u]


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    from energy_chain.events import event_topic
    from tests.load.chain import order_book_abi_and_address

    abi, address = order_book_abi_and_address()
    topics = [[event_topic(abi, "OrderPlaced"), event_topic(abi, "OrderCancelled")]]
    Shared.watcher = Watcher.for_node(
        os.environ["LOADTEST_RPC_URL"], {"address": address, "topics": topics}, _fire_mined
    )
    Shared.watcher.start()
    Shared.started = time.time()
    gevent.spawn(_progress, environment)


@events.spawning_complete.add_listener
def on_spawned(user_count: int, **_: Any) -> None:
    Shared.spawned = True
    _maybe_steady()


def _user_ready() -> None:
    """Called when a user finished on_start (logged in, or failed to): the steady phase starts once all have."""
    Shared.ready_users += 1
    _maybe_steady()


def _maybe_steady() -> None:
    runner = _env.runner
    if Shared.steady_start is not None or not Shared.spawned or runner is None:
        return
    if Shared.ready_users < runner.target_user_count:
        return
    Shared.steady_start = time.time()
    print(
        f"[loadtest] all {runner.target_user_count} users logged in and running after "
        f"{Shared.steady_start - Shared.started:.0f}s: steady phase of {SCENARIO.steady_s}s starts",
        flush=True,
    )
    gevent.spawn_later(SCENARIO.steady_s, runner.quit)


@events.request.add_listener
def on_request(request_type: str, **_: Any) -> None:
    if request_type != MINED and Shared.steady_start is not None and Shared.stop_at is None:
        Shared.requests_in_window += 1


def _write_counts(w: Watcher, failures: int) -> None:
    """The watcher's totals so far into LOADTEST_COUNTS (when set): sent = mined + reverted + dropped + in flight."""
    path = os.environ.get("LOADTEST_COUNTS")
    if not path:
        return
    counts = {"t": time.time(), "sent": len(w.mined) + w.reverted + w.dropped + len(w.pending),
              "mined": len(w.mined), "reverted": w.reverted, "dropped": w.dropped, "in_flight": len(w.pending),
              "failures": failures}  # fmt: skip
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(counts))
    tmp.replace(path)


def _progress(environment: Environment) -> None:
    """One line every 5 s: users, request rate, mined tx/s from blocks, in flight, failures, recent p95."""
    last_requests, last_t = 0, time.time()
    while True:
        gevent.sleep(5)
        w, stats, now = Shared.watcher, environment.stats.total, time.time()
        if w is None or environment.runner is None:
            continue
        requests_now = sum(s.num_requests for s in environment.stats.entries.values() if s.method != MINED)
        rate = (requests_now - last_requests) / (now - last_t)
        last_requests, last_t = requests_now, now
        recent = sorted(m - s for s, m, _ in w.mined[-2000:] if m > now - 10)
        gas = w.blocks[-1].gas_used / w.blocks[-1].gas_limit if w.blocks else 0
        _write_counts(w, stats.num_failures)
        print(
            f"[loadtest] t={now - Shared.started:5.0f}s users={environment.runner.user_count:4d} "
            f"req/s={rate:6.1f} mined tx/s={w.recent_rate():6.1f} in-flight={len(w.pending):5d} "
            f"p95={percentile(recent, 95):5.2f}s gas={gas:4.0%} failures={stats.num_failures}"
            + (f" watcher error: {w.error}" if w.error else ""),
            flush=True,
        )


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_: Any) -> None:
    w = Shared.watcher
    if w is None:
        return
    Shared.stop_at = time.time()
    print(
        f"[loadtest] users stopped; waiting up to {DRAIN_S:.0f}s for {len(w.pending)} transactions in flight",
        flush=True,
    )
    w.drain(DRAIN_S)
    w.stop()
    _write_counts(w, environment.stats.total.num_failures)
    start = Shared.steady_start or Shared.started
    window = w.window(start, Shared.stop_at)
    duration = max(1e-9, Shared.stop_at - start)
    report = Report(
        scenario=SCENARIO.name,
        users=environment.runner.target_user_count if environment.runner else SCENARIO.users,  # type: ignore[union-attr]
        duration_s=round(duration, 1),
        offered_rps=round(Shared.requests_in_window / duration, 2),
        mined_tps=round(window.mined / duration, 2),
        failures=environment.stats.total.num_failures,
        p50_s=round(percentile(window.latencies, 50), 3),
        p95_s=round(percentile(window.latencies, 95), 3),
        p99_s=round(percentile(window.latencies, 99), 3),
    )
    path = Path(os.environ.get("LOADTEST_REPORT", f"reports/loadtest/{SCENARIO.name}.json"))
    write_report(report, path)
    w.write_blocks(path.with_name(f"{path.stem}_blocks.csv"))
    print(f"[loadtest] report: {path} (reverted {w.reverted}, dropped {w.dropped})", flush=True)


@events.quitting.add_listener
def on_quitting(environment: Environment, **_: Any) -> None:
    w = Shared.watcher
    if environment.stats.total.num_failures or (w is not None and not w.mined):
        environment.process_exit_code = 1


# ---------------------------------------------------------------------- web users
class WebTrader(FastHttpUser):
    """A household on the dashboard's JSON API: logs in, reads the book, places and cancels its own orders."""

    wait_time = WAIT
    # Locust needs a host; every request below is an absolute URL on this user's own web server.
    host = "http://web-servers-set-per-user"

    def on_start(self) -> None:
        try:
            self._login()
        finally:
            _user_ready()

    def _login(self) -> None:
        index = next(Shared.web_index)
        if not Shared.web_accounts or not Shared.web_urls:
            raise RuntimeError("LOADTEST_WEB_ACCOUNTS and LOADTEST_WEB_URLS must be set for web users")
        if index >= len(Shared.web_accounts):  # never two users on one account: their cancels would collide
            raise RuntimeError(f"user {index} has no account of its own ({len(Shared.web_accounts)} created)")
        account = Shared.web_accounts[index]
        self.base = Shared.web_urls[index % len(Shared.web_urls)]
        self.side: str = account["side"]
        self.open_ids: list[int] = []
        self.cancelled: set[int] = set()
        body = {"username": account["username"], "password": account["password"]}
        for attempt in range(LOGIN_ATTEMPTS):  # each failed attempt is a recorded failure; then the user retries
            with self.client.post(
                f"{self.base}/api/v1/auth/login", json=body, name="/api/v1/auth/login", catch_response=True
            ) as resp:
                token = (_json(resp) or {}).get("token") if resp.status_code == 200 else None
                if token:
                    self.headers = {"Authorization": f"Bearer {token}"}
                    return
                resp.failure(f"login: {_why(resp)}")
            gevent.sleep(2**attempt)
        raise StopUser()

    def _expect_tx(self, resp: Any, name: str, started: float) -> None:
        """A 202 with a tx hash; the watcher then checks it is mined with success."""
        if resp.status_code != 202:
            resp.failure(_why(resp))
            return
        tx_hash = (_json(resp) or {}).get("tx_hash")
        if not isinstance(tx_hash, str) or not TX_HASH.match(tx_hash):
            resp.failure(f"no transaction hash in {_why(resp)}")
            return
        if Shared.watcher is not None:
            Shared.watcher.expect(tx_hash, started, name)

    @task(7)
    def place(self) -> None:
        body = {"side": self.side, "price": _price(self.side), "amount_wh": AMOUNT_WH}
        started = time.time()
        with self.client.post(
            f"{self.base}/api/v1/orders",
            json=body,
            headers=self.headers,
            name="POST /api/v1/orders",
            catch_response=True,
        ) as resp:
            self._expect_tx(resp, f"web {self.side} order", started)

    @task(2)
    def cancel(self) -> None:
        if not self.open_ids:
            self._refresh_open_orders()
        if not self.open_ids:
            self.place()
            return
        order_id = self.open_ids.pop()
        self.cancelled.add(order_id)
        started = time.time()
        with self.client.delete(
            f"{self.base}/api/v1/orders/{order_id}",
            headers=self.headers,
            name="DELETE /api/v1/orders/<id>",
            catch_response=True,
        ) as resp:
            self._expect_tx(resp, "web cancel", started)

    def _refresh_open_orders(self) -> None:
        """The user's open orders from the dashboard's index, minus those this user already cancelled."""
        with self.client.get(
            f"{self.base}/api/v1/orders?status=open",
            headers=self.headers,
            name="GET /api/v1/orders?status=open",
            catch_response=True,
        ) as resp:
            orders = (_json(resp) or {}).get("orders") if resp.status_code == 200 else None
            if not isinstance(orders, list):
                resp.failure(_why(resp))
                return
            ids = [int(o["order_id"]) for o in orders if o.get("status") == "open"]
            self.open_ids = [i for i in ids if i not in self.cancelled][:20]

    @task(1)
    def book(self) -> None:
        with self.client.get(
            f"{self.base}/api/v1/market/book", name="GET /api/v1/market/book", catch_response=True
        ) as resp:
            data = _json(resp) if resp.status_code == 200 else None
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("bids"), list)
                or not isinstance(data.get("asks"), list)
            ):
                resp.failure(f"no book in {_why(resp)}")


# ---------------------------------------------------------------------- chain users
class ChainTrader(User):
    """A trader with its own key who signs placeOrder transactions and sends them straight to JSON-RPC."""

    wait_time = WAIT
    _rpc_session: requests.Session | None = None

    def on_start(self) -> None:
        from energy_chain import Signer
        from tests.load.chain import order_client

        if not Shared.chain_keys:
            raise RuntimeError("LOADTEST_CHAIN_KEYS must be set for chain users")
        entry = Shared.chain_keys[next(Shared.chain_index) % len(Shared.chain_keys)]
        self.signer = Signer.from_key(entry["key"])
        self.side: str = entry["side"]
        self.book = order_client()
        self.rpc_url = os.environ["LOADTEST_RPC_URL"]
        if ChainTrader._rpc_session is None:
            session = requests.Session()
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=1000))
            ChainTrader._rpc_session = session
        _user_ready()

    def _rpc(self, method: str, params: list[Any], name: str) -> Any:
        """One JSON-RPC call, timed and reported to Locust as a request of type JSONRPC."""
        started = time.perf_counter()
        result, error = None, None
        try:
            reply = self._rpc_session.post(
                self.rpc_url,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": method,  # type: ignore[union-attr]
                    "params": params,
                },
                timeout=30,
            )
            data = reply.json()
            if "error" in data:
                error = RuntimeError(f"{method}: {data['error']}")
            else:
                result = data["result"]
        except Exception as exc:  # any transport failure is a failed request, reported as such
            error = exc
        events.request.fire(
            request_type="JSONRPC",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )
        if error is not None:
            raise error
        return result

    @task
    def place(self) -> None:
        from energy_chain.orders import Side

        side = Side.BUY if self.side == "buy" else Side.SELL
        nonce = self.signer.next_nonce(self.book.chain.pending_nonce)
        raw = self.book.build_place_tx(self.signer, side, _price(self.side), AMOUNT_WH, hint=0, nonce=nonce)
        started = time.time()
        try:
            tx_hash = self._rpc("eth_sendRawTransaction", ["0x" + raw.hex()], "eth_sendRawTransaction placeOrder")
        except Exception:
            self.signer.resync()  # the node refused it: its nonce is free again
            return
        if not isinstance(tx_hash, str) or not TX_HASH.match(tx_hash):
            events.request.fire(
                request_type="JSONRPC",
                name="eth_sendRawTransaction placeOrder",
                response_time=0,
                response_length=0,
                exception=ValueError(f"no tx hash: {tx_hash!r}"),
                context={},
            )
            return
        if Shared.watcher is not None:
            Shared.watcher.expect(tx_hash, started, f"chain {self.side} order")
