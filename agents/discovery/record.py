"""The DHT record of one meter: its current signed offers inside an envelope signed by the seller.

Wire form (a UTF-8 JSON string, the value stored under `record_key(meter_id)`):
    {"body": {"v": 1, "meter": ..., "seller": ..., "seq": ..., "issued_at": ..., "expires_at": ..., "chain_id": ...,
              "offers": [SignedOffer.to_json_dict(), ...]},
     "sig": "0x<65 bytes>"}
`sig` is an EIP-191 personal signature over keccak256(RECORD_DOMAIN || canonical JSON of `body`), so any change to
the body (an amount, the seq, the expiry) breaks it. `seq` only grows (a publisher uses wall-clock milliseconds,
so it keeps growing across restarts): a replayed older record loses to a newer one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak, to_checksum_address
from kademlia.utils import digest

from energy_chain.offers import OfferFormatError, SignedOffer

RECORD_VERSION = 1
RECORD_DOMAIN = b"p2p-energy/dht-record/v1\x00"
# rpcudp refuses to send a request above 8 192 bytes (name + args, msgpack); keep room for the store envelope.
MAX_RECORD_BYTES = 7_000
MAX_OFFERS = 12
MAX_METER_ID_LEN = 80


class RecordError(ValueError):
    """A record that cannot be used; `reason` is one of the discovery stats keys (forged, stale, malformed, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalise_meter_id(meter_id: str) -> str:
    """Meter ids are compared case-insensitively (0x-hex bytes32 ids from MeterRegistry, or serials)."""
    if not isinstance(meter_id, str) or not meter_id.strip() or len(meter_id.strip()) > MAX_METER_ID_LEN:
        raise ValueError(f"a meter id must be a non-empty string of at most {MAX_METER_ID_LEN} chars: {meter_id!r}")
    return meter_id.strip().lower()


def record_key(meter_id: str) -> bytes:
    """The 160-bit DHT key of a meter's record: SHA-1 (kademlia's digest) of its namespaced id."""
    return bytes(digest("meter-offers:" + normalise_meter_id(meter_id)))


@dataclass(frozen=True)
class Record:
    meter: str
    seller: str
    seq: int
    issued_at: int
    expires_at: int
    chain_id: int
    offers: tuple[SignedOffer, ...]
    signature: bytes

    def body(self) -> dict[str, Any]:
        return _body(self.meter, self.seller, self.seq, self.issued_at, self.expires_at, self.chain_id, self.offers)

    def body_key(self) -> tuple[bytes, bytes]:
        """What the envelope signature covers plus the signature: equal keys recover to the same signer."""
        return (keccak(json.dumps(self.body(), separators=(",", ":"), sort_keys=True).encode()), self.signature)

    def encode(self) -> str:
        """The wire form (what is stored in the DHT)."""
        return json.dumps({"body": self.body(), "sig": "0x" + self.signature.hex()}, separators=(",", ":"))

    def recover_signer(self) -> str:
        try:
            return str(Account.recover_message(_signable(self.body()), signature=self.signature))
        except Exception as exc:  # eth-keys raises several types for bad r/s/v
            raise RecordError("forged", f"record signature does not recover: {exc}") from exc


def _body(
    meter: str, seller: str, seq: int, issued_at: int, expires_at: int, chain_id: int, offers: tuple[SignedOffer, ...]
) -> dict[str, Any]:
    return {
        "v": RECORD_VERSION,
        "meter": meter,
        "seller": seller,
        "seq": seq,
        "issued_at": issued_at,
        "expires_at": expires_at,
        "chain_id": chain_id,
        "offers": [o.to_json_dict() for o in offers],
    }


def _signable(body: dict[str, Any]) -> Any:
    canonical = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return encode_defunct(primitive=keccak(RECORD_DOMAIN + canonical))


def sign_record(
    meter_id: str,
    offers: list[SignedOffer],
    private_key: str | bytes,
    seq: int,
    issued_at: int,
    expires_at: int,
    chain_id: int,
    seller: str | None = None,
) -> Record:
    """Sign a record for `meter_id` with the seller's key (or, with `seller`, with the key of the seller's mandated
    agent: verifiers then accept it only while that agent holds the seller's direct-venue mandate); refuses what
    verifiers would reject anyway."""
    account = Account.from_key(private_key)
    seller = to_checksum_address(seller) if seller is not None else account.address
    if len(offers) > MAX_OFFERS:
        raise ValueError(f"a record holds at most {MAX_OFFERS} offers, got {len(offers)}")
    if not 0 <= issued_at < expires_at:
        raise ValueError(f"a record must expire after it is issued ({issued_at} .. {expires_at})")
    meter = normalise_meter_id(meter_id)
    body = _body(meter, seller, seq, issued_at, expires_at, chain_id, tuple(offers))
    signature = bytes(Account.sign_message(_signable(body), private_key).signature)
    record = Record(meter, seller, seq, issued_at, expires_at, chain_id, tuple(offers), signature)
    size = len(record.encode().encode())
    if size > MAX_RECORD_BYTES:
        raise ValueError(f"record of {len(offers)} offers is {size} bytes, above the {MAX_RECORD_BYTES}-byte limit")
    return record


def decode_record(raw: Any) -> Record:
    """Parse an untrusted DHT value; raises RecordError(oversized|malformed) with the reason, nothing else."""
    if isinstance(raw, bytes):
        size = len(raw)
    elif isinstance(raw, str):
        size = len(raw.encode("utf-8", "surrogatepass"))
    else:
        raise RecordError("malformed", f"a record is a JSON string, got {type(raw).__name__}")
    if size > MAX_RECORD_BYTES:
        raise RecordError("oversized", f"record of {size} bytes exceeds {MAX_RECORD_BYTES}")
    try:
        data = json.loads(raw)
        body = data["body"]
        if body["v"] != RECORD_VERSION:
            raise RecordError("malformed", f"unknown record version {body['v']!r}")
        offers_raw = body["offers"]
        if not isinstance(offers_raw, list) or len(offers_raw) > MAX_OFFERS:
            raise RecordError("malformed", f"offers must be a list of at most {MAX_OFFERS}")
        ints = {k: body[k] for k in ("seq", "issued_at", "expires_at", "chain_id")}
        for name, value in ints.items():
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
                raise RecordError("malformed", f"record {name} must be a uint64, got {value!r}")
        signature = bytes.fromhex(str(data["sig"]).removeprefix("0x"))
        if len(signature) != 65:
            raise RecordError("malformed", f"record signature must be 65 bytes, got {len(signature)}")
        return Record(
            meter=normalise_meter_id(body["meter"]),
            seller=to_checksum_address(str(body["seller"])),
            seq=ints["seq"],
            issued_at=ints["issued_at"],
            expires_at=ints["expires_at"],
            chain_id=ints["chain_id"],
            offers=tuple(SignedOffer.from_json_dict(o) for o in offers_raw),
            signature=signature,
        )
    except RecordError:
        raise
    except OfferFormatError as exc:
        raise RecordError("malformed", f"record holds a malformed offer: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise RecordError("malformed", f"malformed record: {exc!r}") from exc
