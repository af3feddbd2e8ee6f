"""The demo's auction keeper that closes, clears and settles ended rounds (`python -m webapp bot --keeper-only`, what
`make demo` runs), and the old random trading bot (`python -m webapp bot`; DEMO_BOT=1 in the demo): prosumers offer
energy and consumers bid around a drifting reference price, in the book and in the auction. The demo households
trade through their automatic-trading agents (agents.service); `agents_status` tells the pages they run.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from energy_chain.auction import AuctionClient
from energy_chain.clearing import Side
from webapp.errors import UserError
from webapp.extensions import db
from webapp.models import User
from webapp.services import accounts, auctions, trading
from webapp.services.context import chain
from webapp.services.demo_seed import demo_users
from webapp.units import UNITS_PER_MYR, UNITS_PER_SEN, cost_units

log = logging.getLogger(__name__)

# What the bot always leaves free in each demo account, so that a person logged in as a demo household can still
# trade (the bot drained aisyah from 24.8 to 0.16 kWh in 17 minutes, and her first "Sell 2 kWh" failed).
RESERVE_WH = 10_000  # 10 kWh of energy
RESERVE_UNITS = 100 * UNITS_PER_MYR  # RM 100
HEARTBEAT_SECONDS = 60  # the pages say the bot is active while its heartbeat is younger than this


def write_heartbeat(path: str | Path, usernames: list[str]) -> None:
    """Tell the pages the bot is running, for whom, and what it leaves free (a small JSON file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"time": time.time(), "users": usernames, "reserve_wh": RESERVE_WH,
                               "reserve_units": RESERVE_UNITS}))  # fmt: skip
    tmp.replace(target)


def status() -> dict[str, Any] | None:
    """The running bot's heartbeat (users, reserves), or None when no bot ran in the last HEARTBEAT_SECONDS."""
    path = current_app.config.get("DEMO_BOT_HEARTBEAT")
    if not path:
        return None
    try:
        beat = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return beat if time.time() - float(beat.get("time", 0)) < HEARTBEAT_SECONDS else None


def agents_status() -> dict[str, Any] | None:
    """The automatic-trading service's heartbeat ({"agent", "owners", "users": their usernames}), or None when it
    did not write one in the last HEARTBEAT_SECONDS."""
    path = current_app.config.get("AGENT_HEARTBEAT")
    if not path:
        return None
    try:
        beat = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if time.time() - float(beat.get("time", 0)) >= HEARTBEAT_SECONDS or not beat.get("owners"):
        return None
    owners = [str(o) for o in beat["owners"]]
    names = dict(db.session.execute(select(User.address, User.username).where(User.address.in_(owners))).all())
    return {**beat, "users": [names.get(o, o[:10]) for o in owners]}


class Bot:
    """Demo traders: prosumers offer energy and consumers bid around a drifting reference price."""

    def __init__(self, app: Flask, password: str, interval_s: float, rng: random.Random | None = None,
                 keeper_only: bool = False) -> None:  # fmt: skip
        self.app = app
        self.keeper_only = keeper_only  # only close, clear and settle auction rounds (the agents trade)
        self.password = password
        self.interval_s = interval_s
        self.rng = rng or random.Random()
        self.reference = 35 * UNITS_PER_SEN  # between feed-in (20 sen) and retail (50 sen)
        self.users: list[tuple[int, str]] = []  # (user id, kind); rows are re-read in each step's session
        self.usernames: list[str] = []

    def login_all(self) -> None:
        kinds = {d.username: d.kind for d in demo_users()}
        for user in db.session.scalars(select(User).where(User.username.in_(list(kinds)))):
            accounts.unlock_in_process(user, self.password)
            self.users.append((user.id, kinds[user.username]))
            self.usernames.append(user.username)
        if not self.users:
            raise SystemExit("no demo users: run `python -m webapp seed-demo` first")

    def step(self) -> str:
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
            if roll >= 0.1 and not self._above_reserve(user.address, side, price, amount):
                return f"{user.username} {side}: keeps the reserve for the person using this account"
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

    def _above_reserve(self, address: str, side: str, price: int, amount: int) -> bool:
        """Whether the order leaves the account at least the reserve free (energy for a sell, money for a buy)."""
        balances = chain().balances(address)
        if side == "sell":
            return balances.energy_wh - amount >= RESERVE_WH
        return balances.settlement_units - cost_units(price, amount) >= RESERVE_UNITS

    def heartbeat(self) -> None:
        path = self.app.config.get("DEMO_BOT_HEARTBEAT")
        if path:
            write_heartbeat(path, self.usernames)

    def keep_auction(self) -> None:
        """Close, clear and settle every ended round (anyone may; the operator pays no gas on this chain)."""
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
                ids = [e.id for side in (Side.BID, Side.ASK) for e in auction.book(round_id, side)]
                unclaimed = [i for i in ids if int(auction.contract.functions.getOrder(i).call()[3]) != 3]
                for start in range(0, len(unclaimed), 100):
                    auction.claim_many(signer, unclaimed[start : start + 100])

    def run(self, steps: int | None = None) -> None:
        if not self.keeper_only:
            with self.app.app_context():
                self.login_all()
        n = 0
        while steps is None or n < steps:
            with self.app.app_context():
                if not self.keeper_only:
                    self.heartbeat()
                    log.info(self.step())
                try:
                    self.keep_auction()
                except Exception as exc:  # the keeper must not stop the bot; the next pass retries
                    log.warning("auction keeper: %s", exc)
                db.session.remove()
            n += 1
            if steps is None or n < steps:
                time.sleep(self.rng.uniform(0.5, 1.5) * self.interval_s)
