// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOrderBook} from "../interfaces/IOrderBook.sol";
import {PriceLevelList} from "./libraries/PriceLevelList.sol";

/// @title OrderBook: continuous limit-order book of energy tokens against settlement tokens
/// @notice See IOrderBook for the trading rules. Orders escrow tokens in this contract; every fill settles in the
///         same transaction, at the resting order's price.
/// @dev Storage: an order takes one slot (a non-matching placement writes one fresh slot for it), a price level one
///      slot (PriceLevelList), the book's header one slot. Traders are numbered on their first order (two slots,
///      once per address) so that an order holds a 32-bit trader number instead of a 160-bit address.
///      What an order has filled lives in a second slot (`_fills`), written only by fills: placing an order that
///      does not match never writes it, and remaining = amount - filled while the order is open.
///      Bounds of 2^40 - 1 on prices, amounts, ids and timestamps make every product fit (price * amount < 2^80).
///      A buy order's escrow is stored as `dust` (in `_fills`) on top of floor(price * remaining / 1000): each fill
///      pays floor(price * fill / 1000), which can leave up to one unit per fill above that floor; it is refunded
///      when the order closes, so the book's token balance always equals the sum of open escrows.
///      There is no per-owner order list (it would cost a storage write per placement): openOrdersOf pages through
///      the order ids, newest first; owners' order histories at scale come from the indexed `owner` of OrderPlaced.
contract OrderBook is IOrderBook, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using PriceLevelList for mapping(uint256 => PriceLevelList.Level);

    uint256 private constant MAX_VALUE = type(uint40).max;
    uint256 private constant MAX_FILLS = 100;
    uint256 private constant MAX_HINT_STEPS = 10_000;
    uint256 private constant WH_PER_KWH = 1000;

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
        Status status;
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
        uint256 cap;
        uint256 steps;
        uint256 toTaker; // tokens the book owes the taker: energy for a buy, settlement units for a sell
        Payout[] payouts;
        uint256 payoutCount;
        uint256 escrow; // tokens to escrow for the resting remainder
        uint256 prev; // the order before the remainder in its level's queue
        uint256 needed; // what the order may spend at its limit: it never spends more (fills are at or better)
    }

    IERC20 private immutable _energy;
    IERC20 private immutable _money;

    Header private _head;
    mapping(uint256 id => StoredOrder) private _orders;
    mapping(uint256 id => Fills) private _fills;
    mapping(uint256 price => PriceLevelList.Level) private _bids;
    mapping(uint256 price => PriceLevelList.Level) private _asks;
    mapping(address owner => uint32 trader) private _traderOf;
    mapping(uint256 trader => address owner) private _ownerOf;

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
        _head = Header(0, 0, 1, uint40(minAmount_), 64, 0);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ trading
    /// @inheritdoc IOrderBook
    function placeOrder(Side side, uint128 price, uint128 amount, uint64 expiry, uint256 maxFills, uint128 hintPrice)
        external
        nonReentrant
        returns (uint256 orderId)
    {
        Header memory h = _head;
        _checkOrder(h, price, amount, expiry);
        bool buy = side == Side.Buy;
        uint256 trader = _traderOf[msg.sender];
        if (trader == 0) trader = _register(h);

        orderId = h.nextId;
        h.nextId = uint40(orderId + 1); // ids stay below 2^40: one per transaction for 34 000 years at 1 000 tx/s
        emit OrderPlaced(orderId, msg.sender, side, price, amount, expiry);

        uint256 cap = maxFills < MAX_FILLS ? maxFills : MAX_FILLS;
        Taker memory t = Taker(orderId, trader, buy, price, amount, cap, 0, 0, new Payout[](2 * cap), 0, 0, 0, 0);
        t.needed = buy ? _cost(price, amount) : amount;
        _match(h, t);
        Status status = _restRemainder(h, t, hintPrice);
        _orders[orderId] = StoredOrder({
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
        if (status == Status.Open && t.remaining != amount) _fills[orderId].filled = uint40(amount - t.remaining);
        _head = h;

        // Interactions, after every state change.
        _execute(t);
        if (t.toTaker != 0) _escrowToken(!buy).safeTransfer(msg.sender, t.toTaker);
        if (t.escrow != 0) _pull(_escrowToken(buy), address(this), t.escrow, t.needed);
    }

    /// @inheritdoc IOrderBook
    function cancelOrder(uint256 orderId) external nonReentrant {
        StoredOrder storage o = _orders[orderId];
        if (o.trader == 0) revert OrderBookUnknownOrder(orderId);
        if (o.trader != _traderOf[msg.sender]) revert OrderBookNotOwner(orderId, msg.sender);
        if (o.status != Status.Open) revert OrderBookOrderNotOpen(orderId, o.status);
        uint256 remaining = _remainingOf(orderId, o);
        (IERC20 token, uint256 refund) = _closeResting(orderId, o, Status.Cancelled);
        emit OrderCancelled(orderId, msg.sender, uint128(remaining), uint128(refund), CancelReason.Owner);
        token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IOrderBook
    function cleanExpired(uint256[] calldata orderIds) external nonReentrant returns (uint256 removed) {
        Payout[] memory refunds = new Payout[](orderIds.length);
        for (uint256 i; i < orderIds.length; ++i) {
            uint256 id = orderIds[i];
            StoredOrder storage o = _orders[id];
            if (o.status != Status.Open || !_expired(o.expiry)) continue;
            address owner = _ownerOf[o.trader];
            uint256 remaining = _remainingOf(id, o);
            (IERC20 token, uint256 refund) = _closeResting(id, o, Status.Expired);
            emit OrderExpired(id, owner, uint128(remaining), uint128(refund));
            refunds[removed++] = Payout(token, address(0), owner, refund);
        }
        for (uint256 i; i < removed; ++i) {
            refunds[i].token.safeTransfer(refunds[i].to, refunds[i].amount);
        }
    }

    // ------------------------------------------------------------------ admin
    /// @inheritdoc IOrderBook
    function setMinAmount(uint128 minAmount_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minAmount_ == 0 || minAmount_ > MAX_VALUE) revert OrderBookInvalidParameter(minAmount_);
        _head.minAmount = uint40(minAmount_);
        emit MinAmountSet(minAmount_);
    }

    /// @inheritdoc IOrderBook
    function setMaxHintSteps(uint256 maxHintSteps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (maxHintSteps_ == 0 || maxHintSteps_ > MAX_HINT_STEPS) revert OrderBookInvalidParameter(maxHintSteps_);
        _head.maxHintSteps = uint16(maxHintSteps_);
        emit MaxHintStepsSet(maxHintSteps_);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc IOrderBook
    function bestBid() external view returns (uint128) {
        return _head.bestBid;
    }

    /// @inheritdoc IOrderBook
    function bestAsk() external view returns (uint128) {
        return _head.bestAsk;
    }

    /// @inheritdoc IOrderBook
    function depth(Side side, uint256 maxLevels) external view returns (PriceLevel[] memory levels) {
        mapping(uint256 => PriceLevelList.Level) storage book = _levels(side == Side.Buy);
        uint256 price = side == Side.Buy ? _head.bestBid : _head.bestAsk;
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
        next = cursor == 0 ? _levels(side == Side.Buy)[price].head : cursor;
        ids = new uint256[](limit);
        uint256 n;
        while (n < limit && next != 0) {
            ids[n++] = next;
            next = _orders[next].next;
        }
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    /// @inheritdoc IOrderBook
    function order(uint256 orderId) external view returns (Order memory) {
        StoredOrder storage o = _orders[orderId];
        if (o.trader == 0) revert OrderBookUnknownOrder(orderId);
        uint256 remaining = _remainingOf(orderId, o);
        return Order(
            orderId,
            _ownerOf[o.trader],
            o.side,
            o.price,
            o.amount,
            uint128(remaining),
            uint128(_escrowOf(orderId, o, remaining)),
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
        uint256 trader = _traderOf[owner];
        ids = new uint256[](maxScan);
        uint256 n;
        if (trader != 0) {
            next = cursor == 0 ? _head.nextId - 1 : cursor;
            for (uint256 scanned; scanned < maxScan && next != 0; ++scanned) {
                StoredOrder storage o = _orders[next];
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
        mapping(uint256 => PriceLevelList.Level) storage book = _levels(bid);
        uint256 cur = bid ? _head.bestBid : _head.bestAsk;
        while (cur != 0 && PriceLevelList.isBetter(bid, cur, price)) {
            hintPrice = uint128(cur);
            cur = book[cur].worse;
        }
    }

    /// @inheritdoc IOrderBook
    function nextOrderId() external view returns (uint256) {
        return _head.nextId;
    }

    /// @inheritdoc IOrderBook
    function minAmount() external view returns (uint256) {
        return _head.minAmount;
    }

    /// @inheritdoc IOrderBook
    function maxHintSteps() external view returns (uint256) {
        return _head.maxHintSteps;
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

    // ------------------------------------------------------------------ internals: checks
    function _checkOrder(Header memory h, uint256 price, uint256 amount, uint256 expiry) private view {
        if (amount == 0) revert OrderBookZeroAmount();
        if (price == 0) revert OrderBookZeroPrice();
        if (amount > MAX_VALUE) revert OrderBookAmountTooLarge(amount, MAX_VALUE);
        if (price > MAX_VALUE) revert OrderBookPriceTooHigh(price, MAX_VALUE);
        if (amount < h.minAmount) revert OrderBookAmountBelowMinimum(amount, h.minAmount);
        if (_cost(price, amount) == 0) revert OrderBookZeroCost(price, amount);
        if (expiry > MAX_VALUE) revert OrderBookExpiryTooLarge(expiry, MAX_VALUE);
        if (expiry != 0 && expiry <= block.timestamp) revert OrderBookExpired(expiry, block.timestamp);
    }

    /// @dev Numbers the caller as a trader on their first order (two fresh slots, once per address).
    function _register(Header memory h) private returns (uint256 trader) {
        trader = SafeCast.toUint32(uint256(h.traders) + 1); // 2^32 - 1 traders, then SafeCastOverflowedUintDowncast
        h.traders = uint32(trader);
        _traderOf[msg.sender] = uint32(trader);
        _ownerOf[trader] = msg.sender;
    }

    /// @dev Moves the caller's tokens; a failure is reported as a named error against what the order needs at its
    ///      limit (checked only on failure, so a funded order pays for no extra calls).
    function _pull(IERC20 token, address to, uint256 amount, uint256 needed) private {
        try token.transferFrom(msg.sender, to, amount) returns (bool ok) {
            if (ok) return;
        } catch {}
        uint256 balance = token.balanceOf(msg.sender);
        if (balance < needed) revert OrderBookInsufficientBalance(address(token), msg.sender, balance, needed);
        uint256 allowance = token.allowance(msg.sender, address(this));
        if (allowance < needed) revert OrderBookInsufficientAllowance(address(token), msg.sender, allowance, needed);
        revert OrderBookTransferFailed(address(token), msg.sender, amount);
    }

    // ------------------------------------------------------------------ internals: matching
    /// @dev Visits at most `t.cap` resting orders of the opposite side, best first, while they cross `t.price`.
    function _match(Header memory h, Taker memory t) private {
        mapping(uint256 => PriceLevelList.Level) storage book = _levels(!t.buy);
        while (t.remaining != 0 && t.steps < t.cap && _crosses(h, t.buy, t.price)) {
            uint256 best = t.buy ? h.bestAsk : h.bestBid;
            PriceLevelList.Level storage lvl = book[best];
            uint256 makerId = lvl.head;
            StoredOrder storage m = _orders[makerId];
            ++t.steps;
            bool removed;
            if (_expired(m.expiry)) {
                uint256 remaining = _remainingOf(makerId, m);
                _takeOffLevel(lvl, remaining);
                uint256 refund = _escrowOf(makerId, m, remaining);
                address owner = _ownerOf[m.trader];
                emit OrderExpired(makerId, owner, uint128(remaining), uint128(refund));
                _payout(t, _escrowToken(!t.buy), address(0), owner, refund);
                _popHead(lvl, m, Status.Expired);
                removed = true;
            } else if (m.trader == t.trader) {
                // Self-trade: the incoming order cancels the caller's own resting order.
                uint256 remaining = _remainingOf(makerId, m);
                _takeOffLevel(lvl, remaining);
                uint256 refund = _escrowOf(makerId, m, remaining);
                emit OrderCancelled(makerId, msg.sender, uint128(remaining), uint128(refund), CancelReason.SelfTrade);
                t.toTaker += refund;
                _popHead(lvl, m, Status.Cancelled);
                removed = true;
            } else {
                removed = _fill(t, lvl, m, makerId, best);
            }
            if (removed && lvl.head == 0) {
                (, uint256 worse) = book.remove(best);
                if (t.buy) h.bestAsk = uint40(worse);
                else h.bestBid = uint40(worse);
            }
        }
    }

    /// @dev One fill at the maker's price; returns true when the maker order is complete (and left the queue).
    function _fill(Taker memory t, PriceLevelList.Level storage lvl, StoredOrder storage m, uint256 makerId, uint256 q)
        private
        returns (bool complete)
    {
        Fills memory fl = _fills[makerId];
        uint256 makerRemaining = m.amount - fl.filled;
        uint256 f = t.remaining < makerRemaining ? t.remaining : makerRemaining;
        uint256 cost = _cost(q, f);
        address maker = _ownerOf[m.trader];
        unchecked {
            // f <= both remainders.
            t.remaining -= f;
            makerRemaining -= f;
        }
        _takeOffLevel(lvl, f);
        if (t.buy) {
            // The maker sells: the taker pays the maker, the book releases the maker's escrowed energy.
            t.toTaker += f;
            _payout(t, _money, msg.sender, maker, cost);
        } else {
            // The maker buys: the taker delivers energy to the maker, the book pays the taker from the maker's escrow.
            t.toTaker += cost;
            _payout(t, _energy, msg.sender, maker, f);
            _releaseBuyEscrow(t, fl, maker, q, makerRemaining, f, cost);
        }
        emit OrderFilled(makerId, t.id, maker, msg.sender, t.buy ? Side.Buy : Side.Sell, uint128(q), uint128(f), uint128(cost));
        if (makerRemaining == 0) {
            _popHead(lvl, m, Status.Filled); // `_fills` stays as it was: only read while the order is open
            return true;
        }
        fl.filled += uint40(f); // <= amount < 2^40
        _fills[makerId] = fl;
    }

    /// @dev A buy maker paid `cost` for `f` Wh and has `left` Wh unfilled: the rounding dust above
    ///      floor(q * left / 1000) stays escrowed (in `fl`), or goes back to the buyer once nothing is left.
    function _releaseBuyEscrow(
        Taker memory t,
        Fills memory fl,
        address maker,
        uint256 q,
        uint256 left,
        uint256 f,
        uint256 cost
    ) private view {
        // Escrow before the fill >= floor(q * (left + f) / 1000) >= cost + floor(q * left / 1000): floors are
        // superadditive, so neither subtraction underflows.
        uint256 escrow = _cost(q, left + f) + fl.dust - cost;
        if (left == 0) _payout(t, _money, address(0), maker, escrow);
        else fl.dust = uint40(escrow - _cost(q, left)); // < number of fills <= amount < 2^40
    }

    /// @dev Removes the head order of a level from its queue and closes it; the caller has taken its remaining amount
    ///      off the level total. The new head's `prev` goes stale (never read for a head).
    function _popHead(PriceLevelList.Level storage lvl, StoredOrder storage m, Status status) private {
        uint40 next = m.next;
        lvl.head = next;
        if (next == 0) lvl.tail = 0;
        m.status = status;
    }

    /// @dev Decides what becomes of the unfilled remainder: nothing left (Filled), the cap stopped a sweep that still
    ///      crosses (Cancelled: resting it would cross the book), or it rests at the tail of its level (Open).
    function _restRemainder(Header memory h, Taker memory t, uint256 hint) private returns (Status) {
        if (t.remaining == 0) return Status.Filled;
        if (_crosses(h, t.buy, t.price)) {
            emit OrderCancelled(t.id, msg.sender, uint128(t.remaining), 0, CancelReason.CapReached);
            return Status.Cancelled;
        }
        t.escrow = t.buy ? _cost(t.price, t.remaining) : t.remaining;
        mapping(uint256 => PriceLevelList.Level) storage book = _levels(t.buy);
        PriceLevelList.Level storage lvl = book[t.price];
        if (lvl.head != 0) {
            t.prev = lvl.tail;
            _orders[t.prev].next = uint40(t.id);
            lvl.tail = uint40(t.id);
            lvl.total += uint88(t.remaining); // < 2^40 orders of < 2^40 Wh each
            return Status.Open;
        }
        (uint256 better, uint256 worse) =
            book.findPosition(t.buy, t.buy ? h.bestBid : h.bestAsk, t.price, hint, h.maxHintSteps);
        if (book.insert(t.price, better, worse, t.id, t.remaining)) {
            if (t.buy) h.bestBid = uint40(t.price);
            else h.bestAsk = uint40(t.price);
        }
        return Status.Open;
    }

    /// @dev Closes an open resting order outside matching (cancel, clean): unlinks it and zeroes its escrow.
    function _closeResting(uint256 id, StoredOrder storage o, Status status)
        private
        returns (IERC20 token, uint256 refund)
    {
        bool buy = o.side == Side.Buy;
        token = _escrowToken(buy);
        uint256 remaining = _remainingOf(id, o);
        refund = _escrowOf(id, o, remaining);
        mapping(uint256 => PriceLevelList.Level) storage book = _levels(buy);
        uint256 price = o.price;
        PriceLevelList.Level storage lvl = book[price];
        uint40 next = o.next;
        _takeOffLevel(lvl, remaining);
        if (lvl.head == id) {
            _popHead(lvl, o, status);
        } else {
            uint40 prev = o.prev; // exact: the order is not its level's head
            _orders[prev].next = next;
            if (next != 0) _orders[next].prev = prev;
            else lvl.tail = prev;
            o.status = status;
        }
        if (lvl.head == 0) {
            (bool wasBest, uint256 worse) = book.remove(price);
            if (wasBest) {
                if (buy) _head.bestBid = uint40(worse);
                else _head.bestAsk = uint40(worse);
            }
        }
    }

    /// @dev Checked on purpose: the level total is the sum of its orders' remaining amounts, this one included, so an
    ///      underflow would mean corrupted accounting and must revert.
    function _takeOffLevel(PriceLevelList.Level storage lvl, uint256 remaining) private {
        lvl.total -= uint88(remaining);
    }

    function _execute(Taker memory t) private {
        for (uint256 i; i < t.payoutCount; ++i) {
            Payout memory p = t.payouts[i];
            if (p.from == address(0)) p.token.safeTransfer(p.to, p.amount);
            else _pull(p.token, p.to, p.amount, t.needed);
        }
    }

    function _payout(Taker memory t, IERC20 token, address from, address to, uint256 amount) private pure {
        if (amount == 0) return;
        t.payouts[t.payoutCount++] = Payout(token, from, to, amount);
    }

    // ------------------------------------------------------------------ internals: small helpers
    function _crosses(Header memory h, bool buy, uint256 price) private pure returns (bool) {
        uint256 best = buy ? h.bestAsk : h.bestBid;
        return best != 0 && (buy ? best <= price : best >= price);
    }

    function _expired(uint256 expiry) private view returns (bool) {
        return expiry != 0 && expiry <= block.timestamp;
    }

    /// @dev Unfilled Wh of an order: 0 once closed.
    function _remainingOf(uint256 id, StoredOrder storage o) private view returns (uint256) {
        return o.status == Status.Open ? o.amount - _fills[id].filled : 0;
    }

    /// @dev Tokens the book holds for an order with `remaining` unfilled Wh (0 once closed: remaining is 0 then).
    function _escrowOf(uint256 id, StoredOrder storage o, uint256 remaining) private view returns (uint256) {
        if (remaining == 0) return 0;
        return o.side == Side.Buy ? _cost(o.price, remaining) + _fills[id].dust : remaining;
    }

    function _escrowToken(bool buy) private view returns (IERC20) {
        return buy ? _money : _energy;
    }

    function _levels(bool buy) private view returns (mapping(uint256 => PriceLevelList.Level) storage) {
        return buy ? _bids : _asks;
    }

    /// @dev Settlement units for `amount` Wh at `price` per kWh, floored (price, amount < 2^40: no overflow).
    function _cost(uint256 price, uint256 amount) private pure returns (uint256) {
        return (price * amount) / WH_PER_KWH;
    }
}
