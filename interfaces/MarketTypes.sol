// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Side of an order, the same in both venues (IOrderBook and IDoubleAuction): Buy (a bid: escrows and pays
///         settlement tokens, receives energy) or Sell (an ask: escrows and delivers energy, receives settlement
///         tokens). ABI value 0 = Buy, 1 = Sell (energy_chain.side.Side).
enum Side {
    Buy,
    Sell
}

/// @dev Largest price (settlement units per kWh), amount (Wh) and timestamp either venue accepts: 2^40 - 1. A product
///      of two such values fits in 80 bits, and the order book packs them in 40-bit fields. Both venues expose it as
///      `maxPrice()` and `maxAmount()`.
uint256 constant MARKET_MAX_VALUE = type(uint40).max;
