// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDoubleAuction} from "../../interfaces/IDoubleAuction.sol";
import {Side} from "../../interfaces/MarketTypes.sol";

/// @title AuctionBook: one side of a round's book as a sorted doubly linked list with hinted insertion
/// @notice Matching order: bids by price descending, asks by price ascending, equal prices by order id ascending.
///         Insertion starts at a caller-supplied neighbour (computed off chain) and walks at most MAX_HINT_WALK
///         positions, so a hint made stale by concurrent submitters still works and gas stays bounded.
library AuctionBook {
    /// @notice Most positions a stale hint is corrected by.
    uint256 internal constant MAX_HINT_WALK = 64;

    /// @notice Whether order A comes before order B in matching order on `side`.
    /// @param side Bid or ask.
    /// @param priceA Effective price of A.
    /// @param idA Id of A.
    /// @param priceB Effective price of B.
    /// @param idB Id of B.
    /// @return True when A is matched first.
    function precedes(Side side, uint128 priceA, uint64 idA, uint128 priceB, uint64 idB)
        internal
        pure
        returns (bool)
    {
        if (priceA == priceB) return idA < idB;
        return side == Side.Buy ? priceA > priceB : priceA < priceB;
    }

    /// @notice Inserts order `id` (side, price and amount already set) into its side of round `r`'s book at the place
    ///         `hint` leads to, counts it and emits OrderBooked.
    /// @param orders All orders.
    /// @param r The order's round.
    /// @param o The order.
    /// @param id Its id.
    /// @param limitPrice The owner's limit (for the event).
    /// @param hint See `locate`.
    function insert(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        IDoubleAuction.Order storage o,
        uint64 id,
        uint128 limitPrice,
        uint64 hint
    ) internal {
        bool isBid = o.side == Side.Buy;
        (uint64 prev, uint64 next) = locate(orders, isBid ? r.bidHead : r.askHead, o.roundId, o.side, o.price, id, hint);
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
        if (isBid) {
            ++r.bidCount;
            r.totalBidWh += amountWh;
        } else {
            ++r.askCount;
            r.totalAskWh += amountWh;
        }
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

    /// @notice Finds where order `id` (price `price`) goes: between `prev` and `next` (0 = list end).
    /// @param orders All orders.
    /// @param head First order of the list.
    /// @param roundId The round of the list.
    /// @param side The side of the list.
    /// @param price Effective price of the new order.
    /// @param id Id of the new order.
    /// @param hint A booked order of the same list expected just before the new one (0 = start at the head).
    /// @return prev The order after which to insert (0 = new head).
    /// @return next The order before which to insert (0 = new tail).
    function locate(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        uint64 head,
        uint64 roundId,
        Side side,
        uint128 price,
        uint64 id,
        uint64 hint
    ) internal view returns (uint64 prev, uint64 next) {
        if (hint == 0) {
            next = head;
        } else {
            IDoubleAuction.Order storage h = orders[hint];
            if (h.roundId != roundId || h.side != side || h.state != IDoubleAuction.OrderState.Booked) {
                revert IDoubleAuction.DoubleAuctionInvalidHint(hint);
            }
            prev = hint;
            next = h.next;
        }
        uint256 steps;
        // Walk back while the hint should come after the new order ...
        while (prev != 0 && !precedes(side, orders[prev].price, prev, price, id)) {
            next = prev;
            prev = orders[prev].prev;
            if (++steps > MAX_HINT_WALK) revert IDoubleAuction.DoubleAuctionHintTooFar(hint, MAX_HINT_WALK);
        }
        // ... or forward while the next order should come before it (at most one of the two loops moves).
        while (next != 0 && precedes(side, orders[next].price, next, price, id)) {
            prev = next;
            next = orders[next].next;
            if (++steps > MAX_HINT_WALK) revert IDoubleAuction.DoubleAuctionHintTooFar(hint, MAX_HINT_WALK);
        }
    }
}
