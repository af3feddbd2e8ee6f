"""Demo data on the local chain: demo users, their meters, money and a starter balance of energy
and each household's mandate for the demo's automatic-trading agent (`python -m webapp seed-demo`; the agents are
agents.service, the auction keeper webapp.services.demo_bot).

Demo users own anvil's public dev keys 3, 4, ... (household i of the community file gets key 3+i, the same owner
scripts.register_meters picks), stored like every other wallet as a keystore encrypted with the demo password.
Those keys are public: this is for the local chain only, and seed-demo refuses any other chain.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from energy_chain import ChainClient, Signer
from energy_chain.devchain import (
    DEMO_COMMUNITY,
    FIRST_USER_INDEX,
    NotLocalChain,
    dev_key,
    is_local,
    local_signer,
    require_local,
)
from energy_chain.mandate import VENUE_AUCTION, VENUE_ORDER_BOOK, MandateClient, MandateTerms
from energy_chain.meters import DEFAULT_PERIOD_S, first_interval, meter_id
from webapp.extensions import db
from webapp.models import Meter, User
from webapp.services import accounts, passwords
from webapp.services.context import chain, keys
from webapp.units import UNITS_PER_MYR, UNITS_PER_SEN
from webapp.wallets import import_keystore

log = logging.getLogger(__name__)

COMMUNITY_FILE = DEMO_COMMUNITY
# Meters are registered with the oracle's period and a first interval a day back; their starter reading is that first
# interval (the live oracle backfills 12 h, so it never reports it). Meters of an older demo chain, registered
# without a period, keep their starter interval of Nov 2023.
LEGACY_STARTER_INTERVAL = 1_700_000_100 // 900 * 900
STARTER_KWH = 25
TOPUP_MYR, TOPUP_BELOW_MYR = 300, 100
BUILTIN_HOUSEHOLDS = [
    {"name": "Aisyah", "serial": "DEMO-MTR-001", "kind": "prosumer"},
    {"name": "Ben", "serial": "DEMO-MTR-002", "kind": "prosumer"},
    {"name": "Chandra", "serial": "DEMO-MTR-003", "kind": "prosumer"},
    {"name": "Elena", "serial": "DEMO-MTR-005", "kind": "consumer"},
    {"name": "Farid", "serial": "DEMO-MTR-006", "kind": "consumer"},
]


# The bounds each demo household grants the demo's agent (agents.service, `make demo`): sell at 25 sen/kWh or more,
# buy at 45 sen/kWh or less (feed-in 20, retail 50), keep 10 kWh unsold for the person using the account (as the old
# bot did), spend at most RM 20 a day, on the order book and the auction (the agent does not use the direct venue).
DEMO_MANDATE_AGENT_ROLE = "agent"
DEMO_MANDATE = {"min_sell_price": 25 * UNITS_PER_SEN, "max_buy_price": 45 * UNITS_PER_SEN, "reserve_wh": 10_000,
                "daily_spend_cap": 20 * UNITS_PER_MYR, "venues": VENUE_ORDER_BOOK | VENUE_AUCTION}  # fmt: skip


def grant_demo_mandates(client: ChainClient, owners: list[tuple[DemoUser, Signer]]) -> list[str]:
    """Each demo household grants the dev agent its demo bounds once: never again after it revoked or changed them
    (a MandateGranted or MandateRevoked of that owner exists). Returns the usernames that granted now."""
    mandates = MandateClient(client)
    agent = local_signer(client, DEMO_MANDATE_AGENT_ROLE).address
    contract = client.contract("TradingMandate")
    done = []
    for demo, signer in owners:
        seen = [
            event().get_logs(from_block=0, argument_filters={"owner": signer.address})
            for event in (contract.events.MandateGranted, contract.events.MandateRevoked)
        ]
        if any(seen) or mandates.terms_of(signer.address) is not None:
            continue
        mandates.grant(signer, MandateTerms(agent=agent, **DEMO_MANDATE))
        done.append(demo.username)
    return done


@dataclass(frozen=True)
class DemoUser:
    username: str
    household: str
    serial: str
    kind: str
    key_index: int


def local_operator(client: ChainClient) -> Signer | None:
    """The operator's dev account, for a web app on the local chain without OPERATOR_KEYSTORE; None elsewhere."""
    return local_signer(client, "operator") if is_local(client) else None


def local_agent(client: ChainClient) -> str | None:
    """The demo agent's dev address (role "agent"), for a web app on the local chain without AGENT_ADDRESS; None
    elsewhere. Only the address: the agent's key is the agent service's, never the web app's."""
    return local_signer(client, "agent").address if is_local(client) else None


def households(path: Path = COMMUNITY_FILE) -> list[dict]:
    if path.exists():
        return json.loads(path.read_text())["households"]
    return BUILTIN_HOUSEHOLDS


def demo_users(path: Path = COMMUNITY_FILE) -> list[DemoUser]:
    out = []
    for i, h in enumerate(households(path)):
        username = re.sub(r"[^a-z0-9]+", "", h["name"].split()[0].lower()) or f"household{i + 1}"
        out.append(DemoUser(username, h["name"], h["serial"], h["kind"], FIRST_USER_INDEX + i))
    return out


def _ensure_user(username: str, password: str, private_key: str | None, operator: bool, scrypt_n: int) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        if private_key is None:  # the password policy applies to the demo password too
            user = accounts.signup(username, password, kind=None, operator=operator)
        else:
            passwords.check(password, username)
            address, keystore = import_keystore(private_key, password, scrypt_n)
            user = User(username=username, password_hash=generate_password_hash(password), address=address,
                        keystore=keystore)  # fmt: skip
            db.session.add(user)
        user.is_operator = operator
        db.session.commit()
    if user.keystore:
        accounts.unlock_in_process(user, password)  # this process signs the approvals below
    return user


def seed(
    app: Flask, password: str, round_seconds: int | None, out=print, meter_period_s: int = DEFAULT_PERIOD_S
) -> list[tuple[str, str]]:
    """Create demo users, register (with the oracle's `meter_period_s`) and fund them; idempotent. Returns
    (username, role) pairs."""
    service = chain()
    client = service.client
    try:
        require_local(client)
    except NotLocalChain as exc:
        raise SystemExit(f"seed-demo uses anvil's public keys and runs only on the local chain ({exc})") from exc
    scrypt_n = app.config["WALLET_SCRYPT_N"]
    logins: list[tuple[str, str]] = []
    operator_user = _ensure_user("operator", password, None, True, scrypt_n)
    logins.append((operator_user.username, "operator"))
    registry = client.contract("MeterRegistry")
    energy = client.contract("EnergyToken")
    money = client.contract("SettlementToken")
    oracle = local_signer(client, "oracle")
    users = [(demo, _ensure_user(demo.username, password, dev_key(demo.key_index), False, scrypt_n))
             for demo in demo_users()]  # fmt: skip
    # Transactions are sent without waiting and awaited per phase: a phase's simulations need the previous one mined.
    pending: list[str] = []
    first = first_interval(int(client.w3.eth.get_block("latest")["timestamp"]), meter_period_s)
    for demo, user in users:
        mid = meter_id(demo.serial)
        try:
            current_owner = registry.functions.meter(mid).call()[0]
        except Exception:  # MeterRegistryUnknownMeter: not registered yet
            current_owner = None
        if current_owner is None:
            pending.append(service.send(service.operator(), "MeterRegistry", "registerMeterWithPeriod",
                                        (mid, user.address, meter_period_s, first)))  # fmt: skip
        elif current_owner.lower() != user.address.lower():
            pending.append(service.send(service.operator(), "MeterRegistry", "reassignMeter", (mid, user.address)))
        row = db.session.get(Meter, "0x" + mid.hex()) or Meter(meter_id="0x" + mid.hex())
        row.serial, row.name, row.kind = demo.serial, demo.household, demo.kind
        db.session.add(row)
        logins.append((demo.username, f"{demo.kind}, meter {demo.serial}"))
    db.session.commit()
    client.wait_for_receipts(pending)
    pending = []
    for demo, user in users:
        mid = meter_id(demo.serial)
        period, since = registry.functions.periodOf(mid).call()
        starter = int(since) if int(period) > 1 else LEGACY_STARTER_INTERVAL
        if demo.kind == "prosumer" and not energy.functions.isRecorded(mid, starter).call():
            reading = (mid, starter, STARTER_KWH * 1000, 0)
            pending.append(client.send(energy.functions.recordReading(reading), oracle))
        if money.functions.balanceOf(user.address).call() < TOPUP_BELOW_MYR * UNITS_PER_MYR:
            ref = bytes(client.w3.keccak(text=f"demo-seed:{demo.username}:{time.time_ns()}"))
            pending.append(service.send(service.operator(), "SettlementToken", "topUp",
                                        (user.address, TOPUP_MYR * UNITS_PER_MYR, ref)))  # fmt: skip
        pending += accounts.approve_markets(keys().get(user.address), only_missing=True)
    client.wait_for_receipts(pending)
    if service.has_contract("TradingMandate"):
        granted = grant_demo_mandates(client, [(demo, keys().get(user.address)) for demo, user in users])
        if granted:
            out(f"automatic trading granted to the dev agent {DEMO_MANDATE_AGENT_ROLE!r} for {', '.join(granted)}")
    if round_seconds and service.has_contract("DoubleAuction"):
        auction = client.contract("DoubleAuction")
        interval, reveal, sealed = auction.functions.schedule().call()
        if (int(interval), int(reveal), bool(sealed)) != (round_seconds, 1, False):
            # open rounds: the reveal window (at least 1 s) only delays clearing
            fn = auction.functions.setSchedule(round_seconds, 1, False)
            client.transact(fn, local_signer(client, "admin"))
            out(f"auction rounds every {round_seconds} s (was {interval} s)")
    return logins
