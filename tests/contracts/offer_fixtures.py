"""OfferSettlement fixtures: the contract on the module's tokens, funded traders, signing and revert decoding.

Import the fixtures by name in a test module (`from tests.contracts.offer_fixtures import settlement, traders`).
Traders are dev accounts 3..7 (their keys come from the public anvil mnemonic, so offers are signed in Python with
`energy_chain.offers.sign_offer`, exactly as the agents sign them).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from eth_utils import to_checksum_address

from energy_chain.devchain import dev_key
from energy_chain.errors import DecodedError, ErrorDecoder
from energy_chain.offers import Offer, SignedOffer, sign_offer
from tests.contracts.order_book_fixtures import fund_trader

MIN_FILL_WH = 10  # the order book's minimum order size (scripts/deploy.py ORDER_BOOK_MIN_WH)
CHAIN_ID = 1337
PRICE = 450_000  # 0.45 MYR per kWh
TRADER_INDEXES = range(3, 8)
# Check codes of IOfferSettlement.Check, in declaration order.
CHECKS = [
    "Ok", "NotYetValid", "Expired", "Cancelled", "Voided", "Filled", "SellerBalanceShort", "SellerAllowanceShort",
    "BuyerBalanceShort", "BuyerAllowanceShort", "ExceedsRemaining", "ZeroAmount", "BelowMinimum", "ZeroCost",
    "SelfFill", "BadSignature", "SaltInUse", "MandateRefused",
]  # fmt: skip
CHECK = {name: i for i, name in enumerate(CHECKS)}


def chain_now() -> int:
    """Latest block time (Brownie's chain.time() drifts from anvil's clock after snapshot reverts)."""
    import brownie

    return int(brownie.web3.eth.get_block("latest").timestamp)


def key_of(account: Any) -> str:
    """The private key of a dev account (accounts[i] is mnemonic index i)."""
    import brownie

    index = list(brownie.accounts).index(account)
    return dev_key(index)


def make_offer(
    settlement: Any,
    seller: Any,
    amount: int = 1_000,
    price: int = PRICE,
    valid_from: int | None = None,
    valid_until: int | None = None,
    counter: int | None = None,
    salt: int | None = None,
    chain_id: int = CHAIN_ID,
    contract: str | None = None,
) -> SignedOffer:
    """A signed offer of `seller`, valid from a minute ago for an hour, with the seller's current counter."""
    now = chain_now()
    offer = Offer(
        seller=seller.address,
        price=price,
        amount_wh=amount,
        valid_from=now - 60 if valid_from is None else valid_from,
        valid_until=now + 3_600 if valid_until is None else valid_until,
        salt=secrets.randbits(256) if salt is None else salt,
        counter=int(settlement.counterOf(seller)) if counter is None else counter,
    )
    return sign_offer(offer, key_of(seller), chain_id, contract or settlement.address)


def sig(signed: SignedOffer) -> str:
    return "0x" + signed.signature.hex()


def entry(signed: SignedOffer, amount: int) -> tuple[Any, str, int]:
    """One fillMany entry (offer, signature, amountWh)."""
    return (signed.offer.as_tuple(), sig(signed), amount)


def revert_error(contract: Any, fn: str, args: list[Any], sender: Any) -> DecodedError | None:
    """Simulate a call and decode its custom error (None when it would succeed)."""
    import brownie

    from energy_chain.artifacts import all_error_abis

    data = getattr(contract, fn).encode_input(*args)
    tx = {"from": str(sender), "to": contract.address, "data": data, "gas": hex(5_000_000), "gasPrice": "0x0"}
    response = brownie.web3.provider.make_request("eth_call", [tx, "latest"])
    if "error" not in response:
        return None
    raw = response["error"].get("data")
    decoded = ErrorDecoder(all_error_abis()).decode(raw) if isinstance(raw, str) else None
    assert decoded is not None, f"{fn} reverted without a known error: {response['error']}"
    args = {k: to_checksum_address(v) if isinstance(v, str) and len(v) == 42 else v for k, v in decoded.args.items()}
    return DecodedError(decoded.name, args)


def assert_reverts(contract: Any, fn: str, args: list[Any], sender: Any, name: str, **expected: Any) -> None:
    """The transaction reverts with custom error `name` whose arguments equal `expected` (all of them)."""
    import brownie

    decoded = revert_error(contract, fn, args, sender)
    assert decoded is not None, f"{fn} did not revert"
    assert decoded.name == name, f"expected {name}, got {decoded}"
    assert decoded.args == expected, f"{name} args {decoded.args} != {expected}"
    with brownie.reverts(revert_pattern=f"{name}.*"):  # and a real transaction reverts too
        getattr(contract, fn)(*args, {"from": sender, "gas_limit": 5_000_000, "allow_revert": True})


def as_bytes(offer_hash: str) -> bytes:
    return bytes.fromhex(offer_hash.removeprefix("0x"))


@pytest.fixture(scope="module")
def settlement(OfferSettlement, energy, money, admin):
    return OfferSettlement.deploy(energy, money, MIN_FILL_WH, {"from": admin, "gas_price": 0})


@pytest.fixture(scope="module")
def traders(accounts, settlement, registry, energy, money, operator, oracle):
    """Five funded traders (accounts 3..7), each with energy, settlement units and approvals to the settlement."""
    group = [accounts[i] for i in TRADER_INDEXES]
    for account in group:
        fund_trader(account, registry, energy, money, operator, oracle, settlement)
    return group
