"""Custodial wallets: a fresh key per account, kept only as an encrypted keystore (eth-account, scrypt).

The password unlocks it at login; the unlocked Signer then stays in this process's memory for a bounded time
(UnlockedKeys), so placing an order never runs scrypt. Keys are never logged, put in the cookie or stored plain.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from eth_account import Account

from energy_chain import Signer


class WalletLocked(Exception):
    """The account's key is not unlocked in this server (expired, or the server restarted): log in again."""


class WrongPassword(Exception):
    """The password does not decrypt the keystore."""


def create_keystore(password: str, scrypt_n: int) -> tuple[str, str]:
    """A new random key, returned only as (address, encrypted keystore JSON)."""
    account = Account.create()
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    return account.address, json.dumps(keystore)


def unlock_keystore(keystore_json: str, password: str) -> Signer:
    try:
        key = Account.decrypt(json.loads(keystore_json), password)
    except ValueError as exc:  # eth-keyfile: "MAC mismatch"
        raise WrongPassword("the password does not unlock this wallet") from exc
    return Signer.from_key(key)


def reencrypt(keystore_json: str, old_password: str, new_password: str, scrypt_n: int) -> str:
    signer = unlock_keystore(keystore_json, old_password)
    return json.dumps(Account.encrypt(signer.account.key, new_password, kdf="scrypt", iterations=scrypt_n))


@dataclass
class _Entry:
    signer: Signer
    expires: float


class UnlockedKeys:
    """Signers unlocked at login, per address, for `ttl` seconds from the last login.

    One Signer per address also means one nonce counter per address, shared by every request of that account.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def put(self, signer: Signer) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._evict_expired(time.monotonic())
            previous = self._entries.get(signer.address)
            if previous is not None:
                signer = previous.signer  # keep the existing nonce counter
            self._entries[signer.address] = _Entry(signer, time.monotonic() + self.ttl)

    def get(self, address: str) -> Signer:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(address)
            if entry is None or entry.expires < now:
                self._entries.pop(address, None)
                raise WalletLocked("your wallet is locked: log in again to unlock it")
            return entry.signer

    def is_unlocked(self, address: str) -> bool:
        try:
            self.get(address)
        except WalletLocked:
            return False
        return True

    def drop(self, address: str) -> None:
        with self._lock:
            self._entries.pop(address, None)

    def _evict_expired(self, now: float) -> None:
        for address in [a for a, e in self._entries.items() if e.expires < now]:
            del self._entries[address]


def import_keystore(private_key: str | bytes, password: str, scrypt_n: int) -> tuple[str, str]:
    """An existing key (e.g. the demo's public anvil keys) as (address, encrypted keystore JSON)."""
    account = Account.from_key(private_key)
    keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
    return account.address, json.dumps(keystore)
