"""schemathesis over every operation of the JSON API's OpenAPI document, against the real web app (issue 15, item 2).

Starts its own chain (anvil on a free port, contracts deployed), migrates a SQLite database, serves the dashboard with
`python -m webapp serve` (gunicorn, the indexer thread) on a free port, signs up a user through the API and funds
it (energy from a meter reading, money from a top-up), then runs the schemathesis CLI from `.venv-fuzz` twice
against /api/v1/openapi.json: anonymous, and with the funded user's bearer token. Checks: not_a_server_error,
response_schema_conformance, status_code_conformance. Writes the counts to reports/fuzz.json:

    python -m scripts.api_fuzz                     # as `make test` runs it (tests/security/test_api_fuzz.py)
    python -m scripts.api_fuzz --max-examples 100  # `make fuzz`: deeper

Everything it starts is stopped on the way out; nothing is written outside the clone (its run directory is in var/).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from energy_chain.anvil import free_port
from energy_chain.config import PROJECT_ROOT
from energy_chain.devchain import local_chain, local_signer
from energy_chain.meters import meter_id
from scripts.loadtest import wait_http

FUZZ_VENV = Path(os.environ.get("FUZZ_VENV", PROJECT_ROOT / ".venv-fuzz"))
REPORT = PROJECT_ROOT / "reports" / "fuzz.json"
CHECKS = ("not_a_server_error", "response_schema_conformance", "status_code_conformance")
PASSWORD = "fuzzing-password-2026"
DEFAULT_EXAMPLES = 5  # as in `make test` (tests/security/test_api_fuzz.py, FUZZ_EXAMPLES)
DEFAULT_SEED = 2026
# Logout revokes the token the authenticated pass runs with: that pass leaves it to the anonymous one (401 there).
AUTH_EXCLUDED = ("/auth/logout",)


def schemathesis_binary() -> Path:
    return FUZZ_VENV / "bin" / "schemathesis"


def _log(message: str) -> None:
    print(f"[api-fuzz] {message}", flush=True)


@dataclass
class Pass:
    """What one schemathesis run did."""

    name: str
    exit_code: int
    operations: int
    requests: int
    server_errors: int
    schema_violations: int
    status_violations: int
    failures: int
    failure_titles: list[str]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ---------------------------------------------------------------------- the server under test
def _web_env(rpc_url: str, deployments_dir: Path, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "RPC_URL": rpc_url,
        "CHAIN_ID": "1337",
        "DEPLOYMENTS_DIR": str(deployments_dir),
        "DATABASE_URL": db_url,
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "WEBAPP_SCRYPT_N": str(2**10),  # cheap keystores: fuzzed sign-ups must not take a second of CPU each
        "WEBAPP_LOGIN_RATE_LIMIT": "600 per minute",  # on, but past the fuzzer's pace (429 is documented anyway)
        "WEBAPP_UNLOCK_SECONDS": "3600",
    }


@contextlib.contextmanager
def web_server(rpc_url: str, deployments_dir: Path, run_dir: Path) -> Iterator[str]:
    """`python -m webapp serve` on a free port against `rpc_url`, on a fresh SQLite database; stopped on exit."""
    db_url = f"sqlite:///{run_dir / 'webapp.sqlite'}"
    env = _web_env(rpc_url, deployments_dir, db_url)
    subprocess.run([sys.executable, "-m", "webapp", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    port = free_port()
    log = open(run_dir / "web.log", "ab")  # noqa: SIM115 - handed to the child
    serve = [sys.executable, "-m", "webapp", "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "8"]
    proc = subprocess.Popen(serve, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/api/v1/health", 90, proc)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def funded_user(url: str, client: Any) -> tuple[str, str]:
    """Sign up through the API; give the wallet 50 kWh (a meter reading) and RM 500 (a top-up). (token, address)"""
    name = f"fuzz{secrets.token_hex(4)}"
    reply = requests.post(f"{url}/api/v1/auth/signup", json={"username": name, "password": PASSWORD}, timeout=60)
    reply.raise_for_status()
    body = reply.json()
    token, address = body["token"], body["user"]["address"]
    operator, oracle = local_signer(client, "operator"), local_signer(client, "oracle")
    serial = f"FUZZ-{name}"
    client.transact(client.contract("MeterRegistry").functions.registerMeter(meter_id(serial), address), operator)
    interval = int(time.time()) // 900 * 900 - 900
    reading = (meter_id(serial), interval, 50_000, 0)
    client.transact(client.contract("EnergyToken").functions.recordReading(reading), oracle)
    headers = {"Authorization": f"Bearer {token}"}
    topup = requests.post(f"{url}/api/v1/account/topup", json={"amount_myr": "500"}, headers=headers, timeout=60)
    topup.raise_for_status()
    return token, address


# ---------------------------------------------------------------------- schemathesis
def run_pass(name: str, schema_url: str, out_dir: Path, max_examples: int, seed: int, token: str | None = None,
             timeout: float = 600, extra: tuple[str, ...] = ()) -> Pass:  # fmt: skip
    report = out_dir / f"{name}.json"
    args = [str(schemathesis_binary()), "run", schema_url, "--checks", ",".join(CHECKS), "--max-examples",
            str(max_examples), "--seed", str(seed), "--workers", "1", "--request-timeout", "60", "--no-color",
            "--phases", "examples,coverage,fuzzing", "--report", "json", "--report-json-path", str(report),
            "--suppress-health-check", "all", "--continue-on-failure", *extra]  # fmt: skip
    if token:
        args += ["--header", f"Authorization: Bearer {token}"]
        for path in AUTH_EXCLUDED:
            args += ["--exclude-path", path]
    started = time.monotonic()
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "HYPOTHESIS_STORAGE_DIRECTORY": str(out_dir / "hypothesis")}
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=out_dir, env=env)
    seconds = round(time.monotonic() - started, 1)
    (out_dir / f"{name}.log").write_text(done.stdout + done.stderr)
    return summarize(name, done.returncode, report, seconds)


SERVER_ERRORS = {"ServerError"}
SCHEMA_ERRORS = {"JsonSchemaError", "MalformedJson", "ContentDeserializationError", "UndefinedContentType",
                 "MalformedMediaType", "MissingContentType"}  # fmt: skip
STATUS_ERRORS = {"UndefinedStatusCode"}


def summarize(name: str, exit_code: int, report: Path, seconds: float) -> Pass:
    """Counts from schemathesis' JSON run report: operations tested, test cases (one request each, no stateful
    phase), failure groups by type."""
    data = json.loads(report.read_text()) if report.exists() else {}
    failures = data.get("failures") or []

    def count(types: set[str]) -> int:
        return sum(int(f.get("count", 1)) for f in failures if f.get("type") in types)

    titles = [f"{f.get('type')}: {f.get('title')} ({', '.join(f.get('operations') or [])})" for f in failures]
    titles += [f"error: {e.get('title')}" for e in data.get("errors") or []]
    return Pass(
        name=name,
        exit_code=exit_code,
        operations=int((data.get("operations") or {}).get("tested", 0)),
        requests=int((data.get("test_cases") or {}).get("generated", 0)),
        server_errors=count(SERVER_ERRORS),
        schema_violations=count(SCHEMA_ERRORS),
        status_violations=count(STATUS_ERRORS),
        failures=len(titles),
        failure_titles=titles[:50],
        seconds=seconds,
    )


@contextlib.contextmanager
def fuzz_target() -> Iterator[tuple[str, str, Path]]:
    """A fresh chain and web server with a funded user: (server URL, the user's bearer token, run directory)."""
    runs = PROJECT_ROOT / "var"
    runs.mkdir(exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="api-fuzz-", dir=runs))
    try:
        deployments = run_dir / "deployments"
        deployments.mkdir()
        with (
            local_chain(deployments, gas_limit=300_000_000) as client,
            web_server(client.config.rpc_url, deployments, run_dir) as url,
        ):
            token, _address = funded_user(url, client)
            yield url, token, run_dir
    finally:
        if os.environ.get("API_FUZZ_KEEP") != "1":
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            _log(f"run directory kept: {run_dir}")


def run_passes(url: str, token: str, run_dir: Path, max_examples: int = DEFAULT_EXAMPLES, seed: int = DEFAULT_SEED,
               out: Path | None = REPORT) -> dict[str, Any]:  # fmt: skip
    """The anonymous and the authenticated pass; the report (also written to `out`)."""
    started = time.monotonic()
    schema_url = f"{url}/api/v1/openapi.json"
    document = requests.get(schema_url, timeout=10).json()
    operations = sum(len(ops) for ops in document["paths"].values())
    _log(f"server {url}, {operations} operations, {max_examples} examples per operation, seed {seed}")
    passes = []
    for name, auth in (("anonymous", None), ("authenticated", token)):
        result = run_pass(name, schema_url, run_dir, max_examples, seed, auth)
        _log(f"{name}: {result.operations} operations, {result.requests} requests, {result.server_errors} 5xx, "
             f"{result.schema_violations} schema and {result.status_violations} status-code violations, "
             f"{result.seconds} s (exit {result.exit_code})")  # fmt: skip
        passes.append(result)
    report = {
        "tool": "schemathesis " + _version(),
        "checks": list(CHECKS),
        "max_examples": max_examples,
        "seed": seed,
        "operations_documented": operations,
        "operations": max(p.operations for p in passes),
        "requests": sum(p.requests for p in passes),
        "server_errors": sum(p.server_errors for p in passes),
        "schema_violations": sum(p.schema_violations for p in passes),
        "status_violations": sum(p.status_violations for p in passes),
        "failures": sum(p.failures for p in passes),
        "seconds": round(time.monotonic() - started, 1),
        "passes": [p.as_dict() for p in passes],
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def fuzz(max_examples: int = DEFAULT_EXAMPLES, seed: int = DEFAULT_SEED, out: Path = REPORT) -> dict[str, Any]:
    """Both passes against a fresh chain and server."""
    if not schemathesis_binary().exists():
        raise FileNotFoundError(f"{schemathesis_binary()} is missing: run `make fuzz-setup`")
    with fuzz_target() as (url, token, run_dir):
        return run_passes(url, token, run_dir, max_examples, seed, out)


def _version() -> str:
    done = subprocess.run([str(schemathesis_binary()), "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip().rsplit(" ", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES)))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=REPORT)
    ns = parser.parse_args(argv)
    report = fuzz(ns.max_examples, ns.seed, ns.out)
    print(json.dumps({k: v for k, v in report.items() if k != "passes"}, indent=2))
    for p in report["passes"]:
        for title in p["failure_titles"]:
            print(f"  {p['name']}: {title}")
    return 0 if report["failures"] == 0 and report["server_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
