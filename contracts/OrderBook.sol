// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOrderBook} from "../interfaces/IOrderBook.sol";
import {IMandatedVenue} from "../interfaces/IMandatedVenue.sol";
import {ITradingMandate} from "../interfaces/ITradingMandate.sol";
import {Side, MARKET_MAX_VALUE} from "../interfaces/MarketTypes.sol";
import {PriceIndex} from "./libraries/PriceIndex.sol";
import {PriceLevelList} from "./libraries/PriceLevelList.sol";
import {OrderMatching} from "./libraries/OrderMatching.sol";

/// @title OrderBook: continuous limit-order book of energy tokens against settlement tokens
/// @notice See IOrderBook for the trading rules. Orders escrow tokens in this contract; every fill settles in the
///         same transaction, at the resting order's price. Storage and matching live in OrderMatching; this contract
///         checks input, numbers traders, moves tokens and answers views.
/// @dev Bounds of 2^40 - 1 (MARKET_MAX_VALUE) on prices, amounts, ids and timestamps make every product fit
///      (price * amount < 2^80). There is no per-owner order list (it would cost a storage write per placement):
///      openOrdersOf pages through the order ids, newest first; owners' order histories at scale come from the
///      indexed `owner` of OrderPlaced.
contract OrderBook is IOrderBook, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using OrderMatching for OrderMatching.Book;

    uint256 private constant MAX_VALUE = MARKET_MAX_VALUE;
    uint256 private constant MAX_FILLS = 100;
    uint256 private constant MAX_HINT_STEPS = 10_000;
    /// @dev Walk steps before the index answers: a step reads one level (2.1k gas), the index at most 11 words.
    uint16 private constant DEFAULT_HINT_STEPS = 8;

    IERC20 private immutable _energy;
    IERC20 private immutable _money;

    uint8 private constant VENUE = 1; // the order book's TradingMandate venue bit

    OrderMatching.Book private _book;
    ITradingMandate private _mandate;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (sets the minimum order size and the hint walk bound).
    /// @param energy_ The energy token (Wh).
    /// @param money_ The settlement token.
    /// @param minAmount_ Minimum order size in Wh.
    constructor(address admin, IERC20 energy_, IERC20 money_, uint256 minAmount_) {
        if (admin == address(0) || address(energy_) == address(0) || address(money_) == address(0)) {
            revert OrderBookZeroAddress();
        }
        if (minAmount_ == 0 || minAmount_ > MAX_VALUE) revert OrderBookInvalidParameter(minAmount_);
        _energy = energy_;
        _money = money_;
        _book.head = OrderMatching.Header(0, 0, 1, uint40(minAmount_), DEFAULT_HINT_STEPS, 0);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ trading
    /// @inheritdoc IOrderBook
    function placeOrder(Side side, uint128 price, uint128 amount, uint64 expiry, uint256 maxFills, uint128 hintPrice)
        external
        nonReentrant
        returns (uint256 orderId)
    {
        return _place(msg.sender, side, price, amount, expiry, maxFills, hintPrice);
    }

    /// @inheritdoc IOrderBook
    function placeOrderFor(
        address owner,
        Side side,
        uint128 price,
        uint128 amount,
        uint64 expiry,
        uint256 maxFills,
        uint128 hintPrice
    ) external nonReentrant returns (uint256 orderId) {
        uint256 escrow = side == Side.Buy ? OrderMatching.cost(price, amount) : 0;
        _mandateOrRevert().authorize(owner, msg.sender, VENUE, side, price, amount, escrow);
        return _place(owner, side, price, amount, expiry, maxFills, hintPrice);
    }

    /// @inheritdoc IOrderBook
    function cancelOrder(uint256 orderId) external nonReentrant {
        _cancel(msg.sender, orderId);
    }

    /// @inheritdoc IOrderBook
    function cancelOrderFor(address owner, uint256 orderId) external nonReentrant {
        _mandateOrRevert().requireAgent(owner, msg.sender, VENUE);
        _cancel(owner, orderId);
    }

    /// @inheritdoc IOrderBook
    function cleanExpired(uint256[] calldata orderIds) external nonReentrant returns (uint256 removed) {
        OrderMatching.Payout[] memory refunds = new OrderMatching.Payout[](orderIds.length);
        for (uint256 i; i < orderIds.length; ++i) {
            uint256 id = orderIds[i];
            OrderMatching.StoredOrder storage o = _book.orders[id];
            if (o.status != Status.Open || !OrderMatching.expired(o.expiry)) continue;
            address owner = _book.ownerOf[o.trader];
            uint256 remaining = _book.remainingOf(id, o);
            (bool buy, uint256 refund) = _book.closeResting(id, o, Status.Expired);
            emit OrderExpired(id, owner, uint128(remaining), uint128(refund));
            refunds[removed++] = OrderMatching.Payout(_escrowToken(buy), address(0), owner, refund);
        }
        for (uint256 i; i < removed; ++i) {
            refunds[i].token.safeTransfer(refunds[i].to, refunds[i].amount);
        }
    }

    // ------------------------------------------------------------------ admin
    /// @inheritdoc IOrderBook
    function setMinAmount(uint128 minAmount_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minAmount_ == 0 || minAmount_ > MAX_VALUE) revert OrderBookInvalidParameter(minAmount_);
        _book.head.minAmount = uint40(minAmount_);
        emit MinAmountSet(minAmount_);
    }

    /// @inheritdoc IMandatedVenue
    function setMandate(address mandate_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (mandate_ == address(0) || address(_mandate) != address(0)) revert VenueMandateFixed(address(_mandate));
        _mandate = ITradingMandate(mandate_);
        emit MandateSet(mandate_);
    }

    /// @inheritdoc IOrderBook
    function setMaxHintSteps(uint256 maxHintSteps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (maxHintSteps_ == 0 || maxHintSteps_ > MAX_HINT_STEPS) revert OrderBookInvalidParameter(maxHintSteps_);
        _book.head.maxHintSteps = uint16(maxHintSteps_);
        emit MaxHintStepsSet(maxHintSteps_);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc IOrderBook
    function bestBid() external view returns (uint128) {
        return _book.head.bestBid;
    }

    /// @inheritdoc IOrderBook
    function bestAsk() external view returns (uint128) {
        return _book.head.bestAsk;
    }

    /// @inheritdoc IOrderBook
    function depth(Side side, uint256 maxLevels) external view returns (PriceLevel[] memory levels) {
        mapping(uint256 => PriceLevelList.Level) storage book = _book.levels(side == Side.Buy);
        uint256 price = side == Side.Buy ? _book.head.bestBid : _book.head.bestAsk;
        levels = new PriceLevel[](maxLevels);
        uint256 n;
        while (n < maxLevels && price != 0) {
            PriceLevelList.Level storage lvl = book[price];
            levels[n++] = PriceLevel(uint128(price), lvl.total);
            price = lvl.worse;
        }
        assembly ("memory-safe") {
            mstore(levels, n) // shorten to the levels found
        }
    }

    /// @inheritdoc IOrderBook
    function levelOrders(Side side, uint128 price, uint256 cursor, uint256 limit)
        external
        view
        returns (uint256[] memory ids, uint256 next)
    {
        next = cursor == 0 ? _book.levels(side == Side.Buy)[price].head : cursor;
        ids = new uint256[](limit);
        uint256 n;
        while (n < limit && next != 0) {
            ids[n++] = next;
            next = _book.orders[next].next;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    /// @inheritdoc IOrderBook
    function order(uint256 orderId) external view returns (Order memory) {
        OrderMatching.StoredOrder storage o = _book.orders[orderId];
        if (o.trader == 0) revert OrderBookUnknownOrder(orderId);
        uint256 remaining = _book.remainingOf(orderId, o);
        return Order(
            orderId,
            _book.ownerOf[o.trader],
            o.side,
            o.price,
            o.amount,
            uint128(remaining),
            uint128(_book.escrowOf(orderId, o, remaining)),
            o.expiry,
            o.status
        );
    }

    /// @inheritdoc IOrderBook
    function openOrdersOf(address owner, uint256 cursor, uint256 maxScan)
        external
        view
        returns (uint256[] memory ids, uint256 next)
    {
        uint256 trader = _book.traderOf[owner];
        ids = new uint256[](maxScan);
        uint256 n;
        if (trader != 0) {
            next = cursor == 0 ? _book.head.nextId - 1 : cursor;
            for (uint256 scanned; scanned < maxScan && next != 0; ++scanned) {
                OrderMatching.StoredOrder storage o = _book.orders[next];
                if (o.trader == trader && o.status == Status.Open) ids[n++] = next;
                --next;
            }
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    /// @inheritdoc IOrderBook
    function findHint(Side side, uint128 price) external view returns (uint128 hintPrice) {
        bool bid = side == Side.Buy;
        uint256 ns = OrderMatching.sideKey(bid);
        return uint128(bid ? PriceIndex.above(_book.index, ns, price) : PriceIndex.below(_book.index, ns, price));
    }

    /// @inheritdoc IMandatedVenue
    function mandate() external view returns (address) {
        return address(_mandate);
    }

    /// @inheritdoc IOrderBook
    function nextOrderId() external view returns (uint256) {
        return _book.head.nextId;
    }

    /// @inheritdoc IOrderBook
    function minAmount() external view returns (uint256) {
        return _book.head.minAmount;
    }

    /// @inheritdoc IOrderBook
    function maxHintSteps() external view returns (uint256) {
        return _book.head.maxHintSteps;
    }

    /// @inheritdoc IOrderBook
    function maxPrice() external pure returns (uint256) {
        return MAX_VALUE;
    }

    /// @inheritdoc IOrderBook
    function maxAmount() external pure returns (uint256) {
        return MAX_VALUE;
    }

    /// @inheritdoc IOrderBook
    function maxExpiry() external pure returns (uint256) {
        return MAX_VALUE;
    }

    /// @inheritdoc IOrderBook
    function maxFillsCap() external pure returns (uint256) {
        return MAX_FILLS;
    }

    /// @inheritdoc IOrderBook
    function energyToken() external view returns (address) {
        return address(_energy);
    }

    /// @inheritdoc IOrderBook
    function settlementToken() external view returns (address) {
        return address(_money);
    }

    // ------------------------------------------------------------------ internals: trading
    /// @dev One placement for `owner` (the caller, or the owner an agent trades for): match, rest the remainder,
    ///      then move the owner's tokens.
    function _place(
        address owner,
        Side side,
        uint128 price,
        uint128 amount,
        uint64 expiry,
        uint256 maxFills,
        uint128 hintPrice
    ) private returns (uint256 orderId) {
        OrderMatching.Header memory h = _book.head;
        _checkOrder(h, price, amount, expiry);
        bool buy = side == Side.Buy;
        uint256 trader = _book.traderOf[owner];
        if (trader == 0) trader = _register(h, owner);

        orderId = h.nextId;
        h.nextId = uint40(orderId + 1); // ids stay below 2^40: one per transaction for 34 000 years at 1 000 tx/s
        emit OrderPlaced(orderId, owner, side, price, amount, expiry);

        uint256 cap = maxFills < MAX_FILLS ? maxFills : MAX_FILLS;
        OrderMatching.Taker memory t = OrderMatching.Taker(
            orderId,
            trader,
            buy,
            price,
            amount,
            cap,
            0,
            0,
            h.minAmount,
            0,
            new OrderMatching.Payout[](3 * cap),
            0,
            0,
            0,
            0,
            _energy,
            _money,
            owner
        );
        t.needed = buy ? OrderMatching.cost(price, amount) : amount;
        _book.matchTaker(h, t);
        Status status = _book.restRemainder(h, t, hintPrice);
        _book.orders[orderId] = OrderMatching.StoredOrder({
            trader: uint32(trader),
            price: uint40(price),
            amount: uint40(amount),
            expiry: uint40(expiry),
            prev: uint40(t.prev),
            next: 0,
            side: side,
            status: status
        });
        // Resting after a partial match: record the fills (remaining = amount - filled; a new buy remainder's escrow
        // is exactly floor(price * remaining / 1000), no dust).
        if (status == Status.Open && t.remaining != amount) _book.fills[orderId].filled = uint40(amount - t.remaining);
        _book.head = h;

        // Interactions, after every state change.
        _execute(t);
        if (t.toTaker != 0) _escrowToken(!buy).safeTransfer(owner, t.toTaker);
        if (t.escrow != 0) _pull(_escrowToken(buy), owner, address(this), t.escrow, t.needed);
    }

    function _cancel(address owner, uint256 orderId) private {
        OrderMatching.StoredOrder storage o = _book.orders[orderId];
        if (o.trader == 0) revert OrderBookUnknownOrder(orderId);
        if (o.trader != _book.traderOf[owner]) revert OrderBookNotOwner(orderId, owner);
        if (o.status != Status.Open) revert OrderBookOrderNotOpen(orderId, o.status);
        uint256 remaining = _book.remainingOf(orderId, o);
        (bool buy, uint256 refund) = _book.closeResting(orderId, o, Status.Cancelled);
        emit OrderCancelled(orderId, owner, uint128(remaining), uint128(refund), CancelReason.Owner);
        _escrowToken(buy).safeTransfer(owner, refund);
    }

    function _mandateOrRevert() private view returns (ITradingMandate m) {
        m = _mandate;
        if (address(m) == address(0)) revert VenueMandateNotSet();
    }

    // ------------------------------------------------------------------ internals: checks
    function _checkOrder(OrderMatching.Header memory h, uint256 price, uint256 amount, uint256 expiry) private view {
        if (amount == 0) revert OrderBookZeroAmount();
        if (price == 0) revert OrderBookZeroPrice();
        if (amount > MAX_VALUE) revert OrderBookAmountTooLarge(amount, MAX_VALUE);
        if (price > MAX_VALUE) revert OrderBookPriceTooHigh(price, MAX_VALUE);
        if (amount < h.minAmount) revert OrderBookAmountBelowMinimum(amount, h.minAmount);
        if (OrderMatching.cost(price, amount) == 0) revert OrderBookZeroCost(price, amount);
        if (expiry > MAX_VALUE) revert OrderBookExpiryTooLarge(expiry, MAX_VALUE);
        if (expiry != 0 && expiry <= block.timestamp) revert OrderBookExpired(expiry, block.timestamp);
    }

    /// @dev Numbers `owner` as a trader on their first order (two fresh slots, once per address).
    function _register(OrderMatching.Header memory h, address owner) private returns (uint256 trader) {
        trader = SafeCast.toUint32(uint256(h.traders) + 1); // 2^32 - 1 traders, then SafeCastOverflowedUintDowncast
        h.traders = uint32(trader);
        _book.traderOf[owner] = uint32(trader);
        _book.ownerOf[trader] = owner;
    }

    /// @dev Moves the order owner's tokens; a failure is reported as a named error against what the order needs at
    ///      its limit (checked only on failure, so a funded order pays for no extra calls).
    function _pull(IERC20 token, address from, address to, uint256 amount, uint256 needed) private {
        try token.transferFrom(from, to, amount) returns (bool ok) {
            if (ok) return;
        } catch {}
        uint256 balance = token.balanceOf(from);
        if (balance < needed) revert OrderBookInsufficientBalance(address(token), from, balance, needed);
        uint256 allowance = token.allowance(from, address(this));
        if (allowance < needed) revert OrderBookInsufficientAllowance(address(token), from, allowance, needed);
        revert OrderBookTransferFailed(address(token), from, amount);
    }

    /// @dev Executes the token movements matching recorded, after every state change.
    function _execute(OrderMatching.Taker memory t) private {
        for (uint256 i; i < t.payoutCount; ++i) {
            OrderMatching.Payout memory p = t.payouts[i];
            if (p.from == address(0)) p.token.safeTransfer(p.to, p.amount);
            else _pull(p.token, p.from, p.to, p.amount, t.needed);
        }
    }

    // ------------------------------------------------------------------ internals: small helpers
    function _escrowToken(bool buy) private view returns (IERC20) {
        return buy ? _money : _energy;
    }
}
