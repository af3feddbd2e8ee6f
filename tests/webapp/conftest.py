"""Web app tests: a real anvil (free port, automine) with the project's contracts deployed into a temporary
deployments folder, and a fresh database per test whose schema comes from the migrations. Every test that uses a
database runs on a real PostgreSQL server these tests start (tests/postgres_server.py); the tests of the files in
`SQLITE_TOO` run on SQLite as well (docs/testing.md says why those; `WEBAPP_TEST_ALL_DATABASES=1` runs every test on
both). The chain is shared by one backend's tests (a new one for the second backend); every test makes its own users
(new wallets), so tests do not depend on each other's chain state."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from energy_chain import ChainClient, ChainConfig
from energy_chain.anvil import AnvilProcess, start_anvil
from energy_chain.devchain import deploy_local, dev_signer
from energy_chain.meters import meter_id
from tests.postgres_server import PostgresServer

ORACLE_INDEX = 2
_serials = itertools.count(1)


class Chain:
    """The test chain plus helpers that play the oracle and the operator."""

    def __init__(self, anvil: AnvilProcess, deployments_dir: Path) -> None:
        self.anvil = anvil
        self.url = anvil.url
        self.deployments_dir = deployments_dir
        self.client = ChainClient(ChainConfig(rpc_url=anvil.url, deployments_dir=deployments_dir))
        self.record = deploy_local(self.client)
        self.operator = dev_signer("operator")
        self.oracle = dev_signer("oracle")
        self._interval = int(time.time()) // 900 * 900 - 900 * 1000

    def register_meter(self, owner: str, serial: str | None = None) -> str:
        serial = serial or f"TEST-{next(_serials)}-{time.time_ns()}"
        fn = self.client.contract("MeterRegistry").functions.registerMeter(meter_id(serial), owner)
        self.operator.resync()  # the app under test signs with the same operator key: count from the node
        self.client.transact(fn, self.operator)
        return serial

    def mint_energy(self, owner: str, wh: int, serial: str | None = None) -> str:
        """Register a meter for `owner` (unless given) and record one surplus reading of `wh` for it."""
        serial = serial or self.register_meter(owner)
        self._interval += 900
        fn = self.client.contract("EnergyToken").functions.recordReading((meter_id(serial), self._interval, wh, 0))
        self.oracle.resync()
        self.client.transact(fn, self.oracle)
        return serial

    def top_up(self, owner: str, units: int) -> None:
        fn = self.client.contract("SettlementToken").functions.topUp(owner, units, b"\x01" * 32)
        self.operator.resync()
        self.client.transact(fn, self.operator)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Chain]:
    """Each test file's own chain, for each database backend (anvil starts and the contracts deploy in ~1 s): its
    orders meet an empty book and its settings reach no other file, whichever files ran before it on the worker.
    (A chain shared by the files of a worker let an ask one file left resting take a fill another file counted on.)
    The tests of one file share it: they leave the book as they found it, or use prices the others do not."""
    anvil = start_anvil(gas_limit=300_000_000, accounts=10)
    try:
        yield Chain(anvil, tmp_path_factory.mktemp("deployments"))
    finally:
        anvil.stop()


BACKENDS = ("sqlite", "postgresql")
# The files whose tests run on SQLite too (every test runs on PostgreSQL): SQLite-specific code paths and SQL whose
# meaning differs between the two (docs/testing.md, "Which web tests run on both databases").
SQLITE_TOO = frozenset({
    "test_migrations",  # batch-mode ALTER (table copies) on SQLite, transactional DDL on PostgreSQL
    "test_indexer",  # bulk inserts, deletes on a chain reset, the cursor row: SQLite's locking and transactions
    "test_history",  # GROUP BY time buckets, SUMs and paging (integer division and NULL order differ)
    "test_demo_seed_periods",  # the meter periods' slot/epoch arithmetic in SQL
    "test_pages",  # community and operator aggregates, the demo seed and bot writing one database
    "test_auth_security",  # concurrent logins and session rows from threads: SQLite's single-writer lock
})  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the SQLite run of the web tests outside `SQLITE_TOO` (all stay with WEBAPP_TEST_ALL_DATABASES=1).

    The `databases` fixture keeps both params for every test, so pytest still groups each file's SQLite tests and
    then its PostgreSQL ones (per-module params would interleave the two session fixtures)."""
    if os.environ.get("WEBAPP_TEST_ALL_DATABASES"):
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        module = item.nodeid.split("::")[0]
        sqlite = callspec is not None and callspec.params.get("databases") == "sqlite"
        if sqlite and module.startswith("tests/webapp/") and Path(module).stem not in SQLITE_TOO:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def migrate(url: str) -> None:
    """Create the schema in the database at `url` the way `python -m webapp upgrade` does."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.schema import upgrade

    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": url})
    upgrade(app)
    with app.app_context():
        db.engine.dispose()


class Databases:
    """Migrated, empty databases of one backend; the schema is migrated once at the start. SQLite: each test gets a
    copy of that file. PostgreSQL: each test gets the one shared database with every table emptied (TRUNCATE takes
    milliseconds; a CREATE DATABASE per test took ~0.3 s and left ~8 MB each to delete); `new()` makes another."""

    SHARED = "webapp_tests"

    def __init__(self, backend: str, root: Path, postgres: PostgresServer | None = None) -> None:
        self.backend = backend
        self.root = root
        self.postgres = postgres
        self._n = itertools.count(1)
        if postgres is None:
            self._template = root / "template.db"
            migrate(f"sqlite:///{self._template}")
        else:
            migrate(postgres.create_database("template_webapp"))
            self._shared = postgres.create_database(self.SHARED, template="template_webapp")

    def fresh(self) -> str:
        """This test's empty database."""
        if self.postgres is None:
            return self.new()
        from webapp.extensions import db

        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        # lock_timeout: a connection a previous test left inside a transaction fails this at once, never hangs it
        self.postgres.execute("SET lock_timeout = '10s'", f"TRUNCATE {tables} RESTART IDENTITY", database=self.SHARED)
        return self._shared

    def new(self) -> str:
        n = next(self._n)
        if self.postgres is None:
            path = self.root / f"webapp-{n}.db"
            shutil.copyfile(self._template, path)
            return f"sqlite:///{path}"
        return self.postgres.create_database(f"webapp_{n}", template="template_webapp")

    def empty(self) -> str:
        """A new database without any table (as before the first `upgrade`)."""
        n = next(self._n)
        if self.postgres is None:
            return f"sqlite:///{self.root / f'empty-{n}.db'}"
        return self.postgres.create_database(f"empty_{n}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer.started() as server:
        yield server


@pytest.fixture(scope="session")
def _databases_kept() -> dict[str, Databases]:
    """Each backend's `Databases`, made once per session (see `databases`)."""
    return {}


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _databases_kept: dict[str, Databases]
) -> Databases:
    """SQLite, then PostgreSQL (the server starts on first use); `pytest_collection_modifyitems` keeps SQLite only for
    the files in `SQLITE_TOO`. When pytest switches back to a backend it used before (xdist runs a whole file, both
    backends, then the next), that backend's databases are reused: migrating the template again would fail."""
    if request.param not in _databases_kept:
        postgres = request.getfixturevalue("postgres") if request.param == "postgresql" else None
        _databases_kept[request.param] = Databases(
            request.param, tmp_path_factory.mktemp(f"db-{request.param}"), postgres
        )
    return _databases_kept[request.param]


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A migrated, empty database for this test."""
    return databases.fresh()


def app_config(chain: Chain, db_url: str, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": db_url,
        "RPC_URL": chain.url,
        "DEPLOYMENTS_DIR": str(chain.deployments_dir),
        "WALLET_SCRYPT_N": 2**10,  # the keystore standard is 2**18; tests only need the format
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "INDEXER_ENABLED": False,
        "PUBLIC_URL": "http://localhost",  # the test client's host: Sign-In with Ethereum messages name it
        "TOPUP_SELF_SERVICE": True,  # as `make demo`; tests of operator-confirmed top-ups turn it off
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(chain: Chain, db_url: str):
    from webapp import create_app

    application = create_app(app_config(chain, db_url))
    yield application
    with application.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Users:
    """Sign up and log in through the real routes."""

    def __init__(self, app) -> None:
        self.app = app
        self._n = itertools.count(1)

    def signup(self, client, username: str | None = None, password: str = "correct horse battery") -> str:
        username = username or f"user{next(self._n)}_{time.time_ns() % 10**8}"
        r = client.post("/auth/signup", data={"username": username, "password": password, "confirm": password})
        assert r.status_code == 302, r.get_data(as_text=True)
        return username

    def address(self, username: str) -> str:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import User

        with self.app.app_context():
            return db.session.scalar(select(User.address).where(User.username == username))

    def lock_wallet(self, username: str) -> None:
        """As if the unlock time of every session of `username` had run out (WALLET_UNLOCK_SECONDS)."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import select, update

        from webapp.extensions import db
        from webapp.models import AuthSession, User

        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.username == username))
            db.session.execute(update(AuthSession).where(AuthSession.user_id == user_id)
                               .values(unlocked_until=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
            db.session.commit()

    def signer(self, username: str, password: str = "correct horse battery"):
        """The account's key as a signer of this process (as the demo bot holds it), for tests outside a request."""
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import User
        from webapp.services.accounts import unlock_in_process

        with self.app.app_context():
            return unlock_in_process(db.session.scalar(select(User).where(User.username == username)), password)

    def index(self) -> None:
        with self.app.app_context():
            self.app.extensions["indexer"].catch_up()


@pytest.fixture
def users(app) -> Users:
    return Users(app)
