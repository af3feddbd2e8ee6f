"""The order-book client used by scripts, webapp, oracle and load tests: place, cancel, read the book, decode fills.

Units: amount in Wh, price in settlement units (mgMYR, 6 decimals) per kWh; cost = price * amount // 1000.
Every transaction is built here with an explicit nonce (the signer's thread-safe counter), an explicit gas limit
(a bound, not an estimate: base + per visited order), gasPrice 0 and the chain id. Reverts surface as
energy_chain.TxFailed whose `error_name` is the contract's custom error (e.g. "OrderBookInsufficientBalance").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract

from energy_chain.approvals import ensure_approvals, retry_after_approval
from energy_chain.client import ChainClient
from energy_chain.enums import Side, Status
from energy_chain.events import DecodedEvent, EventDecoder
from energy_chain.signer import Signer

WH_PER_KWH = 1000
# Gas bounds measured in reports/gas.json (python -m scripts.gas_report), with headroom: a placement that rests
# (new level, hint walk included) stays under PLACE_GAS_BASE; each resting order visited adds < PLACE_GAS_PER_FILL.
PLACE_GAS_BASE = int(os.environ.get("ORDER_BOOK_PLACE_GAS_BASE", 350_000))
PLACE_GAS_PER_FILL = int(os.environ.get("ORDER_BOOK_PLACE_GAS_PER_FILL", 70_000))
# Expired resting orders are removed on a cap of their own (as many as max_fills): each adds < PLACE_GAS_PER_CLEANUP.
PLACE_GAS_PER_CLEANUP = int(os.environ.get("ORDER_BOOK_PLACE_GAS_PER_CLEANUP", 40_000))
CANCEL_GAS = 200_000
# What a placement or cancel for an owner adds (TradingMandate.authorize / requireAgent; reports/gas.json), with room.
MANDATE_GAS = int(os.environ.get("ORDER_BOOK_MANDATE_GAS", 60_000))
CLEAN_GAS_PER_ORDER = 60_000
DEFAULT_MAX_FILLS = int(os.environ.get("ORDER_BOOK_MAX_FILLS", 10))
PLACE_SELECTOR = function_signature_to_4byte_selector("placeOrder(uint8,uint128,uint128,uint64,uint256,uint128)")
PLACE_TYPES = ["uint8", "uint128", "uint128", "uint64", "uint256", "uint128"]


def cost(price: int, amount_wh: int) -> int:
    """Settlement units for `amount_wh` at `price` per kWh, floored as the contract does."""
    return price * amount_wh // WH_PER_KWH


def hint_from_levels(levels: list[tuple[int, int]], side: Side, price: int) -> int:
    """The placement hint from a depth snapshot (best first): the last level at or better than `price`, 0 if none.

    Saves one call per order under load; when `price` is deeper than the snapshot this is its last level, and the
    contract walks on from there (maxHintSteps levels, then its price index answers).
    """
    hint = 0
    for level_price, _ in levels:
        if (level_price >= price) if side == Side.BUY else (level_price <= price):
            hint = level_price
        else:
            break
    return hint


def place_gas(max_fills: int) -> int:
    """Gas limit of a placement that may visit `max_fills` resting orders."""
    return PLACE_GAS_BASE + (PLACE_GAS_PER_FILL + PLACE_GAS_PER_CLEANUP) * max_fills


@dataclass(frozen=True)
class Order:
    id: int
    owner: str
    side: Side
    price: int
    amount: int
    remaining: int
    escrow: int
    expiry: int
    status: Status

    @property
    def filled(self) -> int:
        """Wh filled so far (only meaningful while open or once filled: closed orders report remaining 0)."""
        return self.amount - self.remaining if self.status in (Status.OPEN, Status.FILLED) else 0


@dataclass(frozen=True)
class Fill:
    maker_id: int
    taker_id: int
    maker: str
    taker: str
    taker_side: Side
    price: int
    amount: int
    cost: int


@dataclass(frozen=True)
class BookSnapshot:
    """Aggregated depth, best first on each side: lists of (price, amount Wh)."""

    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]

    @property
    def best_bid(self) -> int:
        return self.bids[0][0] if self.bids else 0

    @property
    def best_ask(self) -> int:
        return self.asks[0][0] if self.asks else 0


@dataclass
class PlaceResult:
    """What one placement did, read from its receipt."""

    order_id: int
    tx_hash: str
    gas_used: int
    fills: list[Fill] = field(default_factory=list)
    cancelled: list[dict[str, Any]] = field(default_factory=list)  # OrderCancelled args (self-trade, cap)
    expired: list[dict[str, Any]] = field(default_factory=list)  # OrderExpired args (met while matching)

    @property
    def filled(self) -> int:
        return sum(f.amount for f in self.fills)


class OrderBookClient:
    """The order book on one chain, through a ChainClient (connection, deployment record, signing, errors)."""

    def __init__(self, chain: ChainClient, name: str = "OrderBook") -> None:
        self.chain = chain
        self.name = name
        self._address: str | None = None
        self._events: EventDecoder | None = None

    # ------------------------------------------------------------------ contracts
    @property
    def contract(self) -> Contract:
        return self.chain.contract(self.name)

    @property
    def address(self) -> str:
        if self._address is None:
            self._address = self.contract.address
        return self._address

    @property
    def events(self) -> EventDecoder:
        if self._events is None:
            self._events = EventDecoder(self.contract.abi, self.contract.address)
        return self._events

    def _token(self, fn_name: str) -> Contract:
        address = getattr(self.contract.functions, fn_name)().call()
        for name in ("EnergyToken", "SettlementToken"):
            token = self.chain.contract(name)
            if token.address.lower() == address.lower():
                return token
        raise RuntimeError(f"{self.name}.{fn_name}() is {address}, not in the deployment record")

    @property
    def energy(self) -> Contract:
        return self._token("energyToken")

    @property
    def money(self) -> Contract:
        return self._token("settlementToken")

    # ------------------------------------------------------------------ transactions
    def _send(self, fn: Any, signer: Signer, gas: int) -> dict[str, Any]:
        """Explicit gas (no estimate); a revert raises TxFailed with the decoded error."""
        return self.chain.transact(fn, signer, gas=gas)

    def ensure_approvals(self, signer: Signer) -> list[dict[str, Any]]:
        """Approve the book once, without limit, on both tokens (skipped where already approved)."""
        return ensure_approvals(self.chain, signer, self.address)

    def hint_for(self, side: Side, price: int) -> int:
        """The hint placeOrder needs if `price` opens a new level (read now; the contract copes if it goes stale)."""
        return int(self.contract.functions.findHint(int(side), price).call())

    def place_function(
        self, side: Side, price: int, amount: int, expiry: int = 0, max_fills: int = DEFAULT_MAX_FILLS, hint: int = 0
    ) -> Any:
        return self.contract.functions.placeOrder(int(side), price, amount, expiry, max_fills, hint)

    def build_place_tx(
        self,
        signer: Signer,
        side: Side,
        price: int,
        amount: int,
        expiry: int = 0,
        max_fills: int = DEFAULT_MAX_FILLS,
        hint: int | None = None,
        nonce: int | None = None,
    ) -> bytes:
        """A signed raw placement (for pre-signed batches via ChainClient.send_raw_batch).

        `hint=None` reads it from the chain now; pass 0 to let the contract walk from the best level, or a price
        known from a depth snapshot. `nonce=None` takes the signer's next nonce.
        """
        if hint is None:
            hint = self.hint_for(side, price)
        # Encoded directly (not through web3's contract function): ~20x faster when pre-signing thousands.
        data = PLACE_SELECTOR + abi_encode(PLACE_TYPES, [int(side), price, amount, expiry, max_fills, hint])
        nonce = nonce if nonce is not None else signer.next_nonce(self.chain.pending_nonce)
        return signer.sign(self.chain.legacy_tx(self.address, data, place_gas(max_fills), nonce))

    def place(
        self,
        signer: Signer,
        side: Side,
        price: int,
        amount: int,
        expiry: int = 0,
        max_fills: int = DEFAULT_MAX_FILLS,
        hint: int | None = None,
    ) -> PlaceResult:
        """Place and wait; returns the order id and what matched. Raises TxFailed (decoded) on a revert.

        A placement that meets a missing allowance approves the book and is sent once more. No hint makes it fail:
        one gone stale (levels landed between its read and the mining) walks a few levels, then the contract's price
        index finds the position.
        """

        return self._place(
            signer,
            lambda h: self.place_function(side, price, amount, expiry, max_fills, h),
            side,
            price,
            place_gas(max_fills),
            hint,
            approve=True,
        )

    def place_for(
        self,
        agent: Signer,
        owner: str,
        side: Side,
        price: int,
        amount: int,
        expiry: int = 0,
        max_fills: int = DEFAULT_MAX_FILLS,
        hint: int | None = None,
    ) -> PlaceResult:
        """The agent places an order for `owner` within the owner's TradingMandate (placeOrderFor); the order,
        its escrow and its proceeds are the owner's. Same hints and retries as `place`, except that a missing
        allowance is not approved (only the owner can): it raises TxFailed(OrderBookInsufficientAllowance) like
        every bound the mandate refuses (MandatePriceAboveMaximum, MandateDailyCapExceeded, ...)."""
        owner = Web3.to_checksum_address(owner)
        return self._place(
            agent,
            lambda h: self.contract.functions.placeOrderFor(owner, int(side), price, amount, expiry, max_fills, h),
            side,
            price,
            place_gas(max_fills) + MANDATE_GAS,
            hint,
            approve=False,
        )

    def _place(
        self, signer: Signer, build: Any, side: Side, price: int, gas: int, hint: int | None, approve: bool
    ) -> PlaceResult:
        """Send `build(hint)` (`hint=None`: read now; a hint gone stale only costs gas: the book's price index finds
        the position); with `approve`, a missing allowance approves the book and sends once more
        (energy_chain.approvals)."""
        fn = build(self.hint_for(side, price) if hint is None else hint)
        if not approve:
            return self.place_result(self._send(fn, signer, gas))
        return self.place_result(
            retry_after_approval(self.chain, signer, self.address, lambda: self._send(fn, signer, gas))
        )

    def place_result(self, receipt: dict[str, Any]) -> PlaceResult:
        """Decode a placement's receipt (a web3 receipt or a raw JSON-RPC one)."""
        events = self.events.decode(receipt)
        placed = [e for e in events if e.name == "OrderPlaced"]
        if not placed:
            raise ValueError("receipt has no OrderPlaced event: not a successful placement")
        tx_hash = receipt["transactionHash"]
        gas = receipt["gasUsed"]
        return PlaceResult(
            order_id=int(placed[0].args["id"]),
            tx_hash=tx_hash if isinstance(tx_hash, str) else "0x" + bytes(tx_hash).hex(),
            gas_used=int(gas, 16) if isinstance(gas, str) else int(gas),
            fills=self.fills(events),
            cancelled=[e.args for e in events if e.name == "OrderCancelled"],
            expired=[e.args for e in events if e.name == "OrderExpired"],
        )

    def cancel(self, signer: Signer, order_id: int) -> dict[str, Any]:
        """Cancel one of the signer's open orders (escrow refunded). Raises TxFailed, e.g. OrderBookNotOwner."""
        return self._send(self.contract.functions.cancelOrder(order_id), signer, CANCEL_GAS)

    def cancel_for(self, agent: Signer, owner: str, order_id: int) -> dict[str, Any]:
        """The owner's mandated agent cancels one of the owner's open orders (refund to the owner)."""
        fn = self.contract.functions.cancelOrderFor(Web3.to_checksum_address(owner), order_id)
        return self._send(fn, agent, CANCEL_GAS + MANDATE_GAS)

    def clean_expired(self, signer: Signer, order_ids: list[int]) -> int:
        """Remove expired orders among `order_ids` (anyone may); returns how many were removed."""
        fn = self.contract.functions.cleanExpired(order_ids)
        receipt = self._send(fn, signer, 100_000 + CLEAN_GAS_PER_ORDER * len(order_ids))
        return sum(1 for e in self.events.decode(receipt) if e.name == "OrderExpired")

    # ------------------------------------------------------------------ reads
    def order(self, order_id: int) -> Order:
        raw = self.contract.functions.order(order_id).call()
        return Order(int(raw[0]), raw[1], Side(raw[2]), *(int(v) for v in raw[3:8]), Status(raw[8]))

    def open_orders(self, owner: str, page: int = 2000, limit: int = 1000) -> list[Order]:
        """The owner's open orders, newest first (at most `limit`).

        Pages through every order id (`page` ids of all owners per call): fine for tests and scripts; an owner's
        history at scale comes from the indexed `owner` of OrderPlaced (the webapp's indexer).
        """
        ids: list[int] = []
        cursor = 0
        while len(ids) < limit:
            found, cursor = self.contract.functions.openOrdersOf(owner, cursor, page).call()
            ids.extend(int(i) for i in found)
            if cursor == 0:
                break
        return [self.order(i) for i in ids[:limit]]

    def depth(self, side: Side, levels: int = 20) -> list[tuple[int, int]]:
        return [(int(p), int(a)) for p, a in self.contract.functions.depth(int(side), levels).call()]

    def book(self, levels: int = 20) -> BookSnapshot:
        return BookSnapshot(self.depth(Side.BUY, levels), self.depth(Side.SELL, levels))

    def best_prices(self) -> tuple[int, int]:
        """(best bid, best ask); 0 for an empty side."""
        c = self.contract.functions
        return int(c.bestBid().call()), int(c.bestAsk().call())

    # ------------------------------------------------------------------ events
    @staticmethod
    def fills(events: list[DecodedEvent]) -> list[Fill]:
        return [
            Fill(
                int(a["makerId"]),
                int(a["takerId"]),
                a["maker"],
                a["taker"],
                Side(a["takerSide"]),
                int(a["price"]),
                int(a["amount"]),
                int(a["cost"]),
            )
            for a in (e.args for e in events if e.name == "OrderFilled")
        ]

    def decode(self, receipt: dict[str, Any]) -> list[DecodedEvent]:
        """Every order-book event in a receipt (OrderPlaced, OrderFilled, OrderCancelled, OrderExpired, ...)."""
        return self.events.decode(receipt)
