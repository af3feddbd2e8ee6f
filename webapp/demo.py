"""Demo data and activity on the local chain: demo users, their meters, money and a starter balance of energy,
and a small trading bot (plus the auction keeper that closes, clears and settles rounds).

Demo users own anvil's public dev keys 3, 4, ... (household i of the community file gets key 3+i, the same owner
scripts.register_meters picks), stored like every other wallet as a keystore encrypted with the demo password.
Those keys are public: this is for the local chain only, and seed-demo refuses any other chain.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from energy_chain import Signer
from energy_chain.anvil import dev_key
from energy_chain.config import LOCAL_CHAIN_ID, PROJECT_ROOT
from energy_chain.meters import meter_id
from webapp import accounts
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import Meter, User
from webapp.units import UNITS_PER_MYR, UNITS_PER_SEN
from webapp.views.helpers import chain, keys
from webapp.wallets import import_keystore, unlock_keystore

log = logging.getLogger(__name__)

COMMUNITY_FILE = PROJECT_ROOT / "meter_oracle" / "config" / "demo-community.json"
FIRST_USER_INDEX = 3
ADMIN_INDEX, ORACLE_INDEX = 0, 2
STARTER_INTERVAL = 1_700_000_100 // 900 * 900  # Nov 2023: an interval the live oracle never reports
STARTER_KWH = 25
TOPUP_MYR, TOPUP_BELOW_MYR = 300, 100
BUILTIN_HOUSEHOLDS = [
    {"name": "Aisyah", "serial": "DEMO-MTR-001", "kind": "prosumer"},
    {"name": "Ben", "serial": "DEMO-MTR-002", "kind": "prosumer"},
    {"name": "Chandra", "serial": "DEMO-MTR-003", "kind": "prosumer"},
    {"name": "Elena", "serial": "DEMO-MTR-005", "kind": "consumer"},
    {"name": "Farid", "serial": "DEMO-MTR-006", "kind": "consumer"},
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    household: str
    serial: str
    kind: str
    key_index: int


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
        if private_key is None:
            user = accounts.signup(username, password)
        else:
            address, keystore = import_keystore(private_key, password, scrypt_n)
            user = User(username=username, password_hash=generate_password_hash(password), address=address,
                        keystore=keystore)  # fmt: skip
            db.session.add(user)
        user.is_operator = operator
        db.session.commit()
    if user.keystore:
        keys().put(unlock_keystore(user.keystore, password))
    return user


def seed(app: Flask, password: str, round_seconds: int | None, out=print) -> list[tuple[str, str]]:
    """Create demo users, register and fund them; idempotent. Returns (username, role) pairs."""
    service = chain()
    client = service.client
    if client.chain_id != LOCAL_CHAIN_ID:
        raise SystemExit(f"seed-demo uses anvil's public keys and runs only on the local chain ({LOCAL_CHAIN_ID})")
    scrypt_n = app.config["WALLET_SCRYPT_N"]
    logins: list[tuple[str, str]] = []
    operator_user = _ensure_user("operator", password, None, True, scrypt_n)
    logins.append((operator_user.username, "operator"))
    registry = client.contract("MeterRegistry")
    energy = client.contract("EnergyToken")
    money = client.contract("SettlementToken")
    oracle = Signer.from_key(dev_key(ORACLE_INDEX))
    users = [(demo, _ensure_user(demo.username, password, dev_key(demo.key_index), False, scrypt_n))
             for demo in demo_users()]  # fmt: skip
    # Transactions are sent without waiting and awaited per phase: a phase's simulations need the previous one mined.
    pending: list[str] = []
    for demo, user in users:
        mid = meter_id(demo.serial)
        try:
            current_owner = registry.functions.meter(mid).call()[0]
        except Exception:  # MeterRegistryUnknownMeter: not registered yet
            current_owner = None
        if current_owner is None:
            pending.append(service.send(service.operator(), "MeterRegistry", "registerMeter", (mid, user.address)))
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
        if demo.kind == "prosumer" and not energy.functions.isRecorded(mid, STARTER_INTERVAL).call():
            reading = (mid, STARTER_INTERVAL, STARTER_KWH * 1000, 0)
            pending.append(client.transact(energy.functions.recordReading(reading), oracle, wait=False))
        if money.functions.balanceOf(user.address).call() < TOPUP_BELOW_MYR * UNITS_PER_MYR:
            ref = bytes(client.w3.keccak(text=f"demo-seed:{demo.username}:{time.time_ns()}"))
            pending.append(service.send(service.operator(), "SettlementToken", "topUp",
                                        (user.address, TOPUP_MYR * UNITS_PER_MYR, ref)))  # fmt: skip
        signer = keys().get(user.address)
        for spender in accounts.APPROVED_SPENDERS:
            if service.has_contract(spender):
                spender_address = client.deployment.address(spender)
                for token in ("EnergyToken", "SettlementToken"):
                    if client.contract(token).functions.allowance(user.address, spender_address).call() < 2**200:
                        pending.append(service.approve(signer, token, spender, wait=False))
    client.wait_for_receipts(pending)
    if round_seconds and service.has_contract("DoubleAuction"):
        auction = client.contract("DoubleAuction")
        interval, reveal, sealed = auction.functions.schedule().call()
        if (int(interval), int(reveal), bool(sealed)) != (round_seconds, 1, False):
            # open rounds: the reveal window (at least 1 s) only delays clearing
            fn = auction.functions.setSchedule(round_seconds, 1, False)
            client.transact(fn, Signer.from_key(dev_key(ADMIN_INDEX)))
            out(f"auction rounds every {round_seconds} s (was {interval} s)")
    return logins


# ---------------------------------------------------------------------- trading bot and auction keeper
class Bot:
    """Demo traders: prosumers offer energy and consumers bid around a drifting reference price."""

    def __init__(self, app: Flask, password: str, interval_s: float, rng: random.Random | None = None) -> None:
        self.app = app
        self.password = password
        self.interval_s = interval_s
        self.rng = rng or random.Random()
        self.reference = 35 * UNITS_PER_SEN  # between feed-in (20 sen) and retail (50 sen)
        self.users: list[tuple[int, str]] = []  # (user id, kind); rows are re-read in each step's session

    def login_all(self) -> None:
        kinds = {d.username: d.kind for d in demo_users()}
        for user in db.session.scalars(select(User).where(User.username.in_(list(kinds)))):
            accounts.unlock(user, self.password)
            self.users.append((user.id, kinds[user.username]))
        if not self.users:
            raise SystemExit("no demo users: run `python -m webapp seed-demo` first")

    def step(self) -> str:
        from webapp import auctions, trading

        user_id, kind = self.rng.choice(self.users)
        user = db.session.get(User, user_id)
        assert user is not None
        self.reference = max(22 * UNITS_PER_SEN, min(48 * UNITS_PER_SEN,
                             self.reference + self.rng.randint(-5, 5) * 1000))  # fmt: skip
        sell = kind == "prosumer" if self.rng.random() < 0.85 else kind != "prosumer"
        side = "sell" if sell else "buy"
        spread = self.rng.randint(0, 40) * 1000
        price = self.reference + spread if sell else self.reference - spread + self.rng.randint(0, 60) * 1000
        price = max(UNITS_PER_SEN, price // 100 * 100)
        amount = self.rng.randint(2, 30) * 100  # 0.2 .. 3 kWh
        roll = self.rng.random()
        try:
            if roll < 0.1:
                mine = trading.open_orders(user.address, limit=20)
                if mine:
                    order = self.rng.choice(mine)
                    trading.cancel_order(user, order.order_id)
                    return f"{user.username} cancels #{order.order_id}"
            if roll < 0.3 and chain().has_contract("DoubleAuction"):
                auctions.submit(user, side, price, amount)
                return f"{user.username} auction {side} {amount} Wh @ {price}"
            trading.place_order(user, side, price, amount)
            return f"{user.username} {side} {amount} Wh @ {price}"
        except UserError as exc:
            return f"{user.username} {side}: {exc.message}"

    def keep_auction(self) -> None:
        """Close, clear and settle every ended round (anyone may; the operator pays no gas on this chain)."""
        from energy_chain.auction import AuctionClient
        from energy_chain.clearing import Side

        service = chain()
        if not service.has_contract("DoubleAuction"):
            return
        auction = AuctionClient(service.client)
        signer = service.operator()
        current = auction.current_round_id()
        interval = int(auction.contract.functions.schedule().call()[0])
        for round_id in range(current - 3 * interval, current, interval):
            phase = auction.phase(round_id)
            if phase == 3:  # Ended
                auction.close(signer, round_id)
                phase = 4
            if phase in (4, 5):  # Closed, Clearing
                auction.clear(signer, round_id)
                phase = 6
                log.info("auction round %d cleared", round_id)
            if phase == 6:  # Cleared: settle what nobody claimed yet
                ids = [e.id for side in (Side.BUY, Side.SELL) for e in auction.book(round_id, side)]
                unclaimed = [i for i in ids if int(auction.contract.functions.getOrder(i).call()[3]) != 3]
                for start in range(0, len(unclaimed), 100):
                    auction.claim_many(signer, unclaimed[start : start + 100])

    def run(self, steps: int | None = None) -> None:
        with self.app.app_context():
            self.login_all()
        n = 0
        while steps is None or n < steps:
            with self.app.app_context():
                log.info(self.step())
                try:
                    self.keep_auction()
                except Exception as exc:  # the keeper must not stop the bot; the next pass retries
                    log.warning("auction keeper: %s", exc)
                db.session.remove()
            n += 1
            if steps is None or n < steps:
                time.sleep(self.rng.uniform(0.5, 1.5) * self.interval_s)
