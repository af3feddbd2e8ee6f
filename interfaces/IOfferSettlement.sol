// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOfferSettlement: direct meter-to-meter trades of signed sell offers
/// @notice A seller signs an `Offer` off chain (EIP-712, domain "EnergyOfferSettlement" version "1", this chain's id
///         and this contract's address; `energy_chain/offers.py` is the same definition in Python). Any buyer fills
///         part or all of it: energy tokens move from the seller to the buyer and settlement tokens from the buyer to
///         the seller, both with `transferFrom`, in the same transaction. The contract never holds tokens.
/// @dev Units as everywhere in the project: `price` in settlement units per kWh, amounts in Wh,
///      cost = floor(price * amountWh / 1000).
///      An offer can be filled while validFrom <= block.timestamp < validUntil, while it is not cancelled, while its
///      `counter` equals the seller's current counter, and only up to its signed amount. Fills are tracked per
///      offer in the (seller, salt) lane it owns, bound to the offer by the top 120 bits of its hash; a lane frees
///      when its offer expires (the seller may then sign a new offer with the same salt: cheaper first fills), and
///      another offer of the same seller and salt is refused (SaltInUse) while the lane's offer is valid.
///      A fill must be at least minFillWh() unless it takes the offer's whole remainder.
///      Before anything moves, the seller's energy balance and allowance and the buyer's settlement balance and
///      allowance are checked; a shortfall reverts with a named error carrying have/need (or is skipped in
///      `fillMany` with `skipGone`).
interface IOfferSettlement {
    /// @notice A sell offer as the seller signs it (field order = the EIP-712 type
    ///         `Offer(address seller,uint64 price,uint64 amountWh,uint64 validFrom,uint64 validUntil,uint256 salt,uint256 counter)`).
    /// @param seller Who sells (and signs).
    /// @param price Settlement units per kWh.
    /// @param amountWh Most Wh the offer sells over all its fills.
    /// @param validFrom First unix time at which it can be filled.
    /// @param validUntil Unix time from which it can no longer be filled.
    /// @param salt The offer's lane: random, or the salt of one of the seller's own offers that has expired
    ///        (energy_chain's client reuses them); one live offer per (seller, salt).
    /// @param counter The seller's counter at signing time (counterOf); raising the counter voids the offer.
    struct Offer {
        address seller;
        uint64 price;
        uint64 amountWh;
        uint64 validFrom;
        uint64 validUntil;
        uint256 salt;
        uint256 counter;
    }

    /// @notice One entry of `fillMany`: an offer, its signature and the Wh to buy from it.
    /// @param offer The signed terms.
    /// @param signature The seller's 65-byte signature (r, s, v) of the offer's EIP-712 digest.
    /// @param amountWh Wh to buy.
    struct Fill {
        Offer offer;
        bytes signature;
        uint256 amountWh;
    }

    /// @notice The outcome of the checks of one prospective fill (`check`, `OfferSkipped`, `offerStates`).
    ///         Codes NotYetValid..BuyerAllowanceShort, SaltInUse and MandateRefused mean the offer is gone (for now)
    ///         or a party is short: `fillMany` with `skipGone` skips them. MandateRefused: the offer is signed by the
    ///         seller's mandated agent (TradingMandate) and the seller's bounds refuse it now (expired, direct venue
    ///         not granted, price below minSellPrice, or the fill would breach the reserve); a signer that is neither
    ///         the seller nor its mandated agent is BadSignature. ExceedsRemaining..BadSignature are caller errors and
    ///         always revert. The contract checks in this order, the first failure wins: ZeroAmount, SelfFill,
    ///         BadSignature, Cancelled, Voided, NotYetValid, Expired, SaltInUse, Filled, ExceedsRemaining,
    ///         BelowMinimum, ZeroCost, SellerBalanceShort, SellerAllowanceShort, BuyerBalanceShort,
    ///         BuyerAllowanceShort.
    enum Check {
        Ok,
        NotYetValid,
        Expired,
        Cancelled,
        Voided,
        Filled,
        SellerBalanceShort,
        SellerAllowanceShort,
        BuyerBalanceShort,
        BuyerAllowanceShort,
        ExceedsRemaining,
        ZeroAmount,
        BelowMinimum,
        ZeroCost,
        SelfFill,
        BadSignature,
        SaltInUse,
        MandateRefused
    }

    /// @notice The state of one offer as `offerStates` reports it.
    /// @param offerHash The offer's EIP-712 digest (the key of its fills).
    /// @param filledWh Wh filled so far.
    /// @param remainingWh Wh that can still be filled now (0 unless the offer is open).
    /// @param cancelled Whether the seller cancelled this offer.
    /// @param status Ok when fillable now, else NotYetValid, Expired, Cancelled, Voided (stale counter), Filled or
    ///        SaltInUse (another live offer of the seller holds the salt's lane).
    struct OfferState {
        bytes32 offerHash;
        uint256 filledWh;
        uint256 remainingWh;
        bool cancelled;
        Check status;
    }

    // ------------------------------------------------------------------ errors
    /// @notice Thrown when a token address or the minimum fill is zero at deployment.
    error OfferSettlementInvalidParameter();
    /// @notice Thrown when setMandate is called by anyone but the deployer (the one who may set it, once).
    /// @param caller The caller.
    error OfferSettlementNotDeployer(address caller);
    /// @notice Thrown when an offer signed by the seller's agent is refused by the seller's bounds and the mandate
    ///         gave no error of its own (fill and fillMany without skipGone revert with the Mandate* error).
    /// @param offerHash The offer.
    /// @param seller The seller.
    /// @param agent The signer.
    error OfferSettlementMandateRefused(bytes32 offerHash, address seller, address agent);
    /// @notice Thrown when the signature recovers neither to the offer's seller nor to its mandated agent.
    /// @param offerHash The offer.
    /// @param seller The offer's seller.
    /// @param recovered The address the signature recovers to (0 for a malformed signature).
    error OfferSettlementBadSignature(bytes32 offerHash, address seller, address recovered);
    /// @notice Thrown when the block time is before the offer's validFrom.
    /// @param offerHash The offer.
    /// @param validFrom Its first valid time.
    /// @param timestamp The block time.
    error OfferSettlementNotYetValid(bytes32 offerHash, uint256 validFrom, uint256 timestamp);
    /// @notice Thrown when the block time is at or after the offer's validUntil.
    /// @param offerHash The offer.
    /// @param validUntil Its end.
    /// @param timestamp The block time.
    error OfferSettlementExpired(bytes32 offerHash, uint256 validUntil, uint256 timestamp);
    /// @notice Thrown when the seller cancelled the offer.
    /// @param offerHash The offer.
    error OfferSettlementCancelled(bytes32 offerHash);
    /// @notice Thrown when the offer's counter is not the seller's current counter (voided by incrementCounter).
    /// @param offerHash The offer.
    /// @param offerCounter The counter it was signed with.
    /// @param currentCounter The seller's counter now.
    error OfferSettlementVoided(bytes32 offerHash, uint256 offerCounter, uint256 currentCounter);
    /// @notice Thrown when nothing of the offer remains.
    /// @param offerHash The offer.
    /// @param amountWh Its signed amount, all filled.
    error OfferSettlementFilled(bytes32 offerHash, uint256 amountWh);
    /// @notice Thrown when a fill asks for more than the offer has left.
    /// @param offerHash The offer.
    /// @param requestedWh What the fill asked for.
    /// @param remainingWh What is left.
    error OfferSettlementExceedsRemaining(bytes32 offerHash, uint256 requestedWh, uint256 remainingWh);
    /// @notice Thrown when a fill asks for 0 Wh.
    /// @param offerHash The offer.
    error OfferSettlementZeroAmount(bytes32 offerHash);
    /// @notice Thrown when a fill is below the minimum and does not take the offer's whole remainder.
    /// @param offerHash The offer.
    /// @param amountWh What the fill asked for.
    /// @param minFillWh The minimum.
    error OfferSettlementBelowMinimum(bytes32 offerHash, uint256 amountWh, uint256 minFillWh);
    /// @notice Thrown when a fill would cost nothing (price * amount < 1000): energy for free.
    /// @param offerHash The offer.
    /// @param price The offer's price.
    /// @param amountWh The fill's amount.
    error OfferSettlementZeroCost(bytes32 offerHash, uint256 price, uint256 amountWh);
    /// @notice Thrown when the buyer is the offer's seller.
    /// @param offerHash The offer.
    /// @param account The seller and would-be buyer.
    error OfferSettlementSelfFill(bytes32 offerHash, address account);
    /// @notice Thrown when the seller holds fewer energy tokens than the fill delivers.
    /// @param offerHash The offer.
    /// @param seller The seller.
    /// @param have The seller's energy balance, Wh.
    /// @param need The fill's amount, Wh.
    error OfferSettlementSellerBalanceShort(bytes32 offerHash, address seller, uint256 have, uint256 need);
    /// @notice Thrown when the seller's energy allowance to this contract is below the fill's amount.
    /// @param offerHash The offer.
    /// @param seller The seller.
    /// @param have The allowance, Wh.
    /// @param need The fill's amount, Wh.
    error OfferSettlementSellerAllowanceShort(bytes32 offerHash, address seller, uint256 have, uint256 need);
    /// @notice Thrown when the buyer holds fewer settlement tokens than the fill costs.
    /// @param offerHash The offer.
    /// @param buyer The buyer.
    /// @param have The buyer's settlement balance.
    /// @param need The fill's cost.
    error OfferSettlementBuyerBalanceShort(bytes32 offerHash, address buyer, uint256 have, uint256 need);
    /// @notice Thrown when the buyer's settlement allowance to this contract is below the fill's cost.
    /// @param offerHash The offer.
    /// @param buyer The buyer.
    /// @param have The allowance.
    /// @param need The fill's cost.
    error OfferSettlementBuyerAllowanceShort(bytes32 offerHash, address buyer, uint256 have, uint256 need);
    /// @notice Thrown when another offer of the same seller and salt owns the lane and is still valid.
    /// @param offerHash The refused offer.
    /// @param seller Its seller.
    /// @param salt Its salt.
    /// @param heldUntil The lane's offer's validUntil: from then on this offer can use the lane.
    error OfferSettlementSaltInUse(bytes32 offerHash, address seller, uint256 salt, uint256 heldUntil);
    /// @notice Thrown when someone other than the seller cancels an offer.
    /// @param offerHash The offer.
    /// @param caller Who tried.
    error OfferSettlementNotSeller(bytes32 offerHash, address caller);
    /// @notice Thrown when an offer is cancelled twice.
    /// @param offerHash The offer.
    error OfferSettlementAlreadyCancelled(bytes32 offerHash);
    /// @notice Thrown when `fillMany` gets no entries, more than maxFillsCap() entries, or maxFills = 0.
    /// @param entries Entries given.
    /// @param maxFills The maxFills given.
    /// @param cap maxFillsCap().
    error OfferSettlementBadBatch(uint256 entries, uint256 maxFills, uint256 cap);
    /// @notice Thrown when `fillMany` with `skipGone` could fill none of its entries.
    /// @param skipped Entries skipped.
    /// @param firstOfferHash The first skipped offer.
    /// @param firstReason Why it was skipped.
    error OfferSettlementNothingFilled(uint256 skipped, bytes32 firstOfferHash, Check firstReason);

    // ------------------------------------------------------------------ events
    /// @notice Emitted for every fill: `amountWh` energy moved seller → buyer, `cost` settlement units buyer → seller.
    /// @param offerHash The offer.
    /// @param seller The seller.
    /// @param buyer The buyer.
    /// @param amountWh Wh traded.
    /// @param price The offer's price, settlement units per kWh.
    /// @param cost Settlement units paid: floor(price * amountWh / 1000).
    event OfferFilled(
        bytes32 indexed offerHash,
        address indexed seller,
        address indexed buyer,
        uint256 amountWh,
        uint256 price,
        uint256 cost
    );

    /// @notice Emitted by `fillMany` with `skipGone` for an entry it skipped (nothing moved for it).
    /// @param offerHash The offer.
    /// @param seller The seller.
    /// @param buyer The buyer.
    /// @param amountWh Wh the entry asked for.
    /// @param reason Why: NotYetValid, Expired, Cancelled, Voided, Filled, SaltInUse or one of the four shortfalls.
    event OfferSkipped(
        bytes32 indexed offerHash, address indexed seller, address indexed buyer, uint256 amountWh, Check reason
    );

    /// @notice Emitted when a seller cancels one offer.
    /// @param offerHash The offer.
    /// @param seller The seller.
    event OfferCancelled(bytes32 indexed offerHash, address indexed seller);

    /// @notice Emitted when a seller raises its counter, voiding every offer signed with an older counter.
    /// @param seller The seller.
    /// @param newCounter The counter new offers must carry.
    event CounterIncremented(address indexed seller, uint256 newCounter);

    // ------------------------------------------------------------------ trading
    /// @notice Buys `amountWh` of a signed offer. Reverts with the named error of the first failed check.
    /// @param offer The signed terms.
    /// @param signature The seller's signature of hashOffer(offer).
    /// @param amountWh Wh to buy: 1..remaining, at least minFillWh() unless it is the whole remainder.
    /// @return cost Settlement units paid to the seller.
    function fill(Offer calldata offer, bytes calldata signature, uint256 amountWh) external returns (uint256 cost);

    /// @notice The buyer's mandated agent (the caller) buys `amountWh` of a signed offer for `buyer`: every check of
    ///         `fill` with `buyer` as the buyer, then TradingMandate.authorize(buyer, caller, 4, Buy, price,
    ///         amountWh, cost), whose Mandate* error reverts the fill. Energy goes to the buyer; the buyer pays (it
    ///         approved this contract). VenueMandateNotSet until the mandate is set.
    /// @param buyer The household the agent buys for.
    /// @param offer The signed terms.
    /// @param signature The seller's (or the seller's mandated agent's) signature of hashOffer(offer).
    /// @param amountWh Wh to buy, as in `fill`.
    /// @return cost Settlement units the buyer paid to the seller.
    function fillFor(address buyer, Offer calldata offer, bytes calldata signature, uint256 amountWh)
        external
        returns (uint256 cost);

    /// @notice Settles several offers (typically several sellers) for the caller in one transaction.
    ///         Entries are taken in order until `maxFills` of them have filled. Without `skipGone` the batch is
    ///         atomic: any failed check reverts everything. With `skipGone`, an entry that is gone or short
    ///         (codes NotYetValid..BuyerAllowanceShort, SaltInUse) is skipped with an OfferSkipped event, and an
    ///         entry asking for more than its offer's remainder fills the remainder; caller errors still revert, and the call
    ///         reverts with OfferSettlementNothingFilled if no entry filled.
    /// @param fills The entries, 1..maxFillsCap() of them.
    /// @param skipGone Skip gone or short offers instead of reverting.
    /// @param maxFills Stop after this many fills (≥ 1): later entries are fallbacks, used only for skipped ones.
    /// @return filled Entries that filled.
    /// @return totalWh Wh bought.
    /// @return totalCost Settlement units paid.
    function fillMany(Fill[] calldata fills, bool skipGone, uint256 maxFills)
        external
        returns (uint256 filled, uint256 totalWh, uint256 totalCost);

    /// @notice Cancels one of the caller's offers for good (even a partly filled one). Reverts with
    ///         OfferSettlementSaltInUse when another live offer of the caller holds the salt's lane.
    /// @param offer The offer's terms (the caller must be its seller).
    function cancel(Offer calldata offer) external;

    /// @notice Voids every offer the caller signed so far: the counter jumps by a quasi-random amount (as in
    ///         Seaport), so offers signed in advance with a guessed future counter stay void too.
    /// @return newCounter The counter new offers must carry.
    function incrementCounter() external returns (uint256 newCounter);

    // ------------------------------------------------------------------ views
    /// @notice The EIP-712 digest of an offer: what its seller signs and the key of its fills.
    /// @param offer The terms.
    /// @return The digest.
    function hashOffer(Offer calldata offer) external view returns (bytes32);

    /// @notice What a fill of `amountWh` by `buyer` would meet now: the first failed check and its have/need.
    ///         Never reverts. For a shortfall, have/need are balance or allowance against amount or cost; for
    ///         ExceedsRemaining they are remaining/requested; for SaltInUse need is when the lane frees; otherwise
    ///         both 0.
    /// @param offer The terms.
    /// @param signature The seller's signature.
    /// @param buyer The prospective buyer.
    /// @param amountWh Wh to buy.
    /// @return result Ok, or the first failed check.
    /// @return have See above.
    /// @return need See above.
    function check(Offer calldata offer, bytes calldata signature, address buyer, uint256 amountWh)
        external
        view
        returns (Check result, uint256 have, uint256 need);

    /// @notice Fills, cancellation and what remains of many offers at once. Never reverts; looks at the first
    ///         maxStatesCap() offers only (the caller pages longer lists).
    /// @param offers The offers.
    /// @return states One entry per offer looked at, in order.
    function offerStates(Offer[] calldata offers) external view returns (OfferState[] memory states);

    /// @notice Wh filled so far of an offer (0 once its lane was reused after it expired).
    /// @param offer The offer's terms.
    /// @return The Wh.
    function filledWh(Offer calldata offer) external view returns (uint256);

    /// @notice Whether the seller cancelled an offer.
    /// @param offer The offer's terms.
    /// @return True when cancelled.
    function isCancelled(Offer calldata offer) external view returns (bool);

    /// @notice The raw lane of (seller, salt): which offer owns it and its fill state.
    /// @param seller The seller.
    /// @param salt The salt.
    /// @return fingerprint The owning offer's hash with its low 136 bits cleared (0: never used).
    /// @return validUntil The owning offer's validUntil: the lane is free from then on.
    /// @return filled Wh filled of the owning offer.
    /// @return cancelled Whether the owning offer is cancelled.
    function laneOf(address seller, uint256 salt)
        external
        view
        returns (bytes32 fingerprint, uint256 validUntil, uint256 filled, bool cancelled);

    /// @notice A seller's current counter: offers must carry it to be fillable.
    /// @param seller The seller.
    /// @return The counter (0 until the first incrementCounter).
    function counterOf(address seller) external view returns (uint256);

    /// @notice Smallest fill in Wh, except a fill that takes an offer's whole remainder (the order book's minimum).
    /// @return The minimum.
    function minFillWh() external view returns (uint256);

    /// @notice Most entries `fillMany` takes.
    /// @return The cap.
    function maxFillsCap() external pure returns (uint256);

    /// @notice Most offers `offerStates` looks at per call.
    /// @return The cap.
    function maxStatesCap() external pure returns (uint256);

    /// @notice The EIP-712 type hash of Offer.
    /// @return keccak256 of the type string.
    function offerTypehash() external pure returns (bytes32);

    /// @notice The EIP-712 domain separator (name, version, chain id, this contract).
    /// @return The separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice The energy token (Wh) sellers deliver.
    /// @return The token address.
    function energyToken() external view returns (address);

    /// @notice The settlement token buyers pay in.
    /// @return The token address.
    function settlementToken() external view returns (address);
}
