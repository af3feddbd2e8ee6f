"""The command line end to end: keystore, a CSV replay minted on anvil until done, status and rejections."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from energy_chain.config import PROJECT_ROOT
from tests.oracle.chain_checks import balance, recorded_keys
from tests.oracle.conftest import register


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90, module: str = "meter_oracle"
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})},
    )


def test_keystore_makes_a_fresh_key(tmp_path):
    keystore, password = tmp_path / "new.json", tmp_path / "new.pass"
    made = cli("keystore", "--out", str(keystore), "--password-file", str(password))
    assert made.returncode == 0, made.stderr
    assert json.loads(keystore.read_text())["crypto"]["kdf"] == "scrypt"
    assert (keystore.stat().st_mode & 0o777) == 0o600


def test_help():
    out = cli("--help")
    assert out.returncode == 0 and "run" in out.stdout and "keystore" in out.stdout
    assert "--simulate" in cli("run", "--help").stdout


def test_replay_is_minted_once_and_bad_rows_are_kept_for_audit(client, tmp_path):
    owners = register(client, ["CSV-A", "CSV-B"])
    rows = ["timestamp,serial,export_wh,import_wh"]
    for i in range(6):  # a recording from 2025, one row per meter per minute
        t = 1_735_689_600 + 60 * i
        rows += [f"{t},CSV-A,{5000 + 40 * i},{900 + 10 * i}", f"{t},CSV-B,{100 + 5 * i},{7000 + 25 * i}"]
    rows += [
        f"{1_735_689_600 + 360},CSV-A,4000,2000",  # counter went backwards
        f"{1_735_689_600 + 360},NOT-REGISTERED,1,1",
    ]
    csv = tmp_path / "recording.csv"
    csv.write_text("\n".join(rows) + "\n")
    keystore, password = tmp_path / "k.json", tmp_path / "k.pass"
    made = cli(
        "keystore",
        "--role",
        "oracle",
        "--out",
        str(keystore),
        "--password-file",
        str(password),
        module="energy_chain.devchain",
    )
    assert made.returncode == 0, made.stderr
    assert "correct" not in keystore.read_text() and password.read_text().strip()  # a random password, encrypted key

    outbox = tmp_path / "outbox.sqlite"
    env = {
        "RPC_URL": client.config.rpc_url,
        "DEPLOYMENTS_DIR": str(client.config.deployments_dir),
        "ORACLE_KEYSTORE_FILE": str(keystore),
        "ORACLE_PASSWORD_FILE": str(password),
    }
    run = cli(
        "run",
        "--replay",
        str(csv),
        "--outbox",
        str(outbox),
        "--metrics-port",
        "0",
        "--backfill-hours",
        "1",
        "--speed",
        "1000",
        "--exit-when-done",
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert balance(client, owners["CSV-A"]) == 5 * (40 - 10)
    assert balance(client, owners["CSV-B"]) == 0
    assert len(recorded_keys(client)) == 10

    status = json.loads(cli("status", "--outbox", str(outbox)).stdout)
    assert (status["minted"], status["pending"], status["rejected_samples"]) == (10, 0, 2)
    reasons = {r["serial"]: r["reason"] for r in json.loads(cli("rejections", "--outbox", str(outbox)).stdout)}
    assert reasons == {"CSV-A": "counter_backwards", "NOT-REGISTERED": "unknown_meter"}

    again = cli(
        "run", "--replay", str(csv), "--outbox", str(outbox), "--metrics-port", "0", "--exit-when-done", env=env
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(recorded_keys(client)) == 10  # a restart replays nothing twice
