"""Command line: `python -m meter_oracle run|status|rejections|keystore --help`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
from pathlib import Path

from energy_chain import Signer

log = logging.getLogger("meter_oracle")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m meter_oracle",
        description="Meter oracle: reads meters (Modbus TCP, CSV replay or a simulated community), validates the "
        "readings, keeps them in a SQLite outbox and records them on EnergyToken exactly once.",
        epilog="Configuration: defaults < --config FILE (TOML) < environment (RPC_URL, DEPLOYMENTS_DIR, "
        "ORACLE_KEYSTORE_FILE, ORACLE_PASSWORD_FILE, ORACLE_OUTBOX, ORACLE_METRICS_PORT, ORACLE_INTERVAL_S, ...) "
        "< options. See docs/oracle.md.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daemon until SIGTERM/SIGINT")
    run.add_argument(
        "--config", type=Path, help="oracle config file (TOML), e.g. meter_oracle/config/oracle.example.toml"
    )
    src = run.add_mutually_exclusive_group()
    src.add_argument("--simulate", type=Path, metavar="COMMUNITY_JSON", help="simulated community (demo)")
    src.add_argument("--replay", type=Path, metavar="CSV", help="replay recorded counters from a CSV file")
    src.add_argument("--modbus", action="store_true", help="read the Modbus TCP meters listed in the config file")
    run.add_argument("--keystore", type=Path, help="encrypted keystore of the oracle key (ORACLE_KEYSTORE_FILE)")
    run.add_argument("--password-file", type=Path, help="file holding the keystore password (ORACLE_PASSWORD_FILE)")
    run.add_argument("--rpc-url", help="chain JSON-RPC URL (RPC_URL)")
    run.add_argument("--deployments-dir", type=Path, help="folder of deployment records (DEPLOYMENTS_DIR)")
    run.add_argument("--outbox", type=Path, help="SQLite outbox file (ORACLE_OUTBOX)")
    run.add_argument("--metrics-port", type=int, help="Prometheus port, 0 for none (ORACLE_METRICS_PORT)")
    run.add_argument("--interval", type=int, dest="interval_s", help="interval length in seconds (ORACLE_INTERVAL_S)")
    run.add_argument("--backfill-hours", type=float, help="simulate/replay: start this many hours in the past")
    run.add_argument("--speed", type=float, help="simulate/replay: how much faster than real time to catch up")
    run.add_argument("--log-level", help="DEBUG, INFO, WARNING (ORACLE_LOG_LEVEL)")
    run.add_argument("--log-format", choices=["json", "text"], help="json (default) or text (ORACLE_LOG_FORMAT)")
    run.add_argument("--exit-when-done", action="store_true", help="replay: exit once the file is read and minted")

    for name, text in (("status", "reading counts in the outbox"), ("rejections", "latest rejected samples")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--config", type=Path)
        cmd.add_argument("--outbox", type=Path)
        if name == "rejections":
            cmd.add_argument("--limit", type=int, default=50)

    ks = sub.add_parser("keystore", help="write an encrypted keystore (and a password file if missing)")
    ks.add_argument("--out", type=Path, required=True, help="keystore file to write")
    ks.add_argument("--password-file", type=Path, required=True, help="password file (created with a random one)")
    return p


def _config(ns: argparse.Namespace):
    from meter_oracle.config import load_config

    kind = (
        "simulate"
        if getattr(ns, "simulate", None)
        else "replay"
        if getattr(ns, "replay", None)
        else ("modbus" if getattr(ns, "modbus", False) else None)
    )
    overrides = {
        "chain": {"rpc_url": getattr(ns, "rpc_url", None), "deployments_dir": getattr(ns, "deployments_dir", None)},
        "oracle": {
            k: getattr(ns, k, None) for k in ("outbox", "metrics_port", "interval_s", "log_level", "log_format")
        },
        "source": {
            "kind": kind,
            "community": getattr(ns, "simulate", None),
            "replay_csv": getattr(ns, "replay", None),
            "backfill_hours": getattr(ns, "backfill_hours", None),
            "speed": getattr(ns, "speed", None),
        },
    }
    overrides["oracle"]["keystore_file"] = getattr(ns, "keystore", None)
    overrides["oracle"]["password_file"] = getattr(ns, "password_file", None)
    return load_config(ns.config, os.environ, overrides)


def cmd_run(ns: argparse.Namespace) -> int:
    from meter_oracle.daemon import Daemon
    from meter_oracle.logs import setup_logging

    config = _config(ns)
    setup_logging(config.log_level, config.log_format)
    if config.keystore_file is None or config.password_file is None:
        log.error(
            "the oracle key is needed: --keystore and --password-file (or ORACLE_KEYSTORE_FILE and "
            "ORACLE_PASSWORD_FILE); `python -m meter_oracle keystore` makes one"
        )
        return 2
    signer = Signer.from_keystore_files(config.keystore_file, config.password_file)
    daemon = Daemon(config, signer)
    daemon.install_signal_handlers()
    return daemon.run(exit_when_done=ns.exit_when_done)


def cmd_status(ns: argparse.Namespace) -> int:
    from meter_oracle.outbox import Outbox

    box = Outbox(_config(ns).outbox)
    if ns.command == "status":
        print(json.dumps({"outbox": str(box.path), **box.counts(), "cursor": box.get("cursor")}, indent=1))
    else:
        print(json.dumps(box.rejections(ns.limit), indent=1))
    box.close()
    return 0


def cmd_keystore(ns: argparse.Namespace) -> int:
    # A new random key; the demo's dev-chain key comes from `python -m energy_chain.devchain keystore --role oracle`.
    signer = Signer.from_key("0x" + secrets.token_hex(32))
    if not ns.password_file.exists():
        ns.password_file.parent.mkdir(parents=True, exist_ok=True)
        ns.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        ns.password_file.chmod(0o600)
    password = ns.password_file.read_text().strip()
    ns.out.parent.mkdir(parents=True, exist_ok=True)
    ns.out.write_text(json.dumps(signer.encrypt(password)))
    ns.out.chmod(0o600)
    print(f"keystore {ns.out} for {signer.address} (password in {ns.password_file})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ns = _parser().parse_args(argv)
    if ns.command == "run":
        return cmd_run(ns)
    if ns.command in ("status", "rejections"):
        return cmd_status(ns)
    return cmd_keystore(ns)


if __name__ == "__main__":
    sys.exit(main())
