// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDoubleAuction} from "../../interfaces/IDoubleAuction.sol";
import {Side} from "../../interfaces/MarketTypes.sol";
import {AuctionClearing} from "./AuctionClearing.sol";
import {ClearingMath} from "./ClearingMath.sol";

/// @title AuctionRules: the double auction's order checks, phase rule and claim payout (used by DoubleAuction)
/// @notice Kept apart so that DoubleAuction holds only its state, entry points and views. Every function is internal
///         (inlined): the contract's behaviour, errors and events are unchanged.
library AuctionRules {
    using SafeERC20 for IERC20;

    /// @notice The round's phase now: the stored one, or Open / Reveal / Ended from the clock while it is Open.
    /// @param r The round.
    /// @return The phase.
    function phaseOf(IDoubleAuction.Round storage r) internal view returns (IDoubleAuction.Phase) {
        IDoubleAuction.Phase stored = r.phase;
        if (stored != IDoubleAuction.Phase.Open) return stored;
        if (block.timestamp < r.end) return IDoubleAuction.Phase.Open;
        if (block.timestamp < r.revealEnd) return IDoubleAuction.Phase.Reveal;
        return IDoubleAuction.Phase.Ended;
    }

    /// @notice Round `r` (id `roundId`) ready to take orders of the given mode: opened (schedule and tariffs fixed)
    ///         on its first order; reverts unless it is the current round, Open, and of the order's mode.
    /// @param r The round.
    /// @param roundId Its id.
    /// @param current The current round id.
    /// @param sealedOrder Whether the order is a commitment.
    /// @param interval Round length, s.
    /// @param reveal Reveal window, s.
    /// @param sealedBids Whether new rounds are sealed.
    /// @param retail Grid retail price.
    /// @param feedIn Grid feed-in tariff.
    function roundForOrders(
        IDoubleAuction.Round storage r,
        uint64 roundId,
        uint64 current,
        bool sealedOrder,
        uint64 interval,
        uint64 reveal,
        bool sealedBids,
        uint128 retail,
        uint128 feedIn
    ) internal {
        if (roundId != current) {
            if (r.phase != IDoubleAuction.Phase.None) revert IDoubleAuction.DoubleAuctionWrongPhase(roundId, phaseOf(r));
            revert IDoubleAuction.DoubleAuctionNotCurrentRound(roundId, current);
        }
        if (r.phase == IDoubleAuction.Phase.None) {
            r.start = roundId;
            r.end = roundId + interval;
            r.revealEnd = sealedBids ? r.end + reveal : r.end;
            r.sealedBids = sealedBids;
            r.phase = IDoubleAuction.Phase.Open;
            r.retailPrice = retail;
            r.feedInTariff = feedIn;
            emit IDoubleAuction.RoundOpened(roundId, r.end, r.revealEnd, sealedBids, retail, feedIn);
        }
        IDoubleAuction.Phase phase = phaseOf(r);
        // Open can fail here only after a schedule change made an older round's id current again.
        if (phase != IDoubleAuction.Phase.Open) revert IDoubleAuction.DoubleAuctionWrongPhase(roundId, phase);
        if (r.sealedBids != sealedOrder) revert IDoubleAuction.DoubleAuctionWrongMode(roundId, r.sealedBids);
    }

    /// @notice keccak256(abi.encode(side, limitPrice, amountWh, salt, owner)): a sealed order's commitment.
    /// @param side Buy or Sell.
    /// @param limitPrice The limit price.
    /// @param amountWh The size.
    /// @param salt The owner's secret.
    /// @param owner The committing owner.
    /// @return The commitment.
    function commitmentHash(Side side, uint128 limitPrice, uint128 amountWh, bytes32 salt, address owner)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(side, limitPrice, amountWh, salt, owner));
    }

    /// @notice Rules A and I of docs/security.md: a positive price, a size between the minimum and the bound, an
    ///         order that can fill at all (a bid at or above the feed-in tariff, an ask at or below retail: every ask
    ///         is raised to feed-in and every bid capped at retail), and one side per owner and round (no
    ///         self-trade; records the owner's side).
    /// @param sidesOf Sides each owner booked per round (bit 0 Buy, bit 1 Sell).
    /// @param r The round.
    /// @param roundId Its id.
    /// @param owner Whose order it is.
    /// @param side Buy or Sell.
    /// @param limitPrice The limit price.
    /// @param amountWh The size.
    /// @param minAmountWh The minimum size.
    /// @return The effective price.
    function checkOrder(
        mapping(uint64 => mapping(address => uint8)) storage sidesOf,
        IDoubleAuction.Round storage r,
        uint64 roundId,
        address owner,
        Side side,
        uint128 limitPrice,
        uint128 amountWh,
        uint256 minAmountWh
    ) internal returns (uint128) {
        if (amountWh == 0) revert IDoubleAuction.DoubleAuctionZeroAmount();
        if (limitPrice == 0) revert IDoubleAuction.DoubleAuctionZeroPrice();
        if (limitPrice > ClearingMath.MAX_VALUE || amountWh > ClearingMath.MAX_VALUE) {
            revert IDoubleAuction.DoubleAuctionOrderTooLarge(limitPrice, amountWh);
        }
        if (amountWh < minAmountWh) revert IDoubleAuction.DoubleAuctionAmountBelowMinimum(amountWh, minAmountWh);
        (uint128 retail, uint128 feedIn) = (r.retailPrice, r.feedInTariff);
        if (side == Side.Buy ? limitPrice < feedIn : limitPrice > retail) {
            revert IDoubleAuction.DoubleAuctionNeverFillable(side, limitPrice, retail, feedIn);
        }
        uint8 bit = side == Side.Buy ? 1 : 2;
        uint8 sides = sidesOf[roundId][owner];
        if (sides & (3 ^ bit) != 0) revert IDoubleAuction.DoubleAuctionSelfTrade(roundId, owner);
        if (sides != bit) sidesOf[roundId][owner] = bit;
        return ClearingMath.effectivePrice(side, limitPrice, retail, feedIn);
    }

    /// @notice A revealed order must be covered by its commitment's deposit.
    /// @param o The committed order.
    /// @param orderId Its id.
    /// @param side Revealed side.
    /// @param price Revealed effective price.
    /// @param amountWh Revealed size.
    function checkDeposit(IDoubleAuction.Order storage o, uint64 orderId, Side side, uint128 price, uint128 amountWh)
        internal
        view
    {
        (uint256 needed, uint256 held) = side == Side.Buy
            ? (ClearingMath.costRoundedUp(price, amountWh), o.moneyDeposit)
            : (amountWh, o.energyDeposit);
        if (held < needed) revert IDoubleAuction.DoubleAuctionDepositTooSmall(orderId, needed, held);
    }

    /// @notice What `claim` pays for an order of a Cleared round (reverts before, or once claimed).
    /// @param orders All orders.
    /// @param r The order's round.
    /// @param o The order.
    /// @param id Its id.
    /// @return The settlement.
    function settlement(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        IDoubleAuction.Order storage o,
        uint64 id
    ) internal view returns (IDoubleAuction.Settlement memory) {
        if (r.phase != IDoubleAuction.Phase.Cleared) revert IDoubleAuction.DoubleAuctionWrongPhase(o.roundId, phaseOf(r));
        if (o.state == IDoubleAuction.OrderState.Claimed) revert IDoubleAuction.DoubleAuctionAlreadyClaimed(id);
        return AuctionClearing.settle(orders, r, o, id);
    }

    /// @notice Claims order `orderId`: marks it claimed, then pays its owner (and a forfeit to `forfeitRecipient`).
    /// @param orders All orders.
    /// @param rounds All rounds.
    /// @param orderId The order.
    /// @param energy The energy token.
    /// @param money The settlement token.
    /// @param forfeitRecipient Receives forfeited deposits of unrevealed commitments.
    /// @return s The settlement paid.
    function claim(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        mapping(uint64 => IDoubleAuction.Round) storage rounds,
        uint64 orderId,
        IERC20 energy,
        IERC20 money,
        address forfeitRecipient
    ) internal returns (IDoubleAuction.Settlement memory s) {
        IDoubleAuction.Order storage o = orders[orderId];
        IDoubleAuction.OrderState state = o.state;
        if (state == IDoubleAuction.OrderState.None) revert IDoubleAuction.DoubleAuctionUnknownOrder(orderId);
        s = settlement(orders, rounds[o.roundId], o, orderId);
        o.state = IDoubleAuction.OrderState.Claimed;
        address owner = o.owner;
        uint256 energyOut = s.energyRefund;
        uint256 moneyOut = s.moneyRefund;
        if (state == IDoubleAuction.OrderState.Committed) {
            (uint256 moneyKept, uint256 energyKept) = (o.moneyDeposit - moneyOut, o.energyDeposit - energyOut);
            emit IDoubleAuction.CommitmentRefunded(o.roundId, orderId, owner, moneyOut, energyOut);
            emit IDoubleAuction.CommitmentForfeited(o.roundId, orderId, owner, moneyKept, energyKept);
            if (energyKept != 0) energy.safeTransfer(forfeitRecipient, energyKept);
            if (moneyKept != 0) money.safeTransfer(forfeitRecipient, moneyKept);
        } else {
            if (o.side == Side.Buy) energyOut += s.fillWh;
            else moneyOut += s.money;
            emit IDoubleAuction.OrderClaimed(
                o.roundId, orderId, owner, o.side, s.fillWh, s.money, s.moneyRefund, s.energyRefund, s.gridWh
            );
        }
        if (energyOut != 0) energy.safeTransfer(owner, energyOut);
        if (moneyOut != 0) money.safeTransfer(owner, moneyOut);
    }
}
