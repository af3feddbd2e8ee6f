"""Where agents trade: the order book and the periodic auction, as pre-signed transactions built by the SDK.

Each venue turns intents into signed raw transactions with explicit nonces (so a caller can send a whole
community's orders in one JSON-RPC batch) and reads the outcome back from event logs. Market rules stay in the
contracts and in energy_chain (hints, effective prices, gas bounds); nothing here decides who matches whom.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector

from energy_chain.auction import (
    GAS_CLAIM,
    GAS_CLAIM_EACH,
    GAS_CLEAR_BASE,
    GAS_CLEAR_STEP,
    GAS_CLOSE,
    GAS_SUBMIT,
    AuctionClient,
    BookEntry,
    hint_for,
)
from energy_chain.clearing import Side as AuctionSide
from energy_chain.clearing import Tariffs as AuctionTariffs
from energy_chain.clearing import effective_price
from energy_chain.events import DecodedEvent, EventDecoder
from energy_chain.orders import CANCEL_GAS, OrderBookClient, Side, hint_from_levels
from energy_chain.signer import Signer

CLAIM_BATCH = 100  # DoubleAuction.claimMany's limit
# Calls a whole community sends every interval are ABI-encoded directly: web3's contract functions cost ~5 ms each.
CANCEL_SELECTOR = function_signature_to_4byte_selector("cancelOrder(uint256)")
SUBMIT_SELECTOR = function_signature_to_4byte_selector("submitOrder(uint64,uint8,uint128,uint128,uint64)")
SUBMIT_TYPES = ["uint64", "uint8", "uint128", "uint128", "uint64"]


def encode_call(signature: str, *args: Any) -> bytes:
    """Calldata of `signature` (e.g. "approve(address,uint256)") with static arguments."""
    types = signature[signature.index("(") + 1 : -1].split(",") if not signature.endswith("()") else []
    return function_signature_to_4byte_selector(signature) + abi_encode(types, list(args))


def signed_call(signer: Signer, chain_id: int, to: str, data: bytes, gas: int, nonce: int, gas_price: int = 0) -> bytes:
    """A signed legacy transaction with every field explicit (the project's convention, see ChainClient.build_tx)."""
    tx = {"to": to, "data": data, "value": 0, "gas": gas, "gasPrice": gas_price, "nonce": nonce, "chainId": chain_id}
    return signer.sign(tx)


@dataclass(frozen=True)
class Trade:
    """One fill between two households: `buyer` paid `paid`, `seller` received `received` for `amount_wh`."""

    buyer: str
    seller: str
    price: int
    amount_wh: int
    paid: int
    received: int


class OrderBookVenue:
    name = "order-book"

    def __init__(self, client: OrderBookClient, max_fills: int = 20) -> None:
        self.client = client
        self.max_fills = max_fills
        self.events = EventDecoder(client.contract.abi, client.address)
        self._levels: dict[Side, list[tuple[int, int]]] = {Side.BUY: [], Side.SELL: []}

    def refresh_levels(self) -> None:
        """A depth snapshot for placement hints (the contract walks on from a stale hint)."""
        self._levels = {s: self.client.depth(s, 50) for s in (Side.BUY, Side.SELL)}

    def place(self, signer: Signer, side: Side, price: int, amount_wh: int, nonce: int) -> bytes:
        levels = self._levels[side]
        hint = hint_from_levels(levels, side, price)
        if all(p != price for p, _ in levels):  # later orders of the same batch can use this level
            levels.append((price, amount_wh))
            levels.sort(key=lambda lv: -lv[0] if side == Side.BUY else lv[0])
        return self.client.build_place_tx(signer, side, price, amount_wh, max_fills=self.max_fills, hint=hint,
                                          nonce=nonce)  # fmt: skip

    def cancel(self, signer: Signer, order_id: int, nonce: int) -> bytes:
        chain = self.client.chain
        data = CANCEL_SELECTOR + abi_encode(["uint256"], [order_id])
        return signed_call(signer, chain.chain_id, self.client.address, data, CANCEL_GAS, nonce, chain.config.gas_price)

    def decode(self, logs: Iterable[dict[str, Any]]) -> list[DecodedEvent]:
        return [e for e in (self.events.decode_log(log) for log in logs) if e is not None]

    @staticmethod
    def trades(events: Sequence[DecodedEvent]) -> list[Trade]:
        out = []
        for f in OrderBookClient.fills(list(events)):
            buyer, seller = (f.taker, f.maker) if f.taker_side == Side.BUY else (f.maker, f.taker)
            out.append(Trade(buyer, seller, f.price, f.amount, f.cost, f.cost))
        return out


class AuctionVenue:
    name = "auction"

    def __init__(self, client: AuctionClient) -> None:
        self.client = client
        self.contract = client.contract
        self.events = EventDecoder(self.contract.abi, self.contract.address)
        self._book: dict[AuctionSide, list[BookEntry]] = {AuctionSide.BID: [], AuctionSide.ASK: []}
        self._next_id = 0
        self._tariffs = AuctionTariffs(*client.tariffs())
        # The auction refuses smaller orders (a sliver must not set the price): smaller amounts go to the grid.
        self.min_amount_wh = int(self.contract.functions.minAmount().call())

    def open_round(self, round_id: int) -> None:
        """Read the round's book and the next order id once; later submissions of the batch are hinted locally."""
        self._book = {s: self.client.book(round_id, s) for s in (AuctionSide.BID, AuctionSide.ASK)}
        self._next_id = int(self.contract.functions.nextOrderId().call())
        retail, feed_in = self.client.tariffs()
        self._tariffs = AuctionTariffs(retail, feed_in)

    def submit(self, signer: Signer, round_id: int, side: AuctionSide, price: int, amount_wh: int, nonce: int) -> bytes:
        """A signed submitOrder; assumes the batch's submissions are mined in order and all succeed (checked after)."""
        eff = effective_price(side, price, self._tariffs)
        order_id = self._next_id
        book = self._book[side]
        hint = hint_for(book, side, eff)
        position = next((i + 1 for i, e in enumerate(book) if e.id == hint), 0)
        book.insert(position, BookEntry(order_id, eff, amount_wh))
        self._next_id += 1
        chain = self.client.chain
        data = SUBMIT_SELECTOR + abi_encode(SUBMIT_TYPES, [round_id, int(side), price, amount_wh, hint])
        return signed_call(
            signer, chain.chain_id, self.contract.address, data, GAS_SUBMIT, nonce, chain.config.gas_price
        )

    def settle(self, keeper: Signer, round_id: int, order_ids: Sequence[int], first_nonce: int,
               clear_steps: int) -> list[bytes]:  # fmt: skip
        """close + clear (one bounded transaction of `clear_steps`) + claimMany in chunks: anyone may send them."""
        fns = [
            (self.contract.functions.closeRound(round_id), GAS_CLOSE),
            (self.contract.functions.clearRound(round_id, clear_steps), GAS_CLEAR_BASE + GAS_CLEAR_STEP * clear_steps),
        ]
        for i in range(0, len(order_ids), CLAIM_BATCH):
            chunk = list(order_ids[i : i + CLAIM_BATCH])
            fns.append((self.contract.functions.claimMany(chunk), GAS_CLAIM + GAS_CLAIM_EACH * len(chunk)))
        chain = self.client.chain
        return [keeper.sign(chain.build_tx(fn, keeper, gas, nonce=first_nonce + k)) for k, (fn, gas) in enumerate(fns)]

    def decode(self, logs: Iterable[dict[str, Any]]) -> list[DecodedEvent]:
        return [e for e in (self.events.decode_log(log) for log in logs) if e is not None]
