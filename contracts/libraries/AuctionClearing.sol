// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDoubleAuction} from "../../interfaces/IDoubleAuction.sol";
import {Side} from "../../interfaces/MarketTypes.sol";
import {AuctionBook} from "./AuctionBook.sol";
import {ClearingMath} from "./ClearingMath.sol";

/// @title AuctionClearing: the double auction's bounded clearing walk and per-order settlement (used by DoubleAuction)
/// @notice Clearing walks both sorted sides from the top in steps (one bid/ask pair per step), so a round clears over
///         as many transactions as needed; settlement of one order is O(1): its fill follows from its rank against the
///         marginal order of its side.
library AuctionClearing {
    /// @notice The price band is a tenth of the volume-maximising trade: slivers inside it cannot move the price.
    uint128 internal constant BAND_DIVISOR = 10;
    /// @notice Percent of each deposit an unrevealed sealed commitment forfeits: keeping a commitment closed (to
    ///         choose after the others revealed) is an option that costs this much.
    uint128 internal constant UNREVEALED_FORFEIT_PERCENT = 10;

    /// @dev Clearing cursor held in memory during one `clearRound` call.
    struct Cursor {
        uint64 bid;
        uint64 ask;
        uint128 bidFilled;
        uint128 askFilled;
        uint128 volume;
        uint64 marginalBid;
        uint64 marginalAsk;
        uint128 target; // price walk: the unit Q - B + 1 whose pair sets the price (0 in the volume pass)
        uint128 price; // price walk: the clearing price once found (0 before)
    }

    /// @notice Advances round `r`'s clearing by at most `maxSteps` matches: the volume pass, then the price and
    ///         allocation walk (IDoubleAuction rules 3 to 5).
    /// @param orders All orders.
    /// @param r The round (Clearing).
    /// @param maxSteps Most matches.
    /// @return done True when both walks are over.
    /// @return steps Matches made.
    function advance(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        uint256 maxSteps
    ) internal returns (bool done, uint256 steps) {
        // Work on a memory copy of the cursor; write it back once.
        uint128 q = r.maxVolumeWh;
        Cursor memory c = Cursor(
            r.cursorBid,
            r.cursorAsk,
            r.cursorBidFilled,
            r.cursorAskFilled,
            r.volumeWh,
            r.marginalBid,
            r.marginalAsk,
            q == 0 ? 0 : q - band(q) + 1,
            r.clearingPrice
        );
        (done, steps) = _walk(orders, c, maxSteps);
        if (done && q == 0 && c.volume != 0) {
            // Volume pass over: remember Q and start the price walk from the top.
            q = c.volume;
            r.maxVolumeWh = q;
            c = Cursor(r.bidHead, r.askHead, 0, 0, 0, 0, 0, q - band(q) + 1, 0);
            uint256 more;
            (done, more) = _walk(orders, c, maxSteps - steps);
            steps += more;
        }
        (r.cursorBid, r.cursorAsk, r.cursorBidFilled, r.cursorAskFilled) = (c.bid, c.ask, c.bidFilled, c.askFilled);
        (r.volumeWh, r.marginalBid, r.marginalAsk, r.clearingPrice) = (c.volume, c.marginalBid, c.marginalAsk, c.price);
    }

    /// @notice The price band of a volume-maximising trade of `q` Wh: max(1, q / BAND_DIVISOR).
    /// @param q The volume, Wh.
    /// @return The band, Wh.
    function band(uint128 q) internal pure returns (uint128) {
        uint128 b = q / BAND_DIVISOR;
        return b == 0 ? 1 : b;
    }

    /// @notice Final price, marginal fills and the grid fallback of a round whose book stopped crossing.
    /// @param orders All orders.
    /// @param r The round (becomes Cleared).
    /// @param roundId Its id.
    function finish(mapping(uint64 => IDoubleAuction.Order) storage orders, IDoubleAuction.Round storage r, uint64 roundId)
        internal
    {
        uint64 mBid = r.marginalBid;
        uint64 mAsk = r.marginalAsk;
        uint128 price = r.clearingPrice; // set by the price walk (0 without trade)
        if (mBid != 0) {
            // The marginal order is the cursor only if clearing stopped inside it; otherwise it was filled in full.
            r.marginalBidFillWh = r.cursorBid == mBid ? r.cursorBidFilled : orders[mBid].amountWh;
            r.marginalAskFillWh = r.cursorAsk == mAsk ? r.cursorAskFilled : orders[mAsk].amountWh;
        }
        r.clearingPrice = price;
        r.phase = IDoubleAuction.Phase.Cleared;
        uint128 volume = r.volumeWh;
        emit IDoubleAuction.RoundCleared(roundId, price, volume, mBid, mAsk);
        // Cannot underflow: every matched Wh belongs to a booked bid and a booked ask.
        uint128 imported = r.totalBidWh - volume;
        uint128 exported = r.totalAskWh - volume;
        emit IDoubleAuction.GridFallbackRecorded(
            roundId,
            imported,
            r.retailPrice,
            ClearingMath.costRoundedDown(r.retailPrice, imported),
            exported,
            r.feedInTariff,
            ClearingMath.costRoundedDown(r.feedInTariff, exported)
        );
    }

    /// @notice What `claim` pays for order `id` of a Cleared round.
    /// @param orders All orders.
    /// @param r The order's round (Cleared).
    /// @param o The order (Booked or Committed).
    /// @param id Its id.
    /// @return s The settlement.
    function settle(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        IDoubleAuction.Order storage o,
        uint64 id
    ) internal view returns (IDoubleAuction.Settlement memory s) {
        (s.moneyRefund, s.energyRefund) = (o.moneyDeposit, o.energyDeposit);
        if (o.state == IDoubleAuction.OrderState.Committed) {
            // Never revealed: no fill, the deposits come back less the forfeit (rounded in the committer's favour).
            s.moneyRefund -= (s.moneyRefund * UNREVEALED_FORFEIT_PERCENT) / 100;
            s.energyRefund -= (s.energyRefund * UNREVEALED_FORFEIT_PERCENT) / 100;
            return s;
        }
        uint128 fill = _fillOf(orders, r, o, id);
        s.fillWh = fill;
        s.gridWh = o.amountWh - fill;
        if (o.side == Side.Buy) {
            s.money = ClearingMath.costRoundedUp(r.clearingPrice, fill);
            // Cannot underflow: clearing price <= effective bid price and fill <= amount, so money <= deposit.
            s.moneyRefund -= s.money;
        } else {
            s.money = ClearingMath.costRoundedDown(r.clearingPrice, fill);
            s.energyRefund -= fill;
        }
    }

    /// @dev At most `maxSteps` matches from the cursor; `done` when the book no longer crosses (volume pass) or no
    ///      longer crosses at the clearing price (price walk: `c.target` != 0).
    function _walk(mapping(uint64 => IDoubleAuction.Order) storage orders, Cursor memory c, uint256 maxSteps)
        private
        view
        returns (bool done, uint256 steps)
    {
        while (true) {
            if (c.bid == 0 || c.ask == 0) return (true, steps);
            IDoubleAuction.Order storage bid = orders[c.bid];
            IDoubleAuction.Order storage ask = orders[c.ask];
            (uint128 bp, uint128 ap) = (bid.price, ask.price);
            if (bp < ap || (c.price != 0 && (bp < c.price || ap > c.price))) return (true, steps);
            if (steps == maxSteps) return (false, steps);
            uint128 bidLeft = bid.amountWh - c.bidFilled;
            uint128 askLeft = ask.amountWh - c.askFilled;
            uint128 q = bidLeft < askLeft ? bidLeft : askLeft;
            // The pair that trades unit `target` sets the price; it trades at it (bp >= midpoint >= ap).
            if (c.price == 0 && c.target != 0 && c.volume + q >= c.target) c.price = ClearingMath.midpoint(bp, ap);
            c.volume += q;
            c.bidFilled += q;
            c.askFilled += q;
            (c.marginalBid, c.marginalAsk) = (c.bid, c.ask);
            if (q == bidLeft) (c.bid, c.bidFilled) = (bid.next, 0);
            if (q == askLeft) (c.ask, c.askFilled) = (ask.next, 0);
            ++steps;
        }
    }

    /// @dev Fill of a booked order: full ahead of the marginal order, the marginal fill at it, none behind it.
    function _fillOf(
        mapping(uint64 => IDoubleAuction.Order) storage orders,
        IDoubleAuction.Round storage r,
        IDoubleAuction.Order storage o,
        uint64 id
    ) private view returns (uint128) {
        if (r.volumeWh == 0) return 0;
        Side side = o.side;
        (uint64 m, uint128 mFill) =
            side == Side.Buy ? (r.marginalBid, r.marginalBidFillWh) : (r.marginalAsk, r.marginalAskFillWh);
        if (id == m) return mFill;
        IDoubleAuction.Order storage mo = orders[m];
        uint64 rank = AuctionBook.rankOf(r, o, id);
        return AuctionBook.precedes(side, o.price, rank, mo.price, AuctionBook.rankOf(r, mo, m)) ? o.amountWh : 0;
    }
}
