// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Side} from "./MarketTypes.sol";
import {IMandatedVenue} from "./IMandatedVenue.sol";

/// @title Periodic double auction (call market) with one uniform clearing price per round
/// @notice Every bidding window of `intervalSeconds` (default 900 s) is one round; its energy is delivered in the
///         next interval. Buyers bid (highest price, Wh) and sellers ask (lowest price, Wh); orders escrow their
///         money or energy. After the window anyone closes the round and clears it in bounded steps; every
///         participant then pulls their own fill and refund with `claim`.
///
///         Units: amounts in Wh (EnergyToken units), prices in settlement units (mgMYR, 6 decimals) per kWh.
///         A buyer pays ceil(price * fillWh / 1000), a seller receives floor(price * fillWh / 1000): the rounding
///         difference (under one unit per order) stays in the contract so it can never owe more than it holds.
///
///         Clearing rule (the same as `energy_chain.clearing.clear` in Python):
///         1. Grid band: a bid above the round's retail price counts as a bid at retail (nobody pays more than
///            the grid asks); an ask below the feed-in tariff counts as an ask at feed-in (nobody sells for less
///            than the grid pays). The effective price is what is stored, escrowed and matched.
///         2. Bids are ordered by price descending, asks by price ascending; equal prices by booking order, earlier
///            booked first: submission in open rounds (= order id order), reveal in sealed rounds (a late reveal
///            joins its price group last, whenever it committed).
///         3. Volume pass: walk both lists from the top: while the current bid's price >= the current ask's
///            price, trade min(remaining bid, remaining ask) Wh between them and move past whichever is exhausted.
///            The Wh so traded is Q, the most the book can trade. Q = 0: no trade, price 0, volume 0.
///         4. Price: the band is B = max(1, floor(Q / 10)) Wh. Walk again from the top; the pair that trades the
///            unit Q - B + 1 (the last unit before the band) sets the uniform clearing price
///            floor((its bid price + its ask price) / 2). Orders inside the last B Wh of the curves (a "sliver" at
///            the margin) cannot move it: an attacker must bring more than a tenth of the volume to the margin.
///         5. Allocation: continue the second walk while the bid's price >= the clearing price >= the ask's
///            price; what that walk trades is the volume (at least Q - B + 1). Every trade is at the clearing price,
///            which no traded bid is below and no traded ask above. Rationing: orders ahead of the marginal order
///            (the last that traded) are filled in full, the marginal order gets what is left (time priority
///            among equal prices, not pro rata), orders after it get nothing.
///         6. Grid fallback: unmatched demand (bid Wh - volume) is recorded as bought from the grid at retail,
///            unmatched supply as sold to the grid at the feed-in tariff (events only; no tokens move).
interface IDoubleAuction is IMandatedVenue {
    /// @notice Phase of a round. `Open`, `Reveal` and `Ended` follow from the clock; the rest from transactions.
    /// @dev None: no order yet. Open: orders (or commitments) accepted. Reveal (sealed rounds): commitments are
    ///      revealed. Ended: window over, waiting for `closeRound`. Closed: book frozen, clearing not started.
    ///      Clearing: `clearRound` walked part of the book. Cleared: price and volume final, claims open.
    enum Phase {
        None,
        Open,
        Reveal,
        Ended,
        Closed,
        Clearing,
        Cleared
    }

    /// @notice Life of an order. Committed: sealed, not revealed yet. Booked: in the sorted book.
    ///         Claimed: fill and refund paid out (also used for unrevealed commitments whose deposit came back).
    enum OrderState {
        None,
        Committed,
        Booked,
        Claimed
    }

    /// @notice One order (or sealed commitment). Five storage slots.
    /// @param owner Who placed it and receives fill and refund.
    /// @param roundId The round (start of its bidding window, unix seconds).
    /// @param side Bid or ask (meaningless while Committed).
    /// @param state See OrderState.
    /// @param price Effective limit price after the grid band, settlement units per kWh.
    /// @param amountWh Energy wanted (bid) or offered (ask), Wh.
    /// @param prev Previous order in the sorted book (0 = head).
    /// @param next Next order in the sorted book (0 = tail).
    /// @param moneyDeposit Settlement units escrowed (bids; sealed commitments may escrow both tokens).
    /// @param energyDeposit Wh escrowed (asks).
    /// @param bookSeq Sealed rounds: the order's place among its side's reveals (1 = revealed first), its rank among
    ///        equal prices; 0 in open rounds (there the id is the rank).
    /// @param commitment Sealed mode: keccak256(abi.encode(side, price, amountWh, salt, owner)); zero otherwise.
    struct Order {
        address owner;
        uint64 roundId;
        Side side;
        OrderState state;
        uint128 price;
        uint128 amountWh;
        uint64 prev;
        uint64 next;
        uint128 moneyDeposit;
        uint128 energyDeposit;
        uint64 bookSeq;
        bytes32 commitment;
    }

    /// @notice One round: its schedule and tariffs (snapshotted when its first order arrives), its book and its
    ///         clearing state.
    /// @param start Start of the bidding window (also the round id).
    /// @param end End of the bidding (or commit) window.
    /// @param revealEnd End of the reveal window (equal to `end` in open rounds).
    /// @param sealedBids Whether the round takes commitments (commit-reveal) instead of open orders.
    /// @param phase Stored phase: None until the first order, then Open until closed (see `phaseOf`).
    /// @param retailPrice Grid retail price for this round, settlement units per kWh.
    /// @param feedInTariff Grid feed-in tariff for this round, settlement units per kWh.
    /// @param bidHead Best (highest) bid; 0 when none.
    /// @param askHead Best (lowest) ask; 0 when none.
    /// @param bidCount Bids in the book.
    /// @param askCount Asks in the book.
    /// @param totalBidWh Sum of booked bid amounts.
    /// @param totalAskWh Sum of booked ask amounts.
    /// @param cursorBid Clearing cursor: bid being matched (0 = bids exhausted).
    /// @param cursorAsk Clearing cursor: ask being matched (0 = asks exhausted).
    /// @param cursorBidFilled Wh of `cursorBid` matched so far.
    /// @param cursorAskFilled Wh of `cursorAsk` matched so far.
    /// @param marginalBid Last bid that traded (0 = no trade).
    /// @param marginalAsk Last ask that traded (0 = no trade).
    /// @param marginalBidFillWh Fill of the marginal bid (final once Cleared).
    /// @param marginalAskFillWh Fill of the marginal ask (final once Cleared).
    /// @param volumeWh Energy traded (running total while Clearing).
    /// @param clearingPrice Uniform price, settlement units per kWh (0 when nothing traded; set during the price walk).
    /// @param maxVolumeWh Q, the volume of the volume pass (0 while it runs); the price walk starts once it is set.
    struct Round {
        uint64 start;
        uint64 end;
        uint64 revealEnd;
        bool sealedBids;
        Phase phase;
        uint128 retailPrice;
        uint128 feedInTariff;
        uint64 bidHead;
        uint64 askHead;
        uint64 bidCount;
        uint64 askCount;
        uint128 totalBidWh;
        uint128 totalAskWh;
        uint64 cursorBid;
        uint64 cursorAsk;
        uint128 cursorBidFilled;
        uint128 cursorAskFilled;
        uint64 marginalBid;
        uint64 marginalAsk;
        uint128 marginalBidFillWh;
        uint128 marginalAskFillWh;
        uint128 volumeWh;
        uint128 clearingPrice;
        uint128 maxVolumeWh;
    }

    /// @notice Settlement of one order as `claim` pays it (also returned by the `settlementOf` preview).
    /// @param fillWh Energy traded.
    /// @param money Bid: settlement units paid for the fill. Ask: settlement units received.
    /// @param moneyRefund Settlement units returned from the deposit.
    /// @param energyRefund Wh returned from the deposit.
    /// @param gridWh Unfilled amount: bought from (bid) or sold to (ask) the grid.
    struct Settlement {
        uint128 fillWh;
        uint128 money;
        uint128 moneyRefund;
        uint128 energyRefund;
        uint128 gridWh;
    }

    // ------------------------------------------------------------------ errors
    /// @notice Thrown when an action is not allowed in the round's current phase.
    /// @param roundId The round.
    /// @param phase Its phase now.
    error DoubleAuctionWrongPhase(uint64 roundId, Phase phase);
    /// @notice Thrown when orders are sent to a round that is not the current bidding window.
    /// @param roundId The round given.
    /// @param currentRoundId The round open now.
    error DoubleAuctionNotCurrentRound(uint64 roundId, uint64 currentRoundId);
    /// @notice Thrown when closing a round whose window (bidding, and reveal in sealed rounds) has not ended.
    /// @param roundId The round.
    /// @param endsAt When it may be closed.
    error DoubleAuctionWindowNotOver(uint64 roundId, uint64 endsAt);
    /// @notice Thrown when an open order is sent to a sealed round, or a commitment to an open round.
    /// @param roundId The round.
    /// @param sealedBids Whether the round is sealed.
    error DoubleAuctionWrongMode(uint64 roundId, bool sealedBids);
    /// @notice Thrown when an order's amount is zero.
    error DoubleAuctionZeroAmount();
    /// @notice Thrown when an order's limit price is zero (it would trade energy for nothing).
    error DoubleAuctionZeroPrice();
    /// @notice Thrown when an order is smaller than the minimum order size.
    /// @param amountWh The amount given.
    /// @param minAmountWh The minimum.
    error DoubleAuctionAmountBelowMinimum(uint256 amountWh, uint256 minAmountWh);
    /// @notice Thrown when an order can never fill: a bid below the feed-in tariff (every ask is raised to it) or
    ///         an ask above the retail price (every bid is capped at it).
    /// @param side The side.
    /// @param limitPrice The limit given.
    /// @param retailPrice The round's retail price.
    /// @param feedInTariff The round's feed-in tariff.
    error DoubleAuctionNeverFillable(Side side, uint256 limitPrice, uint256 retailPrice, uint256 feedInTariff);
    /// @notice Thrown when an owner with a booked order on one side of a round books the other side (self-trade).
    /// @param roundId The round.
    /// @param owner The owner.
    error DoubleAuctionSelfTrade(uint64 roundId, address owner);
    /// @notice Thrown when the admin sets a minimum order size of zero or above maxAmount().
    /// @param minAmountWh The value given.
    error DoubleAuctionInvalidMinAmount(uint256 minAmountWh);
    /// @notice Thrown when a price or amount exceeds what the contract accepts.
    /// @param price The price given.
    /// @param amountWh The amount given.
    error DoubleAuctionOrderTooLarge(uint256 price, uint256 amountWh);
    /// @notice Thrown when an order id does not exist.
    /// @param orderId The id.
    error DoubleAuctionUnknownOrder(uint64 orderId);
    /// @notice Thrown when revealing an order that is not a sealed commitment awaiting reveal (never committed,
    ///         already revealed, or claimed).
    /// @param orderId The id.
    error DoubleAuctionNotCommitted(uint64 orderId);
    /// @notice Thrown when someone other than the committer reveals.
    /// @param orderId The id.
    /// @param caller The caller.
    error DoubleAuctionNotOwner(uint64 orderId, address caller);
    /// @notice Thrown when the revealed values do not hash to the commitment.
    /// @param orderId The id.
    error DoubleAuctionCommitmentMismatch(uint64 orderId);
    /// @notice Thrown when a commitment's deposit does not cover the revealed order.
    /// @param orderId The id.
    /// @param needed Deposit the order needs (money for bids, Wh for asks).
    /// @param deposited Deposit held.
    error DoubleAuctionDepositTooSmall(uint64 orderId, uint256 needed, uint256 deposited);
    /// @notice Thrown when a commitment is zero or carries no deposit.
    error DoubleAuctionEmptyCommitment();
    /// @notice Thrown when claiming an order that was already claimed.
    /// @param orderId The id.
    error DoubleAuctionAlreadyClaimed(uint64 orderId);
    /// @notice Thrown when a round id does not exist.
    /// @param roundId The id.
    error DoubleAuctionUnknownRound(uint64 roundId);
    /// @notice Thrown when `clearRound` is asked for zero steps.
    error DoubleAuctionZeroSteps();
    /// @notice Thrown when a claim batch is empty or longer than maxClaimBatch().
    /// @param length The length given.
    error DoubleAuctionInvalidBatchLength(uint256 length);
    /// @notice Thrown when tariffs are invalid (retail zero or below feed-in).
    /// @param retailPrice The retail price given.
    /// @param feedInTariff The feed-in tariff given.
    error DoubleAuctionInvalidTariffs(uint256 retailPrice, uint256 feedInTariff);
    /// @notice Thrown when a schedule is invalid (interval or reveal window zero or above a day).
    /// @param intervalSeconds The interval given.
    /// @param revealSeconds The reveal window given.
    error DoubleAuctionInvalidSchedule(uint256 intervalSeconds, uint256 revealSeconds);
    /// @notice Thrown when a token address is zero.
    error DoubleAuctionZeroAddress();

    // ------------------------------------------------------------------ events
    /// @notice Emitted when a round receives its first order; schedule and tariffs are fixed from here on.
    /// @param roundId The round (start of its window).
    /// @param end End of bidding (or commit) window.
    /// @param revealEnd End of reveal window (= end in open rounds).
    /// @param sealedBids Whether the round is commit-reveal.
    /// @param retailPrice Grid retail price, settlement units per kWh.
    /// @param feedInTariff Grid feed-in tariff, settlement units per kWh.
    event RoundOpened(
        uint64 indexed roundId,
        uint64 end,
        uint64 revealEnd,
        bool sealedBids,
        uint256 retailPrice,
        uint256 feedInTariff
    );
    /// @notice Emitted when an order enters the book (submitted, or revealed in a sealed round).
    /// @param roundId The round.
    /// @param orderId The order.
    /// @param owner Its owner.
    /// @param side Bid or ask.
    /// @param limitPrice The price the owner gave.
    /// @param price The effective price after the grid band (what is matched).
    /// @param amountWh The amount.
    event OrderBooked(
        uint64 indexed roundId,
        uint64 indexed orderId,
        address indexed owner,
        Side side,
        uint256 limitPrice,
        uint256 price,
        uint256 amountWh
    );
    /// @notice Emitted when a sealed commitment is placed with its deposit.
    /// @param roundId The round.
    /// @param orderId The id the order will have once revealed.
    /// @param owner The committer.
    /// @param commitment The hash.
    /// @param moneyDeposit Settlement units escrowed.
    /// @param energyDeposit Wh escrowed.
    event OrderCommitted(
        uint64 indexed roundId,
        uint64 indexed orderId,
        address indexed owner,
        bytes32 commitment,
        uint256 moneyDeposit,
        uint256 energyDeposit
    );
    /// @notice Emitted when a round is closed (its book is frozen).
    /// @param roundId The round.
    /// @param bidCount Bids in the book.
    /// @param askCount Asks in the book.
    event RoundClosed(uint64 indexed roundId, uint256 bidCount, uint256 askCount);
    /// @notice Emitted by each `clearRound` call that does not finish clearing.
    /// @param roundId The round.
    /// @param steps Steps taken in this call.
    /// @param volumeWh Volume matched so far.
    event RoundClearingProgressed(uint64 indexed roundId, uint256 steps, uint256 volumeWh);
    /// @notice Emitted once when clearing finishes.
    /// @param roundId The round.
    /// @param clearingPrice Uniform price, settlement units per kWh (0 without trade).
    /// @param volumeWh Energy traded.
    /// @param marginalBid Last bid that traded (0 without trade).
    /// @param marginalAsk Last ask that traded (0 without trade).
    event RoundCleared(
        uint64 indexed roundId,
        uint256 clearingPrice,
        uint256 volumeWh,
        uint64 marginalBid,
        uint64 marginalAsk
    );
    /// @notice Emitted once when clearing finishes: the round's grid fallback, for the dashboard.
    /// @param roundId The round.
    /// @param importedWh Unmatched demand, recorded as bought from the grid at retail.
    /// @param retailPrice The round's retail price.
    /// @param importCost importedWh at retail, floor(retail * Wh / 1000).
    /// @param exportedWh Unmatched supply, recorded as sold to the grid at the feed-in tariff.
    /// @param feedInTariff The round's feed-in tariff.
    /// @param exportRevenue exportedWh at feed-in, floor(feedIn * Wh / 1000).
    event GridFallbackRecorded(
        uint64 indexed roundId,
        uint256 importedWh,
        uint256 retailPrice,
        uint256 importCost,
        uint256 exportedWh,
        uint256 feedInTariff,
        uint256 exportRevenue
    );
    /// @notice Emitted when an order is settled; gridWh of it is bought from / sold to the grid.
    /// @param roundId The round.
    /// @param orderId The order.
    /// @param owner Who was paid.
    /// @param side Bid or ask.
    /// @param fillWh Energy traded.
    /// @param money Paid (bid) or received (ask), settlement units.
    /// @param moneyRefund Settlement units returned.
    /// @param energyRefund Wh returned.
    /// @param gridWh Unfilled amount, to or from the grid.
    event OrderClaimed(
        uint64 indexed roundId,
        uint64 indexed orderId,
        address indexed owner,
        Side side,
        uint256 fillWh,
        uint256 money,
        uint256 moneyRefund,
        uint256 energyRefund,
        uint256 gridWh
    );
    /// @notice Emitted when an unrevealed commitment's deposit is returned (no fill).
    /// @param roundId The round.
    /// @param orderId The commitment.
    /// @param owner Who was refunded.
    /// @param moneyRefund Settlement units returned.
    /// @param energyRefund Wh returned.
    event CommitmentRefunded(
        uint64 indexed roundId,
        uint64 indexed orderId,
        address indexed owner,
        uint256 moneyRefund,
        uint256 energyRefund
    );
    /// @notice Emitted with CommitmentRefunded: the part of an unrevealed commitment's deposits it forfeits
    ///         (UNREVEALED_FORFEIT_PERCENT, 10 %), paid to `forfeitRecipient()`.
    /// @param roundId The round.
    /// @param orderId The commitment.
    /// @param owner The committer.
    /// @param money Settlement units forfeited.
    /// @param energy Wh forfeited.
    event CommitmentForfeited(
        uint64 indexed roundId, uint64 indexed orderId, address indexed owner, uint256 money, uint256 energy
    );
    /// @notice Emitted when the operator changes the grid tariffs (applies to rounds opened afterwards).
    /// @param retailPrice New retail price, settlement units per kWh.
    /// @param feedInTariff New feed-in tariff, settlement units per kWh.
    event GridTariffsSet(uint256 retailPrice, uint256 feedInTariff);
    /// @notice Emitted when the admin changes the schedule (applies to rounds opened afterwards).
    /// @param intervalSeconds Bidding window length.
    /// @param revealSeconds Reveal window length in sealed rounds.
    /// @param sealedBids Whether new rounds are commit-reveal.
    event ScheduleSet(uint64 intervalSeconds, uint64 revealSeconds, bool sealedBids);
    /// @notice Emitted when the admin changes the minimum order size.
    /// @param minAmountWh The new minimum, Wh.
    event MinAmountSet(uint256 minAmountWh);

    // ------------------------------------------------------------------ trading
    /// @notice Places an open bid or ask in the current round, escrowing money (bid: ceil(price*Wh/1000) at the
    ///         effective price) or energy (ask: amountWh), and books it at the tail of its price group in the sorted
    ///         book. The place never depends on the hint: at a price already booked it follows that price's last
    ///         order; at a new price, the last order of the nearest better price (found in an on-chain price index).
    /// @dev The hint only saves gas at a new price: it is walked at most maxHintSteps() positions, then the index
    ///      answers. Any hint (stale, 0, of another round or side, not an order) books the order at the same place.
    /// @param roundId The current round (`currentRoundId()`); a different one reverts, so a late order never
    ///        lands in the next round by surprise.
    /// @param side Bid or ask.
    /// @param limitPrice Highest (bid) or lowest (ask) price, settlement units per kWh: 1..maxPrice(), a bid at or
    ///        above the round's feed-in tariff, an ask at or below its retail price.
    /// @param amountWh Energy, minAmount()..maxAmount() Wh. An owner books one side per round (no self-trade).
    /// @param hintPrevId The booked order of the same round and side expected to precede it (0 = the head); a gas
    ///        saving only.
    /// @return orderId The new order's id.
    function submitOrder(uint64 roundId, Side side, uint128 limitPrice, uint128 amountWh, uint64 hintPrevId)
        external
        returns (uint64 orderId);

    /// @notice The caller (an agent) places an open order for `owner` within the owner's TradingMandate (open rounds
    ///         only; sealed rounds need the owner's own commitment). The order is the owner's: the owner's tokens are
    ///         escrowed and its claim pays the owner. The bounds are checked at the order's effective price (an ask
    ///         raised to the feed-in tariff, a bid capped at retail): an ask needs it >= minSellPrice and leaves the
    ///         owner's energy >= reserveWh; a bid needs it <= maxBuyPrice and counts its escrow
    ///         ceil(price * Wh / 1000) against the daily cap (a refund at claim does not give the allowance back).
    /// @param owner The household.
    /// @param roundId As submitOrder.
    /// @param side As submitOrder.
    /// @param limitPrice As submitOrder.
    /// @param amountWh As submitOrder.
    /// @param hintPrevId As submitOrder.
    /// @return orderId The new order's id.
    function submitOrderFor(
        address owner,
        uint64 roundId,
        Side side,
        uint128 limitPrice,
        uint128 amountWh,
        uint64 hintPrevId
    ) external returns (uint64 orderId);

    /// @notice Sealed rounds: commits to an order without showing it, escrowing deposits that must cover it.
    /// @param roundId The current round.
    /// @param commitment keccak256(abi.encode(side, limitPrice, amountWh, salt, msg.sender)) (`commitmentHash`).
    /// @param moneyDeposit Settlement units escrowed (a bid needs ceil(effective price * Wh / 1000)).
    /// @param energyDeposit Wh escrowed (an ask needs its amount). Escrow both to hide the side.
    /// @return orderId The id the order keeps when revealed.
    function commitOrder(uint64 roundId, bytes32 commitment, uint128 moneyDeposit, uint128 energyDeposit)
        external
        returns (uint64 orderId);

    /// @notice Sealed rounds, reveal window: opens a commitment and books the order into the sorted book, at the tail
    ///         of its price group (equal prices rank by reveal order, see rule 2).
    /// @param orderId The commitment.
    /// @param side Bid or ask.
    /// @param limitPrice The committed price.
    /// @param amountWh The committed amount.
    /// @param salt The committed salt.
    /// @param hintPrevId As in `submitOrder`.
    function revealOrder(
        uint64 orderId,
        Side side,
        uint128 limitPrice,
        uint128 amountWh,
        bytes32 salt,
        uint64 hintPrevId
    ) external;

    /// @notice Freezes a round's book once its window is over. Anyone may call.
    /// @param roundId The round.
    function closeRound(uint64 roundId) external;

    /// @notice Advances clearing by at most `maxSteps` matches (each step settles one bid/ask pair); finishes
    ///        when the book stops crossing. Anyone may call, as often as needed.
    /// @param roundId A Closed or Clearing round.
    /// @param maxSteps Bound on the work of this call (gas grows linearly with it).
    /// @return done True when the round is Cleared.
    function clearRound(uint64 roundId, uint256 maxSteps) external returns (bool done);

    /// @notice Pays an order's fill and refund to its owner (anyone may trigger it). Unrevealed commitments get
    ///         their deposits back without fill, less 10 % of each that goes to `forfeitRecipient()`.
    /// @param orderId The order.
    /// @return s What was paid.
    function claim(uint64 orderId) external returns (Settlement memory s);

    /// @notice `claim` for several orders (caller-supplied list, at most maxClaimBatch()); orders already claimed
    ///         are skipped, so a claim front-running the batch cannot revert it.
    /// @param orderIds The orders.
    function claimMany(uint64[] calldata orderIds) external;

    // ------------------------------------------------------------------ administration
    /// @notice Sets grid retail price and feed-in tariff for rounds opened from now on. Operator only.
    /// @param retailPrice Settlement units per kWh, > 0.
    /// @param feedInTariff Settlement units per kWh, <= retailPrice.
    function setGridTariffs(uint128 retailPrice, uint128 feedInTariff) external;

    /// @notice Sets the minimum order size (applies to orders submitted or revealed from now on). Admin only.
    /// @param minAmountWh New minimum, 1..maxAmount() Wh.
    function setMinAmount(uint128 minAmountWh) external;

    /// @notice Sets window length, reveal length and mode for rounds opened from now on. Admin only.
    /// @param intervalSeconds Bidding window, 1 s .. 1 day.
    /// @param revealSeconds Reveal window of sealed rounds, 1 s .. 1 day.
    /// @param sealedBids Whether new rounds are commit-reveal.
    function setSchedule(uint64 intervalSeconds, uint64 revealSeconds, bool sealedBids) external;

    // ------------------------------------------------------------------ views
    /// @notice The round whose bidding window contains the current block: block.timestamp rounded down to
    ///         the interval.
    /// @return The round id.
    function currentRoundId() external view returns (uint64);

    /// @notice A round's phase now (stored phase combined with the clock).
    /// @param roundId The round.
    /// @return The phase.
    function phaseOf(uint64 roundId) external view returns (Phase);

    /// @notice A round's record.
    /// @param roundId The round.
    /// @return The record (all zero when it has no order).
    function getRound(uint64 roundId) external view returns (Round memory);

    /// @notice An order's record.
    /// @param orderId The order.
    /// @return The record.
    function getOrder(uint64 orderId) external view returns (Order memory);

    /// @notice Preview of what `claim` would pay (reverts unless the round is Cleared).
    /// @param orderId The order.
    /// @return The settlement.
    function settlementOf(uint64 orderId) external view returns (Settlement memory);

    /// @notice A page of one side of the book in matching order (for hints and supply/demand curves).
    /// @param roundId The round.
    /// @param side Bid or ask.
    /// @param startAfter Start after this order (0 = from the head).
    /// @param limit Most orders returned.
    /// @return ids Order ids.
    /// @return prices Effective prices.
    /// @return amounts Amounts, Wh.
    function bookPage(uint64 roundId, Side side, uint64 startAfter, uint256 limit)
        external
        view
        returns (uint64[] memory ids, uint128[] memory prices, uint128[] memory amounts);

    /// @notice The commitment hash `commitOrder` expects.
    /// @param side Bid or ask.
    /// @param limitPrice Price.
    /// @param amountWh Amount.
    /// @param salt Secret random salt.
    /// @param owner The committer.
    /// @return The hash.
    function commitmentHash(Side side, uint128 limitPrice, uint128 amountWh, bytes32 salt, address owner)
        external
        pure
        returns (bytes32);

    /// @notice Current grid tariffs (for rounds opened from now on).
    /// @return retailPrice Settlement units per kWh.
    /// @return feedInTariff Settlement units per kWh.
    function gridTariffs() external view returns (uint128 retailPrice, uint128 feedInTariff);

    /// @notice Current schedule (for rounds opened from now on).
    /// @return intervalSeconds Bidding window.
    /// @return revealSeconds Reveal window of sealed rounds.
    /// @return sealedBids Whether new rounds are sealed.
    function schedule() external view returns (uint64 intervalSeconds, uint64 revealSeconds, bool sealedBids);

    /// @notice Id the next order or commitment will get (ids start at 1 and are global across rounds).
    /// @return The id.
    function nextOrderId() external view returns (uint64);

    /// @notice Minimum order size, Wh.
    /// @return The minimum.
    function minAmount() external view returns (uint256);

    /// @notice Largest limit price an order may give (MARKET_MAX_VALUE, as in the order book).
    /// @return The maximum, settlement units per kWh.
    function maxPrice() external pure returns (uint256);

    /// @notice Largest order amount (MARKET_MAX_VALUE, as in the order book).
    /// @return The maximum, Wh.
    function maxAmount() external pure returns (uint256);

    /// @notice Most positions the contract walks from an insertion hint before its price index finds the place
    ///         instead (a hint only saves gas; no hint makes an order fail).
    /// @return The bound.
    function maxHintSteps() external pure returns (uint256);

    /// @notice Longest `claimMany` batch.
    /// @return The bound.
    function maxClaimBatch() external pure returns (uint256);

    /// @notice Who receives the forfeited part of unrevealed commitments (the operator given at deployment).
    /// @return The address.
    function forfeitRecipient() external view returns (address);

    /// @notice The energy token (Wh) the auction trades.
    /// @return The token address.
    function energyToken() external view returns (address);

    /// @notice The settlement token (mgMYR) the auction settles in.
    /// @return The token address.
    function settlementToken() external view returns (address);
}
