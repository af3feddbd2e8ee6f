"""Peak memory of parallel logins with real keystores (scrypt N = 2^18), with and without the unlock gate's bound.

    python -m scripts.unlock_memory [--logins 8] [--scrypt-n 262144]

Signs up `--logins` accounts in a temporary SQLite database (no chain needed: the market approvals are skipped
while the chain is unreachable), then logs them all in at once through the JSON API, once with the gate at
`--logins` parallel decryptions (no real bound, as before the fix) and once at its default (2); prints the peak
resident memory (VmHWM, reset before each round) of each round.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

PASSWORD = "memory probe passphrase"


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _round(app, names: list[str]) -> tuple[float, int, list[int]]:
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    codes: list[int] = []

    def login(name: str) -> None:
        r = app.test_client().post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        codes.append(r.status_code)

    t0 = time.monotonic()
    threads = [threading.Thread(target=login, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0, _rss_kib("VmHWM"), codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=8)
    parser.add_argument("--scrypt-n", type=int, default=2**18)
    ns = parser.parse_args()
    from webapp import create_app
    from webapp.schema import upgrade

    with tempfile.TemporaryDirectory(prefix="unlock-memory-") as tmp:
        base = {"SECRET_KEY": "m" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/web.db",
                "RPC_URL": "http://127.0.0.1:9", "WALLET_SCRYPT_N": ns.scrypt_n, "RATELIMIT_ENABLED": False,
                "INDEXER_ENABLED": False, "UNLOCK_QUEUE": ns.logins, "UNLOCK_WAIT_SECONDS": 600}  # fmt: skip
        app = create_app(base)
        upgrade(app)
        names = [f"probe{i}" for i in range(ns.logins)]
        for name in names:
            r = app.test_client().post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
            assert r.status_code == 201, r.get_json()
        print(f"{ns.logins} parallel logins, scrypt N = {ns.scrypt_n}; RSS now {_rss_kib('VmRSS') // 1024} MiB")
        for concurrency in (ns.logins, 2):
            app = create_app({**base, "UNLOCK_CONCURRENCY": concurrency})
            seconds, peak_kib, codes = _round(app, names)
            print(f"  at most {concurrency} decryptions at once: peak RSS {peak_kib // 1024} MiB, {seconds:.1f} s, "
                  f"HTTP {sorted(set(codes))}")  # fmt: skip


if __name__ == "__main__":
    main()
