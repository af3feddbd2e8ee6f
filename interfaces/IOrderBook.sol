// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Side} from "./MarketTypes.sol";
import {IMandatedVenue} from "./IMandatedVenue.sol";

/// @title Continuous limit-order book for energy
/// @notice Prosumers sell energy tokens (Wh) and consumers buy them with settlement tokens (mgMYR units) at limit
///         prices. An incoming order matches at once against the best opposite orders at the resting order's price
///         (price-time priority), partially or fully; what is left rests in the book; owners cancel and get their
///         escrow back.
/// @dev Units: `amount` in Wh (energy token base units); `price` in settlement units per kWh;
///      cost of a fill = price * amount / 1000, floored. Sell orders escrow energy tokens (the remaining amount);
///      buy orders escrow settlement tokens (`escrow`, refunded in full, rounding dust included, when the order closes).
///      Tokens move with transferFrom: approve the order book once on both tokens.
///
///      Matching walks the best opposite price levels; at most `maxFills` resting orders are visited per call
///      (fills, expired orders removed and self-trades cancelled all count). The unfilled remainder rests in the book
///      when it no longer crosses it; when the cap stops a sweep while the remainder would still cross, the remainder
///      is cancelled (reason CapReached, nothing was escrowed for it) so that the book never crosses.
///      Self-trade: an incoming order that meets a resting order of the same owner cancels that resting order
///      (refunding its escrow, reason SelfTrade) and continues matching.
interface IOrderBook is IMandatedVenue {
    /// @notice Life-cycle state of an order.
    enum Status {
        None,
        Open,
        Filled,
        Cancelled,
        Expired
    }

    /// @notice Why an order was cancelled.
    enum CancelReason {
        Owner,
        SelfTrade,
        CapReached,
        Dust
    }

    /// @notice An order as `order(id)` returns it.
    /// @param id Order id (1, 2, ... in placement order).
    /// @param owner Who placed it.
    /// @param side Buy or Sell.
    /// @param price Limit price, settlement units per kWh.
    /// @param amount Original size in Wh.
    /// @param remaining Unfilled Wh (0 once closed).
    /// @param escrow Tokens the book still holds for it: Wh for a sell, settlement units for a buy.
    /// @param expiry Unix time from which it can no longer fill (0: never expires).
    /// @param status Open, Filled, Cancelled or Expired.
    struct Order {
        uint256 id;
        address owner;
        Side side;
        uint128 price;
        uint128 amount;
        uint128 remaining;
        uint128 escrow;
        uint64 expiry;
        Status status;
    }

    /// @notice One aggregated price level of `depth`.
    /// @param price Level price, settlement units per kWh.
    /// @param amount Sum of the remaining Wh of the level's open orders.
    struct PriceLevel {
        uint128 price;
        uint128 amount;
    }

    // ------------------------------------------------------------------ errors
    /// @notice Thrown when an order amount is zero.
    error OrderBookZeroAmount();
    /// @notice Thrown when an order price is zero.
    error OrderBookZeroPrice();
    /// @notice Thrown when an order is smaller than the minimum order size (dust).
    /// @param amount The amount asked for, Wh.
    /// @param minAmount The minimum, Wh.
    error OrderBookAmountBelowMinimum(uint256 amount, uint256 minAmount);
    /// @notice Thrown when an amount exceeds the largest amount the book can hold without overflow.
    /// @param amount The amount asked for, Wh.
    /// @param maxAmount The maximum, Wh.
    error OrderBookAmountTooLarge(uint256 amount, uint256 maxAmount);
    /// @notice Thrown when a price exceeds the largest price the book can hold without overflow.
    /// @param price The price asked for.
    /// @param maxPrice The maximum.
    error OrderBookPriceTooHigh(uint256 price, uint256 maxPrice);
    /// @notice Thrown when price * amount / 1000 is zero: the order would trade energy for nothing.
    /// @param price The price.
    /// @param amount The amount.
    error OrderBookZeroCost(uint256 price, uint256 amount);
    /// @notice Thrown when an order's expiry is not in the future.
    /// @param expiry The expiry asked for.
    /// @param timestamp The current block time.
    error OrderBookExpired(uint256 expiry, uint256 timestamp);
    /// @notice Thrown when an expiry is beyond the largest timestamp the book stores.
    /// @param expiry The expiry asked for.
    /// @param maxExpiry The maximum.
    error OrderBookExpiryTooLarge(uint256 expiry, uint256 maxExpiry);
    /// @notice Thrown when an order id does not exist.
    /// @param orderId The id.
    error OrderBookUnknownOrder(uint256 orderId);
    /// @notice Thrown when an order must be open but is not.
    /// @param orderId The id.
    /// @param status Its status.
    error OrderBookOrderNotOpen(uint256 orderId, Status status);
    /// @notice Thrown when someone other than the owner cancels an order.
    /// @param orderId The id.
    /// @param caller Who tried.
    error OrderBookNotOwner(uint256 orderId, address caller);
    /// @notice Thrown when the caller's token balance cannot cover the order's escrow or cost.
    /// @param token The token.
    /// @param account The caller.
    /// @param balance Its balance.
    /// @param needed What the order needs at its limit price.
    error OrderBookInsufficientBalance(address token, address account, uint256 balance, uint256 needed);
    /// @notice Thrown when the caller's allowance to the book cannot cover the order's escrow or cost.
    /// @param token The token.
    /// @param account The caller.
    /// @param allowance Its allowance to the book.
    /// @param needed What the order needs at its limit price.
    error OrderBookInsufficientAllowance(address token, address account, uint256 allowance, uint256 needed);
    /// @notice Thrown when a token transfer from the caller fails although balance and allowance cover the order.
    /// @param token The token.
    /// @param account The caller.
    /// @param amount The amount that failed to move.
    error OrderBookTransferFailed(address token, address account, uint256 amount);
    /// @notice Thrown when an address parameter is zero.
    error OrderBookZeroAddress();
    /// @notice Thrown when an admin parameter is out of range.
    /// @param value The value given.
    error OrderBookInvalidParameter(uint256 value);

    // ------------------------------------------------------------------ events
    /// @notice Emitted when an order is accepted (before it matches).
    /// @param id The new order id.
    /// @param owner Who placed it.
    /// @param side Buy or Sell.
    /// @param price Limit price, settlement units per kWh.
    /// @param amount Size, Wh.
    /// @param expiry Expiry time (0: none).
    event OrderPlaced(
        uint256 indexed id, address indexed owner, Side side, uint128 price, uint128 amount, uint64 expiry
    );

    /// @notice Emitted for every fill, at the resting (maker) order's price.
    /// @param makerId The resting order.
    /// @param takerId The incoming order.
    /// @param maker Owner of the resting order.
    /// @param taker Owner of the incoming order.
    /// @param takerSide Side of the incoming order.
    /// @param price Fill price (the maker's limit), settlement units per kWh.
    /// @param amount Wh traded.
    /// @param cost Settlement units paid by the buyer to the seller: price * amount / 1000, floored.
    event OrderFilled(
        uint256 indexed makerId,
        uint256 indexed takerId,
        address indexed maker,
        address taker,
        Side takerSide,
        uint128 price,
        uint128 amount,
        uint128 cost
    );

    /// @notice Emitted when an order is cancelled; its escrow is refunded.
    /// @param id The order.
    /// @param owner Its owner.
    /// @param remaining Wh that were left unfilled.
    /// @param refund Tokens returned (Wh for a sell, settlement units for a buy).
    /// @param reason Owner, SelfTrade or CapReached.
    event OrderCancelled(
        uint256 indexed id, address indexed owner, uint128 remaining, uint128 refund, CancelReason reason
    );

    /// @notice Emitted when an expired order is removed (met during matching or cleaned); its escrow is refunded.
    /// @param id The order.
    /// @param owner Its owner.
    /// @param remaining Wh that were left unfilled.
    /// @param refund Tokens returned (Wh for a sell, settlement units for a buy).
    event OrderExpired(uint256 indexed id, address indexed owner, uint128 remaining, uint128 refund);

    /// @notice Emitted when the admin changes the minimum order size.
    /// @param minAmount The new minimum, Wh.
    event MinAmountSet(uint256 minAmount);

    /// @notice Emitted when the admin changes the bound of the hint walk.
    /// @param maxHintSteps The new bound.
    event MaxHintStepsSet(uint256 maxHintSteps);

    // ------------------------------------------------------------------ trading
    /// @notice Places a limit order: matches at once against the best opposite orders, then rests what is left.
    /// @param side Buy (escrows settlement tokens) or Sell (escrows energy tokens).
    /// @param price Limit price, settlement units per kWh, 1..maxPrice().
    /// @param amount Size in Wh, minAmount()..maxAmount().
    /// @param expiry Unix time from which the order can no longer fill; 0 for none.
    /// @param maxFills Most resting orders to visit while matching (capped at MAX_FILLS); 0 never matches.
    /// @param hintPrice An existing price level on the order's side better than `price` (e.g. from findHint), used
    ///        only when a new level must be linked, to save gas: 0 walks from the best level, and a hint more than
    ///        maxHintSteps() levels off (stale, or any value at all) is replaced by the book's price index. No hint
    ///        makes a placement fail.
    /// @return orderId The new order's id (also when it filled completely).
    function placeOrder(Side side, uint128 price, uint128 amount, uint64 expiry, uint256 maxFills, uint128 hintPrice)
        external
        returns (uint256 orderId);

    /// @notice Cancels an open order of the caller and refunds its escrow.
    /// @param orderId The order.
    function cancelOrder(uint256 orderId) external;

    /// @notice The caller (an agent) places an order for `owner`, within the owner's TradingMandate: the order is the
    ///         owner's (escrow and proceeds move from and to the owner, who approved the book as for its own
    ///         orders). A sell needs price >= minSellPrice and leaves the owner's energy balance >= reserveWh; a buy
    ///         needs price <= maxBuyPrice and counts price * amount / 1000 (its escrow at the limit, floored as the
    ///         book does) against the owner's daily spending cap. A later refund of the buy's remainder does not
    ///         give the day's allowance back. Reverts with the mandate's Mandate* errors, or VenueMandateNotSet.
    /// @param owner The household the agent trades for.
    /// @param side As placeOrder.
    /// @param price As placeOrder.
    /// @param amount As placeOrder.
    /// @param expiry As placeOrder.
    /// @param maxFills As placeOrder.
    /// @param hintPrice As placeOrder.
    /// @return orderId The new order's id.
    function placeOrderFor(
        address owner,
        Side side,
        uint128 price,
        uint128 amount,
        uint64 expiry,
        uint256 maxFills,
        uint128 hintPrice
    ) external returns (uint256 orderId);

    /// @notice The caller (the owner's mandated agent, with the order-book venue) cancels an open order of `owner`;
    ///         the escrow goes back to the owner.
    /// @param owner The household.
    /// @param orderId The order.
    function cancelOrderFor(address owner, uint256 orderId) external;

    /// @notice Removes the expired open orders among `orderIds` and refunds their owners. Anyone may call;
    ///         ids that are not open and expired are skipped.
    /// @param orderIds Candidate ids (the caller bounds the work).
    /// @return removed How many orders were removed.
    function cleanExpired(uint256[] calldata orderIds) external returns (uint256 removed);

    // ------------------------------------------------------------------ admin
    /// @notice Sets the minimum order size. Admin only.
    /// @param minAmount New minimum in Wh, 1..maxAmount().
    function setMinAmount(uint128 minAmount) external;

    /// @notice Sets how many levels the hint walk takes before the price index finds the position instead (a gas
    ///         trade-off: neither way fails). Admin only.
    /// @param maxHintSteps New bound, 1..10 000.
    function setMaxHintSteps(uint256 maxHintSteps) external;

    // ------------------------------------------------------------------ views
    /// @notice Best (highest) bid price; 0 when there are no bids.
    /// @return price The price.
    function bestBid() external view returns (uint128 price);

    /// @notice Best (lowest) ask price; 0 when there are no asks.
    /// @return price The price.
    function bestAsk() external view returns (uint128 price);

    /// @notice The best `maxLevels` price levels of one side, best first, amounts aggregated.
    /// @param side Buy (bids) or Sell (asks).
    /// @param maxLevels Most levels to return.
    /// @return levels The levels.
    function depth(Side side, uint256 maxLevels) external view returns (PriceLevel[] memory levels);

    /// @notice The open orders of one price level in time priority, a page at a time.
    /// @param side Buy or Sell.
    /// @param price The level's price.
    /// @param cursor 0 to start at the level's first order, else the `next` of the previous page.
    /// @param limit Most ids to return.
    /// @return ids The order ids.
    /// @return next Cursor of the next page (0 when done).
    function levelOrders(Side side, uint128 price, uint256 cursor, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 next);

    /// @notice An order by id (closed orders included).
    /// @param orderId The id.
    /// @return The order.
    function order(uint256 orderId) external view returns (Order memory);

    /// @notice An owner's open orders, newest first, looking at most at `maxScan` order ids (of every owner) per page.
    ///         The book keeps no per-owner list (that would cost a storage write per placement): a page walks the ids
    ///         down from `cursor`. For an owner's history at scale, filter `OrderPlaced` by its indexed `owner`.
    /// @param owner The owner.
    /// @param cursor 0 to start at the newest order id, else the `next` of the previous page.
    /// @param maxScan Most order ids (any owner, open or closed) to look at.
    /// @return ids Open order ids found.
    /// @return next Cursor of the next page: the next id to look at (0 when done).
    function openOrdersOf(address owner, uint256 cursor, uint256 maxScan)
        external
        view
        returns (uint256[] memory ids, uint256 next);

    /// @notice The hint to pass to placeOrder for a new level at `price`: the nearest existing level on `side` at
    ///         better than `price` (0 when `price` would be the best), from the price index (bounded reads).
    /// @param side Buy or Sell.
    /// @param price The price of the order to place.
    /// @return hintPrice The hint.
    function findHint(Side side, uint128 price) external view returns (uint128 hintPrice);

    /// @notice Id the next order will get (ids start at 1).
    /// @return The id.
    function nextOrderId() external view returns (uint256);

    /// @notice Minimum order size, Wh.
    /// @return The minimum.
    function minAmount() external view returns (uint256);

    /// @notice Levels the hint walk takes before the price index is asked.
    /// @return The bound.
    function maxHintSteps() external view returns (uint256);

    /// @notice Largest price the book accepts (so that price * amount never overflows its storage).
    /// @return The maximum, settlement units per kWh.
    function maxPrice() external pure returns (uint256);

    /// @notice Largest amount the book accepts.
    /// @return The maximum, Wh.
    function maxAmount() external pure returns (uint256);

    /// @notice Largest expiry timestamp the book accepts.
    /// @return The maximum, unix time.
    function maxExpiry() external pure returns (uint256);

    /// @notice Most resting orders one placement visits; larger maxFills values are capped to this.
    /// @return The cap.
    function maxFillsCap() external pure returns (uint256);

    /// @notice The energy token (Wh) the book trades.
    /// @return The token address.
    function energyToken() external view returns (address);

    /// @notice The settlement token (mgMYR) the book settles in.
    /// @return The token address.
    function settlementToken() external view returns (address);
}
