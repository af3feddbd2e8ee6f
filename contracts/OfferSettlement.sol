// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IOfferSettlement} from "../interfaces/IOfferSettlement.sol";
import {IMandatedVenue} from "../interfaces/IMandatedVenue.sol";
import {ITradingMandate} from "../interfaces/ITradingMandate.sol";
import {Side} from "../interfaces/MarketTypes.sol";
import {OfferLib} from "./libraries/OfferLib.sol";

/// @title OfferSettlement: fills of sell offers signed off chain (EIP-712), for direct meter-to-meter trading
/// @notice See IOfferSettlement for the rules. Energy moves seller → buyer and settlement units buyer → seller with
///         transferFrom in the fill's transaction; the contract holds no tokens and has no admin: only its deployer
///         may set the TradingMandate, once (IMandatedVenue), for fillFor and offers signed by a seller's agent.
/// @dev Storage: one word per (seller, salt) lane (Wh filled, cancelled flag, the owning offer's validUntil and the
///      top 120 bits of its hash; reusable once that offer expired) and one counter slot per seller (Seaport style).
///      Each entry is checked completely before its lane is written; its transfers run after (CEI per entry); no
///      reentrancy guard (the project's own hook-less ERC20s). EIP-712 as OpenZeppelin's, written in OfferLib (OZ 5.7's
///      does not compile for berlin). The mandate is asked only by fillFor and for a signature that is not the
///      seller's (the BadSignature branch): plain fills cost what they did. See docs/offers.md and docs/security.md.
contract OfferSettlement is IOfferSettlement, IMandatedVenue, IERC5267 {
    using SafeERC20 for IERC20;

    uint256 private constant MAX_FILLS = 32;
    uint256 private constant MAX_STATES = 256;
    uint8 private constant VENUE = 4; // the direct venue's TradingMandate bit

    /// @dev Lane word: bits 0-63 Wh filled, 64-127 the owning offer's validUntil, 128 cancelled, 136-255 the top 120
    ///      bits of the owning offer's hash (its fingerprint).
    uint256 private constant UNTIL_SHIFT = 64;
    uint256 private constant CANCELLED_BIT = 1 << 128;
    uint256 private constant PRINT_MASK = type(uint256).max << 136;

    IERC20 private immutable _energy;
    IERC20 private immutable _money;
    uint256 private immutable _minFill;
    bytes32 private immutable _cachedDomain;
    uint256 private immutable _cachedChainId;
    address private immutable _deployer; // may set the mandate, once

    mapping(address seller => mapping(uint256 salt => uint256 lane)) private _lanes;
    mapping(address seller => uint256) private _counters;
    ITradingMandate private _mandate;

    /// @param energy_ The energy token (Wh).
    /// @param money_ The settlement token.
    /// @param minFillWh_ Smallest fill in Wh (the order book's minimum order size at deployment).
    constructor(IERC20 energy_, IERC20 money_, uint256 minFillWh_) {
        if (address(energy_) == address(0) || address(money_) == address(0) || minFillWh_ == 0) {
            revert OfferSettlementInvalidParameter();
        }
        _energy = energy_;
        _money = money_;
        _minFill = minFillWh_;
        _cachedChainId = block.chainid;
        _cachedDomain = OfferLib.domainSeparator(address(this));
        _deployer = msg.sender;
    }

    /// @inheritdoc IMandatedVenue
    /// @dev Only the deployer (OfferSettlementNotDeployer); once, and never to zero (VenueMandateFixed).
    function setMandate(address mandate_) external {
        if (msg.sender != _deployer) revert OfferSettlementNotDeployer(msg.sender);
        if (mandate_ == address(0) || address(_mandate) != address(0)) revert VenueMandateFixed(address(_mandate));
        _mandate = ITradingMandate(mandate_);
        emit MandateSet(mandate_);
    }

    // ------------------------------------------------------------------ trading
    /// @inheritdoc IOfferSettlement
    function fill(Offer calldata offer, bytes calldata signature, uint256 amountWh)
        external
        returns (uint256 cost)
    {
        OfferLib.Verdict memory v = _evaluate(offer, signature, msg.sender, amountWh, false);
        if (v.result != Check.Ok) _retryAsAgent(offer, v, msg.sender, false, true);
        _settle(offer, v, msg.sender);
        return v.cost;
    }

    /// @inheritdoc IOfferSettlement
    function fillFor(address buyer, Offer calldata offer, bytes calldata signature, uint256 amountWh)
        external
        returns (uint256 cost)
    {
        ITradingMandate m = _mandate;
        if (address(m) == address(0)) revert VenueMandateNotSet();
        OfferLib.Verdict memory v = _evaluate(offer, signature, buyer, amountWh, false);
        if (v.result != Check.Ok) _retryAsAgent(offer, v, buyer, false, true);
        m.authorize(buyer, msg.sender, VENUE, Side.Buy, offer.price, v.amount, v.cost);
        _settle(offer, v, buyer);
        return v.cost;
    }

    /// @inheritdoc IOfferSettlement
    function fillMany(Fill[] calldata fills, bool skipGone, uint256 maxFills)
        external
        returns (uint256 filled, uint256 totalWh, uint256 totalCost)
    {
        uint256 n = fills.length;
        if (n == 0 || n > MAX_FILLS || maxFills == 0) revert OfferSettlementBadBatch(n, maxFills, MAX_FILLS);
        OfferLib.Tally memory t;
        for (uint256 i; i < n && t.filled < maxFills; ++i) {
            _fillEntry(fills[i], skipGone, t);
        }
        if (t.filled == 0) revert OfferSettlementNothingFilled(t.skipped, t.firstHash, t.firstReason);
        return (t.filled, t.totalWh, t.totalCost);
    }

    /// @inheritdoc IOfferSettlement
    function cancel(Offer calldata offer) external {
        bytes32 h = _hash(offer);
        if (msg.sender != offer.seller) revert OfferSettlementNotSeller(h, msg.sender);
        OfferLib.State memory s = _state(offer, h);
        if (s.heldUntil != 0) revert OfferSettlementSaltInUse(h, offer.seller, offer.salt, s.heldUntil);
        if (s.cancelled) revert OfferSettlementAlreadyCancelled(h);
        _write(offer, h, s.filled, true);
        emit OfferCancelled(h, msg.sender);
    }

    /// @inheritdoc IOfferSettlement
    function incrementCounter() external returns (uint256 newCounter) {
        // As Seaport: jump by the upper half of the previous block hash (plus one, so it always moves); 2^128
        // increments would be needed to overflow.
        newCounter = _counters[msg.sender] + 1 + (uint256(blockhash(block.number - 1)) >> 128);
        _counters[msg.sender] = newCounter;
        emit CounterIncremented(msg.sender, newCounter);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc IOfferSettlement
    function hashOffer(Offer calldata offer) external view returns (bytes32) {
        return _hash(offer);
    }

    /// @inheritdoc IOfferSettlement
    function check(Offer calldata offer, bytes calldata signature, address buyer, uint256 amountWh)
        external
        view
        returns (Check result, uint256 have, uint256 need)
    {
        OfferLib.Verdict memory v = _evaluate(offer, signature, buyer, amountWh, false);
        if (v.result == Check.BadSignature) _agentTerms(offer, v, buyer, false);
        return (v.result, v.have, v.need);
    }

    /// @inheritdoc IOfferSettlement
    function offerStates(Offer[] calldata offers) external view returns (OfferState[] memory states) {
        uint256 n = offers.length < MAX_STATES ? offers.length : MAX_STATES;
        states = new OfferState[](n);
        for (uint256 i; i < n; ++i) {
            Offer calldata o = offers[i];
            bytes32 h = _hash(o);
            OfferLib.State memory s = _state(o, h);
            Check status = _validity(o, s);
            if (status == Check.Ok && s.filled >= o.amountWh) status = Check.Filled;
            uint256 remaining = status == Check.Ok ? o.amountWh - s.filled : 0;
            states[i] = OfferState(h, s.filled, remaining, s.cancelled, status);
        }
    }

    /// @inheritdoc IOfferSettlement
    function filledWh(Offer calldata offer) external view returns (uint256) {
        return _state(offer, _hash(offer)).filled;
    }

    /// @inheritdoc IOfferSettlement
    function isCancelled(Offer calldata offer) external view returns (bool) {
        return _state(offer, _hash(offer)).cancelled;
    }

    /// @inheritdoc IOfferSettlement
    function laneOf(address seller, uint256 salt)
        external
        view
        returns (bytes32 fingerprint, uint256 validUntil, uint256 filled, bool cancelled)
    {
        uint256 lane = _lanes[seller][salt];
        return (bytes32(lane & PRINT_MASK), uint64(lane >> UNTIL_SHIFT), uint64(lane), lane & CANCELLED_BIT != 0);
    }

    /// @inheritdoc IOfferSettlement
    function counterOf(address seller) external view returns (uint256) {
        return _counters[seller];
    }

    /// @inheritdoc IOfferSettlement
    function minFillWh() external view returns (uint256) {
        return _minFill;
    }

    /// @inheritdoc IOfferSettlement
    function maxFillsCap() external pure returns (uint256) {
        return MAX_FILLS;
    }

    /// @inheritdoc IOfferSettlement
    function maxStatesCap() external pure returns (uint256) {
        return MAX_STATES;
    }

    /// @inheritdoc IOfferSettlement
    function offerTypehash() external pure returns (bytes32) {
        return OfferLib.OFFER_TYPEHASH;
    }

    /// @inheritdoc IOfferSettlement
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", OfferLib.NAME, OfferLib.VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IMandatedVenue
    function mandate() external view returns (address) {
        return address(_mandate);
    }

    /// @inheritdoc IOfferSettlement
    function energyToken() external view returns (address) {
        return address(_energy);
    }

    /// @inheritdoc IOfferSettlement
    function settlementToken() external view returns (address) {
        return address(_money);
    }

    // ------------------------------------------------------------------ internals
    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomain : OfferLib.domainSeparator(address(this));
    }

    function _hash(Offer calldata o) private view returns (bytes32) {
        return OfferLib.typedDataHash(_domainSeparator(), OfferLib.structHash(o));
    }

    /// @dev The fill state of offer `o` (hash `h`) from its (seller, salt) lane: its own record when the lane's
    ///      fingerprint is this offer's; nothing filled when the lane is empty or its offer has expired (that offer
    ///      can never fill again, so the lane is free); else the lane is held by another live offer.
    function _state(Offer calldata o, bytes32 h) private view returns (OfferLib.State memory s) {
        uint256 lane = _lanes[o.seller][o.salt];
        if (lane & PRINT_MASK == uint256(h) & PRINT_MASK) {
            s.filled = uint64(lane);
            s.cancelled = lane & CANCELLED_BIT != 0;
        } else {
            uint256 until = uint64(lane >> UNTIL_SHIFT);
            if (until > block.timestamp) s.heldUntil = until;
        }
    }

    /// @dev Records `filled` Wh (<= o.amountWh < 2^64) and the cancelled flag of offer `o` in its lane.
    function _write(Offer calldata o, bytes32 h, uint256 filled, bool cancelled) private {
        _lanes[o.seller][o.salt] = (uint256(h) & PRINT_MASK) | (cancelled ? CANCELLED_BIT : 0)
            | (uint256(o.validUntil) << UNTIL_SHIFT) | filled;
    }

    /// @dev Cancelled, voided (stale counter), not yet valid, expired, or its salt's lane held by another live offer:
    ///      Ok when none applies.
    function _validity(Offer calldata o, OfferLib.State memory s) private view returns (Check) {
        if (s.cancelled) return Check.Cancelled;
        if (o.counter != _counters[o.seller]) return Check.Voided;
        if (block.timestamp < o.validFrom) return Check.NotYetValid;
        if (block.timestamp >= o.validUntil) return Check.Expired;
        if (s.heldUntil != 0) return Check.SaltInUse;
        return Check.Ok;
    }

    /// @dev Every check of one fill, in the documented order; nothing is written. With `clamp`, a request above
    ///      the remainder is cut to the remainder (fillMany with skipGone) instead of failing.
    function _evaluate(Offer calldata o, bytes calldata sig, address buyer, uint256 amount, bool clamp)
        private
        view
        returns (OfferLib.Verdict memory v)
    {
        v.offerHash = _hash(o);
        v.amount = amount;
        if (amount == 0) return _fail(v, Check.ZeroAmount);
        if (buyer == o.seller) return _fail(v, Check.SelfFill);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(v.offerHash, sig);
        if (err != ECDSA.RecoverError.NoError || signer != o.seller) {
            v.recovered = signer;
            return _fail(v, Check.BadSignature);
        }
        return _terms(o, buyer, clamp, v);
    }

    /// @dev The checks after the signature's (validity, remainder, minimum, cost, funding) into `v`.
    function _terms(Offer calldata o, address buyer, bool clamp, OfferLib.Verdict memory v)
        private
        view
        returns (OfferLib.Verdict memory)
    {
        uint256 amount = v.amount;
        OfferLib.State memory s = _state(o, v.offerHash);
        v.filled = s.filled;
        Check validity = _validity(o, s);
        if (validity != Check.Ok) {
            if (validity == Check.SaltInUse) v.need = s.heldUntil; // when the lane frees
            return _fail(v, validity);
        }
        if (s.filled >= o.amountWh) return _fail(v, Check.Filled);
        uint256 remaining = o.amountWh - s.filled;
        if (amount > remaining) {
            if (!clamp) {
                (v.have, v.need) = (remaining, amount);
                return _fail(v, Check.ExceedsRemaining);
            }
            v.amount = amount = remaining;
        }
        if (amount < _minFill && amount != remaining) return _fail(v, Check.BelowMinimum);
        v.cost = OfferLib.cost(o.price, amount);
        if (v.cost == 0) return _fail(v, Check.ZeroCost);
        (v.result, v.have, v.need) = OfferLib.funding(_energy, _money, address(this), o.seller, buyer, amount, v.cost);
        return v;
    }

    function _fail(OfferLib.Verdict memory v, Check result) private pure returns (OfferLib.Verdict memory) {
        v.result = result;
        return v;
    }

    /// @dev A signature not the seller's (BadSignature) may be its mandated agent's: then the other checks run, and
    ///      the seller's bounds (OfferLib.sellAllowed; MandateRefused). Returns whether it was the agent's.
    function _agentTerms(Offer calldata o, OfferLib.Verdict memory v, address buyer, bool clamp)
        private
        view
        returns (bool)
    {
        address agent = v.recovered;
        if (agent == address(0) || !OfferLib.isAgentOf(_mandate, o.seller, agent)) return false;
        v.result = Check.Ok;
        _terms(o, buyer, clamp, v);
        if (v.result == Check.Ok && !OfferLib.sellAllowed(_mandate, _energy, o.seller, o.price, v.amount, VENUE)) {
            v.result = Check.MandateRefused;
        }
        return true;
    }

    /// @dev After a failed check: an offer its seller's agent signed gets its own checks and, when they pass, the
    ///      mandate's authorize (MandateUsed). When `strict`, a refusal reverts (the Mandate* error), as any failure.
    function _retryAsAgent(Offer calldata o, OfferLib.Verdict memory v, address buyer, bool clamp, bool strict)
        private
    {
        if (v.result == Check.BadSignature && _agentTerms(o, v, buyer, clamp)) {
            if (v.result == Check.Ok || (strict && v.result == Check.MandateRefused)) {
                _mandate.authorize(o.seller, v.recovered, VENUE, Side.Sell, o.price, v.amount, 0);
            }
            if (v.result == Check.Ok) return;
        }
        if (strict) _revert(o, v, buyer);
    }

    /// @dev Effects, then interactions: the fill is recorded before any token moves.
    function _settle(Offer calldata o, OfferLib.Verdict memory v, address buyer) private {
        _write(o, v.offerHash, v.filled + v.amount, false); // <= o.amountWh < 2^64: checked above
        emit OfferFilled(v.offerHash, o.seller, buyer, v.amount, o.price, v.cost);
        _energy.safeTransferFrom(o.seller, buyer, v.amount);
        _money.safeTransferFrom(buyer, o.seller, v.cost);
    }

    /// @dev One fillMany entry: settle it, skip it (gone or short, with skipGone) or revert.
    function _fillEntry(Fill calldata f, bool skipGone, OfferLib.Tally memory t) private {
        OfferLib.Verdict memory v = _evaluate(f.offer, f.signature, msg.sender, f.amountWh, skipGone);
        if (v.result != Check.Ok) _retryAsAgent(f.offer, v, msg.sender, skipGone, !skipGone);
        if (v.result != Check.Ok) {
            if (!skipGone || !OfferLib.isGone(v.result)) _revert(f.offer, v, msg.sender);
            emit OfferSkipped(v.offerHash, f.offer.seller, msg.sender, f.amountWh, v.result);
            if (t.skipped++ == 0) (t.firstHash, t.firstReason) = (v.offerHash, v.result);
            return;
        }
        _settle(f.offer, v, msg.sender);
        ++t.filled;
        t.totalWh += v.amount;
        t.totalCost += v.cost;
    }

    /// @dev The named error of a failed check, with its data.
    function _revert(Offer calldata o, OfferLib.Verdict memory v, address buyer) private view {
        bytes32 h = v.offerHash;
        Check r = v.result;
        if (r == Check.ZeroAmount) revert OfferSettlementZeroAmount(h);
        if (r == Check.SelfFill) revert OfferSettlementSelfFill(h, buyer);
        if (r == Check.BadSignature) revert OfferSettlementBadSignature(h, o.seller, v.recovered);
        if (r == Check.SaltInUse) revert OfferSettlementSaltInUse(h, o.seller, o.salt, v.need);
        if (r == Check.Cancelled) revert OfferSettlementCancelled(h);
        if (r == Check.Voided) revert OfferSettlementVoided(h, o.counter, _counters[o.seller]);
        if (r == Check.NotYetValid) revert OfferSettlementNotYetValid(h, o.validFrom, block.timestamp);
        if (r == Check.Expired) revert OfferSettlementExpired(h, o.validUntil, block.timestamp);
        if (r == Check.Filled) revert OfferSettlementFilled(h, o.amountWh);
        if (r == Check.ExceedsRemaining) revert OfferSettlementExceedsRemaining(h, v.need, v.have);
        if (r == Check.BelowMinimum) revert OfferSettlementBelowMinimum(h, v.amount, _minFill);
        if (r == Check.ZeroCost) revert OfferSettlementZeroCost(h, o.price, v.amount);
        if (r == Check.SellerBalanceShort) revert OfferSettlementSellerBalanceShort(h, o.seller, v.have, v.need);
        if (r == Check.SellerAllowanceShort) revert OfferSettlementSellerAllowanceShort(h, o.seller, v.have, v.need);
        if (r == Check.MandateRefused) revert OfferSettlementMandateRefused(h, o.seller, v.recovered);
        if (r == Check.BuyerBalanceShort) revert OfferSettlementBuyerBalanceShort(h, buyer, v.have, v.need);
        revert OfferSettlementBuyerAllowanceShort(h, buyer, v.have, v.need);
    }
}
