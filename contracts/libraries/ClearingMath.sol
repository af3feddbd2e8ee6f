// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Side, MARKET_MAX_VALUE} from "../../interfaces/MarketTypes.sol";

/// @title ClearingMath: prices and costs of the double auction (mirrored by energy_chain/clearing.py)
/// @notice Prices are settlement units per kWh, amounts Wh; cost = price * Wh / 1000.
library ClearingMath {
    /// @notice Largest accepted price and amount, the order book's bound (2^40 - 1): products fit in 80 bits.
    uint128 internal constant MAX_VALUE = uint128(MARKET_MAX_VALUE);

    /// @notice The price an order is matched at: bids capped at the retail price, asks raised to the feed-in tariff.
    /// @param side Bid or ask.
    /// @param limitPrice The owner's limit.
    /// @param retailPrice The round's retail price.
    /// @param feedInTariff The round's feed-in tariff.
    /// @return The effective price.
    function effectivePrice(Side side, uint128 limitPrice, uint128 retailPrice, uint128 feedInTariff)
        internal
        pure
        returns (uint128)
    {
        if (side == Side.Buy) return limitPrice > retailPrice ? retailPrice : limitPrice;
        return limitPrice < feedInTariff ? feedInTariff : limitPrice;
    }

    /// @notice What a buyer pays (and escrows): rounded up so the contract never owes more than it received.
    /// @param price Settlement units per kWh (<= MAX_VALUE).
    /// @param amountWh Wh (<= MAX_VALUE).
    /// @return ceil(price * amountWh / 1000).
    function costRoundedUp(uint128 price, uint128 amountWh) internal pure returns (uint128) {
        // Cannot overflow: both factors are below 2^40, so the product is below 2^80.
        return uint128((uint256(price) * amountWh + 999) / 1000);
    }

    /// @notice What a seller receives: rounded down (the project's cost convention).
    /// @param price Settlement units per kWh (<= MAX_VALUE).
    /// @param amountWh Wh (<= MAX_VALUE).
    /// @return floor(price * amountWh / 1000).
    function costRoundedDown(uint128 price, uint128 amountWh) internal pure returns (uint128) {
        return uint128((uint256(price) * amountWh) / 1000);
    }

    /// @notice The uniform clearing price: midpoint of the marginal bid and ask, rounded down.
    /// @param bidPrice Marginal bid's effective price.
    /// @param askPrice Marginal ask's effective price (<= bidPrice).
    /// @return floor((bidPrice + askPrice) / 2), which lies in [askPrice, bidPrice].
    function midpoint(uint128 bidPrice, uint128 askPrice) internal pure returns (uint128) {
        return uint128((uint256(bidPrice) + askPrice) / 2);
    }
}
