"""A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, `pg_ctl` on a free port, stopped and
deleted afterwards. Debian's binaries (package `postgresql`, /usr/lib/postgresql/<major>/bin; `make test` installs
it when missing). PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the unprivileged
`nobody` (through setpriv), owning its data directory; any other caller runs it as themselves.

    with PostgresServer.started() as pg:
        pg.create_database("web")           # -> postgresql+psycopg://postgres@127.0.0.1:<port>/web
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from energy_chain.anvil import free_port

UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"  # the database role initdb creates (trust authentication on 127.0.0.1 only)


class PostgresMissing(RuntimeError):
    pass


def bin_dir() -> Path:
    """Where initdb and pg_ctl are: POSTGRES_BIN, else the newest /usr/lib/postgresql/<major>/bin."""
    configured = os.environ.get("POSTGRES_BIN")
    candidates = [Path(configured)] if configured else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True)  # fmt: skip
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise PostgresMissing("PostgreSQL binaries not found: run `make postgres-deps` (apt-get install postgresql)")


class PostgresServer:
    def __init__(self, root: Path, port: int, binaries: Path) -> None:
        self.root = root
        self.port = port
        self.bin = binaries
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = UNPRIVILEGED_USER if os.geteuid() == 0 else None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    @contextlib.contextmanager
    def started(cls) -> Iterator[PostgresServer]:
        # As root the server runs as `nobody`, who must reach its directory: /tmp, not a TMPDIR under /root.
        root = tempfile.mkdtemp(prefix="webapp-pg-", dir="/tmp" if os.geteuid() == 0 else None)
        server = cls(Path(root), free_port(), bin_dir())
        try:
            server.start()
            yield server
        finally:
            server.stop()

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.user is not None:
            account = pwd.getpwnam(self.user)
            command = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--",
                       *command]  # fmt: skip
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})  # fmt: skip
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}{log}")
        return done

    def start(self) -> None:
        if self.user is not None:
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        # fsync off etc.: a test database that vanishes afterwards needs no durability, and initdb runs in ~1 s.
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")  # fmt: skip
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                # immediate: no shutdown checkpoint, and open test connections are cut (the data is deleted next)
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ databases
    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Statements on one connection, each outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}",
                             autocommit=True) as conn:  # fmt: skip
            for sql in statements:
                conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); returns its SQLAlchemy URL."""
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)
