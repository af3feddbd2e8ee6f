"""Signed sell offers for direct meter-to-meter trading (EIP-712), shared by the settlement client and discovery.

A seller signs an `Offer` off chain; any buyer fills part or all of it on chain through `OfferSettlement`.
Units as everywhere: `price` in settlement units per kWh, `amount_wh` in Wh, cost = price * amount // 1000 (floor).

The typed data below is the single definition of the offer: the contract's `OFFER_TYPEHASH` and domain must equal
`OFFER_TYPE_STRING` and `offer_domain(...)` (a test compares `offer_digest` with the contract's `hashOffer`).
The domain carries the chain id and the contract address, so an offer signed for one deployment never fills on
another; `counter` is the seller's cancel-all counter at signing time (raising it voids every older offer).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "EnergyOfferSettlement"
DOMAIN_VERSION = "1"
MAX_UINT64 = 2**64 - 1

OFFER_FIELDS: list[dict[str, str]] = [
    {"name": "seller", "type": "address"},
    {"name": "price", "type": "uint64"},
    {"name": "amountWh", "type": "uint64"},
    {"name": "validFrom", "type": "uint64"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "salt", "type": "uint256"},
    {"name": "counter", "type": "uint256"},
]
OFFER_TYPE_STRING = "Offer(" + ",".join(f"{f['type']} {f['name']}" for f in OFFER_FIELDS) + ")"
OFFER_TYPEHASH = keccak(text=OFFER_TYPE_STRING)


class OfferFormatError(ValueError):
    """An offer (or its JSON form) is malformed: missing field, wrong type, value out of range."""


@dataclass(frozen=True)
class Offer:
    """The signed terms of one sell offer. Field names follow Python; `typed_message` maps them to the struct."""

    seller: str
    price: int
    amount_wh: int
    valid_from: int
    valid_until: int
    salt: int
    counter: int = 0

    def __post_init__(self) -> None:
        for name in ("price", "amount_wh", "valid_from", "valid_until"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_UINT64:
                raise OfferFormatError(f"offer {name} must be an integer in [0, 2^64-1], got {value!r}")
        for name in ("salt", "counter"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**256:
                raise OfferFormatError(f"offer {name} must be a uint256, got {value!r}")
        try:
            object.__setattr__(self, "seller", to_checksum_address(self.seller))
        except (ValueError, TypeError) as exc:
            raise OfferFormatError(f"offer seller is not an address: {self.seller!r}") from exc

    @classmethod
    def new(cls, seller: str, price: int, amount_wh: int, valid_from: int, valid_until: int, counter: int = 0) -> Offer:
        """A fresh offer with a random salt (two offers with equal terms still hash differently)."""
        return cls(seller, price, amount_wh, valid_from, valid_until, secrets.randbits(256), counter)

    def typed_message(self) -> dict[str, Any]:
        return {
            "seller": self.seller,
            "price": self.price,
            "amountWh": self.amount_wh,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "salt": self.salt,
            "counter": self.counter,
        }

    def as_tuple(self) -> tuple[str, int, int, int, int, int, int]:
        """The struct as the contract's ABI takes it (field order of OFFER_FIELDS)."""
        return (self.seller, self.price, self.amount_wh, self.valid_from, self.valid_until, self.salt, self.counter)

    def cost(self, amount_wh: int) -> int:
        """Settlement units a buyer pays for `amount_wh` of this offer (floored, as the contract computes it)."""
        return self.price * amount_wh // 1000


@dataclass(frozen=True)
class SignedOffer:
    """An offer with the seller's signature (65 bytes r||s||v) and the domain it was signed for."""

    offer: Offer
    signature: bytes
    chain_id: int
    contract: str

    @property
    def digest(self) -> bytes:
        return offer_digest(self.offer, self.chain_id, self.contract)

    @property
    def offer_hash(self) -> str:
        """0x-hex EIP-712 digest: the key under which the contract tracks fills and cancellation."""
        return "0x" + self.digest.hex()

    def recover_signer(self) -> str:
        """The address that signed this offer (raises OfferFormatError for a malformed signature)."""
        return recover_offer_signer(self.offer, self.signature, self.chain_id, self.contract)

    def is_signed_by_seller(self) -> bool:
        try:
            return self.recover_signer() == self.offer.seller
        except OfferFormatError:
            return False

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (big integers as decimal strings) for DHT records and the web API."""
        body = {k: (str(v) if k in ("salt", "counter") else v) for k, v in asdict(self.offer).items()}
        return {
            "offer": body,
            "signature": "0x" + self.signature.hex(),
            "chain_id": self.chain_id,
            "contract": to_checksum_address(self.contract),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json_dict(cls, data: Any) -> SignedOffer:
        """Parse untrusted input; raises OfferFormatError with the reason (never anything else)."""
        try:
            body = data["offer"]
            offer = Offer(
                seller=str(body["seller"]),
                price=_as_int(body["price"]),
                amount_wh=_as_int(body["amount_wh"]),
                valid_from=_as_int(body["valid_from"]),
                valid_until=_as_int(body["valid_until"]),
                salt=_as_int(body["salt"]),
                counter=_as_int(body.get("counter", 0)),
            )
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
            chain_id = _as_int(data["chain_id"])
            contract = to_checksum_address(str(data["contract"]))
        except OfferFormatError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OfferFormatError(f"malformed signed offer: {exc!r}") from exc
        if len(signature) != 65:
            raise OfferFormatError(f"signature must be 65 bytes, got {len(signature)}")
        return cls(offer, signature, chain_id, contract)

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedOffer:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise OfferFormatError(f"signed offer is not JSON: {exc}") from exc
        return cls.from_json_dict(data)


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise OfferFormatError("boolean where an integer was expected")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise OfferFormatError(f"expected an integer, got {value!r}")


def offer_domain(chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(contract),
    }


def offer_typed_data(offer: Offer, chain_id: int, contract: str) -> dict[str, Any]:
    """The full EIP-712 message, as a browser wallet's eth_signTypedData_v4 takes it."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Offer": OFFER_FIELDS,
        },
        "primaryType": "Offer",
        "domain": offer_domain(chain_id, contract),
        "message": offer.typed_message(),
    }


def offer_digest(offer: Offer, chain_id: int, contract: str) -> bytes:
    """keccak256("\\x19\\x01" || domainSeparator || hashStruct(offer)): what the seller signs."""
    signable = encode_typed_data(full_message=offer_typed_data(offer, chain_id, contract))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_offer(
    offer: Offer, private_key: str | bytes, chain_id: int, contract: str, as_agent: bool = False
) -> SignedOffer:
    """Sign `offer` with the seller's key (the key must belong to `offer.seller`).

    With `as_agent`, the key is the seller's mandated agent's instead (TradingMandate, direct venue granted): the
    contract accepts the offer within the seller's minimum price and reserve, and the key must NOT be the seller's.
    """
    account = Account.from_key(private_key)
    if (account.address == offer.seller) == as_agent:
        whose = "the seller's agent" if as_agent else "the seller"
        raise OfferFormatError(f"key of {account.address} is not {whose} for an offer of {offer.seller}")
    signed = account.sign_typed_data(full_message=offer_typed_data(offer, chain_id, contract))
    return SignedOffer(offer, bytes(signed.signature), chain_id, to_checksum_address(contract))


def recover_offer_signer(offer: Offer, signature: bytes, chain_id: int, contract: str) -> str:
    signable = encode_typed_data(full_message=offer_typed_data(offer, chain_id, contract))
    try:
        return str(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth-keys raises several types for bad r/s/v
        raise OfferFormatError(f"signature does not recover: {exc}") from exc
