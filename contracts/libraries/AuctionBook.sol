// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDoubleAuction} from "../../interfaces/IDoubleAuction.sol";
import {Side} from "../../interfaces/MarketTypes.sol";
import {PriceIndex} from "./PriceIndex.sol";

/// @title AuctionBook: one side of a round's book as a sorted doubly linked list, placed exactly without trusting hints
/// @notice Matching order: bids by price descending, asks by price ascending, equal prices by booking order (earlier
///         booked first: submission in open rounds, which is id order; reveal in sealed rounds). So a new order always
///         goes to the tail of its price group: right after the last order booked at its price (a tail pointer per
///         round, side and price) or, at a price not yet booked, right after the tail of the nearest better price in
///         use, found in a PriceIndex of the round's prices in a bounded number of reads. The caller's hint is only a
///         gas saving for a new price: walked at most MAX_HINT_WALK positions, then the index answers instead. No
///         order booked in between, however many, can make a submission or reveal fail.
library AuctionBook {
    /// @notice Most positions a hint is walked before the price index finds the place instead.
    uint256 internal constant MAX_HINT_WALK = 4;

    /// @notice Where new orders go: the prices in use per round and side and the last order booked at each.
    /// @param words PriceIndex sets, namespace (roundId << 1) | side.
    /// @param tails Last booked order per side and effective price (key (side << 64) | price) as (roundId << 64) | id:
    ///        an entry of an earlier round reads as none, and is rewritten (5k gas) rather than created (22k).
    struct Index {
        mapping(uint256 => uint256) words;
        mapping(uint256 => uint256) tails;
    }

    /// @notice Whether order A comes before order B in matching order on `side`.
    /// @param side Bid or ask.
    /// @param priceA Effective price of A.
    /// @param rankA Booking rank of A (`rankOf`).
    /// @param priceB Effective price of B.
    /// @param rankB Booking rank of B.
    /// @return True when A is matched first.
    function precedes(Side side, uint128 priceA, uint64 rankA, uint128 priceB, uint64 rankB)
        internal
        pure
        returns (bool)
    {
        if (priceA == priceB) return rankA < rankB;
        return side == Side.Buy ? priceA > priceB : priceA < priceB;
    }

    /// @notice An order's booking rank among its round's side: its id in open rounds (ids follow submission), its
    ///         place among the side's reveals (`bookSeq`) in sealed rounds.
    /// @param r The order's round.
    /// @param o The order (Booked).
    /// @param id Its id.
    /// @return The rank (lower = booked earlier).
    function rankOf(IDoubleAuction.Round storage r, IDoubleAuction.Order storage o, uint64 id)
        internal
        view
        returns (uint64)
    {
        return r.sealedBids ? o.bookSeq : id;
    }

    /// @notice Books order `id` (side, price and amount already set) at the tail of its price group in its side of
    ///         round `r`'s book, counts it and emits OrderBooked.
    /// @param orders All orders.
    /// @param index The auction's price index and tail pointers.
    /// @param r The order's round.
    /// @param o The order.
    /// @param id Its id.
    /// @param limitPrice The owner's limit (for the event).
    /// @param hint A booked order expected just before the new one (0 = the head); any value is safe.
    function insert(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        Index storage index,
        IDoubleAuction.Round storage r,
        IDoubleAuction.Order storage o,
        uint64 id,
        uint128 limitPrice,
        uint64 hint
    ) internal {
        bool isBid = o.side == Side.Buy;
        (uint64 prev, uint64 next) = _place(orders, index, isBid ? r.bidHead : r.askHead, o, id, hint);
        o.prev = prev;
        o.next = next;
        o.state = IDoubleAuction.OrderState.Booked;
        if (prev == 0) {
            if (isBid) r.bidHead = id;
            else r.askHead = id;
        } else {
            orders[prev].next = id;
        }
        if (next != 0) orders[next].prev = id;
        uint128 amountWh = o.amountWh;
        uint64 seq;
        if (isBid) {
            seq = ++r.bidCount;
            r.totalBidWh += amountWh;
        } else {
            seq = ++r.askCount;
            r.totalAskWh += amountWh;
        }
        if (r.sealedBids) o.bookSeq = seq; // the reveal's rank; open rounds rank by id and skip this write
        emit IDoubleAuction.OrderBooked(o.roundId, id, o.owner, o.side, limitPrice, o.price, amountWh);
    }

    /// @notice A page of one side of round `r`'s book in matching order (IDoubleAuction.bookPage).
    /// @param orders All orders.
    /// @param r The round.
    /// @param side Buy (bids) or Sell (asks).
    /// @param startAfter Start after this order (0 = from the head).
    /// @param limit Most orders returned.
    /// @return ids Order ids.
    /// @return prices Effective prices.
    /// @return amounts Amounts, Wh.
    function page(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        Side side,
        uint64 startAfter,
        uint256 limit
    ) internal view returns (uint64[] memory ids, uint128[] memory prices, uint128[] memory amounts) {
        uint64 id = startAfter == 0 ? (side == Side.Buy ? r.bidHead : r.askHead) : orders[startAfter].next;
        uint256 count = side == Side.Buy ? r.bidCount : r.askCount;
        if (limit < count) count = limit;
        ids = new uint64[](count);
        prices = new uint128[](count);
        amounts = new uint128[](count);
        uint256 n;
        while (id != 0 && n < count) {
            IDoubleAuction.Order storage o = orders[id];
            (ids[n], prices[n], amounts[n]) = (id, o.price, o.amountWh);
            id = o.next;
            ++n;
        }
        // Shrink to what was found (a page near the tail is shorter than `count`).
        assembly ("memory-safe") {
            mstore(ids, n)
            mstore(prices, n)
            mstore(amounts, n)
        }
    }

    /// @dev The new order's neighbours (0 = list end): after the last order at its price, else (a new price, then
    ///      entered in the index) `_locateNewPrice`. Makes order `id` its price's last order.
    function _place(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        Index storage index,
        uint64 head,
        IDoubleAuction.Order storage o,
        uint64 id,
        uint64 hint
    ) private returns (uint64 prev, uint64 next) {
        uint128 price = o.price;
        uint256 ns = (uint256(o.roundId) << 1) | uint8(o.side);
        prev = _tail(index, o.roundId, o.side, price);
        if (prev != 0) {
            next = orders[prev].next; // the price is booked already: after its last order
        } else {
            (prev, next) = _locateNewPrice(orders, index, head, ns, o, price, hint);
            PriceIndex.add(index.words, ns, price);
        }
        index.tails[(uint256(uint8(o.side)) << 64) | price] = (uint256(o.roundId) << 64) | id;
    }

    /// @dev The last order booked at `price` on `side` of round `roundId` (0 = none yet).
    function _tail(Index storage index, uint64 roundId, Side side, uint256 price) private view returns (uint64) {
        uint256 entry = index.tails[(uint256(uint8(side)) << 64) | price];
        return entry >> 64 == roundId ? uint64(entry) : 0;
    }

    /// @dev Where an order at `price`, a price no order of its side and round has yet, goes: between `prev` and
    ///      `next` (0 = list end), i.e. after the tail of the nearest better price. Tries the hint first (at most
    ///      MAX_HINT_WALK steps; a hint that is no booked order of the same round and side is ignored), then asks the
    ///      price index, which always answers.
    function _locateNewPrice(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        Index storage index,
        uint64 head,
        uint256 ns,
        IDoubleAuction.Order storage o,
        uint128 price,
        uint64 hint
    ) private view returns (uint64 prev, uint64 next) {
        Side side = o.side;
        bool found;
        (found, prev, next) = _walkFromHint(orders, head, o.roundId, side, price, hint);
        if (found) return (prev, next);
        uint256 better =
            side == Side.Buy ? PriceIndex.above(index.words, ns, price) : PriceIndex.below(index.words, ns, price);
        if (better == 0) return (0, head); // no better price: the new head (prices are >= 1, so 0 means none)
        prev = _tail(index, o.roundId, side, better);
        next = orders[prev].next;
    }

    /// @dev The gas-saving fast path: from the hint (0 = the head), walks at most MAX_HINT_WALK positions to where
    ///      every order before is strictly better than `price` and every order after strictly worse.
    function _walkFromHint(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        uint64 head,
        uint64 roundId,
        Side side,
        uint128 price,
        uint64 hint
    ) private view returns (bool found, uint64 prev, uint64 next) {
        if (hint == 0) {
            next = head;
        } else {
            IDoubleAuction.Order storage h = orders[hint];
            if (h.roundId != roundId || h.side != side || h.state != IDoubleAuction.OrderState.Booked) {
                return (false, 0, 0);
            }
            prev = hint;
            next = h.next;
        }
        uint256 steps;
        // Walk back while the order before is not better than the new one ...
        while (prev != 0 && !_better(side, orders[prev].price, price)) {
            if (++steps > MAX_HINT_WALK) return (false, 0, 0);
            next = prev;
            prev = orders[prev].prev;
        }
        // ... or forward while the next one is (at most one of the two loops moves).
        while (next != 0 && _better(side, orders[next].price, price)) {
            if (++steps > MAX_HINT_WALK) return (false, 0, 0);
            prev = next;
            next = orders[next].next;
        }
        return (true, prev, next);
    }

    /// @dev Whether effective price `a` is matched strictly before `b` on `side`.
    function _better(Side side, uint128 a, uint128 b) private pure returns (bool) {
        return side == Side.Buy ? a > b : a < b;
    }
}
