// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {PriceIndex} from "./PriceIndex.sol";

/// @title PriceLevelList: one side of the order book as a sorted, doubly linked list of price levels
/// @notice Levels are keyed by price and linked from the best price to the worst (bids: highest first; asks: lowest
///         first). Each level also holds the head and tail of its FIFO queue of orders (linked through the orders
///         themselves) and the sum of their remaining amounts. Nothing here ever walks the whole list: a new level is
///         linked next to a caller's hint, walking at most `maxSteps` levels from it; when the hint is further off than
///         that (stale: levels landed since it was read, or a wall of levels placed on purpose), its neighbours come from
///         the side's PriceIndex in a bounded number of reads instead. Every level is in the index, so no book a
///         placement can meet makes it fail.
library PriceLevelList {
    /// @notice One price level, packed in one storage slot.
    /// @param head First order in time priority (0: the level is not in the list).
    /// @param tail Last order in time priority.
    /// @param better Next better price on this side (0: this level is the best).
    /// @param worse Next worse price on this side (0: this level is the worst).
    /// @param total Sum of the remaining Wh of the level's orders (≤ 2^40 orders × 2^40 Wh < 2^88).
    /// @param used Set once the slot was used, so that a level re-created at the same price rewrites a non-zero slot
    ///        (5k gas instead of 22k).
    struct Level {
        uint40 head;
        uint40 tail;
        uint40 better;
        uint40 worse;
        uint88 total;
        uint8 used;
    }

    /// @notice Whether price `a` is better than price `b` on the bid (`bid`) or ask side.
    /// @param bid True for the bid side (higher is better), false for asks (lower is better).
    /// @param a A price.
    /// @param b Another price.
    /// @return True when `a` is strictly better.
    function isBetter(bool bid, uint256 a, uint256 b) internal pure returns (bool) {
        return bid ? a > b : a < b;
    }

    /// @notice Finds where a new level at `price` (not in the list) belongs, starting from `hint`.
    /// @dev A hint that is not a level (0, or a level that emptied since) starts from the best level. A hint worse
    ///      than `price` (stale: levels changed since it was computed) walks towards better prices first. After
    ///      `maxSteps` steps the walk gives up and the index answers (at most 11 word reads): the result is exact for
    ///      every hint.
    /// @param levels The side's levels.
    /// @param index The price index of both sides (PriceIndex, namespace `ns`).
    /// @param ns This side's namespace in `index`.
    /// @param bid True for the bid side.
    /// @param best The side's best price (0: empty side).
    /// @param price The new level's price.
    /// @param hint A level at or better than `price`, or 0.
    /// @param maxSteps Most levels to walk before the index is asked.
    /// @return prev The nearest level better than `price` (0: `price` becomes the best).
    /// @return next The nearest level worse than `price` (0: `price` becomes the worst).
    function findPosition(
        mapping(uint256 => Level) storage levels,
        mapping(uint256 => uint256) storage index,
        uint256 ns,
        bool bid,
        uint256 best,
        uint256 price,
        uint256 hint,
        uint256 maxSteps
    ) internal view returns (uint256 prev, uint256 next) {
        uint256 steps;
        if (hint != 0 && levels[hint].head != 0) {
            prev = hint;
            while (prev != 0 && !isBetter(bid, prev, price)) {
                if (++steps > maxSteps) return fromIndex(levels, index, ns, bid, best, price);
                prev = levels[prev].better;
            }
        }
        next = prev == 0 ? best : levels[prev].worse;
        while (next != 0 && isBetter(bid, next, price)) {
            if (++steps > maxSteps) return fromIndex(levels, index, ns, bid, best, price);
            prev = next;
            next = levels[next].worse;
        }
    }

    /// @notice Where a new level at `price` (not in the list) belongs, from the index alone (no hint, no walk).
    /// @param levels The side's levels.
    /// @param index The price index (PriceIndex).
    /// @param ns This side's namespace in `index`.
    /// @param bid True for the bid side.
    /// @param best The side's best price (0: empty side).
    /// @param price The new level's price.
    /// @return prev The nearest level better than `price` (0: none).
    /// @return next The nearest level worse than `price` (0: none).
    function fromIndex(
        mapping(uint256 => Level) storage levels,
        mapping(uint256 => uint256) storage index,
        uint256 ns,
        bool bid,
        uint256 best,
        uint256 price
    ) internal view returns (uint256 prev, uint256 next) {
        // Better is higher for bids, lower for asks.
        prev = bid ? PriceIndex.above(index, ns, price) : PriceIndex.below(index, ns, price);
        next = prev == 0 ? best : levels[prev].worse;
    }

    /// @notice Links a new level between `prev` and `next` holding the single order `orderId`, and indexes it.
    /// @param levels The side's levels.
    /// @param index The price index (PriceIndex).
    /// @param ns This side's namespace in `index`.
    /// @param price The new level's price.
    /// @param prev Nearest better level (0: none), from findPosition.
    /// @param next Nearest worse level (0: none), from findPosition.
    /// @param orderId The level's first order.
    /// @param amount That order's remaining Wh.
    /// @return becameBest True when the new level is the side's best.
    function insert(
        mapping(uint256 => Level) storage levels,
        mapping(uint256 => uint256) storage index,
        uint256 ns,
        uint256 price,
        uint256 prev,
        uint256 next,
        uint256 orderId,
        uint256 amount
    ) internal returns (bool becameBest) {
        // Casts are safe: prices and ids are bounded by 2^40 - 1 where they enter the book, amount by 2^40 - 1.
        levels[price] = Level(uint40(orderId), uint40(orderId), uint40(prev), uint40(next), uint88(amount), 1);
        if (prev != 0) levels[prev].worse = uint40(price);
        if (next != 0) levels[next].better = uint40(price);
        PriceIndex.add(index, ns, price);
        return prev == 0;
    }

    /// @notice Unlinks the (now empty) level at `price` and takes it out of the index.
    /// @param levels The side's levels.
    /// @param index The price index (PriceIndex).
    /// @param ns This side's namespace in `index`.
    /// @param price The level's price.
    /// @return wasBest True when it was the side's best level.
    /// @return worse The next worse price: the side's new best when `wasBest`.
    function remove(
        mapping(uint256 => Level) storage levels,
        mapping(uint256 => uint256) storage index,
        uint256 ns,
        uint256 price
    ) internal returns (bool wasBest, uint256 worse) {
        Level storage lvl = levels[price];
        uint256 better = lvl.better;
        worse = lvl.worse;
        if (better != 0) levels[better].worse = uint40(worse);
        if (worse != 0) levels[worse].better = uint40(better);
        levels[price] = Level(0, 0, 0, 0, 0, 1);
        PriceIndex.remove(index, ns, price);
        return (better == 0, worse);
    }
}
