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
import {AuctionRules} from "./libraries/AuctionRules.sol";
import {ITradingMandate} from "../interfaces/ITradingMandate.sol";
import {IMandatedVenue} from "../interfaces/IMandatedVenue.sol";
import {Side} from "../interfaces/MarketTypes.sol";

/// @title DoubleAuction: periodic call market with a uniform clearing price, bounded gas per transaction
/// @notice See IDoubleAuction for the clearing rule. Gas per transaction is bounded: booking reads at most 11 price
///         index words (AuctionBook), `clearRound` does at most `maxSteps` matches, `claim` is O(1) per order (its fill
///         follows from its rank against the marginal order), so no transaction touches every participant.
contract DoubleAuction is IDoubleAuction, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role of the microgrid operator: sets the grid tariffs.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    uint256 private constant MAX_CLAIM_BATCH = 100;
    /// @dev Minimum order size of a new deployment, Wh (admin may change it): a sliver order costs at least this.
    uint40 private constant DEFAULT_MIN_AMOUNT_WH = 100;
    uint128 private constant MAX_VALUE = ClearingMath.MAX_VALUE;
    uint8 private constant VENUE = 2; // the auction's TradingMandate venue bit

    /// @dev Energy token (1 unit = 1 Wh), escrowed by sellers and delivered to buyers.
    IERC20 private immutable _energy;
    /// @dev Settlement token (mgMYR), escrowed by buyers and paid to sellers.
    IERC20 private immutable _money;
    /// @dev Receives the forfeited part of unrevealed commitments (the operator's community fund).
    address private immutable _forfeitRecipient;

    mapping(uint64 roundId => Round) private _rounds;
    mapping(uint64 orderId => Order) private _orders;
    /// @dev Prices in use and the last order at each, per round and side: where a new order goes, whatever its hint.
    AuctionBook.Index private _index;
    uint64 private _nextOrderId = 1;
    uint64 private _intervalSeconds = 900;
    uint64 private _revealSeconds = 300;
    bool private _sealedBids;
    uint40 private _minAmountWh = DEFAULT_MIN_AMOUNT_WH;
    uint128 private _retailPrice;
    uint128 private _feedInTariff;
    /// @dev Sides an owner has booked in a round (bit 0: Buy, bit 1: Sell): an owner never trades with itself.
    mapping(uint64 roundId => mapping(address owner => uint8 sides)) private _sidesOf;
    ITradingMandate private _mandate;

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
        uint128 price = _checkOrder(r, roundId, msg.sender, side, limitPrice, amountWh);
        return _submit(r, msg.sender, roundId, side, price, limitPrice, amountWh, hintPrevId);
    }

    /// @inheritdoc IDoubleAuction
    function submitOrderFor(
        address owner,
        uint64 roundId,
        Side side,
        uint128 limitPrice,
        uint128 amountWh,
        uint64 hintPrevId
    ) external nonReentrant returns (uint64 orderId) {
        ITradingMandate m = _mandate;
        if (address(m) == address(0)) revert VenueMandateNotSet();
        Round storage r = _roundForOrders(roundId, false);
        uint128 price = _checkOrder(r, roundId, owner, side, limitPrice, amountWh);
        uint256 deposit = side == Side.Buy ? ClearingMath.costRoundedUp(price, amountWh) : 0;
        m.authorize(owner, msg.sender, VENUE, side, price, amountWh, deposit);
        return _submit(r, owner, roundId, side, price, limitPrice, amountWh, hintPrevId);
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
        if (AuctionRules.commitmentHash(side, limitPrice, amountWh, salt, msg.sender) != o.commitment) {
            revert DoubleAuctionCommitmentMismatch(orderId);
        }
        uint128 price = _checkOrder(r, o.roundId, msg.sender, side, limitPrice, amountWh);
        AuctionRules.checkDeposit(o, orderId, side, price, amountWh);
        (o.side, o.price, o.amountWh) = (side, price, amountWh);
        AuctionBook.insert(_orders, _index, r, o, orderId, limitPrice, hintPrevId);
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

    /// @inheritdoc IMandatedVenue
    function setMandate(address mandate_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (mandate_ == address(0) || address(_mandate) != address(0)) revert VenueMandateFixed(address(_mandate));
        _mandate = ITradingMandate(mandate_);
        emit MandateSet(mandate_);
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
        return AuctionRules.settlement(_orders, _rounds[o.roundId], o, orderId);
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
        return AuctionRules.commitmentHash(side, limitPrice, amountWh, salt, owner);
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

    /// @inheritdoc IMandatedVenue
    function mandate() external view returns (address) {
        return address(_mandate);
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
        AuctionRules.roundForOrders(
            r, roundId, currentRoundId(), sealedOrder, _intervalSeconds, _revealSeconds, _sealedBids, _retailPrice, _feedInTariff
        );
    }

    function _existingRound(uint64 roundId) private view returns (Round storage r) {
        r = _rounds[roundId];
        if (r.phase == Phase.None) revert DoubleAuctionUnknownRound(roundId);
    }

    function _phaseOf(uint64 roundId) private view returns (Phase) {
        return AuctionRules.phaseOf(_rounds[roundId]);
    }

    /// @dev AuctionRules.checkOrder for `owner` (the caller, or the owner an agent trades for).
    function _checkOrder(Round storage r, uint64 roundId, address owner, Side side, uint128 limitPrice, uint128 amountWh)
        private
        returns (uint128)
    {
        return AuctionRules.checkOrder(_sidesOf, r, roundId, owner, side, limitPrice, amountWh, _minAmountWh);
    }

    /// @dev Books an open order of `owner` at effective `price` and escrows the owner's deposit.
    function _submit(
        Round storage r,
        address owner,
        uint64 roundId,
        Side side,
        uint128 price,
        uint128 limitPrice,
        uint128 amountWh,
        uint64 hintPrevId
    ) private returns (uint64 orderId) {
        orderId = _newOrderId();
        Order storage o = _orders[orderId];
        o.owner = owner;
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
        AuctionBook.insert(_orders, _index, r, o, orderId, limitPrice, hintPrevId);
        (side == Side.Buy ? _money : _energy).safeTransferFrom(owner, address(this), deposit);
    }

    function _claim(uint64 orderId) private returns (Settlement memory) {
        return AuctionRules.claim(_orders, _rounds, orderId, _energy, _money, _forfeitRecipient);
    }

    function _newOrderId() private returns (uint64 id) {
        id = _nextOrderId;
        unchecked {
            // Cannot overflow: one increment per order transaction, 2**64 transactions are out of reach.
            _nextOrderId = id + 1;
        }
    }

    function _setGridTariffs(uint128 retailPrice, uint128 feedInTariff) private {
        if (retailPrice == 0 || retailPrice > MAX_VALUE || feedInTariff > retailPrice) {
            revert DoubleAuctionInvalidTariffs(retailPrice, feedInTariff);
        }
        (_retailPrice, _feedInTariff) = (retailPrice, feedInTariff);
        emit GridTariffsSet(retailPrice, feedInTariff);
    }
}
