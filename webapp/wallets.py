"""Custodial wallets: a fresh key per account, kept only as an encrypted keystore (eth-account, scrypt).

The password unlocks it at login (scrypt, through the bounded UnlockGate); the key is then re-encrypted under a
random per-session wrap key that only the client holds (wrap_key/unwrap_key, AES-256-GCM), and that ciphertext is
kept with the session's row (webapp.services.sessions). Each request that signs unwraps it into a SessionSigner,
which shares one nonce counter per address (NonceCounters) with every other session of the account. Keys are never
logged, put in the cookie or stored plain. UnlockedKeys holds signers for the demo seed and bot processes only.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from Crypto.Cipher import AES
from eth_account import Account

from energy_chain import Signer


class WalletLocked(Exception):
    """The account's key is not unlocked in this server (expired, or the server restarted): log in again."""


class WrongPassword(Exception):
    """The password does not decrypt the keystore."""


class UnlockBusy(Exception):
    """Too many keystore decryptions are running or waiting: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wallet unlocks in progress; retry after {retry_after} s")
        self.retry_after = retry_after


class UnlockGate:
    """At most `concurrency` scrypt keystore operations at once (each needs ~256 MiB at N = 2^18), at most `queue`
    more waiting, each for at most `wait_seconds`; beyond that UnlockBusy, at once. Bounds the memory that parallel
    logins and sign-ups can make the server allocate."""

    def __init__(self, concurrency: int, queue: int, wait_seconds: float) -> None:
        self.concurrency = max(1, concurrency)
        self.queue = max(0, queue)
        self.wait_seconds = wait_seconds
        self._cond = threading.Condition()
        self._active = 0
        self._waiting = 0

    @property
    def retry_after(self) -> int:
        return max(1, round(self.wait_seconds))

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            if self._active >= self.concurrency:
                if self._waiting >= self.queue:
                    raise UnlockBusy(self.retry_after)
                self._waiting += 1
                deadline = time.monotonic() + self.wait_seconds
                try:
                    while self._active >= self.concurrency:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise UnlockBusy(self.retry_after)
                        self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify()


def _encrypt(key: bytes, password: str, scrypt_n: int) -> dict:
    return Account.encrypt(key, password, kdf="scrypt", iterations=scrypt_n)


def _decrypt(keystore: dict, password: str) -> bytes:
    return bytes(Account.decrypt(keystore, password))


def new_wallet(password: str, scrypt_n: int) -> tuple[str, str, bytes]:
    """A new random key as (address, encrypted keystore JSON, the key itself for this login's session)."""
    account = Account.create()
    return account.address, json.dumps(_encrypt(account.key, password, scrypt_n)), bytes(account.key)


def create_keystore(password: str, scrypt_n: int) -> tuple[str, str]:
    """A new random key, returned only as (address, encrypted keystore JSON)."""
    address, keystore, _key = new_wallet(password, scrypt_n)
    return address, keystore


def decrypt_keystore(keystore_json: str, password: str) -> bytes:
    """The private key of a keystore (scrypt); WrongPassword when the password does not open it."""
    try:
        return _decrypt(json.loads(keystore_json), password)
    except ValueError as exc:  # eth-keyfile: "MAC mismatch"
        raise WrongPassword("the password does not unlock this wallet") from exc


def unlock_keystore(keystore_json: str, password: str) -> Signer:
    return Signer.from_key(decrypt_keystore(keystore_json, password))


# ---------------------------------------------------------------------- per-session wrapping (AES-256-GCM)
WRAP_KEY_BYTES = 32


def new_wrap_key() -> bytes:
    return secrets.token_bytes(WRAP_KEY_BYTES)


def wrap_key(private_key: bytes, wrap: bytes, context: str) -> str:
    """`private_key` encrypted under the session's `wrap` key; `context` (the session and the address) is
    authenticated, so a ciphertext copied to another session's row does not open."""
    nonce = secrets.token_bytes(12)
    cipher = AES.new(wrap, AES.MODE_GCM, nonce=nonce)
    cipher.update(context.encode())
    ciphertext, tag = cipher.encrypt_and_digest(private_key)
    return "v1." + base64.urlsafe_b64encode(nonce + ciphertext + tag).decode()


def unwrap_key(wrapped: str, wrap: bytes, context: str) -> bytes:
    """The private key, or WalletLocked when the wrap key or the context does not match."""
    try:
        version, body = wrapped.split(".", 1)
        raw = base64.urlsafe_b64decode(body)
        if version != "v1" or len(raw) < 12 + 16 + 1:
            raise ValueError("unknown format")
        cipher = AES.new(wrap, AES.MODE_GCM, nonce=raw[:12])
        cipher.update(context.encode())
        return cipher.decrypt_and_verify(raw[12:-16], raw[-16:])
    except (ValueError, KeyError) as exc:
        raise WalletLocked("this session cannot unlock the wallet") from exc


@dataclass
class _Nonces:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next: int | None = None


class NonceCounters:
    """One nonce counter per address for the whole process, shared by every session of the account."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, _Nonces] = {}

    def get(self, address: str) -> _Nonces:
        with self._lock:
            counter = self._counters.get(address)
            if counter is None:
                counter = self._counters[address] = _Nonces()
            return counter


class SessionSigner(Signer):
    """A Signer made for one request from a session's unwrapped key, whose nonce counter is the account's shared
    one (Signer's nonce methods read `_lock` and `_next_nonce`, which point into it)."""

    def __init__(self, account, counter: _Nonces) -> None:
        self.account = account
        self.address = account.address
        self._counter = counter
        self._legacy = None

    @property
    def _lock(self) -> threading.Lock:  # type: ignore[override]
        return self._counter.lock

    @property
    def _next_nonce(self) -> int | None:  # type: ignore[override]
        return self._counter.next

    @_next_nonce.setter
    def _next_nonce(self, value: int | None) -> None:
        self._counter.next = value

    @classmethod
    def from_private_key(cls, private_key: bytes, counters: NonceCounters) -> SessionSigner:
        account = Account.from_key(private_key)
        return cls(account, counters.get(account.address))


def reencrypt(keystore_json: str, old_password: str, new_password: str, scrypt_n: int) -> str:
    return json.dumps(_encrypt(decrypt_keystore(keystore_json, old_password), new_password, scrypt_n))


@dataclass
class _Entry:
    signer: Signer
    expires: float


class UnlockedKeys:
    """Signers unlocked in this process, per address, for `ttl` seconds: the demo seed and the demo bot (processes
    without a browser session). Web requests never read it; they sign with their session's SessionSigner.

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
    return account.address, json.dumps(_encrypt(account.key, password, scrypt_n))
