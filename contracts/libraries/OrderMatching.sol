// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IOrderBook} from "../../interfaces/IOrderBook.sol";
import {Side} from "../../interfaces/MarketTypes.sol";
import {PriceLevelList} from "./PriceLevelList.sol";

/// @title OrderMatching: the order book's storage and its price-time matching (used by OrderBook)
/// @notice Matching visits at most `Taker.cap` resting orders of the opposite side, best price first, while they cross
///         the taker's limit; every fill is at the resting order's price. Token movements are only recorded here
///         (`Taker.payouts`); OrderBook executes them after every state change (checks-effects-interactions).
/// @dev Storage: an order takes one slot (a non-matching placement writes one fresh slot for it), a price level one
///      slot (PriceLevelList), the book's header one slot. Traders are numbered on their first order (two slots,
///      once per address) so that an order holds a 32-bit trader number instead of a 160-bit address.
///      What an order has filled lives in a second slot (`fills`), written only by fills: placing an order that
///      does not match never writes it, and remaining = amount - filled while the order is open.
///      A buy order's escrow is stored as `dust` (in `fills`) on top of floor(price * remaining / 1000): each fill
///      pays floor(price * fill / 1000), which can leave up to one unit per fill above that floor; it is refunded
///      when the order closes, so the book's token balance always equals the sum of open escrows.
library OrderMatching {
    using PriceLevelList for mapping(uint256 => PriceLevelList.Level);

    uint256 internal constant WH_PER_KWH = 1000;

    /// @dev One slot (248 bits). `trader` is the owner's number (0: no such order). `prev` is exact for every order
    ///      but its level's head (the head's prev is never read). Written whole at placement; afterwards only
    ///      `next`, `prev` (neighbours leaving the queue) and `status` (closing) change.
    struct StoredOrder {
        uint32 trader;
        uint40 price;
        uint40 amount;
        uint40 expiry;
        uint40 prev;
        uint40 next;
        Side side;
        IOrderBook.Status status;
    }

    /// @dev An order's fills, one slot, zero until its first fill: Wh filled so far and a buy order's rounding dust
    ///      (escrow above floor(price * remaining / 1000); < number of fills <= amount < 2^40). Only read while the
    ///      order is open: a closed order has remaining = 0 and escrow = 0.
    struct Fills {
        uint40 filled;
        uint40 dust;
    }

    /// @dev The book's header, one slot, read once and written once per placement.
    struct Header {
        uint40 bestBid;
        uint40 bestAsk;
        uint40 nextId;
        uint40 minAmount;
        uint16 maxHintSteps;
        uint32 traders; // traders numbered so far
    }

    /// @dev Everything the book stores.
    struct Book {
        Header head;
        mapping(uint256 id => StoredOrder) orders;
        mapping(uint256 id => Fills) fills;
        mapping(uint256 price => PriceLevelList.Level) bids;
        mapping(uint256 price => PriceLevelList.Level) asks;
        mapping(uint256 word => uint256 bits) index; // PriceIndex of both sides' levels (namespace: sideKey)
        mapping(address owner => uint32 trader) traderOf;
        mapping(uint256 trader => address owner) ownerOf;
    }

    /// @dev A token movement decided during matching and executed after all state changes.
    struct Payout {
        IERC20 token;
        address from; // address(0): from the book's escrow
        address to;
        uint256 amount;
    }

    /// @dev The incoming order while it matches.
    struct Taker {
        uint256 id;
        uint256 trader; // the caller's trader number
        bool buy;
        uint256 price;
        uint256 remaining;
        uint256 cap; // most fills and self-trade cancels; expired orders removed have a cap of their own, the same
        uint256 steps;
        uint256 cleaned; // expired resting orders removed (they do not use up `cap`)
        uint256 minAmount; // a maker left with less than this is closed (dust), a taker remainder not rested
        uint256 toTaker; // tokens the book owes the taker: energy for a buy, settlement units for a sell
        Payout[] payouts;
        uint256 payoutCount;
        uint256 escrow; // tokens to escrow for the resting remainder
        uint256 prev; // the order before the remainder in its level's queue
        uint256 needed; // what the order may spend at its limit: it never spends more (fills are at or better)
        IERC20 energy;
        IERC20 money;
        address owner; // whose order it is: the caller, or the owner an agent places for
    }

    /// @notice Matches taker `t` against the opposite side (at most `t.cap` resting orders visited).
    /// @param b The book.
    /// @param h The book's header (in memory; the caller writes it back).
    /// @param t The taker.
    function matchTaker(Book storage b, Header memory h, Taker memory t) internal {
        mapping(uint256 => PriceLevelList.Level) storage book = levels(b, !t.buy);
        while (t.remaining != 0 && t.steps < t.cap && crosses(h, t.buy, t.price)) {
            uint256 best = t.buy ? h.bestAsk : h.bestBid;
            PriceLevelList.Level storage lvl = book[best];
            uint256 makerId = lvl.head;
            StoredOrder storage m = b.orders[makerId];
            bool removed;
            if (expired(m.expiry)) {
                if (t.cleaned == t.cap) break; // bounded separately: a stranger's expired orders cannot cost fills
                ++t.cleaned;
                uint256 remaining = remainingOf(b, makerId, m);
                takeOffLevel(lvl, remaining);
                uint256 refund = escrowOf(b, makerId, m, remaining);
                address owner = b.ownerOf[m.trader];
                emit IOrderBook.OrderExpired(makerId, owner, uint128(remaining), uint128(refund));
                _payout(t, t.buy ? t.energy : t.money, address(0), owner, refund);
                _popHead(lvl, m, IOrderBook.Status.Expired);
                removed = true;
            } else if (m.trader == t.trader) {
                // Self-trade: the incoming order cancels the caller's own resting order.
                ++t.steps;
                uint256 remaining = remainingOf(b, makerId, m);
                takeOffLevel(lvl, remaining);
                uint256 refund = escrowOf(b, makerId, m, remaining);
                emit IOrderBook.OrderCancelled(
                    makerId, t.owner, uint128(remaining), uint128(refund), IOrderBook.CancelReason.SelfTrade
                );
                t.toTaker += refund;
                _popHead(lvl, m, IOrderBook.Status.Cancelled);
                removed = true;
            } else {
                ++t.steps;
                removed = _fill(b, t, lvl, m, makerId, best);
            }
            if (removed && lvl.head == 0) {
                (, uint256 worse) = book.remove(b.index, sideKey(!t.buy), best);
                if (t.buy) h.bestAsk = uint40(worse);
                else h.bestBid = uint40(worse);
            }
        }
    }

    /// @notice Decides what becomes of the taker's unfilled remainder: nothing left (Filled), the cap stopped a sweep
    ///         that still crosses (Cancelled: resting it would cross the book), or it rests at the tail of its level.
    /// @param b The book.
    /// @param h The header in memory.
    /// @param t The taker (sets `escrow` and `prev` when it rests).
    /// @param hint A price level at or better than the taker's price (see PriceLevelList.findPosition).
    /// @return The taker order's status.
    function restRemainder(Book storage b, Header memory h, Taker memory t, uint256 hint)
        internal
        returns (IOrderBook.Status)
    {
        if (t.remaining == 0) return IOrderBook.Status.Filled;
        if (crosses(h, t.buy, t.price)) {
            emit IOrderBook.OrderCancelled(
                t.id, t.owner, uint128(t.remaining), 0, IOrderBook.CancelReason.CapReached
            );
            return IOrderBook.Status.Cancelled;
        }
        if (t.remaining < t.minAmount) {
            // Below the minimum: resting it would be dust at its price; nothing was escrowed for it.
            emit IOrderBook.OrderCancelled(t.id, t.owner, uint128(t.remaining), 0, IOrderBook.CancelReason.Dust);
            return IOrderBook.Status.Cancelled;
        }
        t.escrow = t.buy ? cost(t.price, t.remaining) : t.remaining;
        mapping(uint256 => PriceLevelList.Level) storage book = levels(b, t.buy);
        PriceLevelList.Level storage lvl = book[t.price];
        if (lvl.head != 0) {
            t.prev = lvl.tail;
            b.orders[t.prev].next = uint40(t.id);
            lvl.tail = uint40(t.id);
            lvl.total += uint88(t.remaining); // < 2^40 orders of < 2^40 Wh each
            return IOrderBook.Status.Open;
        }
        (uint256 better, uint256 worse) = book.findPosition(
            b.index, sideKey(t.buy), t.buy, t.buy ? h.bestBid : h.bestAsk, t.price, hint, h.maxHintSteps
        );
        if (book.insert(b.index, sideKey(t.buy), t.price, better, worse, t.id, t.remaining)) {
            if (t.buy) h.bestBid = uint40(t.price);
            else h.bestAsk = uint40(t.price);
        }
        return IOrderBook.Status.Open;
    }

    /// @notice Closes an open resting order outside matching (cancel, clean): unlinks it and zeroes its escrow.
    /// @param b The book.
    /// @param id The order.
    /// @param o Its storage.
    /// @param status Cancelled or Expired.
    /// @return buy Whether it was a buy order (its refund is in settlement tokens, else energy).
    /// @return refund The escrow to return to its owner.
    function closeResting(Book storage b, uint256 id, StoredOrder storage o, IOrderBook.Status status)
        internal
        returns (bool buy, uint256 refund)
    {
        buy = o.side == Side.Buy;
        uint256 remaining = remainingOf(b, id, o);
        refund = escrowOf(b, id, o, remaining);
        mapping(uint256 => PriceLevelList.Level) storage book = levels(b, buy);
        uint256 price = o.price;
        PriceLevelList.Level storage lvl = book[price];
        uint40 next = o.next;
        takeOffLevel(lvl, remaining);
        if (lvl.head == id) {
            _popHead(lvl, o, status);
        } else {
            uint40 prev = o.prev; // exact: the order is not its level's head
            b.orders[prev].next = next;
            if (next != 0) b.orders[next].prev = prev;
            else lvl.tail = prev;
            o.status = status;
        }
        if (lvl.head == 0) {
            (bool wasBest, uint256 worse) = book.remove(b.index, sideKey(buy), price);
            if (wasBest) {
                if (buy) b.head.bestBid = uint40(worse);
                else b.head.bestAsk = uint40(worse);
            }
        }
    }

    /// @notice Whether an order at `price` on the buy (`buy`) or sell side crosses the opposite best price.
    function crosses(Header memory h, bool buy, uint256 price) internal pure returns (bool) {
        uint256 best = buy ? h.bestAsk : h.bestBid;
        return best != 0 && (buy ? best <= price : best >= price);
    }

    /// @notice Whether an expiry (0: never) has passed.
    function expired(uint256 expiry) internal view returns (bool) {
        return expiry != 0 && expiry <= block.timestamp;
    }

    /// @notice Unfilled Wh of an order: 0 once closed.
    function remainingOf(Book storage b, uint256 id, StoredOrder storage o) internal view returns (uint256) {
        return o.status == IOrderBook.Status.Open ? o.amount - b.fills[id].filled : 0;
    }

    /// @notice Tokens the book holds for an order with `remaining` unfilled Wh (0 once closed).
    function escrowOf(Book storage b, uint256 id, StoredOrder storage o, uint256 remaining)
        internal
        view
        returns (uint256)
    {
        if (remaining == 0) return 0;
        return o.side == Side.Buy ? cost(o.price, remaining) + b.fills[id].dust : remaining;
    }

    /// @notice One side's price levels: bids when `buy`, else asks.
    function levels(Book storage b, bool buy) internal view returns (mapping(uint256 => PriceLevelList.Level) storage) {
        return buy ? b.bids : b.asks;
    }

    /// @notice A side's namespace in the book's PriceIndex: 1 for bids, 0 for asks.
    function sideKey(bool buy) internal pure returns (uint256) {
        return buy ? 1 : 0;
    }

    /// @notice Settlement units for `amount` Wh at `price` per kWh, floored (price, amount < 2^40: no overflow).
    function cost(uint256 price, uint256 amount) internal pure returns (uint256) {
        return (price * amount) / WH_PER_KWH;
    }

    /// @dev One fill at the maker's price; returns true when the maker order is complete (and left the queue).
    function _fill(
        Book storage b,
        Taker memory t,
        PriceLevelList.Level storage lvl,
        StoredOrder storage m,
        uint256 makerId,
        uint256 q
    ) private returns (bool complete) {
        Fills memory fl = b.fills[makerId];
        uint256 makerRemaining = m.amount - fl.filled;
        uint256 f = t.remaining < makerRemaining ? t.remaining : makerRemaining;
        uint256 c = cost(q, f);
        address maker = b.ownerOf[m.trader];
        unchecked {
            // f <= both remainders.
            t.remaining -= f;
            makerRemaining -= f;
        }
        takeOffLevel(lvl, f);
        if (t.buy) {
            // The maker sells: the taker pays the maker, the book releases the maker's escrowed energy.
            t.toTaker += f;
            _payout(t, t.money, t.owner, maker, c);
        } else {
            // The maker buys: the taker delivers energy to the maker, the book pays the taker from the maker's escrow.
            t.toTaker += c;
            _payout(t, t.energy, t.owner, maker, f);
            _releaseBuyEscrow(t, fl, maker, q, makerRemaining, f, c);
        }
        emit IOrderBook.OrderFilled(
            makerId, t.id, maker, t.owner, t.buy ? Side.Buy : Side.Sell, uint128(q), uint128(f), uint128(c)
        );
        if (makerRemaining == 0) {
            _popHead(lvl, m, IOrderBook.Status.Filled); // `fills` stays as it was: only read while the order is open
            return true;
        }
        if (makerRemaining < t.minAmount) {
            // Dust: a remainder below the minimum would sit at the best price and use up takers' fill caps. It is
            // closed now and its escrow refunded.
            takeOffLevel(lvl, makerRemaining);
            uint256 refund = t.buy ? makerRemaining : cost(q, makerRemaining) + fl.dust;
            _payout(t, t.buy ? t.energy : t.money, address(0), maker, refund);
            emit IOrderBook.OrderCancelled(
                makerId, maker, uint128(makerRemaining), uint128(refund), IOrderBook.CancelReason.Dust
            );
            _popHead(lvl, m, IOrderBook.Status.Cancelled);
            return true;
        }
        fl.filled += uint40(f); // <= amount < 2^40
        b.fills[makerId] = fl;
    }

    /// @dev A buy maker paid `c` for `f` Wh and has `left` Wh unfilled: the rounding dust above
    ///      floor(q * left / 1000) stays escrowed (in `fl`), or goes back to the buyer once nothing is left.
    function _releaseBuyEscrow(
        Taker memory t,
        Fills memory fl,
        address maker,
        uint256 q,
        uint256 left,
        uint256 f,
        uint256 c
    ) private pure {
        // Escrow before the fill >= floor(q * (left + f) / 1000) >= c + floor(q * left / 1000): floors are
        // superadditive, so neither subtraction underflows.
        uint256 escrow = cost(q, left + f) + fl.dust - c;
        if (left == 0) _payout(t, t.money, address(0), maker, escrow);
        else fl.dust = uint40(escrow - cost(q, left)); // < number of fills <= amount < 2^40
    }

    /// @dev Removes the head order of a level from its queue and closes it; the caller has taken its remaining amount
    ///      off the level total. The new head's `prev` goes stale (never read for a head).
    function _popHead(PriceLevelList.Level storage lvl, StoredOrder storage m, IOrderBook.Status status) private {
        uint40 next = m.next;
        lvl.head = next;
        if (next == 0) lvl.tail = 0;
        m.status = status;
    }

    /// @dev Checked on purpose: the level total is the sum of its orders' remaining amounts, this one included, so an
    ///      underflow would mean corrupted accounting and must revert.
    function takeOffLevel(PriceLevelList.Level storage lvl, uint256 remaining) internal {
        lvl.total -= uint88(remaining);
    }

    function _payout(Taker memory t, IERC20 token, address from, address to, uint256 amount) private pure {
        if (amount == 0) return;
        t.payouts[t.payoutCount++] = Payout(token, from, to, amount);
    }
}
