// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Side} from "./MarketTypes.sol";

/// @title ITradingMandate: the on-chain bounds of an automatic-trading agent
/// @notice A household (the owner) lets ONE agent address trade for it on the project's venues, within bounds that
///         this contract enforces: a compromised agent key can trade only inside them, and the owner's revoke takes
///         effect in the next block. The venues (registered by the admin) call `authorize` from their "for owner"
///         entry points before moving any of the owner's tokens; tokens always move from and to the owner.
/// @dev Day of the daily spending cap: (block.timestamp + dayOffset) / 86400, dayOffset fixed at deployment (the
///      community's time zone, e.g. +8 h; a zone west of UTC is given modulo a day). Spend counting rule: a buy
///      counts its full escrowed cost (what the order may spend at its limit) on the day it is placed; refunds of
///      cancelled, expired or unfilled remainders return to the owner but do NOT give the day's allowance back
///      (conservative: the agent can never commit more than the cap in one day). See docs/security.md.
interface ITradingMandate {
    /// @notice The bounds an owner grants. Prices in settlement units per kWh, energy in Wh, spend in settlement
    ///         units per community day. `venues` bitmask: 1 order book, 2 auction, 4 direct offers. `weights` are
    ///         the owner's seller-selection preferences for the agent (read, not enforced). validUntil 0 = open-ended.
    struct Terms {
        address agent;
        uint128 minSellPrice;
        uint128 maxBuyPrice;
        uint128 reserveWh;
        uint128 dailySpendCap;
        uint8 venues;
        uint8[6] weights;
        uint64 validUntil;
    }

    // ------------------------------------------------------------------ errors
    /// @notice The owner has no mandate (none granted, or revoked).
    error MandateMissing(address owner);
    /// @notice The caller is not the agent the owner mandated.
    error MandateWrongAgent(address owner, address agent);
    /// @notice The owner's mandate ended at `validUntil`.
    error MandateExpired(address owner, uint64 validUntil);
    /// @notice The owner did not allow the agent to use this venue.
    error MandateVenueNotAllowed(address owner, uint8 venue);
    /// @notice A sell below the owner's minimum price.
    error MandatePriceBelowMinimum(uint256 price, uint256 minSellPrice);
    /// @notice A buy above the owner's maximum price.
    error MandatePriceAboveMaximum(uint256 price, uint256 maxBuyPrice);
    /// @notice A sell that would leave the owner less energy than the reserve.
    error MandateReserveBreached(uint256 balanceWh, uint256 amountWh, uint256 reserveWh);
    /// @notice A buy whose cost would take today's spend above the cap.
    error MandateDailyCapExceeded(uint256 spentToday, uint256 cost, uint256 dailySpendCap);
    /// @notice The caller of `authorize` is not the registered venue `venue`.
    error MandateNotVenue(address caller, uint8 venue);
    /// @notice The terms name no agent, or the owner as its own agent.
    error MandateInvalidAgent(address agent);
    /// @notice The venues mask is empty or names an unknown venue (valid: 1..7).
    error MandateInvalidVenues(uint8 venues);
    /// @notice validUntil lies in the past.
    error MandateInvalidValidity(uint64 validUntil);
    /// @notice A signed grant presented after its deadline.
    error MandateSignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature of a grant is not the owner's (wrong signer, altered terms, or already used).
    error MandateBadSignature(address owner, address recovered);
    /// @notice An invalid admin parameter (zero address, or a venue bit other than 0, 1, 2 or 4).
    error MandateInvalidParameter();

    // ------------------------------------------------------------------ events
    /// @notice `owner` mandated `agent` with `terms` (replacing any earlier mandate of the owner).
    /// @param owner The household.
    /// @param agent The agent address.
    /// @param terms The bounds.
    event MandateGranted(address indexed owner, address indexed agent, Terms terms);
    /// @notice `owner` withdrew the mandate of `agent` (by revoke, or by granting to another agent).
    /// @param owner The household.
    /// @param agent The agent that lost the mandate.
    event MandateRevoked(address indexed owner, address indexed agent);
    /// @notice A venue let `agent` trade for `owner` within the bounds.
    /// @param owner The household.
    /// @param agent The agent.
    /// @param venue The venue bit (1 order book, 2 auction, 4 direct).
    /// @param side Buy or Sell.
    /// @param price Limit price, units per kWh.
    /// @param amountWh Order size.
    /// @param cost Settlement units counted against today's spend (0 for a sell).
    /// @param spentToday Today's spend after this use.
    event MandateUsed(
        address indexed owner,
        address indexed agent,
        uint8 venue,
        Side side,
        uint256 price,
        uint256 amountWh,
        uint256 cost,
        uint256 spentToday
    );
    /// @notice The admin registered `venue` as venue bit `bit` (0: unregistered).
    /// @param venue The venue contract.
    /// @param bit Its venue bit.
    event VenueSet(address indexed venue, uint8 bit);

    // ------------------------------------------------------------------ owner
    /// @notice Mandate `terms.agent` to trade for the caller within `terms` (replaces the caller's mandate).
    /// @param terms The bounds.
    function grant(Terms calldata terms) external;

    /// @notice Anyone submits the owner's EIP-712 signed grant (how browser-wallet users grant without a key here).
    /// @dev Signed struct: Mandate(owner, agent, minSellPrice, maxBuyPrice, reserveWh, dailySpendCap, venues,
    ///      weights, validUntil, nonce, deadline) in domain "EnergyTradingMandate" version "1". The owner's nonce
    ///      increases on use, so a signature grants once.
    /// @param owner The household that signed.
    /// @param terms The bounds it signed.
    /// @param deadline Last timestamp at which the signature may be used.
    /// @param signature 65-byte ECDSA signature of the EIP-712 digest.
    function grantBySig(address owner, Terms calldata terms, uint256 deadline, bytes calldata signature) external;

    /// @notice Withdraw the caller's mandate: every later authorize for the caller reverts (MandateMissing).
    function revoke() external;

    // ------------------------------------------------------------------ venues
    /// @notice Check one order of `agent` for `owner` against the owner's bounds and count a buy's cost against
    ///         today's spend. Only registered venues may call it; it reverts with the Mandate* error of the first
    ///         bound broken: Missing, WrongAgent, Expired, VenueNotAllowed, then PriceBelowMinimum and
    ///         ReserveBreached (sell: the owner's energy balance minus amountWh must stay >= reserveWh) or
    ///         PriceAboveMaximum and DailyCapExceeded (buy).
    /// @param owner The household.
    /// @param agent The venue's caller.
    /// @param venue The calling venue's bit.
    /// @param side Buy or Sell.
    /// @param price The order's price, units per kWh.
    /// @param amountWh The order's size.
    /// @param cost For a buy, the settlement units the order escrows (counted); ignored for a sell. Today's spend
    ///        after the order is in MandateUsed.
    function authorize(
        address owner,
        address agent,
        uint8 venue,
        Side side,
        uint256 price,
        uint256 amountWh,
        uint256 cost
    ) external;

    /// @notice Reverts unless `agent` holds a live mandate of `owner` for `venue` (MandateMissing, WrongAgent,
    ///         Expired, VenueNotAllowed): what a venue checks before the agent cancels an owner's order.
    /// @param owner The household.
    /// @param agent The caller.
    /// @param venue The venue bit.
    function requireAgent(address owner, address agent, uint8 venue) external view;

    // ------------------------------------------------------------------ admin
    /// @notice Register `venue` as venue bit `bit` (1, 2 or 4), or unregister it (0). Admin only.
    /// @param venue The venue contract.
    /// @param bit Its venue bit.
    function setVenue(address venue, uint8 bit) external;

    // ------------------------------------------------------------------ views
    /// @notice The owner's stored terms (agent 0: none or revoked; expired terms are returned as stored).
    /// @param owner The household.
    /// @return The terms.
    function termsOf(address owner) external view returns (Terms memory);

    /// @notice Whether the owner has a mandate that is neither revoked nor expired.
    /// @param owner The household.
    /// @return True when live.
    function isLive(address owner) external view returns (bool);

    /// @notice Settlement units the owner's agent has committed to buys today.
    /// @param owner The household.
    /// @return The spend of the current community day.
    function spentToday(address owner) external view returns (uint256);

    /// @notice The current community day number.
    /// @return (block.timestamp + dayOffset) / 86400.
    function today() external view returns (uint256);

    /// @notice Seconds added to block.timestamp before dividing into days.
    /// @return The offset.
    function dayOffset() external view returns (uint256);

    /// @notice The owner's next grantBySig nonce.
    /// @param owner The household.
    /// @return The nonce.
    function nonces(address owner) external view returns (uint256);

    /// @notice The venue bit of a contract (0: not a venue).
    /// @param venue The contract.
    /// @return Its bit.
    function venueOf(address venue) external view returns (uint8);

    /// @notice How many owners have mandated `agent` (revoked ones excluded, expired ones included).
    /// @param agent The agent.
    /// @return The count.
    function ownerCount(address agent) external view returns (uint256);

    /// @notice A page of the owners that have mandated `agent`: positions `start` .. start + limit - 1.
    /// @param agent The agent.
    /// @param start First position.
    /// @param limit Most owners returned.
    /// @return owners The page (shorter at the end).
    function ownersOf(address agent, uint256 start, uint256 limit) external view returns (address[] memory owners);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    /// @return The separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice The EIP-712 type hash of Mandate.
    /// @return The type hash.
    function mandateTypehash() external pure returns (bytes32);

    /// @notice The EIP-712 digest the owner signs for `terms` with its current nonce and `deadline`.
    /// @param owner The household.
    /// @param terms The bounds.
    /// @param deadline The signature's deadline.
    /// @return The digest.
    function grantDigest(address owner, Terms calldata terms, uint256 deadline) external view returns (bytes32);

    /// @notice The energy token whose balance the reserve is checked against.
    /// @return Its address.
    function energyToken() external view returns (address);
}
