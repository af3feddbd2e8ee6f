"""Register meters on the MeterRegistry (operator role), skipping those already registered.

  python -m scripts.register_meters --community meter_oracle/config/demo-community.json
  python -m scripts.register_meters --list meters.csv            # columns: serial,owner
  python -m scripts.register_meters --meter SERIAL=0xOwner ...

Every meter is registered with its reading period (registerMeterWithPeriod): --period, else ORACLE_INTERVAL_S, else
the community file's interval_s, else the oracle's default (60 s); its first interval is --lookback-hours (24) before
the latest block, aligned to the period. The registry then refuses a reading whose interval is not a multiple of
the period (a re-report at +1 s) or lies before the first interval.
Owners: an "owner" field/column wins; otherwise, on the local chain, household i of a community belongs to anvil dev
account 3+i (users start at 3). The operator signs: dev account 1 locally, else OPERATOR_KEYSTORE +
OPERATOR_PASSWORD_FILE. Transactions are pre-signed with consecutive nonces and sent in JSON-RPC batches.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

from web3 import Web3

from energy_chain import ChainClient, ChainConfig, Signer
from energy_chain.calls import call_many
from energy_chain.devchain import DEMO_COMMUNITY, NotLocalChain, local_signer, require_local, user_signer
from energy_chain.meters import DEFAULT_LOOKBACK_S, DEFAULT_PERIOD_S, first_interval, meter_id

REGISTER_GAS = 150_000  # registerMeter 54k (reports/gas.json); with a period one more storage slot and an event
SEND_CHUNK = 200


def unregistered(client: ChainClient, serials: Sequence[str]) -> list[str]:
    """The serials the registry does not know yet (one batched call for all)."""
    registry = client.contract("MeterRegistry")
    results = call_many(client, [registry.functions.meter(meter_id(s)) for s in serials])
    out = []
    for serial, res in zip(serials, results, strict=True):
        if res.ok:
            continue
        if res.error is None or res.error.name != "MeterRegistryUnknownMeter":
            raise RuntimeError(f"cannot read meter {serial}: {res.message}")
        out.append(serial)
    return out


def register_meters(
    client: ChainClient,
    operator: Signer,
    meters: Sequence[tuple[str, str]],
    timeout_s: float = 120,
    period_s: int = DEFAULT_PERIOD_S,
    lookback_s: int = DEFAULT_LOOKBACK_S,
) -> tuple[int, int]:
    """Register (serial, owner) pairs that are not registered yet, with `period_s`-long intervals from `lookback_s`
    before the latest block on; returns (registered, skipped)."""
    owners = dict(meters)
    todo = unregistered(client, list(owners))
    registry = client.contract("MeterRegistry")
    first = first_interval(int(client.w3.eth.get_block("latest")["timestamp"]), period_s, lookback_s)
    nonces = operator.reserve(len(todo), client.pending_nonce)
    raws = [
        operator.sign(
            client.build_tx(
                registry.functions.registerMeterWithPeriod(
                    meter_id(s), Web3.to_checksum_address(owners[s]), period_s, first
                ),
                operator,
                REGISTER_GAS,
                nonce=n,
            )
        )
        for s, n in zip(todo, nonces, strict=True)
    ]
    hashes: list[str] = []
    for start in range(0, len(raws), SEND_CHUNK):
        for result in client.send_raw_batch(raws[start : start + SEND_CHUNK]):
            if not isinstance(result, str):
                operator.resync()
                raise RuntimeError(f"node refused a registration: {result}")
            hashes.append(result)
    receipts = client.wait_for_receipts(hashes, timeout_s)
    failed = [h for h in hashes if int(receipts[h]["status"], 16) != 1]
    if failed:
        raise RuntimeError(f"{len(failed)} registrations reverted, e.g. {failed[0]}")
    return len(todo), len(owners) - len(todo)


def _operator(client: ChainClient) -> Signer:
    keystore, password = os.environ.get("OPERATOR_KEYSTORE"), os.environ.get("OPERATOR_PASSWORD_FILE")
    if keystore and password:
        return Signer.from_keystore_files(keystore, password)
    try:
        return local_signer(client, "operator")
    except NotLocalChain as exc:
        raise SystemExit(f"{exc}: set OPERATOR_KEYSTORE and OPERATOR_PASSWORD_FILE") from exc


def _local_owner(index: int, client: ChainClient) -> str:
    try:
        require_local(client)
    except NotLocalChain as exc:
        raise SystemExit(f"{exc}: owners must be given (an owner field or column)") from exc
    return user_signer(index).address


def period_from_args(ns: argparse.Namespace) -> int:
    """--period, else ORACLE_INTERVAL_S, else the community's interval_s, else the oracle's default."""
    if ns.period:
        return int(ns.period)
    if os.environ.get("ORACLE_INTERVAL_S"):
        return int(os.environ["ORACLE_INTERVAL_S"])
    if ns.community:
        return int(json.loads(Path(ns.community).read_text()).get("interval_s", DEFAULT_PERIOD_S))
    return DEFAULT_PERIOD_S


def meters_from_args(ns: argparse.Namespace, client: ChainClient) -> list[tuple[str, str]]:
    meters: list[tuple[str, str]] = []
    if ns.community:
        households = json.loads(Path(ns.community).read_text())["households"]
        meters += [(h["serial"], h.get("owner") or _local_owner(i, client)) for i, h in enumerate(households)]
    if ns.list:
        with open(ns.list, newline="") as fh:
            meters += [(row["serial"].strip(), row["owner"].strip()) for row in csv.DictReader(fh)]
    for item in ns.meter or []:
        serial, _, owner = item.partition("=")
        meters.append((serial.strip(), owner.strip()))
    return meters


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--community", type=Path, help=f"community file (the demo's: {DEMO_COMMUNITY})")
    p.add_argument("--list", type=Path, help="CSV with columns serial,owner")
    p.add_argument("--meter", action="append", metavar="SERIAL=OWNER")
    p.add_argument("--period", type=int, help="reading period in seconds (the oracle's interval; default: see above)")
    p.add_argument("--lookback-hours", type=float, default=DEFAULT_LOOKBACK_S / 3600,
                   help="how long before now the first reportable interval lies (default 24)")  # fmt: skip
    ns = p.parse_args(argv)
    client = ChainClient(ChainConfig.from_env())
    meters = meters_from_args(ns, client)
    if not meters:
        p.error("no meters given")
    period = period_from_args(ns)
    registered, skipped = register_meters(client, _operator(client), meters, period_s=period,
                                          lookback_s=int(ns.lookback_hours * 3600))  # fmt: skip
    print(f"registered {registered} meters ({period} s period), {skipped} already registered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
