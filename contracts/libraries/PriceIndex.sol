// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title PriceIndex: which prices are in use, found in a bounded number of reads without any caller hint
/// @notice A 128-ary tree of bit words over 42-bit prices (the markets' prices are < 2^40): a word at level 0 holds one
///         bit per price of a block of 128 prices, a word at level k one bit per non-empty word of level k - 1. The
///         nearest used price above or below any price is found in at most 2 x DEPTH - 1 word reads, however many prices
///         are in use and however they were placed, so an order's position never depends on how stale a hint is.
/// @dev Several independent sets share one mapping through a namespace `ns` (< 2^128): e.g. one per side, or one per
///      auction round and side. Bit 255 of a word marks it as used: once written a word never returns to zero, so
///      later writes rewrite a non-zero slot (about 5k gas) instead of creating one (22k).
library PriceIndex {
    /// @notice Bits of the price each level resolves (128 children per word).
    uint256 private constant BITS = 7;
    /// @notice Levels: 6 x 7 = 42 bits, enough for every price below 2^42.
    uint256 private constant DEPTH = 6;
    /// @notice The low 128 bits of a word: one per child.
    uint256 private constant CHILDREN = (1 << 128) - 1;
    /// @notice The "written before" mark.
    uint256 private constant USED = 1 << 255;

    /// @notice Marks `price` (not yet in the set) as used.
    /// @param words The mapping holding the sets.
    /// @param ns The set.
    /// @param price The price (< 2^42).
    function add(mapping(uint256 => uint256) storage words, uint256 ns, uint256 price) internal {
        for (uint256 level; level < DEPTH; ++level) {
            uint256 key = _key(ns, level, price >> (BITS * (level + 1)));
            uint256 word = words[key];
            words[key] = word | USED | (1 << ((price >> (BITS * level)) & 127));
            if (word & CHILDREN != 0) return; // the levels above already mark this word as non-empty
        }
    }

    /// @notice Marks `price` (in the set) as no longer used.
    /// @param words The mapping holding the sets.
    /// @param ns The set.
    /// @param price The price.
    function remove(mapping(uint256 => uint256) storage words, uint256 ns, uint256 price) internal {
        for (uint256 level; level < DEPTH; ++level) {
            uint256 key = _key(ns, level, price >> (BITS * (level + 1)));
            uint256 word = words[key] & ~(1 << ((price >> (BITS * level)) & 127));
            words[key] = word;
            if (word & CHILDREN != 0) return; // the word still has other children: the levels above stay as they are
        }
    }

    /// @notice The highest used price strictly below `price`, or 0 when there is none.
    /// @param words The mapping holding the sets.
    /// @param ns The set.
    /// @param price The price searched from.
    /// @return The nearest lower price in the set (0: none).
    function below(mapping(uint256 => uint256) storage words, uint256 ns, uint256 price)
        internal
        view
        returns (uint256)
    {
        for (uint256 level; level < DEPTH; ++level) {
            uint256 prefix = price >> (BITS * level);
            uint256 bit = prefix & 127;
            uint256 lower = words[_key(ns, level, prefix >> BITS)] & ((1 << bit) - 1);
            if (lower != 0) return _descend(words, ns, level, (prefix & ~uint256(127)) | _highest(lower), true);
        }
        return 0;
    }

    /// @notice The lowest used price strictly above `price`, or 0 when there is none.
    /// @param words The mapping holding the sets.
    /// @param ns The set.
    /// @param price The price searched from.
    /// @return The nearest higher price in the set (0: none).
    function above(mapping(uint256 => uint256) storage words, uint256 ns, uint256 price)
        internal
        view
        returns (uint256)
    {
        for (uint256 level; level < DEPTH; ++level) {
            uint256 prefix = price >> (BITS * level);
            uint256 bit = prefix & 127;
            // Children above `bit` (bit <= 127, so 2 << bit cannot overflow).
            uint256 higher = words[_key(ns, level, prefix >> BITS)] & CHILDREN & ~((2 << bit) - 1);
            if (higher != 0) return _descend(words, ns, level, (prefix & ~uint256(127)) | _lowest(higher), false);
        }
        return 0;
    }

    /// @dev From the child `prefix` found at `level`, follows the highest (`highest`) or lowest child down to level 0.
    function _descend(mapping(uint256 => uint256) storage words, uint256 ns, uint256 level, uint256 prefix, bool highest)
        private
        view
        returns (uint256)
    {
        while (level != 0) {
            --level;
            uint256 children = words[_key(ns, level, prefix)] & CHILDREN; // non-empty: its parent's bit is set
            prefix = (prefix << BITS) | (highest ? _highest(children) : _lowest(children));
        }
        return prefix;
    }

    /// @dev Index of the lowest set bit of a non-zero word below 2^128.
    function _lowest(uint256 word) private pure returns (uint256) {
        return _highest(word & (~word + 1)); // word != 0, so ~word + 1 does not overflow; isolates the lowest bit
    }

    /// @dev Index of the highest set bit of a non-zero word below 2^128 (binary search, 7 steps).
    function _highest(uint256 word) private pure returns (uint256 bit) {
        if (word >> 64 != 0) (word, bit) = (word >> 64, bit + 64);
        if (word >> 32 != 0) (word, bit) = (word >> 32, bit + 32);
        if (word >> 16 != 0) (word, bit) = (word >> 16, bit + 16);
        if (word >> 8 != 0) (word, bit) = (word >> 8, bit + 8);
        if (word >> 4 != 0) (word, bit) = (word >> 4, bit + 4);
        if (word >> 2 != 0) (word, bit) = (word >> 2, bit + 2);
        if (word >> 1 != 0) bit += 1;
    }

    /// @dev Storage key of the word at `level` that covers the prices starting `prefix` (price >> 7 * (level + 1)).
    function _key(uint256 ns, uint256 level, uint256 prefix) private pure returns (uint256) {
        return (ns << 128) | (level << 64) | prefix;
    }
}
