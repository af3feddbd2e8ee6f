// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDoubleAuction} from "../interfaces/IDoubleAuction.sol";
import {AuctionBook} from "./libraries/AuctionBook.sol";
import {ClearingMath} from "./libraries/ClearingMath.sol";
import {AuctionClearing} from "./libraries/AuctionClearing.sol";
import {Side} from "../interfaces/MarketTypes.sol";

/// @title DoubleAuction: periodic call market with a uniform clearing price, bounded gas per transaction
/// @notice See IDoubleAuction for the clearing rule. Gas per transaction is bounded: submission walks at most
///         MAX_HINT_WALK positions, `clearRound` at most `maxSteps` matches, `claim` is O(1) per order (the fill
///         follows from the order's rank against the marginal order), so no transaction touches every participant.
contract DoubleAuction is IDoubleAuction, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role of the microgrid operator: sets the grid tariffs.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    uint256 private constant MAX_CLAIM_BATCH = 100;
    /// @dev Minimum order size of a new deployment, Wh (admin may change it): a sliver order costs at least this.
    uint40 private constant DEFAULT_MIN_AMOUNT_WH = 100;
    uint128 private constant MAX_VALUE = ClearingMath.MAX_VALUE;

    /// @dev Energy token (1 unit = 1 Wh), escrowed by sellers and delivered to buyers.
    IERC20 private immutable _energy;
    /// @dev Settlement token (mgMYR), escrowed by buyers and paid to sellers.
    IERC20 private immutable _money;
    /// @dev Receives the forfeited part of unrevealed commitments (the operator's community fund).
    address private immutable _forfeitRecipient;

    mapping(uint64 roundId => Round) private _rounds;
    mapping(uint64 orderId => Order) private _orders;
    uint64 private _nextOrderId = 1;
    uint64 private _intervalSeconds = 900;
    uint64 private _revealSeconds = 300;
    bool private _sealedBids;
    uint40 private _minAmountWh = DEFAULT_MIN_AMOUNT_WH;
    uint128 private _retailPrice;
    uint128 private _feedInTariff;
    /// @dev Sides an owner has booked in a round (bit 0: Buy, bit 1: Sell): an owner never trades with itself.
    mapping(uint64 roundId => mapping(address owner => uint8 sides)) private _sidesOf;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (schedule, roles).
    /// @param operator Holder of OPERATOR_ROLE (grid tariffs).
    /// @param energy The EnergyToken.
    /// @param money The SettlementToken.
    /// @param retailPrice Initial grid retail price, units per kWh.
    /// @param feedInTariff Initial grid feed-in tariff, units per kWh.
    constructor(
        address admin,
        address operator,
        IERC20 energy,
        IERC20 money,
        uint128 retailPrice,
        uint128 feedInTariff
    ) {
        if (address(energy) == address(0) || address(money) == address(0)) revert DoubleAuctionZeroAddress();
        _energy = energy;
        _money = money;
        _forfeitRecipient = operator;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
        _setGridTariffs(retailPrice, feedInTariff);
    }

    // ------------------------------------------------------------------ trading
    /// @inheritdoc IDoubleAuction
    function submitOrder(uint64 roundId, Side side, uint128 limitPrice, uint128 amountWh, uint64 hintPrevId)
        external
        nonReentrant
        returns (uint64 orderId)
    {
        Round storage r = _roundForOrders(roundId, false);
        uint128 price = _checkOrder(r, roundId, side, limitPrice, amountWh);
        orderId = _newOrderId();
        Order storage o = _orders[orderId];
        o.owner = msg.sender;
        o.roundId = roundId;
        o.side = side;
        o.price = price;
        o.amountWh = amountWh;
        uint128 deposit;
        if (side == Side.Buy) {
            deposit = ClearingMath.costRoundedUp(price, amountWh);
            o.moneyDeposit = deposit;
        } else {
            deposit = amountWh;
            o.energyDeposit = deposit;
        }
        AuctionBook.insert(_orders, r, o, orderId, limitPrice, hintPrevId);
        (side == Side.Buy ? _money : _energy).safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IDoubleAuction
    function commitOrder(uint64 roundId, bytes32 commitment, uint128 moneyDeposit, uint128 energyDeposit)
        external
        nonReentrant
        returns (uint64 orderId)
    {
        _roundForOrders(roundId, true);
        if (commitment == bytes32(0) || (moneyDeposit == 0 && energyDeposit == 0)) {
            revert DoubleAuctionEmptyCommitment();
        }
        orderId = _newOrderId();
        Order storage o = _orders[orderId];
        o.owner = msg.sender;
        o.roundId = roundId;
        o.state = OrderState.Committed;
        o.moneyDeposit = moneyDeposit;
        o.energyDeposit = energyDeposit;
        o.commitment = commitment;
        emit OrderCommitted(roundId, orderId, msg.sender, commitment, moneyDeposit, energyDeposit);
        if (moneyDeposit != 0) _money.safeTransferFrom(msg.sender, address(this), moneyDeposit);
        if (energyDeposit != 0) _energy.safeTransferFrom(msg.sender, address(this), energyDeposit);
    }

    /// @inheritdoc IDoubleAuction
    function revealOrder(
        uint64 orderId,
        Side side,
        uint128 limitPrice,
        uint128 amountWh,
        bytes32 salt,
        uint64 hintPrevId
    ) external nonReentrant {
        Order storage o = _orders[orderId];
        if (o.state != OrderState.Committed) revert DoubleAuctionNotCommitted(orderId);
        if (o.owner != msg.sender) revert DoubleAuctionNotOwner(orderId, msg.sender);
        Round storage r = _rounds[o.roundId];
        {
            Phase phase = _phaseOf(o.roundId);
            if (phase != Phase.Reveal) revert DoubleAuctionWrongPhase(o.roundId, phase);
        }
        if (_commitmentHash(side, limitPrice, amountWh, salt, msg.sender) != o.commitment) {
            revert DoubleAuctionCommitmentMismatch(orderId);
        }
        uint128 price = _checkOrder(r, o.roundId, side, limitPrice, amountWh);
        _checkDeposit(o, orderId, side, price, amountWh);
        (o.side, o.price, o.amountWh) = (side, price, amountWh);
        AuctionBook.insert(_orders, r, o, orderId, limitPrice, hintPrevId);
    }

    /// @inheritdoc IDoubleAuction
    function closeRound(uint64 roundId) external {
        Round storage r = _existingRound(roundId);
        Phase phase = _phaseOf(roundId);
        if (phase == Phase.Open || phase == Phase.Reveal) revert DoubleAuctionWindowNotOver(roundId, r.revealEnd);
        if (phase != Phase.Ended) revert DoubleAuctionWrongPhase(roundId, phase);
        r.phase = Phase.Closed;
        emit RoundClosed(roundId, r.bidCount, r.askCount);
    }

    /// @inheritdoc IDoubleAuction
    function clearRound(uint64 roundId, uint256 maxSteps) external returns (bool done) {
        if (maxSteps == 0) revert DoubleAuctionZeroSteps();
        Round storage r = _existingRound(roundId);
        if (r.phase == Phase.Closed) {
            r.phase = Phase.Clearing;
            r.cursorBid = r.bidHead;
            r.cursorAsk = r.askHead;
        } else if (r.phase != Phase.Clearing) {
            revert DoubleAuctionWrongPhase(roundId, _phaseOf(roundId));
        }
        uint256 steps;
        (done, steps) = AuctionClearing.advance(_orders, r, maxSteps);
        if (!done) {
            emit RoundClearingProgressed(roundId, steps, r.volumeWh);
            return false;
        }
        AuctionClearing.finish(_orders, r, roundId);
    }

    /// @inheritdoc IDoubleAuction
    function claim(uint64 orderId) external nonReentrant returns (Settlement memory s) {
        return _claim(orderId);
    }

    /// @inheritdoc IDoubleAuction
    function claimMany(uint64[] calldata orderIds) external nonReentrant {
        uint256 n = orderIds.length;
        if (n == 0 || n > MAX_CLAIM_BATCH) revert DoubleAuctionInvalidBatchLength(n);
        for (uint256 i; i < n; ++i) {
            // Already claimed (e.g. by its owner just before): skipped, so one claim cannot revert the batch.
            if (_orders[orderIds[i]].state == OrderState.Claimed) continue;
            _claim(orderIds[i]);
        }
    }

    // ------------------------------------------------------------------ administration
    /// @inheritdoc IDoubleAuction
    function setGridTariffs(uint128 retailPrice, uint128 feedInTariff) external onlyRole(OPERATOR_ROLE) {
        _setGridTariffs(retailPrice, feedInTariff);
    }

    /// @inheritdoc IDoubleAuction
    function setMinAmount(uint128 minAmountWh) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minAmountWh == 0 || minAmountWh > MAX_VALUE) revert DoubleAuctionInvalidMinAmount(minAmountWh);
        _minAmountWh = uint40(minAmountWh);
        emit MinAmountSet(minAmountWh);
    }

    /// @inheritdoc IDoubleAuction
    function setSchedule(uint64 intervalSeconds, uint64 revealSeconds, bool sealedBids)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (intervalSeconds == 0 || intervalSeconds > 1 days || revealSeconds == 0 || revealSeconds > 1 days) {
            revert DoubleAuctionInvalidSchedule(intervalSeconds, revealSeconds);
        }
        (_intervalSeconds, _revealSeconds, _sealedBids) = (intervalSeconds, revealSeconds, sealedBids);
        emit ScheduleSet(intervalSeconds, revealSeconds, sealedBids);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc IDoubleAuction
    function currentRoundId() public view returns (uint64) {
        return uint64(block.timestamp - (block.timestamp % _intervalSeconds));
    }

    /// @inheritdoc IDoubleAuction
    function phaseOf(uint64 roundId) external view returns (Phase) {
        return _phaseOf(roundId);
    }

    /// @inheritdoc IDoubleAuction
    function getRound(uint64 roundId) external view returns (Round memory) {
        return _rounds[roundId];
    }

    /// @inheritdoc IDoubleAuction
    function getOrder(uint64 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IDoubleAuction
    function settlementOf(uint64 orderId) external view returns (Settlement memory) {
        Order storage o = _orders[orderId];
        if (o.state == OrderState.None) revert DoubleAuctionUnknownOrder(orderId);
        return _settlement(o, orderId);
    }

    /// @inheritdoc IDoubleAuction
    function bookPage(uint64 roundId, Side side, uint64 startAfter, uint256 limit)
        external
        view
        returns (uint64[] memory ids, uint128[] memory prices, uint128[] memory amounts)
    {
        return AuctionBook.page(_orders, _rounds[roundId], side, startAfter, limit);
    }

    /// @inheritdoc IDoubleAuction
    function commitmentHash(Side side, uint128 limitPrice, uint128 amountWh, bytes32 salt, address owner)
        external
        pure
        returns (bytes32)
    {
        return _commitmentHash(side, limitPrice, amountWh, salt, owner);
    }

    /// @inheritdoc IDoubleAuction
    function gridTariffs() external view returns (uint128 retailPrice, uint128 feedInTariff) {
        return (_retailPrice, _feedInTariff);
    }

    /// @inheritdoc IDoubleAuction
    function schedule() external view returns (uint64 intervalSeconds, uint64 revealSeconds, bool sealedBids) {
        return (_intervalSeconds, _revealSeconds, _sealedBids);
    }

    /// @inheritdoc IDoubleAuction
    function nextOrderId() external view returns (uint64) {
        return _nextOrderId;
    }

    /// @inheritdoc IDoubleAuction
    function minAmount() external view returns (uint256) {
        return _minAmountWh;
    }

    /// @inheritdoc IDoubleAuction
    function maxPrice() external pure returns (uint256) {
        return MAX_VALUE;
    }

    /// @inheritdoc IDoubleAuction
    function maxAmount() external pure returns (uint256) {
        return MAX_VALUE;
    }

    /// @inheritdoc IDoubleAuction
    function maxHintSteps() external pure returns (uint256) {
        return AuctionBook.MAX_HINT_WALK;
    }

    /// @inheritdoc IDoubleAuction
    function maxClaimBatch() external pure returns (uint256) {
        return MAX_CLAIM_BATCH;
    }

    /// @inheritdoc IDoubleAuction
    function forfeitRecipient() external view returns (address) {
        return _forfeitRecipient;
    }

    /// @inheritdoc IDoubleAuction
    function energyToken() external view returns (address) {
        return address(_energy);
    }

    /// @inheritdoc IDoubleAuction
    function settlementToken() external view returns (address) {
        return address(_money);
    }

    // ------------------------------------------------------------------ internals
    /// @dev The round `roundId` ready to take orders of the given mode: opens it on its first order.
    function _roundForOrders(uint64 roundId, bool sealedOrder) private returns (Round storage r) {
        r = _rounds[roundId];
        uint64 current = currentRoundId();
        if (roundId != current) {
            if (r.phase != Phase.None) revert DoubleAuctionWrongPhase(roundId, _phaseOf(roundId));
            revert DoubleAuctionNotCurrentRound(roundId, current);
        }
        if (r.phase == Phase.None) {
            bool sealedBids = _sealedBids;
            r.start = roundId;
            r.end = roundId + _intervalSeconds;
            r.revealEnd = sealedBids ? r.end + _revealSeconds : r.end;
            r.sealedBids = sealedBids;
            r.phase = Phase.Open;
            r.retailPrice = _retailPrice;
            r.feedInTariff = _feedInTariff;
            emit RoundOpened(roundId, r.end, r.revealEnd, sealedBids, _retailPrice, _feedInTariff);
        }
        Phase phase = _phaseOf(roundId);
        // Open can fail here only after a schedule change made an older round's id current again.
        if (phase != Phase.Open) revert DoubleAuctionWrongPhase(roundId, phase);
        if (r.sealedBids != sealedOrder) revert DoubleAuctionWrongMode(roundId, r.sealedBids);
    }

    function _existingRound(uint64 roundId) private view returns (Round storage r) {
        r = _rounds[roundId];
        if (r.phase == Phase.None) revert DoubleAuctionUnknownRound(roundId);
    }

    function _phaseOf(uint64 roundId) private view returns (Phase) {
        Round storage r = _rounds[roundId];
        Phase stored = r.phase;
        if (stored != Phase.Open) return stored;
        if (block.timestamp < r.end) return Phase.Open;
        if (block.timestamp < r.revealEnd) return Phase.Reveal;
        return Phase.Ended;
    }

    /// @dev Rules A and I of docs/security.md: a positive price, a size between the minimum and the bound, an order
    ///      that can fill at all (a bid at or above the feed-in tariff, an ask at or below retail: every ask is raised to
    ///      feed-in and every bid capped at retail), and one side per owner and round (no self-trade). Returns the
    ///      effective price.
    function _checkOrder(Round storage r, uint64 roundId, Side side, uint128 limitPrice, uint128 amountWh)
        private
        returns (uint128)
    {
        if (amountWh == 0) revert DoubleAuctionZeroAmount();
        if (limitPrice == 0) revert DoubleAuctionZeroPrice();
        if (limitPrice > MAX_VALUE || amountWh > MAX_VALUE) revert DoubleAuctionOrderTooLarge(limitPrice, amountWh);
        if (amountWh < _minAmountWh) revert DoubleAuctionAmountBelowMinimum(amountWh, _minAmountWh);
        (uint128 retail, uint128 feedIn) = (r.retailPrice, r.feedInTariff);
        if (side == Side.Buy ? limitPrice < feedIn : limitPrice > retail) {
            revert DoubleAuctionNeverFillable(side, limitPrice, retail, feedIn);
        }
        uint8 bit = side == Side.Buy ? 1 : 2;
        uint8 sides = _sidesOf[roundId][msg.sender];
        if (sides & (3 ^ bit) != 0) revert DoubleAuctionSelfTrade(roundId, msg.sender);
        if (sides != bit) _sidesOf[roundId][msg.sender] = bit;
        return ClearingMath.effectivePrice(side, limitPrice, retail, feedIn);
    }

    /// @dev A revealed order must be covered by its commitment's deposit.
    function _checkDeposit(Order storage o, uint64 orderId, Side side, uint128 price, uint128 amountWh) private view {
        (uint256 needed, uint256 held) = side == Side.Buy
            ? (ClearingMath.costRoundedUp(price, amountWh), o.moneyDeposit)
            : (amountWh, o.energyDeposit);
        if (held < needed) revert DoubleAuctionDepositTooSmall(orderId, needed, held);
    }

    function _newOrderId() private returns (uint64 id) {
        id = _nextOrderId;
        unchecked {
            // Cannot overflow: one increment per order transaction, 2**64 transactions are out of reach.
            _nextOrderId = id + 1;
        }
    }

    /// @dev What `claim` pays for an order of a Cleared round (reverts before, or once claimed).
    function _settlement(Order storage o, uint64 id) private view returns (Settlement memory) {
        Round storage r = _rounds[o.roundId];
        if (r.phase != Phase.Cleared) revert DoubleAuctionWrongPhase(o.roundId, _phaseOf(o.roundId));
        if (o.state == OrderState.Claimed) revert DoubleAuctionAlreadyClaimed(id);
        return AuctionClearing.settle(_orders, r, o, id);
    }

    function _claim(uint64 orderId) private returns (Settlement memory s) {
        Order storage o = _orders[orderId];
        OrderState state = o.state;
        if (state == OrderState.None) revert DoubleAuctionUnknownOrder(orderId);
        s = _settlement(o, orderId);
        o.state = OrderState.Claimed;
        address owner = o.owner;
        uint256 energyOut = s.energyRefund;
        uint256 moneyOut = s.moneyRefund;
        if (state == OrderState.Committed) {
            (uint256 moneyKept, uint256 energyKept) = (o.moneyDeposit - moneyOut, o.energyDeposit - energyOut);
            emit CommitmentRefunded(o.roundId, orderId, owner, moneyOut, energyOut);
            emit CommitmentForfeited(o.roundId, orderId, owner, moneyKept, energyKept);
            if (energyKept != 0) _energy.safeTransfer(_forfeitRecipient, energyKept);
            if (moneyKept != 0) _money.safeTransfer(_forfeitRecipient, moneyKept);
        } else {
            if (o.side == Side.Buy) energyOut += s.fillWh;
            else moneyOut += s.money;
            emit OrderClaimed(
                o.roundId, orderId, owner, o.side, s.fillWh, s.money, s.moneyRefund, s.energyRefund, s.gridWh
            );
        }
        if (energyOut != 0) _energy.safeTransfer(owner, energyOut);
        if (moneyOut != 0) _money.safeTransfer(owner, moneyOut);
    }

    function _setGridTariffs(uint128 retailPrice, uint128 feedInTariff) private {
        if (retailPrice == 0 || retailPrice > MAX_VALUE || feedInTariff > retailPrice) {
            revert DoubleAuctionInvalidTariffs(retailPrice, feedInTariff);
        }
        (_retailPrice, _feedInTariff) = (retailPrice, feedInTariff);
        emit GridTariffsSet(retailPrice, feedInTariff);
    }

    function _commitmentHash(Side side, uint128 limitPrice, uint128 amountWh, bytes32 salt, address owner)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(side, limitPrice, amountWh, salt, owner));
    }
}
