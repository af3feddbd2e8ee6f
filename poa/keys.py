"""secp256k1 keys of PoA nodes: the account address a validator signs blocks as, and the enode id peers dial."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eth_keys import keys


@dataclass(frozen=True)
class NodeKey:
    """One node's key. `address` is its validator/signer address, `enode_id` its 64-byte public key in hex."""

    private_key: bytes

    @classmethod
    def generate(cls) -> NodeKey:
        while True:  # a random 32-byte string is a valid key except with negligible probability
            raw = os.urandom(32)
            try:
                keys.PrivateKey(raw)
            except Exception:  # out of the curve's range: draw again
                continue
            return cls(raw)

    @classmethod
    def from_hex(cls, value: str) -> NodeKey:
        return cls(bytes.fromhex(value.strip().removeprefix("0x")))

    @property
    def _key(self) -> keys.PrivateKey:
        return keys.PrivateKey(self.private_key)

    @property
    def address(self) -> str:
        """Checksummed account address (what clique and QBFT list as signers/validators)."""
        return self._key.public_key.to_checksum_address()

    @property
    def enode_id(self) -> str:
        """Uncompressed public key without the 0x04 prefix, hex: the node id in enode URLs."""
        return self._key.public_key.to_bytes().hex()

    @property
    def private_hex(self) -> str:
        return "0x" + self.private_key.hex()

    def enode(self, host: str, port: int) -> str:
        return f"enode://{self.enode_id}@{host}:{port}"

    def write(self, path: Path, prefix: bool = True) -> Path:
        """Write the key as hex, readable by its owner only (Besu's `key` file takes 0x-hex; ethereumjs wants none)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.private_hex if prefix else self.private_key.hex())
        path.chmod(0o600)
        return path
