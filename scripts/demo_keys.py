"""Encrypted keystores for the demo's oracle and operator (from anvil's public dev keys: demo use only).

The oracle daemon and the dashboard's operator actions read a keystore file and a password file, as they would in
production; this writes such a pair for the local chain so the demo runs them the same way. Idempotent.
"""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path

from scripts.roles import OPERATOR_INDEX, ORACLE_INDEX, local_signer


def write_keystore(out: Path, name: str, index: int) -> Path:
    keystore, password_file = out / f"{name}.json", out / f"{name}.password"
    if keystore.exists() and password_file.exists():
        return keystore
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    keystore.write_text(json.dumps(local_signer(index).encrypt(password)))
    keystore.chmod(0o600)
    return keystore


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/demo/keys"))
    ns = parser.parse_args(argv)
    for name, index in (("oracle", ORACLE_INDEX), ("operator", OPERATOR_INDEX)):
        print(f"{name} keystore: {write_keystore(ns.out, name, index)}")


if __name__ == "__main__":
    main()
