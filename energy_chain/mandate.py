"""The trading mandate: the on-chain bounds within which one agent address trades for a household (issue 14).

The only Python that knows TradingMandate's layout: its terms, its EIP-712 typed data (what a browser wallet signs
with eth_signTypedData_v4), grant / grant by signature / revoke, and the reads an agent and the web app need.
The contract enforces the bounds (docs/security.md, "Compromised agent key"); this module only builds and reads.

Units: prices in settlement units (mgMYR) per kWh, energy in Wh, spend in settlement units per community day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from energy_chain.client import ChainClient
from energy_chain.signer import Signer

CONTRACT = "TradingMandate"
VENUE_ORDER_BOOK, VENUE_AUCTION, VENUE_DIRECT = 1, 2, 4
VENUE_NAMES = ((VENUE_ORDER_BOOK, "order-book"), (VENUE_AUCTION, "auction"), (VENUE_DIRECT, "direct"))
ALL_VENUES = VENUE_ORDER_BOOK | VENUE_AUCTION | VENUE_DIRECT
UINT128_MAX = 2**128 - 1
DOMAIN_NAME, DOMAIN_VERSION = "EnergyTradingMandate", "1"
# The EIP-712 struct, field for field as MandateLib.MANDATE_TYPEHASH (a test compares the digests).
MANDATE_FIELDS: list[dict[str, str]] = [
    {"name": "owner", "type": "address"},
    {"name": "agent", "type": "address"},
    {"name": "minSellPrice", "type": "uint128"},
    {"name": "maxBuyPrice", "type": "uint128"},
    {"name": "reserveWh", "type": "uint128"},
    {"name": "dailySpendCap", "type": "uint128"},
    {"name": "venues", "type": "uint8"},
    {"name": "weights", "type": "uint8[6]"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
GRANT_GAS = 300_000
REVOKE_GAS = 100_000
PAGE = 200


class MandateTermsError(ValueError):
    """Terms the contract would refuse (checked here first, so a form gets a clear message)."""


@dataclass(frozen=True)
class MandateTerms:
    """What the owner allows its agent. Defaults: no price bound, no reserve, no cap, every venue, open-ended."""

    agent: str
    min_sell_price: int = 0
    max_buy_price: int = UINT128_MAX
    reserve_wh: int = 0
    daily_spend_cap: int = UINT128_MAX
    venues: int = ALL_VENUES
    weights: tuple[int, int, int, int, int, int] = (1, 1, 1, 1, 1, 1)
    valid_until: int = 0

    def __post_init__(self) -> None:
        for name in ("min_sell_price", "max_buy_price", "reserve_wh", "daily_spend_cap"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= UINT128_MAX:
                raise MandateTermsError(f"{name} must be an integer 0..2^128-1, got {value!r}")
        if not isinstance(self.venues, int) or not 1 <= self.venues <= ALL_VENUES:
            raise MandateTermsError(
                f"venues must be a bitmask 1..7 (1 order book, 2 auction, 4 direct), got {self.venues!r}"
            )
        if len(self.weights) != 6 or any(not isinstance(w, int) or not 0 <= w <= 255 for w in self.weights):
            raise MandateTermsError(f"weights must be six integers 0..255, got {self.weights!r}")
        if not isinstance(self.valid_until, int) or not 0 <= self.valid_until < 2**64:
            raise MandateTermsError(f"valid_until must be a unix time (0: open-ended), got {self.valid_until!r}")
        object.__setattr__(self, "agent", to_checksum_address(self.agent))
        object.__setattr__(self, "weights", tuple(self.weights))

    def venue_names(self) -> tuple[str, ...]:
        """The allowed venues by name: a subset of ("order-book", "auction", "direct"), in that order."""
        return tuple(name for bit, name in VENUE_NAMES if self.venues & bit)

    def allows(self, venue: int) -> bool:
        return bool(self.venues & venue)

    def as_tuple(self) -> tuple[Any, ...]:
        """The ITradingMandate.Terms tuple, in ABI order."""
        return (
            self.agent,
            self.min_sell_price,
            self.max_buy_price,
            self.reserve_wh,
            self.daily_spend_cap,
            self.venues,
            list(self.weights),
            self.valid_until,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the decision log's "bounds"); venues also by name."""
        d = asdict(self)
        d["weights"] = list(self.weights)
        d["venue_names"] = list(self.venue_names())
        return d

    @classmethod
    def from_tuple(cls, raw: Any) -> MandateTerms:
        agent, min_sell, max_buy, reserve, cap, venues, weights, until = raw
        return cls(
            agent, int(min_sell), int(max_buy), int(reserve), int(cap), int(venues), tuple(int(w) for w in weights),
            int(until),
        )  # fmt: skip


def mandate_domain(chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(contract),
    }


def mandate_typed_data(
    owner: str, terms: MandateTerms, nonce: int, deadline: int, chain_id: int, contract: str
) -> dict[str, Any]:
    """The full EIP-712 message for eth_signTypedData_v4. Integers wider than 53 bits are decimal strings, so the
    message survives JSON in a browser (wallets and eth_account read both forms)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Mandate": MANDATE_FIELDS,
        },
        "primaryType": "Mandate",
        "domain": mandate_domain(chain_id, contract),
        "message": {
            "owner": to_checksum_address(owner),
            "agent": terms.agent,
            "minSellPrice": str(terms.min_sell_price),
            "maxBuyPrice": str(terms.max_buy_price),
            "reserveWh": str(terms.reserve_wh),
            "dailySpendCap": str(terms.daily_spend_cap),
            "venues": terms.venues,
            "weights": list(terms.weights),
            "validUntil": str(terms.valid_until),
            "nonce": str(nonce),
            "deadline": str(deadline),
        },
    }


def typed_data_digest(typed: dict[str, Any]) -> bytes:
    """keccak256("\\x19\\x01" || domainSeparator || hashStruct(message)) of a typed-data message."""
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_data(signer: Signer, typed: dict[str, Any]) -> bytes:
    """What a browser wallet's eth_signTypedData_v4 returns, signed with a local key (tests, scripts)."""
    return bytes(signer.account.sign_typed_data(full_message=typed).signature)


def recover_typed_data_signer(typed: dict[str, Any], signature: bytes) -> str:
    """The address that signed `typed` (raises ValueError for a malformed signature)."""
    return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))


class MandateClient:
    """TradingMandate on one chain: grant, grant by signature, revoke, and reads."""

    def __init__(self, client: ChainClient) -> None:
        self.chain = client

    @property
    def contract(self) -> Any:
        return self.chain.contract(CONTRACT)

    @property
    def address(self) -> str:
        return str(self.contract.address)

    # ------------------------------------------------------------------ transactions
    def grant(self, owner: Signer, terms: MandateTerms) -> dict[str, Any]:
        """The owner mandates `terms.agent` (replacing its mandate). Raises TxFailed, e.g. MandateInvalidAgent."""
        return self.chain.transact(self.contract.functions.grant(terms.as_tuple()), owner, gas=GRANT_GAS)

    def nonce_of(self, owner: str) -> int:
        return int(self.contract.functions.nonces(to_checksum_address(owner)).call())

    def typed_data(self, owner: str, terms: MandateTerms, deadline: int) -> dict[str, Any]:
        """The EIP-712 message the owner signs (eth_signTypedData_v4) to grant `terms`, with its current nonce."""
        return mandate_typed_data(owner, terms, self.nonce_of(owner), deadline, self.chain.chain_id, self.address)

    def grant_by_sig(
        self, sender: Signer, owner: str, terms: MandateTerms, deadline: int, signature: bytes
    ) -> dict[str, Any]:
        """Submit the owner's signed grant from any account (`sender` pays nothing on the zero-gas chain).

        Raises TxFailed: MandateBadSignature (wrong signer, other terms, or used already), MandateSignatureExpired.
        """
        fn = self.contract.functions.grantBySig(to_checksum_address(owner), terms.as_tuple(), deadline, signature)
        return self.chain.transact(fn, sender, gas=GRANT_GAS)

    def revoke(self, owner: Signer) -> dict[str, Any]:
        """Withdraw the owner's mandate; the agent's next order for the owner reverts (MandateMissing)."""
        return self.chain.transact(self.contract.functions.revoke(), owner, gas=REVOKE_GAS)

    # ------------------------------------------------------------------ reads
    def stored_terms(self, owner: str) -> MandateTerms | None:
        """The owner's terms as stored, expired ones included; None when none or revoked."""
        raw = self.contract.functions.termsOf(to_checksum_address(owner)).call()
        if int(raw[0], 16) == 0:
            return None
        return MandateTerms.from_tuple(raw)

    def terms_of(self, owner: str) -> MandateTerms | None:
        """The owner's live terms; None when there is none, it was revoked, or it has expired."""
        if not self.contract.functions.isLive(to_checksum_address(owner)).call():
            return None
        return self.stored_terms(owner)

    def spent_today(self, owner: str) -> int:
        """Settlement units the owner's agent committed to buys today (community day)."""
        return int(self.contract.functions.spentToday(to_checksum_address(owner)).call())

    def remaining_today(self, owner: str) -> int:
        """What the agent may still commit to buys today (0 without a live mandate)."""
        terms = self.terms_of(owner)
        return 0 if terms is None else max(terms.daily_spend_cap - self.spent_today(owner), 0)

    def owners_of(self, agent: str) -> list[str]:
        """Owners with a live mandate for `agent` (paged reads; expired mandates left out)."""
        c = self.contract.functions
        agent = to_checksum_address(agent)
        count = int(c.ownerCount(agent).call())
        owners: list[str] = []
        for start in range(0, count, PAGE):
            owners.extend(to_checksum_address(o) for o in c.ownersOf(agent, start, PAGE).call())
        return [o for o in owners if c.isLive(o).call()]

    def today(self) -> int:
        """The community day number the daily cap counts in."""
        return int(self.contract.functions.today().call())
