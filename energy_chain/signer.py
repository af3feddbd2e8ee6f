"""An account that signs transactions locally and hands out nonces safely under concurrency."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from energy_chain.legacy_tx import LegacySigner, is_plain_legacy


class Signer:
    """A local key plus its nonce counter.

    Nonces come from the node once (pending count) and are then counted locally, so many threads can build
    transactions for one account without asking the node each time. `resync` re-reads the node after a failure.
    """

    def __init__(self, account: LocalAccount) -> None:
        self.account = account
        self.address: str = account.address
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        self._legacy: LegacySigner | None = None

    @classmethod
    def from_key(cls, private_key: str | bytes) -> Signer:
        return cls(Account.from_key(private_key))

    @classmethod
    def from_keystore(cls, keystore_file: str | Path, password: str) -> Signer:
        """Unlock an encrypted (scrypt/pbkdf2) JSON keystore."""
        data = json.loads(Path(keystore_file).read_text())
        return cls(Account.from_key(Account.decrypt(data, password)))

    @classmethod
    def from_keystore_files(cls, keystore_file: str | Path, password_file: str | Path) -> Signer:
        """Unlock a keystore with the password kept in its own file (never in the repository)."""
        return cls.from_keystore(keystore_file, Path(password_file).read_text().strip())

    def next_nonce(self, fetch_pending: Any) -> int:
        """Reserve the next nonce; `fetch_pending(address)` asks the node when the counter is unknown."""
        with self._lock:
            if self._next_nonce is None:
                self._next_nonce = int(fetch_pending(self.address))
            nonce = self._next_nonce
            self._next_nonce += 1
            return nonce

    def reserve(self, count: int, fetch_pending: Any) -> range:
        """Reserve `count` consecutive nonces at once (for batches)."""
        with self._lock:
            if self._next_nonce is None:
                self._next_nonce = int(fetch_pending(self.address))
            start = self._next_nonce
            self._next_nonce += count
            return range(start, start + count)

    def resync(self) -> None:
        """Forget the local counter; the next nonce is read from the node again."""
        with self._lock:
            self._next_nonce = None

    def sign(self, tx: dict[str, Any]) -> bytes:
        if is_plain_legacy(tx):  # the project's usual transaction: the fast path, byte-identical to eth-account
            if self._legacy is None:
                self._legacy = LegacySigner(self.account.key)
            return self._legacy.sign(tx)
        return bytes(self.account.sign_transaction(tx).raw_transaction)

    def encrypt(self, password: str) -> dict[str, Any]:
        """This key as an encrypted keystore (scrypt)."""
        return Account.encrypt(self.account.key, password, kdf="scrypt")
